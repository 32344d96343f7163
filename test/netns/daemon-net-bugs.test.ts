// Concurrent netlink dumps on one Rtnl socket. Found by the daemon tests: two instances starting
// together each list links; the kernel runs one dump per socket at a time, so the second
// request is rejected (EBUSY) and the first reply is cut short. src/net's Rtnl does not queue
// requests (the todo test documents it for its owner); the daemon serialises its own calls
// (src/daemon/rtnl-queue.ts), tested here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, isRoot } from '../helpers/netns.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Five concurrent getLink + two listAddresses in a fresh namespace; the outcome of each. */
function concurrentCalls(ns: string, serialized: boolean): string[] {
  const src = `
    import { Rtnl } from ${JSON.stringify(resolve(DIST, 'src/net/netlink.js'))};
    import { serializeRtnl } from ${JSON.stringify(resolve(DIST, 'src/daemon/rtnl-queue.js'))};
    const raw = Rtnl.open();
    const r = ${serialized ? 'serializeRtnl(raw)' : 'raw'};
    const calls = [1, 2, 3, 4, 5].map(() => r.getLink('lo'));
    calls.push(r.listAddresses({ family: 4 }), r.listAddresses({ family: 6 }));
    const res = await Promise.allSettled(calls);
    console.log(JSON.stringify(res.map((x) => x.status === 'fulfilled' ? 'ok' : String(x.reason?.message ?? x.reason))));
    r.close();
  `;
  const out = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as string[];
}

test('Rtnl: concurrent dumps on one socket all succeed', { skip, timeout: 30_000, todo: 'src/net Rtnl does not serialise requests: concurrent dumps fail with EBUSY / "Multipart message not terminated properly"' }, async () => {
  const lab = Lab.create();
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const res = concurrentCalls(h.ns, false);
    assert.deepEqual(res, Array(7).fill('ok'));
  } finally {
    await lab.cleanup();
  }
});

test('serializeRtnl (daemon): the same concurrent calls all succeed', { skip, timeout: 30_000 }, async () => {
  const lab = Lab.create();
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const res = concurrentCalls(h.ns, true);
    assert.deepEqual(res, Array(7).fill('ok'));
  } finally {
    await lab.cleanup();
  }
});
