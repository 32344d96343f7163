// NetMonitor in a namespace: link down/up (admin and carrier) within ~100 ms, address added and
// removed by iproute2 seen with the right event type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, isRoot } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const LOOSE_MS = 1000;

const MONITOR = `${PRELUDE}
import { NetMonitor } from ${mod('monitor')};
const m = await NetMonitor.start();
m.on('linkUp', (l) => out({ ev: 'linkUp', name: l.name, t: Date.now() }));
m.on('linkDown', (l, reason) => out({ ev: 'linkDown', name: l.name, reason, t: Date.now() }));
m.on('addressAdded', (a) => out({ ev: 'addressAdded', address: a.address, ifname: a.ifname, label: a.label, t: Date.now() }));
m.on('addressRemoved', (a) => out({ ev: 'addressRemoved', address: a.address, ifname: a.ifname, t: Date.now() }));
m.on('error', (e) => out({ ev: 'error', message: e.message }));
out({ ev: 'ready', links: [...m.links().values()].map((l) => l.name) });
setTimeout(() => { m.close(); process.exit(0); }, 25_000);`;

test('monitor: admin down/up, carrier loss, address add/del by ip', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const mon = runIn(lab, a.ns, MONITOR, 30_000);
    const ready = await mon.waitLine((l) => l.ev === 'ready', 15_000);
    assert.ok((ready.links as string[]).includes('vnet0'));

    // Admin down, then up, by iproute2. Spawning `ip netns exec` takes tens of ms on a loaded
    // machine, so the bound is taken from when `ip` has returned. This test checks that the events
    // arrive, typed right; the bound is loose (CPU-starved CI) and the precise latency figure is
    // the next test's. Usually the event is already there when `ip` returns.
    lab.setLink('a', false);
    let tDone = Date.now();
    const down = await mon.waitLine((l) => l.ev === 'linkDown' && l.name === 'vnet0', 5000);
    assert.equal(down.reason, 'admin');
    assert.ok((down.t as number) - tDone < LOOSE_MS, `link down seen ${(down.t as number) - tDone} ms after ip returned`);
    lab.setLink('a', true);
    tDone = Date.now();
    const up = await mon.waitLine((l) => l.ev === 'linkUp' && l.name === 'vnet0', 5000);
    assert.ok((up.t as number) - tDone < LOOSE_MS, `link up seen ${(up.t as number) - tDone} ms after ip returned`);

    // Carrier loss: the bridge side of the veth goes down (our side stays admin up).
    const before = mon.lines.length;
    lab.exec(lab.switchNs, ['ip', 'link', 'set', 'p0', 'down']);
    tDone = Date.now();
    const lost = await mon.waitLine((l) => mon.lines.indexOf(l) >= before && l.ev === 'linkDown' && l.name === 'vnet0', 5000);
    assert.equal(lost.reason, 'carrier');
    assert.ok((lost.t as number) - tDone < LOOSE_MS, `carrier loss seen ${(lost.t as number) - tDone} ms after ip returned`);
    lab.exec(lab.switchNs, ['ip', 'link', 'set', 'p0', 'up']);
    await mon.waitLine((l) => mon.lines.indexOf(l) >= before && l.ev === 'linkUp' && l.name === 'vnet0', 5000);

    // Addresses, by iproute2 (not by our code).
    lab.exec(a.ns, ['ip', 'addr', 'add', '192.0.2.50/24', 'dev', 'vnet0', 'label', 'vnet0:x']);
    const added = await mon.waitLine((l) => l.ev === 'addressAdded' && l.address === '192.0.2.50', 5000);
    assert.equal(added.ifname, 'vnet0');
    assert.equal(added.label, 'vnet0:x');
    lab.exec(a.ns, ['ip', 'addr', 'del', '192.0.2.50/24', 'dev', 'vnet0']);
    tDone = Date.now();
    const removed = await mon.waitLine((l) => l.ev === 'addressRemoved' && l.address === '192.0.2.50', 5000);
    assert.ok((removed.t as number) - tDone < LOOSE_MS, `address removal seen ${(removed.t as number) - tDone} ms after ip returned`);
    lab.exec(a.ns, ['ip', 'addr', 'add', '2001:db8::50/64', 'dev', 'vnet0', 'nodad']);
    await mon.waitLine((l) => l.ev === 'addressAdded' && l.address === '2001:db8::50', 5000);
    lab.exec(a.ns, ['ip', 'addr', 'del', '2001:db8::50/64', 'dev', 'vnet0']);
    await mon.waitLine((l) => l.ev === 'addressRemoved' && l.address === '2001:db8::50', 5000);
    // No address event was mistyped: 192.0.2.50 was removed exactly once and added exactly once.
    assert.equal(mon.lines.filter((l) => l.address === '192.0.2.50' && l.ev === 'addressAdded').length, 1);
    assert.equal(mon.lines.filter((l) => l.address === '192.0.2.50' && l.ev === 'addressRemoved').length, 1);
    assert.ok(!mon.lines.some((l) => l.ev === 'error'), JSON.stringify(mon.lines));
  } finally {
    await lab.cleanup();
  }
});

test('monitor latency: admin toggles timed inside one process', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    // The change is made by our own netlink request, timed from just before it is sent, so no
    // process spawn is in the measurement.
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { NetMonitor } from ${mod('monitor')};
import { Rtnl } from ${mod('netlink')};
const m = await NetMonitor.start();
const rtnl = Rtnl.open();
const lat = [];
for (let i = 0; i < 10; i++) {
  const up = i % 2 === 1;
  const seen = new Promise((res) => m.once(up ? 'linkUp' : 'linkDown', () => res(performance.now())));
  const t0 = performance.now();
  await rtnl.setLinkUp('vnet0', up);
  lat.push((await Promise.race([seen, new Promise((res) => setTimeout(() => res(t0 + 5000), 2000))])) - t0);
}
out({ lat });
rtnl.close(); m.close();`,
      40_000,
    );
    const res = await r.waitLine((l) => Array.isArray(l.lat), 15_000);
    const lat = (res.lat as number[]).slice().sort((x, y) => x - y);
    const median = lat[Math.floor(lat.length / 2)]!;
    const max = lat[lat.length - 1]!;
    console.log(`monitor latency over ${lat.length} admin toggles: median ${median.toFixed(2)} ms, max ${max.toFixed(2)} ms`);
    // The target is milliseconds (about 1-10 ms on an idle machine). The bound on the median is
    // the real check; the max only catches lost events, since a CPU-starved CI box (load 15 on 2
    // cores measured here) can delay any single wake-up by 100+ ms.
    assert.ok(median < 100, `median latency ${median} ms`);
    assert.ok(max < 1000, `max latency ${max} ms`);
  } finally {
    await lab.cleanup();
  }
});

test('monitor resync: re-reads the links, emits resync, no spurious transitions', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { NetMonitor } from ${mod('monitor')};
const m = await NetMonitor.start();
const ev = [];
m.on('linkUp', (l) => ev.push('up ' + l.name));
m.on('linkDown', (l) => ev.push('down ' + l.name));
let resynced = 0;
m.on('resync', () => resynced++);
await m.resync();
out({ ev, resynced, links: [...m.links().values()].map((l) => l.name).sort() });
m.close();`,
    );
    const res = await r.waitLine(() => true, 15_000);
    assert.deepEqual(res, { ev: [], resynced: 1, links: ['lo', 'vnet0'] });
  } finally {
    await lab.cleanup();
  }
});
