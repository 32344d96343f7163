// keepalived-ts daemons in network namespaces: several vrrp_instances in one daemon (the usual
// active/active pair: each node is Master of one VRID), IPv4 and IPv6 side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

test('three instances in one daemon all start; active/active split; each moves alone', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24', '2001:db8::11/64'] },
    { name: 'n2', addresses: ['192.0.2.12/24', '2001:db8::12/64'] },
  ]);
  try {
    const cfg = (name: string, p1: number, p2: number) =>
      renderConfig({
        routerId: name,
        instances: [
          { name: 'VI_1', vrid: 51, priority: p1, advertInt: 0.5, vips: ['192.0.2.100/24'] },
          { name: 'VI_2', vrid: 52, priority: p2, advertInt: 0.5, vips: ['192.0.2.101/24'] },
          { name: 'VI_6', vrid: 53, priority: p1, advertInt: 0.5, vips: ['2001:db8::100/64'] },
        ],
      });
    const n1 = c.start('n1', cfg('n1', 150, 100));
    const n2 = c.start('n2', cfg('n2', 100, 150));
    assert.ok(await n1.waitLine(/started 3 VRRP instance/, 20_000), c.logs());
    assert.ok(await n2.waitLine(/started 3 VRRP instance/, 20_000), c.logs());
    assert.ok(await n1.waitState('VI_1', 'MASTER', 10_000), c.logs());
    assert.ok(await n2.waitState('VI_2', 'MASTER', 10_000), c.logs());
    assert.ok(await n1.waitState('VI_6', 'MASTER', 10_000), c.logs());
    assert.deepEqual(await c.waitHolder('192.0.2.100', 'n1', 5000), ['n1'], c.logs());
    assert.deepEqual(await c.waitHolder('192.0.2.101', 'n2', 5000), ['n2'], c.logs());
    assert.deepEqual(await c.waitHolder('2001:db8::100', 'n1', 5000), ['n1'], c.logs());
    // no instance was left waiting on a failed netlink request
    for (const n of [n1, n2]) assert.equal(n.count(/waiting for it|waiting \(FAULT\)/), 0, n.log());

    // n2 stops: VI_2 moves to n1, the others stay
    const from = n1.mark();
    assert.equal((await n2.stop()).code, 0);
    assert.ok(await n1.waitState('VI_2', 'MASTER', 5000, from), c.logs());
    assert.deepEqual(await c.waitHolder('192.0.2.101', 'n1', 3000), ['n1'], c.logs());
    assert.deepEqual(c.holders('192.0.2.100'), ['n1']);
    assert.deepEqual(c.holders('2001:db8::100'), ['n1']);
    assert.equal(n1.count(/\(VI_1\) Entering/, from), 0, n1.log());
  } finally {
    await c.cleanup();
  }
});
