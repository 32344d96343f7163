// Files keepalived 2.2.7 refuses to run (its VRRP process stops with "permanent error CONFIG",
// exit 2, measured in a kts- namespace): keepalived-ts refuses them at start with exit 2, and a
// reload refuses them with the same message while the running configuration goes on. Files
// keepalived runs (a VRID shared by a unicast and a multicast instance) start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig, sleep, VIP, type KtsNode } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

const base = { priority: 150, advertInt: 1, state: 'MASTER' as const, vips: [`${VIP}/24`] };
const second = { name: 'VI_2', priority: 150, advertInt: 1, vips: ['192.0.2.101/24'] };
const CASES: Array<{ what: string; conf: string; reason: RegExp }> = [
  {
    what: 'two multicast instances with VRID 51 on vnet0',
    conf: renderConfig({ routerId: 'n1', instances: [base, second] }),
    reason: /:\d+(:\d+)?: error: virtual_router_id: VI_1 and VI_2 both use VRID 51 with IPv4 on interface vnet0/,
  },
  {
    what: 'VRID 0',
    conf: renderConfig({ routerId: 'n1', instances: [{ ...base, vrid: 0 }] }),
    reason: /:\d+: error: virtual_router_id: \(VI_1\) the virtual router id must be set/,
  },
  {
    what: 'VRID 300',
    conf: renderConfig({ routerId: 'n1', instances: [{ ...base, vrid: 300 }] }),
    reason: /:\d+: error: virtual_router_id: \(VI_1\) the virtual router id must be set/,
  },
  {
    what: 'a keyword without its parameter',
    conf: renderConfig({ routerId: 'n1', instances: [{ ...base, extra: ['priority'] }] }),
    reason: /:\d+:\d+: error: priority: \*\*\* Configuration line starting `priority` is missing a parameter/,
  },
];

async function exitOf(node: KtsNode, ms: number): Promise<number | null | undefined> {
  const e = await Promise.race([node.exited, sleep(ms).then(() => undefined)]);
  return e?.code;
}

test('start: a file keepalived stops on is refused with exit 2 and its file:line, nothing starts', { skip, timeout: 120_000 }, async () => {
  const c = Cluster.create([{ name: 'n1', addresses: ['192.0.2.11/24'] }]);
  try {
    for (const k of CASES) {
      const n = c.start('n1', k.conf);
      const code = await exitOf(n, 20_000);
      assert.equal(code, 2, `${k.what}: exit ${code}\n${n.log()}`);
      const refused = n.find(/configuration refused, keepalived would not run it: .*not starting/);
      assert.ok(refused, `${k.what}: no refusal line\n${n.log()}`);
      assert.match(refused.text, k.reason, k.what);
      assert.ok(refused.text.includes(n.configFile), `${k.what}: the message names the file`);
      assert.equal(n.count(/started \d+ VRRP instance/), 0, `${k.what}: nothing may start`);
      assert.deepEqual(c.holders(VIP), [], k.what);
    }
  } finally {
    await c.cleanup();
  }
});

test('start: one VRID for a unicast and a multicast instance on one interface runs (keepalived accepts it)', {
  skip,
  timeout: 60_000,
}, async () => {
  const c = Cluster.create([{ name: 'n1', addresses: ['192.0.2.11/24'] }]);
  try {
    const n = c.start(
      'n1',
      renderConfig({ routerId: 'n1', instances: [base, { ...second, unicastSrcIp: '192.0.2.11', unicastPeers: ['192.0.2.12'] }] }),
    );
    assert.ok(await n.waitLine(/started 2 VRRP instance/, 20_000), n.log());
    assert.ok(await n.waitState('VI_1', 'MASTER', 20_000), n.log());
    assert.equal(n.count(/both use VRID/), 0, n.log());
    assert.equal((await n.stop()).code, 0);
  } finally {
    await c.cleanup();
  }
});

test('reload: the same files are refused with the same message, the running configuration stays', { skip, timeout: 120_000 }, async () => {
  const c = Cluster.create([{ name: 'n1', addresses: ['192.0.2.11/24'] }]);
  try {
    const n = c.start('n1', renderConfig({ routerId: 'n1', instances: [base] }));
    assert.ok(await n.waitState('VI_1', 'MASTER', 20_000), n.log());
    assert.ok(await c.waitHolder(VIP, 'n1', 10_000));
    for (const k of CASES) {
      const from = n.mark();
      writeFileSync(n.configFile, k.conf);
      n.signal('SIGHUP');
      const aborted = await n.waitLine(/Reload aborted: configuration refused, keepalived would not run it: /, 10_000, from);
      assert.ok(aborted, `${k.what}: not refused\n${n.log()}`);
      assert.match(aborted.text, k.reason, k.what);
      assert.ok(aborted.text.includes(n.configFile), `${k.what}: the message names the file`);
      assert.ok(n.running, `${k.what}: the daemon stopped\n${n.log()}`);
      assert.deepEqual(c.holders(VIP), ['n1'], `${k.what}: the VIP moved`);
      assert.equal(n.count(/Entering|VRRP instance\(s\) started|Reload done/, from), 0, `${k.what}: something was applied\n${n.log()}`);
    }
    assert.equal((await n.stop()).code, 0);
  } finally {
    await c.cleanup();
  }
});
