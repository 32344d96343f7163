// VrrpSocket between two namespaces: multicast v4/v6 with TTL 255, unicast, receiving ifname,
// own packets not looped back, a missing interface gives ENOIF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

// A receiver: opens a socket, reports ready, reports every packet for `ms`, then exits.
function receiver(family: 4 | 6, ms: number): string {
  return `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
s.on('packet', (p) => out({ ev: 'packet', src: p.srcAddress, dst: p.dstAddress, ttl: p.ttl, ifname: p.ifname,
  off: p.payloadOffset, payload: p.data.subarray(p.payloadOffset).toString('hex') }));
out({ ev: 'ready', src: s.srcAddress });
setTimeout(() => { s.close(); process.exit(0); }, ${ms});`;
}

// A sender: also listens (its own multicast must not come back), sends `n` multicast packets and
// one unicast to `peer`, then reports what it received itself.
function sender(family: 4 | 6, peer: string, payloadHex: string): string {
  return `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
let own = 0;
s.on('packet', () => { own++; });
const payload = Buffer.from(${JSON.stringify(payloadHex)}, 'hex');
for (let i = 0; i < 3; i++) { await s.send(payload); await new Promise((r) => setTimeout(r, 20)); }
const uni = Buffer.from(payload); uni[1] = 0x99;
await s.send(uni, ${JSON.stringify(peer)});
await new Promise((r) => setTimeout(r, 300));
out({ ev: 'done', own, src: s.srcAddress });
s.close();`;
}

// VRRPv3 advert bytes (version 3, type 1, VRID 51, prio 100, 0 addrs, max adver int 100 cs).
// IPv4: the checksum field is left as is (the kernel does not check VRRP over IPv4);
// IPv6: the kernel fills it (IPV6_CHECKSUM 6).
const V3_PAYLOAD = '3133640000640000c0000201';

for (const family of [4, 6] as const) {
  test(`VRRP IPv${family}: multicast + unicast between namespaces, TTL 255, no loopback`, { skip, timeout: 60_000 }, async () => {
    const lab = Lab.create();
    try {
      const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
      const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24', '2001:db8::12/64'] });
      // tcpdump in b shows the TTL / hop limit on the wire (the only way to see it for IPv6).
      const dump = lab.spawn(b.ns, [
        'timeout',
        '30',
        'tcpdump',
        '-l',
        '-nn',
        '-v',
        '-c',
        '4',
        '-i',
        'vnet0',
        family === 4 ? 'ip proto 112' : 'ip6 proto 112',
      ]);
      let dumpOut = '';
      let dumpErr = '';
      dump.stdout?.setEncoding('utf8').on('data', (d: string) => {
        dumpOut += d;
      });
      dump.stderr?.setEncoding('utf8').on('data', (d: string) => {
        dumpErr += d;
      });
      const dumpDone = new Promise<void>((r) => dump.once('exit', () => r()));
      await waitFor(() => dumpErr.includes('listening on'), 5000);
      const rx = runIn(lab, b.ns, receiver(family, 25_000));
      const ready = await rx.waitLine((l) => l.ev === 'ready', 15_000);
      if (family === 4) assert.equal(ready.src, '192.0.2.12', 'primary IPv4 chosen as source');
      const tx = runIn(lab, a.ns, sender(family, family === 4 ? '192.0.2.12' : '2001:db8::12', V3_PAYLOAD));
      const done = await tx.waitLine((l) => l.ev === 'done', 15_000);
      assert.equal(done.own, 0, 'own multicast packets must not be looped back');
      const txRes = await tx.done;
      assert.equal(txRes.code, 0, txRes.stderr);

      await rx.waitLine((l) => l.ev === 'packet' && typeof l.payload === 'string' && l.payload.slice(2, 4) === '99', 8000);
      const packets = rx.lines.filter((l) => l.ev === 'packet');
      const mcast = packets.filter((p) => (p.payload as string).slice(2, 4) === '33');
      const ucast = packets.filter((p) => (p.payload as string).slice(2, 4) === '99');
      assert.equal(mcast.length, 3, `3 multicast adverts received, got ${JSON.stringify(packets)}`);
      assert.equal(ucast.length, 1, 'the unicast advert received');
      for (const p of packets) assert.equal(p.ifname, 'vnet0');
      await dumpDone;
      const wireLines = dumpOut.split('\n').filter((l) => /VRRP|proto 112|next-header VRRP/i.test(l) && /(ttl|hlim) \d+/.test(l));
      assert.equal(wireLines.length, 4, `tcpdump saw 4 adverts: ${dumpOut} ${dumpErr}`);
      for (const l of wireLines) assert.match(l, family === 4 ? /ttl 255/ : /hlim 255/);
      if (family === 4) {
        for (const p of mcast) {
          assert.equal(p.ttl, 255);
          assert.equal(p.src, '192.0.2.11');
          assert.equal(p.dst, '224.0.0.18');
          assert.equal(p.off, 20);
          assert.equal(p.payload, V3_PAYLOAD, 'payload intact after the IPv4 header');
        }
        assert.equal(ucast[0]!.dst, '192.0.2.12');
        assert.equal(ucast[0]!.ttl, 255);
      } else {
        for (const p of mcast) {
          assert.match(p.src as string, /^fe80::/, 'IPv6 adverts come from the link-local');
          assert.equal(p.ttl, undefined);
          const pl = p.payload as string;
          assert.equal(pl.slice(0, 12), V3_PAYLOAD.slice(0, 12));
          assert.notEqual(pl.slice(12, 16), '0000', 'kernel filled the VRRPv3 checksum');
        }
      }
    } finally {
      await lab.cleanup();
    }
  });
}

/** A VrrpSocket receiving IPv4 unicast in `ns` (no group joined); prints `outExpr` (of packet p) per packet. */
function unicastReceiver(lab: Lab, ns: string, outExpr: string): ReturnType<typeof runIn> {
  return runIn(
    lab,
    ns,
    `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 4, group: null });
s.on('packet', (p) => out(${outExpr}));
out({ ev: 'ready' });
setTimeout(() => { s.close(); process.exit(0); }, 25_000);`,
  );
}

test('VRRP IPv4 unicast only (no join): unicast_ttl and unicast_src_ip honoured', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] });
    const rx = unicastReceiver(lab, b.ns, "{ ev: 'packet', ttl: p.ttl, src: p.srcAddress }");
    await rx.waitLine((l) => l.ev === 'ready', 15_000);
    const tx = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 4, group: null, ttl: 64, srcAddress: '192.0.2.99' });
await s.send(Buffer.from(${JSON.stringify(V3_PAYLOAD)}, 'hex'), '192.0.2.12');
out({ ev: 'sent' }); s.close();`,
    );
    await tx.waitLine((l) => l.ev === 'sent', 15_000);
    const p = await rx.waitLine((l) => l.ev === 'packet', 8000);
    assert.equal(p.ttl, 64, 'unicast_ttl');
    assert.equal(p.src, '192.0.2.99', 'unicast_src_ip written in our IPv4 header');
  } finally {
    await lab.cleanup();
  }
});

test('VrrpSocket on a missing interface: NetError ENOIF', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
try { await VrrpSocket.open({ ifname: 'nosuch0', family: 4 }); out({ ev: 'opened' }); }
catch (e) { out({ ev: 'error', name: e.name, code: e.code, message: e.message }); }`,
    );
    const e = await r.waitLine((l) => l.ev !== undefined, 15_000);
    assert.equal(e.ev, 'error');
    assert.equal(e.name, 'NetError');
    assert.equal(e.code, 'ENOIF');
    assert.match(e.message as string, /nosuch0/);
  } finally {
    await lab.cleanup();
  }
});

test('VRRP IPv6 unicast to a link-local peer (with or without a zone)', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a' });
    const b = lab.addHost({ name: 'b' });
    const ll = (
      JSON.parse(lab.exec(b.ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'vnet0', 'scope', 'link'])) as Array<{
        addr_info: Array<{ local: string }>;
      }>
    )[0]!.addr_info[0]!.local;
    const rx = runIn(
      lab,
      b.ns,
      `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 6, group: null });
s.on('packet', (p) => out({ ev: 'packet', src: p.srcAddress, payload: p.data.toString('hex') }));
out({ ev: 'ready' });
setTimeout(() => { s.close(); process.exit(0); }, 25_000);`,
    );
    await rx.waitLine((l) => l.ev === 'ready', 15_000);
    const tx = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 6, group: null });
const p = Buffer.from(${JSON.stringify(V3_PAYLOAD)}, 'hex');
await s.send(p, ${JSON.stringify(ll)});
p[1] = 0x52;
await s.send(p, ${JSON.stringify(ll + '%vnet0')});
out({ ev: 'sent' }); s.close();`,
    );
    await tx.waitLine((l) => l.ev === 'sent', 15_000);
    await rx.waitLine((l) => l.ev === 'packet' && (l.payload as string).slice(2, 4) === '52', 8000);
    const got = rx.lines.filter((l) => l.ev === 'packet').map((l) => (l.payload as string).slice(2, 4));
    assert.deepEqual(got, ['33', '52']);
  } finally {
    await lab.cleanup();
  }
});

test('send: the rehearsal transport builds the packet and sends nothing; sends right after it go out in order', {
  skip,
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] });
    const rx = unicastReceiver(lab, b.ns, "{ ev: 'packet', vrid: p.data[p.payloadOffset + 1] }");
    await rx.waitLine((l) => l.ev === 'ready', 15_000);
    // VRID byte 0x77 only in the dry run; then 5 real sends without awaiting (the direct
    // sendto path, and raw-socket's queue when the socket buffer is full), VRIDs 1..5
    const tx = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
import { rehearsalTransport } from ${mod('takeover')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 4, group: null });
const pl = (vrid) => { const b = Buffer.from(${JSON.stringify(V3_PAYLOAD)}, 'hex'); b[1] = vrid; return b; };
const dry = rehearsalTransport.trySendAdvert(s, pl(0x77), '192.0.2.12');
const sent = await Promise.all([1, 2, 3, 4, 5].map((v) => s.send(pl(v), '192.0.2.12')));
out({ ev: 'sent', dry, sent }); s.close();`,
    );
    const res = await tx.waitLine((l) => l.ev === 'sent', 15_000);
    assert.equal(res.dry, 20 + V3_PAYLOAD.length / 2, 'the dry run reports the packet it built (IPv4 header + payload)');
    assert.deepEqual(
      res.sent,
      [1, 2, 3, 4, 5].map(() => 20 + V3_PAYLOAD.length / 2),
    );
    await rx.waitLine((l) => l.ev === 'packet' && l.vrid === 5, 8000);
    const vrids = rx.lines.filter((l) => l.ev === 'packet').map((l) => l.vrid);
    assert.deepEqual(vrids, [1, 2, 3, 4, 5], 'the dry run sent nothing; the real sends arrived in order');
  } finally {
    await lab.cleanup();
  }
});

test('adverts queued while the event loop was busy are all read in the next poll, not one per turn', {
  skip,
  timeout: 60_000,
}, async () => {
  // After a stall (a GC pause, the process not scheduled) the socket holds many adverts; read one
  // per turn of the loop, a Backup's Master_Down_Timers (libuv runs timers before it polls)
  // expired between them (bench/v3load). The receiver blocks its loop until the sender is done,
  // then counts what it has read when the check phase (setImmediate) comes, right after the poll.
  const lab = Lab.create();
  const flag = `/tmp/kts-drain-${lab.id}`;
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] });
    const rx = runIn(
      lab,
      b.ns,
      `${PRELUDE}
import { existsSync } from 'node:fs';
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 4 });
let n = 0;
s.on('packet', () => { n++; });
out({ ev: 'ready' });
setTimeout(() => {
  const end = Date.now() + 20000;
  while (!existsSync(${JSON.stringify(flag)}) && Date.now() < end) { /* the stall */ }
  setImmediate(() => { out({ ev: 'turn', n }); s.close(); process.exit(0); });
}, 0);`,
    );
    await rx.waitLine((l) => l.ev === 'ready', 15_000);
    const tx = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: 4 });
const payload = Buffer.from(${JSON.stringify(V3_PAYLOAD)}, 'hex');
for (let i = 0; i < 20; i++) await s.send(payload);
out({ ev: 'done' });
s.close();`,
    );
    await tx.waitLine((l) => l.ev === 'done', 15_000);
    await new Promise((r) => setTimeout(r, 200)); // the last frames cross the bridge
    writeFileSync(flag, '');
    const turn = await rx.waitLine((l) => l.ev === 'turn', 25_000);
    assert.equal(turn.n, 20, 'all 20 queued adverts read before the loop went on');
  } finally {
    rmSync(flag, { force: true });
    await lab.cleanup();
  }
});

for (const family of [4, 6] as const) {
  test(`native receive IPv${family}: a burst of 100 queued adverts arrives whole and in order, in batches`, {
    skip,
    timeout: 60_000,
  }, async () => {
    // kts_vrrp_rx reads the queue with recvmmsg, 32 packets at most per call into JavaScript: the
    // receiver stalls its loop while the sender's burst piles up, then every packet must come out
    // once, in the order sent, with its own bytes and source, in a handful of batches.
    const N = 100;
    const lab = Lab.create();
    const flag = `/tmp/kts-burst-${lab.id}`;
    try {
      const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
      const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24', '2001:db8::12/64'] });
      const rx = runIn(
        lab,
        b.ns,
        `${PRELUDE}
import { existsSync } from 'node:fs';
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
const seen = [];
const srcs = new Set();
let bad = 0;
s.on('packet', (p) => {
  const v = p.data.subarray(p.payloadOffset);
  if (v.length !== 12 || v[1] !== 51) bad++;
  seen.push(v[2] * 256 + v[9]); // priority and the last byte carry the sequence number
  srcs.add(p.srcAddress);
});
let batches = 0;
const onRxBatch = s.onRxBatch.bind(s);
s.onRxBatch = (n) => { batches++; onRxBatch(n); };
out({ ev: 'ready', native: s.nativeReceive });
setTimeout(() => {
  const end = Date.now() + 20000;
  while (!existsSync(${JSON.stringify(flag)}) && Date.now() < end) { /* the stall */ }
  setImmediate(() => { out({ ev: 'turn', seen, bad, batches, srcs: [...srcs] }); s.close(); process.exit(0); });
}, 0);`,
      );
      const ready = await rx.waitLine((l) => l.ev === 'ready', 15_000);
      assert.equal(ready.native, true, 'the kts_vrrp_rx addon is built and used');
      const tx = runIn(
        lab,
        a.ns,
        `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
const base = Buffer.from(${JSON.stringify(V3_PAYLOAD)}, 'hex');
for (let i = 1; i <= ${N}; i++) {
  const p = Buffer.from(base);
  p[2] = i >> 8;
  p[9] = i & 0xff;
  await s.send(p);
}
out({ ev: 'done' });
s.close();`,
      );
      await tx.waitLine((l) => l.ev === 'done', 15_000);
      await new Promise((r) => setTimeout(r, 300)); // the last frames cross the bridge
      writeFileSync(flag, '');
      const turn = await rx.waitLine((l) => l.ev === 'turn', 25_000);
      assert.deepEqual(
        turn.seen,
        Array.from({ length: N }, (_, i) => i + 1),
        'every advert once, in the order sent',
      );
      assert.equal(turn.bad, 0, 'each packet with its own bytes');
      const srcs = turn.srcs as string[];
      const batches = turn.batches as number;
      if (family === 4) assert.deepEqual(srcs, ['192.0.2.11'], 'the source from the batch');
      else assert.ok(/^fe80:/.test(String(srcs[0])) && srcs.length === 1, `one link-local source: ${srcs.join(', ')}`);
      assert.ok(batches >= Math.ceil(N / 32) && batches <= Math.ceil(N / 32) + 1, `read in batches of up to 32: ${batches}`);
    } finally {
      rmSync(flag, { force: true });
      await lab.cleanup();
    }
  });
}
