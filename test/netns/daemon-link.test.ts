// keepalived-ts daemons in network namespaces: link faults, addresses deleted under a Master,
// an interface that does not exist yet. Each test has its own Lab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { nodes, vipConf, VIP, Cluster, renderConfig, sleep, waitFor, startMasterPair } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

const conf = vipConf;

const twoNodes = (): Cluster => nodes(2);

test('link down (admin, then carrier) on the Master: FAULT, the Backup takes over; link up: it returns and preempts', {
  skip,
  timeout: 60_000,
}, async () => {
  const c = twoNodes();
  try {
    const [n1, n2] = await startMasterPair(c, conf('n1', { priority: 150, advertInt: 0.5 }), conf('n2', { priority: 100, advertInt: 0.5 }));
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 5000), c.logs());

    const f1 = n1.mark();
    const f2 = n2.mark();
    const downAt = Date.now();
    c.lab.setLink('n1', false);
    assert.ok(await n1.waitState('VI_1', 'FAULT', 3000, f1), `n1 did not enter FAULT\n${c.logs()}`);
    const master = await n2.waitState('VI_1', 'MASTER', 10_000, f2);
    assert.ok(master, c.logs());
    // n1 could not say goodbye (its link is down): n2 waits Master_Down_Interval (1.8 s)
    console.log(`# link down: n2 Master after ${master.t - downAt} ms`);
    assert.ok(master.t - downAt >= 1000, `n2 took over after ${master.t - downAt} ms: before Master_Down_Interval`);
    // a FAULT instance releases its VIPs (a down interface would keep them in the kernel)
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());

    const b1 = n1.mark();
    const f2b = n2.mark();
    c.lab.setLink('n1', true);
    assert.ok(await n1.waitState('VI_1', 'BACKUP', 5000, b1), `n1 did not leave FAULT\n${c.logs()}`);
    assert.ok(await n1.waitState('VI_1', 'MASTER', 10_000, b1), `n1 did not preempt back\n${c.logs()}`);
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 5000, f2b), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());

    // carrier loss (the switch port goes down, vnet0 stays admin up): same FAULT and return
    const port = 'p0'; // n1's port on the bridge (the Lab names ports in host order)
    const c1 = n1.mark();
    const c2 = n2.mark();
    c.lab.exec(c.lab.switchNs, ['ip', 'link', 'set', port, 'down']);
    assert.ok(await n1.waitState('VI_1', 'FAULT', 3000, c1), `no FAULT on carrier loss\n${c.logs()}`);
    assert.ok(await n2.waitState('VI_1', 'MASTER', 10_000, c2), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());
    const d1 = n1.mark();
    c.lab.exec(c.lab.switchNs, ['ip', 'link', 'set', port, 'up']);
    assert.ok(await n1.waitState('VI_1', 'MASTER', 10_000, d1), `n1 did not return after carrier\n${c.logs()}`);
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
  } finally {
    await c.cleanup();
  }
});

test('a VIP deleted under a Master is restored', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const [n1, n2] = await startMasterPair(c, conf('n1', { priority: 150, advertInt: 0.5 }), conf('n2', { priority: 100, advertInt: 0.5 }));
    const from = n1.mark();
    const delAt = Date.now();
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'vnet0']);
    assert.ok(await n1.waitLine(/virtual address 192\.0\.2\.100 was removed .*restoring/, 3000, from), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
    console.log(`# VIP restored ${Date.now() - delAt} ms after deletion`);
    // nothing else moved
    assert.equal(n1.lastState(), 'MASTER');
    assert.equal(n2.lastState(), 'BACKUP', c.logs());
    // a second deletion is restored as well
    const from2 = n1.mark();
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'vnet0']);
    assert.ok(await n1.waitLine(/restoring/, 3000, from2), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
  } finally {
    await c.cleanup();
  }
});

test('a missing interface leaves the daemon running; the instance starts when it appears', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
  ]);
  const VIP6 = '198.51.100.100';
  try {
    const n1 = c.start(
      'n1',
      renderConfig({ routerId: 'n1', instances: [{ priority: 150, advertInt: 0.5, interface: 'vnet1', vips: [`${VIP6}/24`] }] }),
    );
    assert.ok(await n1.waitLine(/\(VI_1\) interface vnet1 does not exist/, 20_000), `no waiting message\n${n1.log()}`);
    await sleep(1500);
    assert.ok(n1.running, `the daemon exited: ${JSON.stringify(n1.exitInfo)}\n${n1.log()}`);
    assert.equal(n1.count(/Entering \w+ STATE/), 0, n1.log());

    const addedAt = Date.now();
    c.addInterface('n1', 'vnet1', ['198.51.100.11/24']);
    const master = await n1.waitState('VI_1', 'MASTER', 10_000);
    assert.ok(master, `the instance never started on vnet1\n${n1.log()}`);
    console.log(`# instance Master ${master.t - addedAt} ms after vnet1 appeared`);
    const onVnet1 = () =>
      (
        JSON.parse(c.lab.exec(c.lab.host('n1').ns, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'vnet1'])) as Array<{
          addr_info: Array<{ local: string }>;
        }>
      )[0]!.addr_info.some((a) => a.local === VIP6);
    assert.ok(await waitFor(onVnet1, 3000), `VIP not on vnet1\n${n1.log()}`);
    // one instance started, once (the link and address events may both retry it); it may start
    // in FAULT if the address came before the link was up; no failed retry once it exists
    assert.equal(n1.count(/Entering \w+ STATE \(init\)/), 1, n1.log());
    assert.equal(n1.count(/does not exist|cannot read interface/, addedAt), 0, n1.log());
    // it advertises on vnet1: another host on the bridge hears it
    const cap = await c.capture('n2', 2, 'ip proto 112');
    assert.ok(
      cap.some((l) => /198\.51\.100\.11 > 224\.0\.0\.18: VRRPv3/.test(l)),
      cap.join('\n'),
    );
    const exit = await n1.stop();
    assert.equal(exit.code, 0, n1.log());
  } finally {
    await c.cleanup();
  }
});
