// IPVS generic-netlink schema: byte vectors derived by hand from include/uapi/linux/ip_vs.h and
// struct nlattr (u16 len, u16 type, payload padded to 4); the UML tier checks the same code
// against a real kernel and ipvsadm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AF_INET,
  AF_INET6,
  FWD,
  PROTO,
  SVC_FLAG,
  TUN_TYPE,
  IpvsDecodeError,
  attr,
  decodeDaemon,
  decodeDest,
  decodeInetAddr,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  encodeDaemon,
  encodeDest,
  encodeInetAddr,
  encodeService,
  encodeTimeouts,
  nest,
  serviceKey,
  type IpvsService,
} from '../../src/lvs/ipvs-schema.js';
import { errnoName, formatTable, nlmsgErrno } from '../../src/lvs/ipvs-netlink.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const web: IpvsService = {
  af: AF_INET,
  protocol: PROTO.TCP,
  address: '192.0.2.100',
  port: 80,
  schedName: 'rr',
  flags: 0,
  timeout: 0,
  netmask: 32,
};

test('service key and full entry encode as the uapi header lays them out', () => {
  const key = hex(`
    0600 0100 0200 0000
    0600 0200 0600 0000
    1400 0300 c0000264 00000000 00000000 00000000
    0600 0400 0050 0000`);
  assert.deepEqual(encodeService(web, false), key);
  const full = Buffer.concat([
    key,
    hex(`
    0700 0600 727200 00
    0c00 0700 00000000 ffffffff
    0800 0800 00000000
    0800 0900 ffffffff`),
  ]);
  assert.deepEqual(encodeService(web, true), full);
});

test('HASHED is never written; persistence netmask: v4 mask bytes, v6 host-order prefix length', () => {
  const p = encodeService({ ...web, flags: SVC_FLAG.PERSISTENT | SVC_FLAG.HASHED, timeout: 360, netmask: 24 }, true);
  assert.ok(p.includes(hex('0c00 0700 01000000 ffffffff')));
  assert.ok(p.includes(hex('0800 0800 68010000')));
  assert.ok(p.includes(hex('0800 0900 ffffff00')));
  const v6 = encodeService(
    { af: AF_INET6, protocol: PROTO.UDP, address: '2001:db8::1', port: 53, schedName: 'wlc', flags: 0, timeout: 0, netmask: 64 },
    true,
  );
  assert.ok(v6.includes(hex('1400 0300 20010db8 00000000 00000000 00000001')));
  assert.ok(v6.includes(hex('0800 0900 40000000')));
});

test('fwmark service: AF + FWMARK only as key', () => {
  assert.deepEqual(
    encodeService({ af: AF_INET6, fwmark: 258, schedName: 'rr', flags: 0, timeout: 0, netmask: 128 }, false),
    hex('0600 0100 0a00 0000 0800 0500 02010000'),
  );
});

test('a service as the kernel dumps it decodes (HASHED kept, stats64 read)', () => {
  const stats64 = nest(12, [
    attr(1, hex('0500000000000000')),
    attr(2, hex('0700000000000000')),
    attr(3, hex('0000000000000000')),
    attr(4, hex('0001000000000000')),
    attr(5, hex('0000000000000000')),
  ]);
  const buf = Buffer.concat([encodeService({ ...web, flags: SVC_FLAG.PERSISTENT, timeout: 300, netmask: 16 }, true), stats64]);
  // the kernel reports HASHED in the flags: patch it in where we wrote 0x1
  const i = buf.indexOf(hex('0c00 0700 01000000'));
  buf.writeUInt32LE(SVC_FLAG.PERSISTENT | SVC_FLAG.HASHED, i + 4);
  const s = decodeService(buf);
  assert.deepEqual(s, {
    ...web,
    flags: 3,
    timeout: 300,
    netmask: 16,
    stats: { conns: 5, inPkts: 7, outPkts: 0, inBytes: 256, outBytes: 0 },
  });
  assert.equal(serviceKey(s), 'TCP 192.0.2.100:80');
});

test('destinations: NAT key/full, tunnel GUE with port (network order) and csum flag, mixed family', () => {
  const d = { address: '198.51.100.11', port: 8080, fwdMethod: FWD.MASQ, weight: 3, uThreshold: 100, lThreshold: 10 };
  assert.deepEqual(encodeDest(d, AF_INET, false), hex('1400 0100 c633640b 00000000 00000000 00000000 0600 0200 1f90 0000'));
  const full = encodeDest(d, AF_INET, true);
  assert.ok(full.includes(hex('0800 0300 00000000 0800 0400 03000000 0800 0500 64000000 0800 0600 0a000000')));
  assert.deepEqual(decodeDest(full, AF_INET), d);
  const t = {
    address: '2001:db8::11',
    port: 80,
    fwdMethod: FWD.TUNNEL,
    weight: 1,
    uThreshold: 0,
    lThreshold: 0,
    tunType: TUN_TYPE.GUE,
    tunPort: 6080,
    tunFlags: 1,
  };
  const tb = encodeDest(t, AF_INET, true);
  assert.ok(tb.includes(hex('0600 0b00 0a00 0000')), 'ADDR_FAMILY inet6 for a v6 dest of a v4 service');
  assert.ok(tb.includes(hex('0500 0d00 01 000000')), 'TUN_TYPE gue (u8)');
  assert.ok(tb.includes(hex('0600 0e00 17c0 0000')), 'TUN_PORT 6080 network order');
  assert.ok(tb.includes(hex('0600 0f00 0100 0000')), 'TUN_FLAGS csum host order');
  assert.deepEqual(decodeDest(tb, AF_INET), { ...t, addrFamily: AF_INET6 });
});

test('sync daemon, timeouts and info', () => {
  const d = { state: 1, mcastIfn: 'eth0', syncId: 7, syncMaxLen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 };
  const b = encodeDaemon(d, true);
  assert.ok(b.includes(hex('0800 0100 01000000 0900 0200 65746830 00 000000 0800 0300 07000000')));
  assert.ok(b.includes(hex('0800 0500 e0000051')), 'v4 group in network order');
  assert.ok(b.includes(hex('0600 0700 2290 0000')), 'port 8848 network order');
  assert.deepEqual(decodeDaemon(b), d);
  assert.deepEqual(encodeDaemon(d, false), hex('0800 0100 01000000'));
  const t = encodeTimeouts({ tcp: 900, tcpFin: 120, udp: 300 });
  assert.deepEqual(t, hex('0800 0400 84030000 0800 0500 78000000 0800 0600 2c010000'));
  assert.deepEqual(decodeTimeouts(t), { tcp: 900, tcpFin: 120, udp: 300 });
  assert.deepEqual(decodeInfo(hex('0800 0100 01020100 0800 0200 00100000')), { version: '1.2.1', connTabSize: 4096 });
});

test('addresses: nf_inet_addr both ways, RFC 5952 text', () => {
  assert.equal(decodeInetAddr(encodeInetAddr('2001:db8:0:0:1:0:0:1'), AF_INET6), '2001:db8::1:0:0:1');
  assert.equal(decodeInetAddr(encodeInetAddr('2001:db8::'), AF_INET6), '2001:db8::');
  assert.equal(decodeInetAddr(encodeInetAddr('203.0.113.255'), AF_INET), '203.0.113.255');
});

test('malformed replies: a clear IpvsDecodeError, never a crash', () => {
  assert.throws(() => decodeService(hex('0600 0100')), IpvsDecodeError);
  assert.throws(() => decodeService(hex('0600 0100 0700 0000')), /AF 7/);
  assert.throws(() => decodeService(hex('0600 0100 0200 0000')), /PROTOCOL missing/);
  assert.throws(() => decodeDest(hex('ff00 0100 00000000'), AF_INET), /overruns/);
});

test('NLMSG_ERROR payloads decode to errno names', () => {
  const err = (n: number): Buffer => {
    const b = Buffer.alloc(20);
    b.writeInt32LE(n, 0);
    return b;
  };
  assert.equal(nlmsgErrno({ type: 2, data: err(0) }), 0);
  assert.equal(errnoName(nlmsgErrno({ type: 2, data: err(-17) })!), 'EEXIST');
  assert.equal(errnoName(-3), 'ESRCH');
  assert.equal(nlmsgErrno({ type: 30, data: err(0) }), undefined);
});

test('formatTable: sorted, ipvsadm-like', () => {
  const text = formatTable([
    { service: { ...web, port: 81 }, dests: [] },
    {
      service: web,
      dests: [
        { address: '198.51.100.12', port: 80, fwdMethod: FWD.DROUTE, weight: 0, uThreshold: 0, lThreshold: 0 },
        { address: '198.51.100.11', port: 80, fwdMethod: FWD.DROUTE, weight: 2, uThreshold: 0, lThreshold: 0 },
      ],
    },
  ]);
  assert.equal(text, 'TCP 192.0.2.100:80 rr\n  -> 198.51.100.11:80 Route 2\n  -> 198.51.100.12:80 Route 0\nTCP 192.0.2.100:81 rr');
});
