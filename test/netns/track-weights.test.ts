// Tracking weights moving the VIP between two nodes, in a real kernel: track_script weight +/-
// and reverse, rise/fall, track_interface weight, track_file value x weight, the 1..254 clamp.
// n1 (base priority 100) carries the trackers; n2 is a plain peer at priority 100 with the higher
// address (it wins ties). Each step is checked twice: the effective priority our daemon logs
// ("Changing effective priority from A to B") and who holds the VIP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, waitFor } from '../helpers/netns.js';
import { cleanupDir, holders, startDaemon, stopDaemon, tempDir, writeScript, type DaemonHandle } from '../fixtures/seed/helpers.js';

const VIP = '192.0.2.120';

function lastPriority(log: string): number | undefined {
  const all = [...log.matchAll(/\(VI_W\) Changing effective priority from \d+ to (\d+)/g)];
  return all.length ? Number(all.at(-1)![1]) : undefined;
}

test('track: script weights +/- and reverse, rise/fall, interface weight, file value x weight move the VIP', {
  timeout: 150_000,
}, async () => {
  const lab = Lab.create();
  const dir = tempDir('track-w');
  const daemons: DaemonHandle[] = [];
  try {
    lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    lab.addHost({ name: 'n2', addresses: ['192.0.2.12/24'] });
    const ns1 = lab.host('n1').ns;
    // the tracked interface: a veth pair inside n1 (no dummy module on this kernel)
    lab.exec(ns1, ['ip', 'link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy1']);
    lab.exec(ns1, ['ip', 'link', 'set', 'dummy1', 'up']);
    lab.exec(ns1, ['ip', 'link', 'set', 'dummy0', 'up']);
    mkdirSync(join(dir, 'ctl'));
    const ctl = (name: string, v: number | string) => writeFileSync(join(dir, 'ctl', name), `${v}\n`);
    for (const s of ['plus', 'minus', 'rev']) writeScript(join(dir, `${s}.sh`), `exit $(cat ${dir}/ctl/${s})\n`);
    ctl('plus', 0);
    ctl('minus', 0);
    ctl('rev', 1);
    const tf = join(dir, 'tf');
    writeFileSync(tf, '0\n');
    const c1 = join(dir, 'n1.conf');
    writeFileSync(
      c1,
      `global_defs {
  router_id n1
}
vrrp_script plus {
  script "${dir}/plus.sh"
  interval 1
  weight 10
}
vrrp_script minus {
  script "${dir}/minus.sh"
  interval 1
  weight -30
  fall 3
  rise 2
}
vrrp_script rev {
  script "${dir}/rev.sh"
  interval 1
  weight 15
}
vrrp_track_file tf {
  file "${tf}"
}
vrrp_instance VI_W {
  interface vnet0
  virtual_router_id 20
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
  track_script {
    plus
    minus
    rev reverse
  }
  track_interface {
    dummy0 weight -20
  }
  track_file {
    tf weight 5
  }
}
`,
    );
    const c2 = join(dir, 'n2.conf');
    writeFileSync(
      c2,
      `vrrp_instance VI_W {
  interface vnet0
  virtual_router_id 20
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`,
    );
    const n1 = startDaemon(lab, ns1, c1, join(dir, 'n1.pid'));
    daemons.push(n1);
    const n2 = startDaemon(lab, lab.host('n2').ns, c2, join(dir, 'n2.pid'));
    daemons.push(n2);
    const nodes = ['n1', 'n2'];
    const why = () => `\n--- n1\n${n1.log()}\n--- n2\n${n2.log()}`;
    const step = async (label: string, prio: number, holder: string) => {
      assert.ok(
        await waitFor(() => lastPriority(n1.log()) === prio, 10_000, 50),
        `${label}: effective priority ${prio} (last logged ${lastPriority(n1.log())})${why()}`,
      );
      assert.ok(
        await waitFor(() => holders(lab, nodes, VIP).join() === holder, 12_000, 50),
        `${label}: VIP on ${holder} (holders: ${holders(lab, nodes, VIP).join() || 'none'})${why()}`,
      );
    };

    // plus succeeds (+10), minus succeeds (0), rev fails (reverse: 0), dummy0 up, tf 0: 110
    await step('start', 110, 'n1');

    // fall 3: three failures in a row before the -30 applies (interval 1 s: 2..3 s + a run)
    let t = Date.now();
    ctl('minus', 1);
    assert.ok(await waitFor(() => lastPriority(n1.log()) === 80, 10_000, 20), `minus fails: 80${why()}`);
    const fallMs = Date.now() - t;
    await step('minus fails', 80, 'n2');
    t = Date.now();
    ctl('minus', 0);
    assert.ok(await waitFor(() => lastPriority(n1.log()) === 110, 10_000, 20), `minus recovers: 110${why()}`);
    const riseMs = Date.now() - t;
    assert.ok(fallMs >= 1900 && fallMs < 5000, `fall 3 needs three failed runs (took ${fallMs} ms)`);
    assert.ok(riseMs >= 900 && riseMs < 4000, `rise 2 needs two good runs (took ${riseMs} ms)`);
    await step('minus recovered', 110, 'n1');

    // weight 15 reverse: subtracted while the script succeeds
    ctl('rev', 0);
    await step('rev succeeds (reverse)', 95, 'n2');
    ctl('rev', 1);
    await step('rev fails again', 110, 'n1');

    // weight +10 lost when plus fails
    ctl('plus', 1);
    assert.ok(await waitFor(() => lastPriority(n1.log()) === 100, 10_000, 50), `plus fails: 100${why()}`);
    // 100 = 100: a Backup accepts an equal-priority advert (RFC 3768 6.4.2), so n1 stays Master
    await step('plus fails (tie: the Master stays)', 100, 'n1');
    await new Promise((r) => setTimeout(r, 4500));
    assert.deepEqual(holders(lab, nodes, VIP), ['n1'], 'still on n1 after a Master_Down_Interval');
    ctl('plus', 0);
    await step('plus back', 110, 'n1');

    // track_interface dummy0 weight -20
    lab.exec(ns1, ['ip', 'link', 'set', 'dummy0', 'down']);
    await step('dummy0 down', 90, 'n2');
    lab.exec(ns1, ['ip', 'link', 'set', 'dummy0', 'up']);
    await step('dummy0 up', 110, 'n1');

    // track_file: value x weight 5
    writeFileSync(tf, '-3\n');
    await step('tf -3 (x5)', 95, 'n2');
    writeFileSync(tf, '100\n');
    await step('tf 100 (x5): clamped to 254', 254, 'n1');
    writeFileSync(tf, '0\n');
    await step('tf 0', 110, 'n1');
    console.log(`# track weights: fall 3 took ${fallMs} ms, rise 2 took ${riseMs} ms (interval 1 s)`);
  } finally {
    for (const d of daemons) await stopDaemon(d).catch(() => undefined);
    cleanupDir(dir);
    await lab.cleanup();
  }
});
