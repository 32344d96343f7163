// keepalived-ts daemons in network namespaces: VRRPv2 / VRRPv3, authentication, unicast peers,
// IPv6. Each test has its own Lab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { vipConf, VIP, Cluster, sleep, startMasterPair } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

const conf = vipConf;

function twoNodes(): Cluster {
  return Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24', '2001:db8::11/64'] },
    { name: 'n2', addresses: ['192.0.2.12/24', '2001:db8::12/64'] },
  ]);
}

test('VRRPv2 with auth PASS: one Master; kill -9 fails over after ~3.6 s (advert_int 1)', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const [n1, n2] = await startMasterPair(
      c,
      conf('n1', { version: 2, priority: 150, advertInt: 1, authPass: 'secret12' }),
      conf('n2', { version: 2, priority: 100, advertInt: 1, authPass: 'secret12' }),
    );
    // on the wire: VRRPv2 with simple text authentication
    const cap = await c.capture('n2', 2, 'ip proto 112', undefined, ['-v']);
    assert.ok(
      cap.some((l) => /VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s/.test(l)),
      cap.join('\n'),
    );
    assert.ok(
      cap.some((l) => /auth "secret12"/.test(l)),
      cap.join('\n'),
    );
    assert.equal(n2.lastState(), 'BACKUP', c.logs());
    assert.equal(n2.count(/dropped advert/), 0, c.logs());

    const from = n2.mark();
    const killedAt = Date.now();
    await n1.kill9();
    const master = await n2.waitState('VI_1', 'MASTER', 10_000, from);
    assert.ok(master, c.logs());
    const took = master.t - killedAt;
    const mdi = 3000 + ((256 - 100) * 1000) / 256; // 3609 ms
    console.log(`# VRRPv2 kill -9 failover: ${took} ms (Master_Down_Interval ${mdi.toFixed(0)} ms)`);
    assert.ok(took >= mdi - 1000 - 50 && took <= mdi + 1500, `failover after ${took} ms, MDI ${mdi} ms`);
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'vnet0']);
    assert.deepEqual(c.holders(VIP), ['n2']);
  } finally {
    await c.cleanup();
  }
});

test('auth PASS mismatch: no election across, both Master, drops logged', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const n1 = c.start('n1', conf('n1', { version: 2, priority: 150, advertInt: 1, authPass: 'secret12' }));
    const n2 = c.start('n2', conf('n2', { version: 2, priority: 100, advertInt: 1, authPass: 'other345' }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.ok(await n2.waitState('VI_1', 'MASTER', 20_000), c.logs());
    await sleep(2500);
    assert.equal(n1.lastState(), 'MASTER');
    assert.equal(n2.lastState(), 'MASTER');
    assert.deepEqual(c.holders(VIP).sort(), ['n1', 'n2'], 'both hold the VIP (split brain by design)');
    assert.ok(n2.find(/dropped advert from 192\.0\.2\.11: auth-mismatch/), `n2 did not log the drop\n${c.logs()}`);
    assert.ok(n1.find(/dropped advert from 192\.0\.2\.12: auth-mismatch/), `n1 did not log the drop\n${c.logs()}`);
  } finally {
    await c.cleanup();
  }
});

test('VRRPv3 advert_int 0.1: failover on kill -9 in a few hundred ms', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const [n1, n2] = await startMasterPair(c, conf('n1', { priority: 150, advertInt: 0.1 }), conf('n2', { priority: 100, advertInt: 0.1 }));
    await sleep(1000);
    assert.equal(n2.lastState(), 'BACKUP', c.logs());
    const from = n2.mark();
    const killedAt = Date.now();
    await n1.kill9();
    const master = await n2.waitState('VI_1', 'MASTER', 5000, from);
    assert.ok(master, c.logs());
    const took = master.t - killedAt;
    const mdi = 300 + Math.floor((156 * 10) / 256) * 10; // 360 ms
    console.log(`# VRRPv3 0.1 s kill -9 failover: ${took} ms (Master_Down_Interval ${mdi} ms)`);
    assert.ok(took >= mdi - 100 - 50, `failover after ${took} ms is before MDI ${mdi} - advert_int`);
    assert.ok(took <= 1200, `failover after ${took} ms, MDI ${mdi} ms (v2 would need 3.6 s)`);
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'vnet0']);
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 2000), ['n2']);
  } finally {
    await c.cleanup();
  }
});

test('unicast peers: adverts go to the peer address, election and failover work', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const [n1, n2] = await startMasterPair(
      c,
      conf('n1', { priority: 150, advertInt: 0.5, unicastSrcIp: '192.0.2.11', unicastPeers: ['192.0.2.12'] }),
      conf('n2', { priority: 100, advertInt: 0.5, unicastSrcIp: '192.0.2.12', unicastPeers: ['192.0.2.11'] }),
    );
    const cap = await c.capture('n2', 2, 'ip proto 112');
    assert.ok(
      cap.some((l) => /192\.0\.2\.11 > 192\.0\.2\.12: VRRPv3, Advertisement, vrid 51, prio 150/.test(l)),
      cap.join('\n'),
    );
    assert.ok(!cap.some((l) => /224\.0\.0\.18/.test(l)), `multicast seen with unicast peers:\n${cap.join('\n')}`);
    assert.equal(n2.lastState(), 'BACKUP', c.logs());

    const from = n2.mark();
    await n1.stop();
    assert.ok(await n2.waitState('VI_1', 'MASTER', 5000, from), c.logs());
    assert.ok(n2.find(/Backup received priority 0 advertisement/, from), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());
  } finally {
    await c.cleanup();
  }
});

test('IPv6 (VRRPv3): VIP 2001:db8::100/64 on the Master only, moves on SIGTERM', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  const VIP6 = '2001:db8::100';
  try {
    const v6 = (name: string, priority: number) => conf(name, { priority, advertInt: 0.5, vips: [`${VIP6}/64`] });
    const n1 = c.start('n1', v6('n1', 150));
    const n2 = c.start('n2', v6('n2', 100));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.deepEqual(await c.waitHolder(VIP6, 'n1', 5000), ['n1'], c.logs());
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 5000), c.logs());
    const cap = await c.capture('n2', 2, 'ip6 and ip6 proto 112');
    assert.ok(
      cap.some((l) => /fe80::[0-9a-f:]+ > ff02::12: (ip-proto-112|VRRPv3)/.test(l)),
      cap.join('\n'),
    );
    assert.equal(n2.lastState(), 'BACKUP', c.logs());
    // the IPv4 side is untouched
    assert.deepEqual(c.holders(VIP), []);
    // an IPv6 VIP deleted under the Master is restored too
    const del = n1.mark();
    c.lab.exec(c.lab.host('n1').ns, ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'vnet0']);
    assert.ok(await n1.waitLine(/virtual address 2001:db8::100 was removed .*restoring/, 3000, del), c.logs());
    assert.deepEqual(await c.waitHolder(VIP6, 'n1', 3000), ['n1'], c.logs());

    const from = n2.mark();
    const exit = await n1.stop();
    assert.equal(exit.code, 0);
    assert.ok(await n2.waitState('VI_1', 'MASTER', 5000, from), c.logs());
    assert.deepEqual(await c.waitHolder(VIP6, 'n2', 3000), ['n2'], c.logs());
  } finally {
    await c.cleanup();
  }
});
