// src/net behaviours the daemon tests ran into, now fixed in src/net:
// 1. Concurrent netlink dumps on one Rtnl socket: two instances starting together each list
// links; the kernel runs one dump per socket at a time (EBUSY, "Multipart message not
// terminated properly"). Rtnl now queues its requests.
// 2. NetMonitor emitted 'link' before it recorded the new state, so links() read from a listener
// was stale (track_interface never saw its interface go down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, isRoot } from '../helpers/netns.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Five concurrent getLink + two listAddresses in a fresh namespace; the outcome of each. */
function concurrentCalls(ns: string): string[] {
  const src = `
    import { Rtnl } from ${JSON.stringify(resolve(DIST, 'src/net/netlink.js'))};
    const r = Rtnl.open();
    const calls = [1, 2, 3, 4, 5].map(() => r.getLink('lo'));
    calls.push(r.listAddresses({ family: 4 }), r.listAddresses({ family: 6 }));
    const res = await Promise.allSettled(calls);
    console.log(JSON.stringify(res.map((x) => x.status === 'fulfilled' ? 'ok' : String(x.reason?.message ?? x.reason))));
    r.close();
  `;
  const out = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', src], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as string[];
}

test('Rtnl: concurrent dumps on one socket all succeed', { skip, timeout: 30_000 }, async () => {
  const lab = Lab.create();
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const res = concurrentCalls(h.ns);
    assert.deepEqual(res, Array(7).fill('ok'));
  } finally {
    await lab.cleanup();
  }
});

test('NetMonitor: links() already shows the change when "link" is emitted', { skip, timeout: 30_000 }, async () => {
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
    const out = spawnSync('ip', ['netns', 'exec', h.ns, process.execPath, '--input-type=module', '-e', src], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(out.status, 0, out.stderr);
    // links() at the time of the event: adminUp must already be false
    assert.equal(JSON.parse(out.stdout.trim().split('\n').pop()!), false);
  } finally {
    await lab.cleanup();
  }
});
