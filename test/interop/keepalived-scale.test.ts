// Scale against keepalived: 200 instances, a keepalived-ts Master and a keepalived Backup, every
// VIP on our side and none on theirs. Also the netlink trap that once left all 200 waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configText, instanceBlock, interopSkipReason, InteropLab, sleep } from '../helpers/interop-lab.js';
import { waitFor } from '../helpers/netns.js';

const skip = interopSkipReason();
const N = 200;

test(`${N} instances: keepalived-ts Master, keepalived Backup`, { skip, timeout: 120_000 }, async () => {
  const il = InteropLab.create();
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    il.addNode('n2', ['192.0.2.12/24']);
    const conf = (prio: number) =>
      configText(
        'scale',
        Array.from({ length: N }, (_, i) =>
          instanceBlock({ name: `VI_${i + 1}`, vrid: i + 1, version: 2, priority: prio, advertInt: 1, vips: [`198.51.100.${i + 1}/24`] }),
        ),
      );
    il.start('n2', 'ka', conf(100));
    assert.ok(await il.ready('n2'));
    il.start('n1', 'kts', conf(150));
    const count = (n: string) => il.lab.addressesOf(n).filter((a) => a.startsWith('198.51.100.')).length;
    const ok = await waitFor(() => count('n1') === N && count('n2') === 0, 60_000, 250);
    assert.ok(ok, `VIPs: ${count('n1')} on keepalived-ts (want ${N}), ${count('n2')} on keepalived (want 0)`);
    await sleep(2500); // steady: keepalived stays Backup on every instance
    assert.equal(count('n2'), 0);
    assert.equal(count('n1'), N);
    assert.deepEqual(il.complaints('n2'), []);
  } finally {
    await il.cleanup();
  }
});

// src/net/netlink.ts: 200 concurrent getLink() on one Rtnl used to fail (one dump per netlink
// socket at a time); Rtnl now queues its requests. Runs in a throw-away namespace.
test('rtnetlink: 200 concurrent getLink() calls on one socket all succeed', {
  skip,
  timeout: 30_000,
}, async () => {
  const il = InteropLab.create();
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    // run the check in the namespace, in a child node process (netlink binds to the caller's namespace)
    const script = `import('${new URL('../../src/net/netlink.js', import.meta.url).href}').then(async ({ Rtnl }) => {
      const r = Rtnl.open();
      const res = await Promise.allSettled(Array.from({ length: 200 }, () => r.getLink('vnet0')));
      const bad = res.filter((x) => x.status === 'rejected');
      console.log(JSON.stringify({ bad: bad.length, first: bad[0] ? String(bad[0].reason) : '' }));
      r.close();
    })`;
    const out = il.lab.exec(il.ns('n1'), [process.execPath, '--input-type=module', '-e', script], { timeoutMs: 20_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { bad: number; first: string };
    assert.equal(r.bad, 0, `${r.bad} of 200 concurrent getLink() failed, e.g. ${r.first}`);
  } finally {
    await il.cleanup();
  }
});
