// keepalived-ts daemons in network namespaces: preemption, nopreempt, preempt_delay.
// Each test builds its own Lab (isolated namespaces) and tears it down in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { mdiV3, nodes, vipConf, VIP, Cluster, sleep } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

const conf = vipConf;

const twoNodes = (): Cluster => nodes(2);

test('preemption: a higher priority node starting later takes over', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 0.5 }));
    assert.ok(await n2.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 5000), ['n2']);
    const from2 = n2.mark();
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.5 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 5000, from2), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 5000), ['n1'], c.logs());
    await sleep(1500);
    assert.deepEqual(c.holders(VIP), ['n1'], c.logs());
    assert.equal(n2.lastState(), 'BACKUP');
  } finally {
    await c.cleanup();
  }
});

test('nopreempt: a higher priority node starting later stays Backup', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 0.5 }));
    assert.ok(await n2.waitState('VI_1', 'MASTER', 20_000), c.logs());
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.5, nopreempt: true }));
    assert.ok(await n1.waitState('VI_1', 'BACKUP', 20_000), c.logs());
    // several Master_Down_Intervals (~1.6 s each for n1): it would have preempted by now
    await sleep(5000);
    assert.equal(n1.count(/Entering MASTER STATE/), 0, c.logs());
    assert.equal(n2.lastState(), 'MASTER');
    assert.deepEqual(c.holders(VIP), ['n2'], c.logs());
    // but it does take over when the Master goes away
    const from = n1.mark();
    await n2.stop();
    assert.ok(await n1.waitState('VI_1', 'MASTER', 5000, from), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1']);
  } finally {
    await c.cleanup();
  }
});

test('preempt_delay: the higher priority node waits before taking over', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  const delayS = 4;
  try {
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 0.5 }));
    assert.ok(await n2.waitState('VI_1', 'MASTER', 20_000), c.logs());
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.5, preemptDelay: delayS }));
    const backup = await n1.waitState('VI_1', 'BACKUP', 20_000);
    assert.ok(backup, c.logs());
    // without the delay n1 would preempt within ~MDI (1.6 s); it must still be Backup at ~3 s
    await sleep(delayS * 1000 - 1000);
    assert.equal(n1.count(/Entering MASTER STATE/), 0, `n1 preempted before preempt_delay ${delayS} s\n${c.logs()}`);
    assert.deepEqual(c.holders(VIP), ['n2']);
    const master = await n1.waitState('VI_1', 'MASTER', 10_000);
    assert.ok(master, `n1 never preempted\n${c.logs()}`);
    const waited = master.t - backup.t;
    const mdi = mdiV3(150, 50);
    assert.ok(waited >= delayS * 1000 - 100, `preempted after ${waited} ms, preempt_delay is ${delayS} s`);
    assert.ok(waited <= delayS * 1000 + mdi + 2000, `preempted after ${waited} ms, expected ~${delayS * 1000 + mdi}`);
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
    console.log(`# preempt_delay ${delayS} s: took over ${waited} ms after entering BACKUP`);
  } finally {
    await c.cleanup();
  }
});
