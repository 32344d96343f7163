// Weight 0 trackers put an instance into FAULT and back, in a real kernel: a vrrp_script, a
// vrrp_track_process (a process dying and returning) and a track_file; and a vrrp_script that
// never exits: every run is killed at its timeout (counts as a failure: FAULT), never two runs at
// once, and no zombie left among the daemon's children (/proc/<child>/stat state Z).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Lab, waitFor } from '../helpers/netns.js';
import {
  childrenOf,
  cleanupDir,
  daemonPid,
  pidsMentioning,
  readOr,
  startDaemon,
  stopDaemon,
  tempDir,
  writeScript,
  type DaemonHandle,
} from '../fixtures/seed/helpers.js';

test('track: weight 0 script / process / file into FAULT and back; a script that never exits is killed at its timeout, no zombie', {
  timeout: 120_000,
}, async () => {
  const lab = Lab.create();
  const dir = tempDir('track-f');
  let d: DaemonHandle | undefined;
  let tracked: ReturnType<Lab['spawn']> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    mkdirSync(join(dir, 'ctl'));
    writeFileSync(join(dir, 'ctl', 'fz'), '0\n');
    writeScript(join(dir, 'fz.sh'), `exit $(cat ${dir}/ctl/fz)\n`);
    const sleepArg = `9${randomBytes(3).readUIntBE(0, 3)}`;
    writeScript(join(dir, 'hang.sh'), `echo start >> ${dir}/hang.log\nsleep ${sleepArg}\n`);
    writeFileSync(join(dir, 'tz'), '0\n');
    // a process with a unique name (comm): a copy of sleep
    const procName = `kp${randomBytes(3).toString('hex')}`;
    const procPath = join(dir, procName);
    copyFileSync('/bin/sleep', procPath);
    chmodSync(procPath, 0o755);
    const conf = join(dir, 'k.conf');
    const inst = (name: string, vrid: number, track: string) => `vrrp_instance ${name} {
  interface vnet0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  virtual_ipaddress {
    192.0.2.${100 + vrid}/24
  }
  ${track}
}
`;
    writeFileSync(
      conf,
      `vrrp_script fz {
  script "${dir}/fz.sh"
  interval 1
}
vrrp_script hang {
  script "${dir}/hang.sh"
  interval 1
  timeout 1
}
vrrp_track_process tp {
  process ${procName}
}
vrrp_track_file tz {
  file "${dir}/tz"
}
${inst('VI_F', 30, 'track_script {\n    fz\n  }')}
${inst('VI_H', 31, 'track_script {\n    hang\n  }')}
${inst('VI_P', 32, 'track_process {\n    tp\n  }')}
${inst('VI_T', 33, 'track_file {\n    tz weight 0\n  }')}
`,
    );
    d = startDaemon(lab, h.ns, conf, join(dir, 'k.pid'));
    const why = () => `\n${d!.log()}`;
    const vips = () => new Set(lab.addressesOf('n1'));
    const has = (vrid: number) => vips().has(`192.0.2.${100 + vrid}`);

    // Sample the daemon's children all along: never two hang.sh at once, never a zombie.
    // A child is a zombie for an instant between its exit and the daemon's waitpid; one that
    // stays Z for over a second is a leak.
    let maxHang = 0,
      samples = 0;
    const zombieSince = new Map<number, number>();
    let longestZombieMs = 0;
    const hangScript = join(dir, 'hang.sh');
    assert.ok(await waitFor(() => daemonPid(d!) !== undefined, 10_000, 50), 'pid file written');
    const pid = daemonPid(d)!;
    sampler = setInterval(() => {
      samples++;
      maxHang = Math.max(maxHang, pidsMentioning(hangScript).length);
      const now = Date.now();
      const z = new Set(
        childrenOf(pid)
          .filter((c) => c.state === 'Z')
          .map((c) => c.pid),
      );
      for (const p of z) if (!zombieSince.has(p)) zombieSince.set(p, now);
      for (const [p, since] of zombieSince) {
        if (!z.has(p)) zombieSince.delete(p);
        else longestZombieMs = Math.max(longestZombieMs, now - since);
      }
    }, 100);

    assert.ok(await waitFor(() => has(30) && has(33), 15_000, 50), `VI_F and VI_T healthy: MASTER${why()}`);
    assert.ok(await waitFor(() => /\(VI_H\)[^\n]*FAULT/i.test(d!.log()), 10_000, 50), `VI_H: the hung script times out -> FAULT${why()}`);
    assert.ok(/\(VI_P\)[^\n]*FAULT/i.test(d.log()) && !has(32), `VI_P: no ${procName} running -> FAULT${why()}`);

    // the tracked process appears: VI_P leaves FAULT and becomes MASTER
    tracked = lab.spawn(h.ns, [procPath, '300']);
    assert.ok(await waitFor(() => has(32), 15_000, 50), `VI_P MASTER once ${procName} runs${why()}`);

    // all three fail at once
    const faultsAt = d.log().length;
    writeFileSync(join(dir, 'ctl', 'fz'), '1\n');
    writeFileSync(join(dir, 'tz'), '7\n');
    tracked.kill('SIGKILL');
    assert.ok(
      await waitFor(() => !has(30) && !has(32) && !has(33), 10_000, 50),
      `script fails / process dies / file non-zero: FAULT, VIPs released${why()}`,
    );
    // (the log arrives through a pipe: wait for it)
    assert.ok(
      await waitFor(
        () => ['VI_F', 'VI_P', 'VI_T'].every((n) => new RegExp(`\\(${n}\\) Entering FAULT STATE`).test(d!.log().slice(faultsAt))),
        5000,
        50,
      ),
      `three FAULT entries logged${why()}`,
    );

    // and recover
    writeFileSync(join(dir, 'ctl', 'fz'), '0\n');
    writeFileSync(join(dir, 'tz'), '0\n');
    tracked = lab.spawn(h.ns, [procPath, '300']);
    assert.ok(await waitFor(() => has(30) && has(32) && has(33), 15_000, 50), `back to MASTER${why()}`);
    assert.equal(has(31), false, 'VI_H stays in FAULT (its script never completes)');

    clearInterval(sampler);
    sampler = undefined;
    // no enable_script_security: keepalived's warning, said once
    assert.equal(
      (d.log().match(/SECURITY VIOLATION - scripts are being executed but script_security not enabled/g) ?? []).length,
      1,
      `the SECURITY VIOLATION warning once${why()}`,
    );
    const runs = readOr(join(dir, 'hang.log')).split('\n').filter(Boolean).length;
    assert.ok(runs >= 5, `the hung script is run again after each timeout (${runs} runs)`);
    assert.ok(maxHang <= 1, `never two runs of the hung script at once (max ${maxHang})`);
    assert.ok(longestZombieMs < 1000, `no zombie child of the daemon left (longest seen ${longestZombieMs} ms in ${samples} samples)`);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      childrenOf(pid).filter((c) => c.state === 'Z'),
      [],
      'no zombie child at the end',
    );
    // every timed-out run's process group was killed: no stray `sleep ${sleepArg}` beyond the current run
    const sleeps = pidsMentioning(`sleep ${sleepArg}`).length;
    assert.ok(sleeps <= 1, `killed runs leave no sleep behind (${sleeps} left)`);
    console.log(
      `# track fault: hung script ran ${runs} times, max ${maxHang} at once, longest zombie ${longestZombieMs} ms in ${samples} samples; ${basename(procPath)} tracked`,
    );
  } finally {
    if (sampler) clearInterval(sampler);
    if (d) await stopDaemon(d).catch(() => undefined);
    tracked?.kill('SIGKILL');
    cleanupDir(dir);
    await lab.cleanup();
  }
});
