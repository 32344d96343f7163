// Pure checks of the src/net builders and helpers (no root needed): frame bytes, IP/MAC text,
// error-code parsing, VMAC naming, the IPv4 header we send, the missing-addon error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildGratuitousArp } from '../../src/net/garp.js';
import { buildUnsolicitedNa } from '../../src/net/ndisc.js';
import { formatIp, formatMac, ipv4Broadcast, parseIp, parseMac, parsePrefix } from '../../src/net/ipaddr.js';
import { NetError, errnoFromError, toNetError } from '../../src/net/errors.js';
import { defaultVmacName, resolveVmacMac, vmacAddress } from '../../src/net/vmac.js';
import { buildIpv4Header } from '../../src/net/vrrp-socket.js';
import { parseNlattrs } from '../../src/net/netlink.js';
import { mod } from '../helpers/net-lab.js';

test('gratuitous ARP frame layout', () => {
  const f = buildGratuitousArp('192.0.2.100', '02:11:22:33:44:55');
  assert.equal(f.length, 60);
  assert.equal(f.subarray(0, 6).toString('hex'), 'ffffffffffff', 'Ethernet broadcast');
  assert.equal(f.subarray(6, 12).toString('hex'), '021122334455', 'Ethernet source = interface MAC');
  assert.equal(f.readUInt16BE(12), 0x0806);
  assert.equal(f.subarray(14, 22).toString('hex'), '0001080006040001', 'Ethernet/IPv4, request');
  assert.equal(f.subarray(22, 28).toString('hex'), '021122334455', 'sender MAC');
  assert.equal(f.subarray(28, 32).toString('hex'), 'c0000264', 'sender IP = VIP');
  assert.equal(f.subarray(32, 38).toString('hex'), 'ffffffffffff', 'target MAC ff:..:ff');
  assert.equal(f.subarray(38, 42).toString('hex'), 'c0000264', 'target IP = VIP');
  assert.ok(
    f.subarray(42).every((b) => b === 0),
    'zero padding',
  );
  assert.throws(
    () => buildGratuitousArp('2001:db8::1', '02:11:22:33:44:55'),
    (e: unknown) => e instanceof NetError && e.code === 'EBADARG',
  );
  assert.throws(
    () => buildGratuitousArp('192.0.2.1', '02:11:22'),
    (e: unknown) => e instanceof NetError && e.code === 'EBADARG',
  );
});

test('unsolicited NA layout', () => {
  const b = buildUnsolicitedNa('2001:db8::100', '00:00:5e:00:02:07');
  assert.equal(b.length, 32);
  assert.equal(b[0], 136);
  assert.equal(b[1], 0);
  assert.equal(b.readUInt16BE(2), 0, 'checksum left to the kernel');
  assert.equal(b[4], 0x20, 'override only, never solicited');
  assert.equal(b.subarray(8, 24).toString('hex'), '20010db8000000000000000000000100');
  assert.equal(b.subarray(24, 32).toString('hex'), '020100005e000207');
  assert.equal(buildUnsolicitedNa('2001:db8::1', '00:00:5e:00:02:07', { router: true })[4], 0xa0);
  assert.throws(() => buildUnsolicitedNa('192.0.2.1', '00:00:5e:00:02:07'), NetError);
});

test('IP and MAC text', () => {
  const cases: Array<[string, string]> = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['ff02::12', 'ff02::12'],
    ['192.0.2.1', '192.0.2.1'],
  ];
  for (const [input, want] of cases) assert.equal(formatIp(parseIp(input).bytes), want, input);
  assert.equal(parseIp('ff02::12').bytes.toString('hex'), 'ff020000000000000000000000000012');
  assert.deepEqual(parsePrefix('192.0.2.0/24').prefixLength, 24);
  assert.equal(parsePrefix('192.0.2.7').prefixLength, 32);
  assert.equal(parsePrefix('2001:db8::7').prefixLength, 128);
  for (const bad of ['192.0.2.0/33', '2001:db8::/129', '192.0.2.0/x', '192.0.2.0/-1', 'eth0', '', '1.2.3']) {
    assert.throws(
      () => parsePrefix(bad),
      (e: unknown) => e instanceof NetError && e.code === 'EBADARG',
      bad,
    );
  }
  assert.equal(formatIp(ipv4Broadcast(parseIp('192.0.2.10').bytes, 24)), '192.0.2.255');
  assert.equal(formatIp(ipv4Broadcast(parseIp('192.0.2.10').bytes, 32)), '192.0.2.10');
  assert.equal(formatIp(ipv4Broadcast(parseIp('192.0.2.10').bytes, 0)), '255.255.255.255');
  assert.equal(formatMac(parseMac('0:0:5E:0:1:a')), '00:00:5e:00:01:0a');
  assert.throws(() => parseMac('00:00:5e:00:01'), NetError);
});

test('errno names parsed out of library errors', () => {
  assert.equal(errnoFromError(new Error('Request rejected: EEXIST')), 'EEXIST');
  assert.equal(errnoFromError(new Error('Request rejected: EADDRNOTAVAIL')), 'EADDRNOTAVAIL');
  assert.equal(errnoFromError(new Error('Operation not permitted')), 'EPERM');
  assert.equal(errnoFromError(new Error('No such device')), 'ENODEV');
  assert.equal(errnoFromError(Object.assign(new Error('x'), { code: 'ENXIO' })), 'ENXIO');
  assert.equal(errnoFromError(new Error('something odd')), undefined);
  assert.equal(errnoFromError(new Error('Timeout has been reached')), 'ETIMEDOUT');
  const e = toNetError('add address', new Error('Request rejected: EEXIST'));
  assert.ok(e instanceof NetError);
  assert.equal(e.code, 'EEXIST');
  assert.equal(e.op, 'add address');
  assert.equal(toNetError('x', 'weird').code, 'EUNKNOWN');
});

test('VMAC names and addresses', () => {
  assert.equal(vmacAddress(1, 4), '00:00:5e:00:01:01');
  assert.equal(vmacAddress(255, 6), '00:00:5e:00:02:ff');
  assert.equal(defaultVmacName(51), 'vrrp.51');
  assert.equal(resolveVmacMac(undefined, 10, 4), '00:00:5e:00:01:0a');
  assert.equal(resolveVmacMac('02:aa:bb:cc:dd', 10, 4), '02:aa:bb:cc:dd:0a', '5 octets: VRID is the last');
  assert.equal(resolveVmacMac('02:aa:bb:cc:dd:ee', 10, 4), '02:aa:bb:cc:dd:ee');
  for (const bad of [0, 256, 1.5]) assert.throws(() => vmacAddress(bad, 4), NetError);
});

test('IPv4 header we send with IP_HDRINCL', () => {
  const h = buildIpv4Header(parseIp('192.0.2.11').bytes, parseIp('224.0.0.18').bytes, 255, 12);
  assert.equal(h.length, 20);
  assert.equal(h[0], 0x45);
  assert.equal(h[1], 0xc0);
  assert.equal(h.readUInt16BE(2), 32);
  assert.equal(h[8], 255);
  assert.equal(h[9], 112);
  assert.equal(formatIp(h.subarray(12, 16)), '192.0.2.11');
  assert.equal(formatIp(h.subarray(16, 20)), '224.0.0.18');
});

test('nlattr parsing stops on truncated input', () => {
  const a = Buffer.from('0c000100' + Buffer.from('macvlan\0').toString('hex'), 'hex');
  const m = parseNlattrs(Buffer.concat([a, Buffer.from([0x08, 0x00, 0x02, 0x00, 1, 2, 3, 4]), Buffer.from([0x40, 0x00, 0x03, 0x00])]));
  assert.equal(m.get(1)?.toString('utf8'), 'macvlan\0');
  assert.deepEqual([...(m.get(2) ?? [])], [1, 2, 3, 4]);
  assert.equal(m.has(3), false, 'attribute claiming more bytes than present is ignored');
});

test('missing native addon: NetError ENOADDON telling how to build it', () => {
  const code = `import { loadPacketAddon } from ${mod('garp')};
try { loadPacketAddon(); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, KTS_PACKET_ADDON: '/nonexistent/kts_packet.node' },
  });
  const res = JSON.parse(r.stdout.trim()) as { name: string; code: string; message: string };
  assert.equal(res.name, 'NetError');
  assert.equal(res.code, 'ENOADDON');
  assert.match(res.message, /npm run install/);
  assert.match(res.message, /nonexistent/);
});
