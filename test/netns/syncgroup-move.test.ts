// vrrp_sync_group in a real kernel: two instances on two interfaces of each node move together
// when one of them loses its own interface or its tracker, and when the group's own tracker fails; the group's notify scripts run once
// per group transition, with the generic notify's "GROUP name STATE priority" arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Lab, waitFor } from '../helpers/netns.js';
import { cleanupDir, readOr, startDaemon, stopDaemon, tempDir, writeScript, type DaemonHandle } from '../fixtures/seed/helpers.js';

const VA = '192.0.2.140';
const VB = '198.51.100.141';

/** A second interface for a lab host, a veth created directly inside the switch and host namespaces. */
function addLink(lab: Lab, host: string, port: string, ifname: string, address: string): void {
  const h = lab.host(host);
  execFileSync('ip', ['link', 'add', 'name', port, 'netns', lab.switchNs, 'type', 'veth', 'peer', 'name', ifname, 'netns', h.ns]);
  lab.exec(lab.switchNs, ['ip', 'link', 'set', port, 'master', 'br0']);
  lab.exec(lab.switchNs, ['ip', 'link', 'set', port, 'up']);
  lab.exec(h.ns, ['ip', 'addr', 'add', address, 'dev', ifname]);
  lab.exec(h.ns, ['ip', 'link', 'set', ifname, 'up']);
}

function conf(dir: string, node: string, prio: number): string {
  return `global_defs {
  router_id ${node}
}
vrrp_script chk {
  script "${dir}/${node}-chk.sh"
  interval 1
}
track_file gz {
  file "${dir}/${node}-gz/v"
}
vrrp_sync_group G1 {
  group {
    VI_A
    VI_B
  }
  track_file {
    gz weight 0
  }
  notify_master "${dir}/gnotify.sh ${node} master"
  notify_backup "${dir}/gnotify.sh ${node} backup"
  notify_fault "${dir}/gnotify.sh ${node} fault"
  notify "${dir}/gnotify.sh ${node} generic"
}
vrrp_instance VI_A {
  interface vnet0
  virtual_router_id 40
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VA}/24
  }
  track_script {
    chk
  }
}
vrrp_instance VI_B {
  interface vnet1
  virtual_router_id 41
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VB}/24
  }
}
`;
}

test('sync group: members move together when one loses its interface or its tracker; group notify', { timeout: 120_000 }, async () => {
  const lab = Lab.create();
  const dir = tempDir('sync');
  const daemons: DaemonHandle[] = [];
  try {
    lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    lab.addHost({ name: 'n2', addresses: ['192.0.2.12/24'] });
    addLink(lab, 'n1', 'q1', 'vnet1', '198.51.100.11/24');
    addLink(lab, 'n2', 'q2', 'vnet1', '198.51.100.12/24');
    const glog = join(dir, 'group.log');
    writeScript(join(dir, 'gnotify.sh'), `echo "$*" >> ${glog}\n`);
    for (const n of ['n1', 'n2']) {
      writeFileSync(join(dir, `${n}.ctl`), '0\n');
      mkdirSync(join(dir, `${n}-gz`));
      writeFileSync(join(dir, `${n}-gz`, 'v'), '0\n');
      writeScript(join(dir, `${n}-chk.sh`), `exit $(cat ${dir}/${n}.ctl)\n`);
      writeFileSync(join(dir, `${n}.conf`), conf(dir, n, n === 'n1' ? 150 : 100));
    }
    for (const n of ['n1', 'n2']) daemons.push(startDaemon(lab, lab.host(n).ns, join(dir, `${n}.conf`), join(dir, `${n}.pid`)));
    const [d1, d2] = daemons as [DaemonHandle, DaemonHandle];
    const why = () => `\n--- n1\n${d1.log()}\n--- n2\n${d2.log()}\n--- group notify\n${readOr(glog)}`;
    const nodes = ['n1', 'n2'];
    // holders on any interface (Lab.addressesOf looks at the first interface only)
    const holders = (_l: Lab, ns: string[], vip: string) =>
      ns.filter((n) => lab.exec(lab.host(n).ns, ['ip', '-4', '-o', 'addr', 'show']).includes(` ${vip}/`));
    const both = (who: string) => holders(lab, nodes, VA).join() === who && holders(lab, nodes, VB).join() === who;
    // sample: the two VIPs must never be split between the nodes for long
    let split = 0,
      splitSince = 0,
      longestSplitMs = 0;
    const sampler = setInterval(() => {
      const a = holders(lab, nodes, VA).join(),
        b = holders(lab, nodes, VB).join();
      if (a !== b && a && b) {
        split++;
        if (!splitSince) splitSince = Date.now();
        longestSplitMs = Math.max(longestSplitMs, Date.now() - splitSince);
      } else splitSince = 0;
    }, 100);
    try {
      assert.ok(await waitFor(() => both('n1'), 15_000, 50), `both VIPs on n1${why()}`);
      assert.ok(
        await waitFor(() => /^n1 master$/m.test(readOr(glog)) && /^n1 generic GROUP G1 MASTER 0$/m.test(readOr(glog)), 5000, 50),
        `group notify_master and generic notify on n1${why()}`,
      );
      assert.ok(await waitFor(() => /^n2 backup$/m.test(readOr(glog)), 5000, 50), `group notify_backup on n2${why()}`);

      // n1 loses VI_B's own interface: VI_B FAULT, VI_A follows; n2 takes both
      let t = Date.now();
      lab.exec(lab.host('n1').ns, ['ip', 'link', 'set', 'vnet1', 'down']);
      assert.ok(await waitFor(() => both('n2'), 15_000, 50), `both VIPs on n2 after n1's vnet1 went down${why()}`);
      const ifMoveMs = Date.now() - t;
      assert.ok(
        await waitFor(
          () =>
            /^n1 fault$/m.test(readOr(glog)) && /^n1 generic GROUP G1 FAULT 0$/m.test(readOr(glog)) && /^n2 master$/m.test(readOr(glog)),
          5000,
          50,
        ),
        `group FAULT on n1, MASTER on n2${why()}`,
      );
      assert.match(d1.log(), /\(VI_A\)[^\n]*FAULT/, 'VI_A (healthy itself) was put in FAULT by its group');
      lab.exec(lab.host('n1').ns, ['ip', 'link', 'set', 'vnet1', 'up']);
      assert.ok(await waitFor(() => both('n1'), 15_000, 50), `both back on n1 when vnet1 returns${why()}`);

      // n1's VI_A tracker fails (weight 0): VI_A FAULT, VI_B follows
      t = Date.now();
      writeFileSync(join(dir, 'n1.ctl'), '1\n');
      assert.ok(await waitFor(() => both('n2'), 15_000, 50), `both VIPs on n2 after n1's tracker failed${why()}`);
      const trackMoveMs = Date.now() - t;
      writeFileSync(join(dir, 'n1.ctl'), '0\n');
      assert.ok(await waitFor(() => both('n1'), 15_000, 50), `both back on n1 when the tracker recovers${why()}`);

      // the group's own tracker (track_file weight 0 in vrrp_sync_group) takes both members
      t = Date.now();
      writeFileSync(join(dir, 'n1-gz', 'v'), '1\n');
      assert.ok(await waitFor(() => both('n2'), 15_000, 50), `both VIPs on n2 after the group's track_file went non-zero${why()}`);
      const groupTrackMs = Date.now() - t;
      writeFileSync(join(dir, 'n1-gz', 'v'), '0\n');
      assert.ok(await waitFor(() => both('n1'), 15_000, 50), `both back on n1 when the group's tracker recovers${why()}`);

      const masters = (readOr(glog).match(/^n1 master$/gm) ?? []).length;
      assert.equal(masters, 4, `one group notify_master per group transition on n1 (got ${masters})${why()}`);
      assert.ok(
        longestSplitMs < 1500,
        `the two VIPs were never held by different nodes for long (longest ${longestSplitMs} ms, ${split} samples)`,
      );
      console.log(
        `# sync group: interface loss moved both VIPs in ${ifMoveMs} ms, tracker failure in ${trackMoveMs} ms, group tracker in ${groupTrackMs} ms; longest split ${longestSplitMs} ms`,
      );
    } finally {
      clearInterval(sampler);
    }
  } finally {
    for (const d of daemons) await stopDaemon(d).catch(() => undefined);
    cleanupDir(dir);
    await lab.cleanup();
  }
});
