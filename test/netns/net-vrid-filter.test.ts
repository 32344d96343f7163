// The kernel-side VRID filter (SO_ATTACH_FILTER, src/net/vrid-filter.ts): a socket filtered on
// VRIDs 7 and 200 receives the adverts of those VRIDs and not those of 8 (IPv4 and IPv6); the
// same packets reach an unfiltered socket, so what is missing was dropped by the filter; a
// filter replaced by another lets the new VRID through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';
import { vridFilterProgram } from '../../src/net/vrid-filter.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

test('vridFilterProgram: one comparison per distinct valid VRID, drop then accept at the end', () => {
  const p4 = vridFilterProgram(4, [200, 7, 7, 0, 256]);
  assert.equal(p4.length / 8, 2 + 2 + 2, 'ldx, ld, 2 jeq, 2 ret');
  assert.deepEqual([p4.readUInt32LE(2 * 8 + 4), p4.readUInt32LE(3 * 8 + 4)], [7, 200]);
  assert.deepEqual([p4[2 * 8 + 2], p4[3 * 8 + 2]], [2, 1], 'each jeq jumps to the accept');
  assert.equal(p4.readUInt32LE(4 * 8 + 4), 0, 'drop');
  assert.equal(p4.readUInt32LE(5 * 8 + 4), 0xffff, 'accept');
  const all = vridFilterProgram(
    6,
    Array.from({ length: 255 }, (_, i) => i + 1),
  );
  assert.equal(all.length / 8, 1 + 255 + 2);
  assert.equal(all[1 * 8 + 2], 255, 'the farthest jump still fits in jt');
});

// Receives for `ms` on two sockets of the same family; the first is filtered on `vrids`, then on
// `refilter` once a line arrives on stdin.
function receiver(family: 4 | 6, vrids: number[], refilter: number[], ms: number): string {
  return `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const f = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
const plain = await VrrpSocket.open({ ifname: 'vnet0', family: ${family}, group: ${family === 4 ? "'224.0.0.18'" : "'ff02::12'"} });
const ok = f.filterVrids(${JSON.stringify(vrids)});
f.on('packet', (p) => out({ ev: 'packet', sock: 'filtered', vrid: p.data[p.payloadOffset + 1] }));
plain.on('packet', (p) => out({ ev: 'packet', sock: 'plain', vrid: p.data[p.payloadOffset + 1] }));
out({ ev: 'ready', ok });
process.stdin.once('data', () => { f.filterVrids(${JSON.stringify(refilter)}); out({ ev: 'refiltered' }); });
setTimeout(() => { f.close(); plain.close(); process.exit(0); }, ${ms});`;
}

// Sends one VRRPv3 advert per VRID (20 ms apart), then exits.
function sender(family: 4 | 6, vrids: number[]): string {
  return `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
for (const v of ${JSON.stringify(vrids)}) {
  const p = Buffer.from('3133640000640000c0000201', 'hex'); p[1] = v;
  await s.send(p);
  await new Promise((r) => setTimeout(r, 20));
}
out({ ev: 'done' });
s.close();`;
}

for (const family of [4, 6] as const) {
  test(`VRID filter IPv${family}: only the filtered VRIDs are delivered; a new filter replaces the old`, {
    skip,
    timeout: 60_000,
  }, async () => {
    const lab = Lab.create();
    try {
      const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
      const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24', '2001:db8::12/64'] });
      const rx = runIn(lab, b.ns, receiver(family, [7, 200], [8], 25_000), 30_000, { stdin: true });
      const ready = await rx.waitLine((l) => l.ev === 'ready', 15_000);
      assert.equal(ready.ok, true, 'the addon built the filter');
      const plainCount = () => rx.lines.filter((l) => l.ev === 'packet' && l.sock === 'plain').length;
      const tx1 = runIn(lab, a.ns, sender(family, [7, 8, 200, 8, 7]));
      await tx1.waitLine((l) => l.ev === 'done', 15_000);
      await waitFor(() => plainCount() >= 5, 3000, 20);
      rx.child.stdin?.write('refilter\n');
      await rx.waitLine((l) => l.ev === 'refiltered', 5_000);
      const tx2 = runIn(lab, a.ns, sender(family, [7, 8, 200]));
      await tx2.waitLine((l) => l.ev === 'done', 15_000);
      await waitFor(() => plainCount() >= 8, 3000, 20);
      await new Promise((r) => setTimeout(r, 200));
      const got = (sock: string) => rx.lines.filter((l) => l.ev === 'packet' && l.sock === sock).map((l) => l.vrid as number);
      assert.deepEqual(got('plain'), [7, 8, 200, 8, 7, 7, 8, 200], 'the unfiltered socket saw every advert');
      assert.deepEqual(got('filtered'), [7, 200, 7, 8], 'filtered: 7 and 200, then only 8');
    } finally {
      await lab.cleanup();
    }
  });
}
