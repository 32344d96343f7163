// keepalived-ts daemons in network namespaces: election, failover (kill -9, SIGTERM), preemption.
// Each test builds its own Lab (isolated namespaces) and tears it down in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig, sleep, type InstanceOptions } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const VIP = '192.0.2.100';

function conf(name: string, o: Omit<InstanceOptions, 'vips'> & { vips?: string[] }): string {
  return renderConfig({ routerId: name, instances: [{ vips: [`${VIP}/24`], ...o }] });
}

function threeNodes(): Cluster {
  return Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
    { name: 'n3', addresses: ['192.0.2.13/24'] },
  ]);
}

test('election: the highest priority becomes Master, the VIP is only there', { skip, timeout: 60_000 }, async () => {
  const c = threeNodes();
  try {
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.5 }));
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 0.5 }));
    const n3 = c.start('n3', conf('n3', { priority: 50, advertInt: 0.5 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), `n1 never Master\n${c.logs()}`);
    const holders = await c.waitHolder(VIP, 'n1', 5000);
    assert.deepEqual(holders, ['n1'], c.logs());
    // stable: a few advert intervals later nothing has moved
    await sleep(2000);
    assert.deepEqual(c.holders(VIP), ['n1'], c.logs());
    assert.equal(n1.lastState(), 'MASTER');
    assert.equal(n2.lastState(), 'BACKUP', c.logs());
    assert.equal(n3.lastState(), 'BACKUP', c.logs());
    assert.equal(n2.count(/Entering MASTER STATE/), 0, c.logs());
    assert.equal(n3.count(/Entering MASTER STATE/), 0, c.logs());
  } finally {
    await c.cleanup();
  }
});
