// Rtnl in a namespace: addresses (IPv4 with label/broadcast, IPv6 nodad) and idempotence, a route,
// a rule, link listing, typed errors. Results are checked with iproute2, independently of our code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, isRoot } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

function ipj(lab: Lab, ns: string, args: string[]): unknown {
  return JSON.parse(lab.exec(ns, ['ip', '-j', ...args]) || '[]');
}

test('addresses: add v4 with label + v6 nodad, idempotence, delete', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const step1 = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open();
await r.addAddress({ dev: 'vnet0', address: '192.0.2.100/24', label: 'vnet0:vip', broadcast: 'auto' });
await r.addAddress({ dev: 'vnet0', address: '2001:db8::100/64', nodad: true });
const again4 = await r.ensureAddress({ dev: 'vnet0', address: '192.0.2.100/24', label: 'vnet0:vip' });
const again6 = await r.ensureAddress({ dev: 'vnet0', address: '2001:db8::100/64', nodad: true });
let dup; try { await r.addAddress({ dev: 'vnet0', address: '192.0.2.100/24' }); } catch (e) { dup = e.code; }
const list = await r.listAddresses({ ifindex: (await r.getLink('vnet0')).index });
out({ again4, again6, dup, list });
r.close();`,
    );
    const res = await step1.waitLine(() => true, 15_000);
    assert.equal(res.again4, false, 'ensureAddress on a present v4 address is a no-op');
    assert.equal(res.again6, false);
    assert.equal(res.dup, 'EEXIST');
    const list = res.list as Array<{ address: string; label?: string; secondary: boolean; broadcast?: string; flags: string[] }>;
    const vip = list.find((x) => x.address === '192.0.2.100');
    assert.ok(vip, 'our listAddresses sees the VIP');
    assert.equal(vip.label, 'vnet0:vip');
    assert.equal(vip.secondary, true, 'second address in 192.0.2.0/24 is secondary');
    assert.equal(vip.broadcast, '192.0.2.255');
    assert.ok(list.find((x) => x.address === '2001:db8::100')?.flags.includes('nodad'));

    // iproute2's view
    const v4 = ipj(lab, a.ns, ['-4', 'addr', 'show', 'dev', 'vnet0']) as Array<{ addr_info: Array<Record<string, unknown>> }>;
    const ipVip = v4[0]!.addr_info.find((x) => x.local === '192.0.2.100');
    assert.ok(ipVip);
    assert.equal(ipVip.label, 'vnet0:vip');
    assert.equal(ipVip.prefixlen, 24);
    assert.equal(ipVip.secondary, true);
    assert.deepEqual(
      lab.addressesOf('a', 6).filter((x) => x === '2001:db8::100'),
      ['2001:db8::100'],
    );

    const step2 = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open();
await r.deleteAddress({ dev: 'vnet0', address: '192.0.2.100/24' });
await r.deleteAddress({ dev: 'vnet0', address: '2001:db8::100/64' });
const gone4 = await r.ensureAddressAbsent({ dev: 'vnet0', address: '192.0.2.100/24' });
const gone6 = await r.ensureAddressAbsent({ dev: 'vnet0', address: '2001:db8::100/64' });
let miss; try { await r.deleteAddress({ dev: 'vnet0', address: '192.0.2.100/24' }); } catch (e) { miss = e.code; }
out({ gone4, gone6, miss });
r.close();`,
    );
    const res2 = await step2.waitLine(() => true, 15_000);
    assert.deepEqual(res2, { gone4: false, gone6: false, miss: 'EADDRNOTAVAIL' });
    assert.ok(!lab.addressesOf('a', 4).includes('192.0.2.100'));
    assert.ok(!lab.addressesOf('a', 6).includes('2001:db8::100'));
    assert.ok(lab.addressesOf('a', 4).includes('192.0.2.11'), 'the primary address is untouched');
  } finally {
    await lab.cleanup();
  }
});

test('routes and rules: add, idempotence, delete, as iproute2 sees them', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
    const step1 = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open();
await r.addRoute({ dst: '198.51.100.0/24', via: '192.0.2.1', dev: 'vnet0', table: 100, metric: 7, src: '192.0.2.11' });
await r.addRoute({ dst: '203.0.113.0/24', type: 'blackhole' });
await r.addRoute({ dst: '2001:db8:1::/48', via: '2001:db8::1', dev: 'vnet0' });
const rAgain = await r.ensureRoute({ dst: '198.51.100.0/24', via: '192.0.2.1', dev: 'vnet0', table: 100, metric: 7 });
await r.addRule({ family: 4, from: '192.0.2.0/24', table: 100, priority: 100 });
await r.addRule({ family: 4, to: '198.51.100.7', fwmark: 5, iif: 'vnet0', table: 100, priority: 101 });
const ruAgain = await r.ensureRule({ family: 4, from: '192.0.2.0/24', table: 100, priority: 100 });
const routes = await r.listRoutes(4, 100);
out({ rAgain, ruAgain, routes });
r.close();`,
    );
    const res = await step1.waitLine(() => true, 15_000);
    assert.equal(res.rAgain, false);
    assert.equal(res.ruAgain, false);
    const ours = (res.routes as Array<Record<string, unknown>>).find((x) => x.dst === '198.51.100.0');
    assert.ok(ours);
    assert.equal(ours.via, '192.0.2.1');
    assert.equal(ours.metric, 7);
    assert.equal(ours.src, '192.0.2.11');

    const t100 = ipj(lab, a.ns, ['-4', 'route', 'show', 'table', '100']) as Array<Record<string, unknown>>;
    assert.equal(t100.length, 1);
    assert.equal(t100[0]!.dst, '198.51.100.0/24');
    assert.equal(t100[0]!.gateway, '192.0.2.1');
    assert.equal(t100[0]!.metric, 7);
    assert.equal(t100[0]!.prefsrc, '192.0.2.11');
    assert.equal(t100[0]!.protocol, 'keepalived');
    const main = ipj(lab, a.ns, ['-4', 'route', 'show']) as Array<Record<string, unknown>>;
    assert.ok(main.some((x) => x.dst === '203.0.113.0/24' && x.type === 'blackhole'));
    const v6 = ipj(lab, a.ns, ['-6', 'route', 'show']) as Array<Record<string, unknown>>;
    assert.ok(v6.some((x) => x.dst === '2001:db8:1::/48' && x.gateway === '2001:db8::1'));
    const rules = ipj(lab, a.ns, ['-4', 'rule', 'show']) as Array<Record<string, unknown>>;
    const r100 = rules.find((x) => x.priority === 100);
    assert.ok(r100, JSON.stringify(rules));
    assert.equal(r100.src, '192.0.2.0');
    assert.equal(r100.srclen, 24);
    assert.equal(r100.table, '100');
    const r101 = rules.find((x) => x.priority === 101);
    assert.ok(r101);
    assert.equal(r101.dst, '198.51.100.7');
    assert.equal(r101.iif, 'vnet0');
    assert.equal(r101.fwmark, '0x5');

    const step2 = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open();
await r.deleteRoute({ dst: '198.51.100.0/24', table: 100 });
await r.deleteRoute({ dst: '203.0.113.0/24', type: 'blackhole' });
await r.deleteRule({ family: 4, from: '192.0.2.0/24', table: 100, priority: 100 });
await r.deleteRule({ family: 4, to: '198.51.100.7', fwmark: 5, iif: 'vnet0', table: 100, priority: 101 });
const rGone = await r.ensureRouteAbsent({ dst: '198.51.100.0/24', table: 100 });
const ruGone = await r.ensureRuleAbsent({ family: 4, from: '192.0.2.0/24', table: 100, priority: 100 });
let miss; try { await r.deleteRoute({ dst: '198.51.100.0/24', table: 100 }); } catch (e) { miss = e.code; }
out({ rGone, ruGone, miss });
r.close();`,
    );
    assert.deepEqual(await step2.waitLine(() => true, 8000), { rGone: false, ruGone: false, miss: 'ESRCH' });
    assert.deepEqual(ipj(lab, a.ns, ['-4', 'route', 'show', 'table', '100']), []);
    const rulesAfter = ipj(lab, a.ns, ['-4', 'rule', 'show']) as Array<Record<string, unknown>>;
    assert.ok(!rulesAfter.some((x) => x.priority === 100 || x.priority === 101));
  } finally {
    await lab.cleanup();
  }
});

test('links and typed errors', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const mac = (JSON.parse(lab.exec(a.ns, ['ip', '-j', 'link', 'show', 'vnet0'])) as Array<{ address: string }>)[0]!.address;
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open();
const link = await r.getLink('vnet0');
const codes = {};
try { await r.getLink('nosuch0'); } catch (e) { codes.noif = e.code; }
try { await r.addAddress({ dev: 'vnet0', address: '192.0.2.300/24' }); } catch (e) { codes.badip = e.code; codes.badipName = e.name; }
try { await r.addAddress({ dev: 'vnet0', address: '2001:db8::1/64', label: 'x' }); } catch (e) { codes.v6label = e.code; }
try { await r.addRoute({ dst: '198.51.100.0/24', via: '2001:db8::1' }); } catch (e) { codes.mixed = e.code; }
out({ link, codes });
r.close();`,
    );
    const res = await r.waitLine(() => true, 15_000);
    const link = res.link as Record<string, unknown>;
    assert.equal(link.name, 'vnet0');
    assert.equal(link.mac, mac);
    assert.equal(link.adminUp, true);
    assert.equal(link.carrier, true);
    assert.equal(link.kind, 'veth');
    assert.deepEqual(res.codes, { noif: 'ENOIF', badip: 'EBADARG', badipName: 'NetError', v6label: 'EBADARG', mixed: 'EBADARG' });
  } finally {
    await lab.cleanup();
  }
});

test('interface name cache: a recreated interface is found again; a deleted one gives ENOIF; onlink route', {
  skip,
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    lab.exec(a.ns, ['ip', 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1']);
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
import { execFileSync } from 'node:child_process';
const r = Rtnl.open();
await r.addAddress({ dev: 'x0', address: '198.51.100.1/32' });
const first = await r.ifindex('x0');
execFileSync('ip', ['link', 'del', 'x0']);
execFileSync('ip', ['link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1']);
await r.addAddress({ dev: 'x0', address: '198.51.100.2/32' });
const second = await r.ifindex('x0');
execFileSync('ip', ['link', 'del', 'x0']);
let gone; try { await r.addAddress({ dev: 'x0', address: '198.51.100.3/32' }); } catch (e) { gone = e.code; }
await r.addRoute({ dst: '203.0.113.0/24', via: '198.51.100.254', dev: 'vnet0', onlink: true });
out({ first, second, gone });
r.close();`,
    );
    const res = await r.waitLine(() => true, 15_000);
    assert.notEqual(res.first, res.second, 'the new x0 has a new index');
    assert.equal(res.gone, 'ENOIF');
    const routes = JSON.parse(lab.exec(a.ns, ['ip', '-j', 'route', 'show', '203.0.113.0/24'])) as Array<{
      gateway: string;
      flags: string[];
    }>;
    assert.equal(routes[0]!.gateway, '198.51.100.254');
    assert.ok(routes[0]!.flags.includes('onlink'));
  } finally {
    await lab.cleanup();
  }
});

test('addresses: noprefixroute, scope, peer', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
const r = Rtnl.open();
await r.addAddress({ dev: 'vnet0', address: '203.0.113.5/24', noPrefixRoute: true });
await r.addAddress({ dev: 'vnet0', address: '198.51.100.5/24', scope: 'link' });
await r.addAddress({ dev: 'vnet0', address: '198.51.100.77/32', peer: '198.51.100.78', scope: 'host' });
out({ ok: true });
r.close();`,
    );
    await r.waitLine(() => true, 15_000);
    const routes = JSON.parse(lab.exec(a.ns, ['ip', '-j', '-4', 'route', 'show'])) as Array<{ dst: string }>;
    assert.ok(!routes.some((x) => x.dst === '203.0.113.0/24'), 'noprefixroute: no prefix route');
    assert.ok(
      routes.some((x) => x.dst === '198.51.100.0/24'),
      'a normal address gets its prefix route',
    );
    const info = (
      JSON.parse(lab.exec(a.ns, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'vnet0'])) as Array<{ addr_info: Array<Record<string, unknown>> }>
    )[0]!.addr_info;
    assert.equal(info.find((x) => x.local === '203.0.113.5')?.noprefixroute, true);
    assert.equal(info.find((x) => x.local === '198.51.100.5')?.scope, 'link');
    const p = info.find((x) => x.local === '198.51.100.77');
    assert.equal(p?.address, '198.51.100.78');
    assert.equal(p?.scope, 'host');
  } finally {
    await lab.cleanup();
  }
});

test('rehearsalTransport.addAddress: the kernel refuses it (ENODEV) and nothing is added', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const before = lab.exec(a.ns, ['ip', '-o', 'addr', 'show']);
    const step = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
import { rehearsalTransport } from ${mod('takeover')};
const r = Rtnl.open();
const index = (await r.getLink('vnet0')).index;
const v4 = await rehearsalTransport.addAddress(r, { dev: index, address: '192.0.2.100/24' });
const v6 = await rehearsalTransport.addAddress(r, { dev: 'vnet0', address: '2001:db8::100/64', nodad: true });
out({ v4, v6 });
r.close();`,
    );
    const res = await step.waitLine(() => true, 15_000);
    assert.deepEqual(res, { v4: true, v6: true });
    assert.equal(lab.exec(a.ns, ['ip', '-o', 'addr', 'show']), before, 'no address added anywhere');
  } finally {
    await lab.cleanup();
  }
});
