// src/net behaviours the daemon tests ran into (todo tests for src/net's owner, and the
// daemon's workarounds).
// 1. Concurrent netlink dumps on one Rtnl socket. Found by the daemon tests: two instances starting
// together each list links; the kernel runs one dump per socket at a time, so the second
// request is rejected (EBUSY) and the first reply is cut short. src/net's Rtnl does not queue
// requests (the todo test documents it for its owner); the daemon serialises its own calls
// (src/daemon/rtnl-queue.ts), tested here too.
// 2. NetMonitor emits 'link' before it records the new state, so links() read from a listener
// is stale (track_interface never saw its interface go down); the daemon keeps its own view.
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

test('NetMonitor: links() already shows the change when "link" is emitted', { skip, timeout: 30_000, todo: "src/net NetMonitor emits 'link' before updating links(): a listener reading links() sees the old state (the daemon keeps its own view)" }, async () => {
  const lab = Lab.create();
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const src = `
      import { NetMonitor } from ${JSON.stringify(resolve(DIST, 'src/net/monitor.js'))};
      import { Rtnl } from ${JSON.stringify(resolve(DIST, 'src/net/netlink.js'))};
      const mon = await NetMonitor.start();
      const rtnl = Rtnl.open();
      const seen = new Promise((res) => mon.on('link', (link) => {
        if (link.name === 'vnet0' && !link.adminUp) res(mon.links().get(link.index)?.adminUp);
      }));
      await rtnl.setLinkUp('vnet0', false);
      const t = setTimeout(() => { console.log(JSON.stringify('no event')); process.exit(0); }, 5000);
      console.log(JSON.stringify(await seen));
      clearTimeout(t); rtnl.close(); mon.close(); process.exit(0);
    `;
    const out = spawnSync('ip', ['netns', 'exec', h.ns, process.execPath, '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(out.status, 0, out.stderr);
    // links() at the time of the event: adminUp must already be false
    assert.equal(JSON.parse(out.stdout.trim().split('\n').pop()!), false);
  } finally {
    await lab.cleanup();
  }
});
