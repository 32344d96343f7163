// keepalived-ts daemon lifecycle in network namespaces: pid file guard, SIGTERM while an
// instance waits for its interface, SIGTERM on a Backup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig, sleep, startMasterPair } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const VIP = '192.0.2.100';
const conf = (name: string, priority: number, iface = 'vnet0') =>
  renderConfig({ routerId: name, instances: [{ priority, advertInt: 0.5, interface: iface, vips: [`${VIP}/24`] }] });

test('pid file of a live daemon: a second start is refused (exit 1), the first keeps running', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([{ name: 'n1', addresses: ['192.0.2.11/24'] }]);
  try {
    const n1 = c.start('n1', conf('n1', 150));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), n1.log());
    assert.ok(existsSync(n1.pidFile));
    const second = c.start('n1', conf('n1', 150), { pidFile: n1.pidFile, allowSecond: true });
    const exit = await Promise.race([second.exited, sleep(20_000).then(() => undefined)]);
    assert.ok(exit, `the second daemon did not exit\n${second.log()}`);
    assert.equal(exit.code, 1, second.log());
    assert.ok(second.find(/already running \(pid \d+/), second.log());
    assert.ok(n1.running);
    assert.deepEqual(c.holders(VIP), ['n1']);
    // SIGHUP (reload, not implemented yet): a warning, nothing moves, the daemon keeps running
    const hup = n1.mark();
    n1.signal('SIGHUP');
    assert.ok(await n1.waitLine(/SIGHUP/, 3000, hup), n1.log());
    await sleep(700);
    assert.ok(n1.running, n1.log());
    assert.equal(n1.count(/Entering/, hup), 0, n1.log());
    assert.deepEqual(c.holders(VIP), ['n1']);
    // the guard did not remove the live daemon's pid file
    assert.ok(existsSync(n1.pidFile), 'pid file of the running daemon was removed');
    assert.equal((await n1.stop()).code, 0);
    assert.ok(!existsSync(n1.pidFile), 'pid file left after a clean stop');
    assert.deepEqual(c.holders(VIP), []);
  } finally {
    await c.cleanup();
  }
});

test('SIGTERM while an instance waits for a missing interface: clean exit 0', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([{ name: 'n1', addresses: ['192.0.2.11/24'] }]);
  try {
    const n1 = c.start('n1', conf('n1', 150, 'vnet9'));
    assert.ok(await n1.waitLine(/started 1 VRRP instance/, 20_000), n1.log());
    const t0 = Date.now();
    const exit = await n1.stop(10_000);
    assert.equal(exit.code, 0, `${JSON.stringify(exit)}\n${n1.log()}`);
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    assert.ok(!existsSync(n1.pidFile));
  } finally {
    await c.cleanup();
  }
});

test('SIGTERM on a Backup: exit 0, the Master is undisturbed', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
  ]);
  try {
    const [n1, n2] = await startMasterPair(c, conf('n1', 150), conf('n2', 100));
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 5000), c.logs());
    await sleep(500);
    const from = n1.mark();
    assert.equal((await n2.stop()).code, 0, n2.log());
    await sleep(1500);
    // a Backup sends no priority 0 advert and takes no address with it
    assert.equal(n1.count(/priority 0|Entering/, from), 0, c.logs());
    assert.deepEqual(c.holders(VIP), ['n1']);
  } finally {
    await c.cleanup();
  }
});

test('start-up removes a stale VIP left by a killed predecessor (keepalived: "removing VIPs.")', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
  ]);
  try {
    const n2 = c.start('n2', conf('n2', 150));
    assert.ok(await n2.waitState('VI_1', 'MASTER', 20_000), n2.log());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 5000), ['n2']);
    // n1 crashed earlier as Master (kill -9): its VIP is still on vnet0
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'vnet0']);
    assert.deepEqual(c.holders(VIP).sort(), ['n1', 'n2']);
    const n1 = c.start('n1', conf('n1', 100));
    assert.ok(await n1.waitState('VI_1', 'BACKUP', 20_000), n1.log());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], `stale VIP still on n1\n${c.logs()}`);
    assert.ok(await n1.waitLine(/\(VI_1\) removing VIPs\./, 3000), n1.log());
    await sleep(1000);
    assert.equal(n1.lastState(), 'BACKUP');
    assert.deepEqual(c.holders(VIP), ['n2']);
  } finally {
    await c.cleanup();
  }
});
