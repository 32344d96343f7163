// Gratuitous ARP (AF_PACKET addon) and unsolicited NA (raw ICMPv6) seen by another namespace:
// on the wire (tshark / tcpdump) and in its neighbour cache (`ip neigh`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const STALE_MAC = '02:00:00:00:00:99';

function capture(child: ChildProcess): { out: () => string; err: () => string; done: Promise<void> } {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return { out: () => out, err: () => err, done: new Promise((r) => child.once('exit', () => r())) };
}

function neighMac(lab: Lab, ns: string, ip: string): string | undefined {
  const list = JSON.parse(lab.exec(ns, ['ip', '-j', 'neigh', 'show', ip]) || '[]') as Array<{ lladdr?: string }>;
  return list[0]?.lladdr;
}

function macOf(lab: Lab, ns: string): string {
  return (JSON.parse(lab.exec(ns, ['ip', '-j', 'link', 'show', 'vnet0'])) as Array<{ address: string }>)[0]!.address;
}

test('gratuitous ARP: tshark sees it, the neighbour cache is updated', { skip, timeout: 90_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] });
    const macA = macOf(lab, a.ns);
    // b knows the VIP at an old MAC (the previous master): a GARP must move it to a's MAC.
    lab.exec(b.ns, ['ip', 'neigh', 'replace', '192.0.2.100', 'lladdr', STALE_MAC, 'dev', 'vnet0', 'nud', 'stale']);
    assert.equal(neighMac(lab, b.ns, '192.0.2.100'), STALE_MAC);

    const ts = capture(lab.spawn(b.ns, ['tshark', '-l', '-n', '-i', 'vnet0', '-f', 'arp', '-c', '3', '-a', 'duration:60']));
    // tshark starts slowly on a loaded machine: wait for it to capture before sending.
    assert.ok(await waitFor(() => /Capturing on/.test(ts.err()), 40_000, 50), `tshark did not start: ${ts.err()}`);

    const tx = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { GarpSender } from ${mod('garp')};
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open(); const link = await r.getLink('vnet0'); r.close();
const g = GarpSender.open();
const sent = [];
for (let i = 0; i < 3; i++) { sent.push(g.sendGratuitousArp(link.index, '192.0.2.100', link.mac)); await new Promise((res) => setTimeout(res, 50)); }
g.close();
out({ sent });`,
    );
    const res = await tx.waitLine(() => true, 15_000);
    assert.deepEqual(res.sent, [60, 60, 60]);
    await ts.done;
    const lines = ts
      .out()
      .split('\n')
      .filter((l) => l.includes('ARP'));
    assert.equal(lines.length, 3, ts.out());
    for (const l of lines) {
      assert.match(l, /Gratuitous ARP for 192\.0\.2\.100 \(Request\)/);
      assert.match(l, /ff:ff:ff:ff:ff:ff|Broadcast/);
    }
    assert.ok(await waitFor(() => neighMac(lab, b.ns, '192.0.2.100') === macA, 5000), `b's ARP cache: ${lab.exec(b.ns, ['ip', 'neigh'])}`);
  } finally {
    await lab.cleanup();
  }
});

test('unsolicited NA: tcpdump sees hop limit 255 + override, the neighbour cache is updated', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['2001:db8::11/64'] });
    const b = lab.addHost({ name: 'b', addresses: ['2001:db8::12/64'] });
    const macA = macOf(lab, a.ns);
    lab.exec(b.ns, ['ip', '-6', 'neigh', 'replace', '2001:db8::100', 'lladdr', STALE_MAC, 'dev', 'vnet0', 'nud', 'stale']);
    assert.equal(neighMac(lab, b.ns, '2001:db8::100'), STALE_MAC);

    const td = capture(
      lab.spawn(b.ns, ['timeout', '30', 'tcpdump', '-l', '-nn', '-v', '-c', '2', '-i', 'vnet0', 'icmp6 and ip6[40] == 136']),
    );
    assert.ok(await waitFor(() => td.err().includes('listening on'), 5000), td.err());

    const tx = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { NdiscSender } from ${mod('ndisc')};
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open(); const link = await r.getLink('vnet0'); r.close();
const n = await NdiscSender.open('vnet0');
const sent = [];
for (let i = 0; i < 2; i++) { sent.push(await n.sendUnsolicitedNa('2001:db8::100', link.mac)); await new Promise((res) => setTimeout(res, 50)); }
n.close();
out({ sent });`,
    );
    const res = await tx.waitLine(() => true, 15_000);
    assert.deepEqual(res.sent, [32, 32]);
    await td.done;
    const text = td.out();
    assert.equal((text.match(/neighbor advertisement/g) ?? []).length, 2, text);
    assert.match(text, /hlim 255/);
    assert.match(text, /ff02::1:/);
    assert.match(text, /tgt is 2001:db8::100/);
    assert.match(text, /Flags \[override\]/);
    assert.ok(text.includes(macA), 'target link-layer address option carries the MAC');
    assert.ok(
      await waitFor(() => neighMac(lab, b.ns, '2001:db8::100') === macA, 5000),
      `b's neighbour cache: ${lab.exec(b.ns, ['ip', '-6', 'neigh'])}`,
    );
  } finally {
    await lab.cleanup();
  }
});
