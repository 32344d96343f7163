// VRRP codec: keepalived 2.2.7's packets byte for byte, checksum forms, every drop reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildIpv4Packet,
  decodeAdvert,
  encodeAdvert,
  encodeAdvertInto,
  parseIpv4Packet,
  parseIpv6Packet,
  receiveIpv4,
  receiveIpv6,
  advertLength,
  toReceivedAdvert,
  type AdvertFields,
  type ReceiveOptions,
} from '../../src/vrrp/packet.js';
import { foldChecksum, internetChecksum, pseudoHeaderSum4, sumWords } from '../../src/vrrp/checksum.js';
import { canonicalAddress, formatIpv6, parseIpv4Into, parseIpv6Into } from '../../src/util/ip.js';
import { AuthType } from '../../src/vrrp/types.js';

interface Fixture {
  name: string;
  family: 4 | 6;
  version: 2 | 3;
  vrid: number;
  ipProtocol: number;
  expected: { priority: number; advertIntervalCs: number; addresses: string[]; authType?: number; authPass?: string; unicast?: boolean };
  packets: Array<{ hex: string; priority: number }>;
}

// dist/test/unit -> repository root
const fixtureDir = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'vrrp');
const fixtures: Fixture[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as Fixture);

function optsFor(fx: Fixture): ReceiveOptions {
  return {
    version: fx.version,
    vrids: [fx.vrid],
    authType: fx.expected.authType as AuthType | undefined,
    authPass: fx.expected.authPass,
    advertIntervalCs: fx.expected.advertIntervalCs,
    unicast: fx.expected.unicast,
    addresses: fx.expected.addresses,
  };
}

test('fixtures exist for every required scenario', () => {
  const names = fixtures.map((f) => f.name).sort();
  for (const want of ['v2-noauth-multi-vip', 'v2-auth-pass', 'v2-auth-ah', 'v3-ipv4', 'v3-ipv6', 'v2-unicast', 'v3-ipv4-unicast']) {
    assert.ok(names.includes(want), `missing fixture ${want}`);
  }
  for (const fx of fixtures) {
    assert.ok(
      fx.packets.some((p) => p.priority === 0),
      `${fx.name}: a priority-0 advert`,
    );
    assert.ok(
      fx.packets.some((p) => p.priority !== 0),
      `${fx.name}: a normal advert`,
    );
  }
});

for (const fx of fixtures) {
  test(`keepalived fixture ${fx.name}: decode, validate, re-encode byte for byte`, () => {
    for (const p of fx.packets) {
      const pkt = Buffer.from(p.hex, 'hex');
      let r;
      let vrrp: Uint8Array;
      let src: string;
      let dst: string;
      let ipId = 0;
      let tos = 0;
      if (fx.family === 4) {
        r = receiveIpv4(pkt, optsFor(fx));
        const ip = parseIpv4Packet(pkt);
        assert.ok(ip.ok);
        src = ip.src;
        dst = ip.dst;
        ipId = ip.id;
        tos = ip.tos;
        assert.equal(ip.ttl, 255);
        vrrp = fx.ipProtocol === 51 ? ip.payload.subarray(24) : ip.payload;
      } else {
        const ip = parseIpv6Packet(pkt);
        assert.ok(ip.ok);
        assert.equal(ip.hopLimit, 255);
        assert.equal(ip.nextHeader, 112);
        assert.equal(ip.dst, 'ff02::12');
        assert.match(ip.src, /^fe80::/);
        src = ip.src;
        dst = ip.dst;
        vrrp = ip.payload;
        r = receiveIpv6(ip.payload, ip.src, ip.dst, optsFor(fx), ip.hopLimit);
      }
      assert.ok(r.ok, `${fx.name}: ${JSON.stringify(r)}`);
      const a = r.advert;
      assert.equal(a.version, fx.version);
      assert.equal(a.type, 1);
      assert.equal(a.vrid, fx.vrid);
      assert.equal(a.priority, p.priority);
      assert.ok(p.priority === 0 || p.priority === fx.expected.priority);
      assert.equal(a.advertIntervalCs, fx.expected.advertIntervalCs);
      assert.deepEqual(a.addresses, fx.expected.addresses);
      assert.deepEqual(r.warnings, []);
      assert.equal(r.checksumForm, fx.version === 2 ? 'v2' : 'v3-pseudo-header');
      if (fx.version === 2) {
        assert.equal(a.authType, fx.expected.authType);
        const wantAuth = Buffer.alloc(8);
        if (fx.expected.authType === AuthType.SimpleText) wantAuth.write(fx.expected.authPass!);
        assert.deepEqual(Buffer.from(a.authData!), wantAuth);
      }
      if (fx.expected.unicast) assert.equal(r.dst, '192.0.2.2');
      if (fx.ipProtocol === 51) assert.equal(typeof r.ahSequence, 'number');

      // re-encode the VRRP message from the decoded fields
      const enc = encodeAdvert(a, { family: fx.family, src, dst });
      assert.ok(enc.ok, JSON.stringify(enc));
      assert.equal(enc.bytes.toString('hex'), Buffer.from(vrrp).toString('hex'), `${fx.name}: VRRP bytes`);
      // and the whole IPv4 packet, AH ICV included
      if (fx.family === 4) {
        const ah = fx.ipProtocol === 51 ? { seq: r.ahSequence!, key: fx.expected.authPass! } : undefined;
        const full = buildIpv4Packet({ src, dst, ttl: 255, tos, id: ipId }, enc.bytes, ah);
        assert.ok(full.ok);
        assert.equal(full.bytes.toString('hex'), p.hex, `${fx.name}: IP packet bytes`);
      }
    }
  });
}

test('RFC 1071 checksum example and folding', () => {
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(sumWords(b, 0, 8), 0x2ddf0);
  assert.equal(internetChecksum(b), ~0xddf2 & 0xffff);
  // odd length pads with zero
  assert.equal(internetChecksum(Uint8Array.from([0x01]), 0, 1), ~0x0100 & 0xffff);
  assert.equal(foldChecksum(0), 0xffff);
  // a large chain stays exact
  const big = new Uint8Array(65536).fill(0xff);
  assert.equal(internetChecksum(big), 0);
});

const v3v4 = fixtures.find((f) => f.name === 'v3-ipv4')!;
const v3uni = fixtures.find((f) => f.name === 'v3-ipv4-unicast')!;

test('VRRPv3 over IPv4: the three checksum forms are produced and recognised', () => {
  const fields: AdvertFields = { version: 3, vrid: 3, priority: 200, advertIntervalCs: 50, addresses: ['192.0.2.130', '192.0.2.131'] };
  const src = '192.0.2.1';
  const base = { family: 4 as const, src, dst: '224.0.0.18' };
  const withPh = encodeAdvert(fields, base);
  const noPh = encodeAdvert(fields, { ...base, checksumForm: 'v3-no-pseudo-header' });
  assert.ok(withPh.ok && noPh.ok);
  assert.notEqual(withPh.bytes.readUInt16BE(6), noPh.bytes.readUInt16BE(6));
  assert.equal(internetChecksum(noPh.bytes), 0, 'no-pseudo-header form sums to 0 alone');
  // keepalived's default form equals the captured packet
  const cap = parseIpv4Packet(Buffer.from(v3v4.packets.find((p) => p.priority === 200)!.hex, 'hex'));
  assert.ok(cap.ok);
  assert.deepEqual(Buffer.from(cap.payload), withPh.bytes);
  for (const [bytes, form, warning] of [
    [withPh.bytes, 'v3-pseudo-header', undefined],
    [noPh.bytes, 'v3-no-pseudo-header', 'no-pseudo-header-checksum'],
  ] as const) {
    const pkt = buildIpv4Packet({ src, dst: '224.0.0.18' }, bytes);
    assert.ok(pkt.ok);
    const r = receiveIpv4(pkt.bytes, { version: 3 });
    assert.ok(r.ok);
    assert.equal(r.checksumForm, form);
    assert.deepEqual(r.warnings, warning ? [warning] : []);
  }
  // strict receivers refuse the other form
  const pkt = buildIpv4Packet({ src, dst: '224.0.0.18' }, noPh.bytes);
  assert.ok(pkt.ok);
  assert.deepEqual(receiveIpv4(pkt.bytes, { acceptNoPseudoHeader: false }), { ok: false, reason: 'bad-checksum' });
});

test('VRRPv3 unicast: old keepalived (<= 1.3.6) multicast-destination checksum is detected', () => {
  const fields: AdvertFields = { version: 3, vrid: 7, priority: 80, advertIntervalCs: 100, addresses: ['192.0.2.170'] };
  const src = '192.0.2.1';
  const dst = '192.0.2.2';
  const old = encodeAdvert(fields, { family: 4, src, dst, checksumForm: 'v3-old-unicast' });
  const cur = encodeAdvert(fields, { family: 4, src, dst });
  assert.ok(old.ok && cur.ok);
  assert.notEqual(old.bytes.readUInt16BE(6), cur.bytes.readUInt16BE(6));
  // ours (current form) equals keepalived 2.2.7's unicast packet
  const cap = parseIpv4Packet(Buffer.from(v3uni.packets[0]!.hex, 'hex'));
  assert.ok(cap.ok);
  assert.deepEqual(Buffer.from(cap.payload), cur.bytes);
  // the old form equals a pseudo-header with 224.0.0.18 as destination
  const mc = encodeAdvert(fields, { family: 4, src, dst: '224.0.0.18' });
  assert.ok(mc.ok);
  assert.deepEqual(old.bytes, mc.bytes);
  const pkt = buildIpv4Packet({ src, dst }, old.bytes);
  assert.ok(pkt.ok);
  const r = receiveIpv4(pkt.bytes, { unicast: true });
  assert.ok(r.ok);
  assert.equal(r.checksumForm, 'v3-old-unicast');
  assert.deepEqual(r.warnings, ['old-unicast-checksum']);
  assert.equal(receiveIpv4(pkt.bytes, { unicast: true, oldUnicastChecksum: 'never' }).ok, false);
});

test('VRRPv3 over IPv6 needs the pseudo-header; a wrong source fails the checksum', () => {
  const fx = fixtures.find((f) => f.name === 'v3-ipv6')!;
  const ip = parseIpv6Packet(Buffer.from(fx.packets[0]!.hex, 'hex'));
  assert.ok(ip.ok);
  assert.equal(receiveIpv6(ip.payload, 'fe80::1', ip.dst).ok, false);
  assert.deepEqual(receiveIpv6(ip.payload, 'fe80::1', ip.dst), { ok: false, reason: 'bad-checksum' });
  assert.equal(receiveIpv6(ip.payload, 'not-an-address', ip.dst).ok, false);
  assert.equal(decodeAdvert(ip.payload, 0, ip.payload.length, { family: 6 }).ok, false);
  // hop limit, when the caller knows it
  const r = receiveIpv6(ip.payload, ip.src, ip.dst, {}, 64);
  assert.equal(!r.ok && r.reason, 'ttl-not-255');
});

// helpers building packets for the drop-reason tests
function v2(fields: Partial<AdvertFields> = {}, ip: { ttl?: number; dst?: string } = {}): Buffer {
  const enc = encodeAdvert(
    { version: 2, vrid: 1, priority: 100, advertIntervalCs: 100, addresses: ['192.0.2.101'], ...fields },
    { family: 4 },
  );
  assert.ok(enc.ok, JSON.stringify(enc));
  const pkt = buildIpv4Packet({ src: '192.0.2.1', dst: ip.dst ?? '224.0.0.18', ttl: ip.ttl }, enc.bytes);
  assert.ok(pkt.ok);
  return pkt.bytes;
}
function reason(r: { ok: boolean; reason?: string }): string | undefined {
  return r.ok ? undefined : r.reason;
}
function fixIpChecksum(b: Buffer): Buffer {
  b.writeUInt16BE(0, 10);
  b.writeUInt16BE(internetChecksum(b, 0, 20), 10);
  return b;
}
function fixVrrpChecksum(b: Buffer): Buffer {
  b.writeUInt16BE(0, 26);
  b.writeUInt16BE(internetChecksum(b, 20, b.readUInt16BE(2)), 26);
  return b;
}

test('drop reasons: IP layer', () => {
  assert.equal(reason(receiveIpv4(new Uint8Array(0))), 'ip-truncated');
  assert.equal(reason(receiveIpv4(v2().subarray(0, 30))), 'ip-truncated');
  const six = v2();
  six[0] = 0x65;
  assert.equal(reason(receiveIpv4(six)), 'not-ipv4');
  const ihl = v2();
  ihl[0] = 0x44;
  assert.equal(reason(receiveIpv4(ihl)), 'bad-ip-header-length');
  const ck = v2();
  ck[10]! ^= 1;
  assert.equal(reason(receiveIpv4(ck)), 'bad-ip-checksum');
  const frag = v2();
  frag[6] = 0x20;
  assert.equal(reason(receiveIpv4(fixIpChecksum(frag))), 'ip-fragment');
  const proto = v2();
  proto[9] = 17;
  assert.equal(reason(receiveIpv4(fixIpChecksum(proto))), 'not-vrrp-protocol');
  // trailing link padding beyond Total Length is ignored
  assert.ok(receiveIpv4(Buffer.concat([v2(), Buffer.alloc(6)])).ok);
});

test('drop reasons: TTL, multicast and unicast min/max', () => {
  assert.equal(reason(receiveIpv4(v2({}, { ttl: 254 }))), 'ttl-not-255');
  assert.ok(receiveIpv4(v2({}, { ttl: 64, dst: '192.0.2.2' }), { unicast: true }).ok);
  assert.equal(reason(receiveIpv4(v2({}, { ttl: 64, dst: '192.0.2.2' }), { unicast: true, minTtl: 100 })), 'ttl-out-of-range');
  assert.equal(reason(receiveIpv4(v2({}, { ttl: 200, dst: '192.0.2.2' }), { unicast: true, maxTtl: 100 })), 'ttl-out-of-range');
  assert.ok(receiveIpv4(v2({}, { ttl: 100, dst: '192.0.2.2' }), { unicast: true, minTtl: 100, maxTtl: 100 }).ok);
});

test('drop reasons: VRRP header', () => {
  const short = v2().subarray(0, 26);
  short.writeUInt16BE(26, 2);
  assert.equal(reason(receiveIpv4(fixIpChecksum(Buffer.from(short)))), 'too-short');
  const ver = v2();
  ver[20] = 0x41;
  assert.equal(reason(receiveIpv4(fixVrrpChecksum(ver))), 'bad-version');
  const type = v2();
  type[20] = 0x22;
  assert.equal(reason(receiveIpv4(fixVrrpChecksum(type))), 'bad-type');
  const vrid0 = v2();
  vrid0[21] = 0;
  assert.equal(reason(receiveIpv4(fixVrrpChecksum(vrid0))), 'bad-vrid');
  const int0 = v2();
  int0[25] = 0;
  assert.equal(reason(receiveIpv4(fixVrrpChecksum(int0))), 'bad-interval');
  const count = v2();
  count[23] = 2;
  assert.equal(reason(receiveIpv4(fixVrrpChecksum(count))), 'length-mismatch');
  const sum = v2();
  sum[27]! ^= 0x40;
  assert.equal(reason(receiveIpv4(sum)), 'bad-checksum');
  const body = v2();
  body[28]! ^= 1; // an address byte
  assert.equal(reason(receiveIpv4(body)), 'bad-checksum');
});

test('drop reasons: instance configuration (vrid, version, auth, interval)', () => {
  assert.equal(reason(receiveIpv4(v2(), { vrids: [2, 3] })), 'unknown-vrid');
  assert.ok(receiveIpv4(v2(), { vrids: new Set([1]) }).ok);
  assert.ok(receiveIpv4(v2(), { vrids: 1 }).ok);
  assert.equal(reason(receiveIpv4(v2(), { version: 3 })), 'version-mismatch');
  assert.equal(reason(receiveIpv4(v2(), { authType: AuthType.SimpleText, authPass: 'x' })), 'auth-type-mismatch');
  const pass = v2({ authType: AuthType.SimpleText, authData: 'secret123' });
  // keepalived compares the first 8 bytes: "secret123" and "secret12" are the same password
  assert.ok(receiveIpv4(pass, { authType: AuthType.SimpleText, authPass: 'secret123' }).ok);
  assert.ok(receiveIpv4(pass, { authType: AuthType.SimpleText, authPass: 'secret12' }).ok);
  assert.equal(reason(receiveIpv4(pass, { authType: AuthType.SimpleText, authPass: 'secret1' })), 'auth-mismatch');
  assert.equal(reason(receiveIpv4(pass, { authType: AuthType.SimpleText, authPass: 'Secret12' })), 'auth-mismatch');
  assert.equal(reason(receiveIpv4(pass)), 'auth-type-mismatch');
  // v2 interval mismatch drops; v3 only warns
  assert.equal(reason(receiveIpv4(v2(), { advertIntervalCs: 200 })), 'interval-mismatch');
  const e3 = encodeAdvert(
    { version: 3, vrid: 1, priority: 100, advertIntervalCs: 75, addresses: ['192.0.2.101'] },
    { family: 4, src: '192.0.2.1', dst: '224.0.0.18' },
  );
  assert.ok(e3.ok);
  const p3 = buildIpv4Packet({ src: '192.0.2.1', dst: '224.0.0.18' }, e3.bytes);
  assert.ok(p3.ok);
  const r3 = receiveIpv4(p3.bytes, { advertIntervalCs: 100 });
  assert.ok(r3.ok);
  assert.equal(r3.advert.advertIntervalCs, 75);
  assert.deepEqual(r3.warnings, ['interval-differs']);
});

test('address list: dropped by default (keepalived 2.2.7, measured), warnings on request', () => {
  const pkt = v2({ addresses: ['192.0.2.101', '192.0.2.102'] });
  const same = receiveIpv4(pkt, { addresses: ['192.0.2.102', '192.0.2.101'] });
  assert.ok(same.ok);
  assert.deepEqual(same.warnings, []);
  assert.equal(reason(receiveIpv4(pkt, { addresses: ['192.0.2.101'] })), 'addr-count-mismatch');
  assert.equal(reason(receiveIpv4(pkt, { addresses: ['192.0.2.101', '192.0.2.9'] })), 'addr-list-mismatch');
  const fewer = receiveIpv4(pkt, { addresses: ['192.0.2.101'], addressMismatch: 'warn' });
  assert.ok(fewer.ok);
  assert.deepEqual(fewer.warnings, ['addr-count-mismatch']);
  const other = receiveIpv4(pkt, { addresses: ['192.0.2.101', '192.0.2.103'], addressMismatch: 'warn' });
  assert.ok(other.ok);
  assert.deepEqual(other.warnings, ['addr-list-mismatch']);
  // the deprecated strict_mode flag no longer turns the drop into a warning (keepalived drops anyway)
  assert.equal(reason(receiveIpv4(pkt, { addresses: ['192.0.2.101'], dropOnAddressMismatch: false })), 'addr-count-mismatch');
  // no configured list: no check (skip_check_adv_addr)
  assert.ok(receiveIpv4(pkt).ok);
  // IPv6 lists compare by value, not spelling
  const e6 = encodeAdvert(
    { version: 3, vrid: 4, priority: 100, advertIntervalCs: 100, addresses: ['2001:DB8:0:0::140'] },
    { family: 6, src: 'fe80::1', dst: 'ff02::12' },
  );
  assert.ok(e6.ok);
  const r6 = receiveIpv6(e6.bytes, 'fe80::1', 'ff02::12', { addresses: ['2001:db8::0140'] });
  assert.ok(r6.ok);
  assert.deepEqual(r6.advert.addresses, ['2001:db8::140']);
  assert.deepEqual(r6.warnings, []);
});

test('auth_type AH: keepalived ICV verified; tampering, wrong key and mismatched modes dropped', () => {
  const fx = fixtures.find((f) => f.name === 'v2-auth-ah')!;
  const pkt = Buffer.from(fx.packets[0]!.hex, 'hex');
  const opts: ReceiveOptions = { authType: AuthType.IpAh, authPass: 'ahkey' };
  const ok = receiveIpv4(pkt, opts);
  assert.ok(ok.ok);
  assert.equal(ok.ahSequence, 1);
  assert.equal(reason(receiveIpv4(pkt, { ...opts, authPass: 'ahkey2' })), 'auth-mismatch');
  const tampered = Buffer.from(pkt);
  tampered[46]! ^= 1; // priority, inside the ICV's coverage
  assert.equal(reason(receiveIpv4(tampered, opts)), 'auth-mismatch');
  // TTL is part of keepalived's ICV input (measured), TOS is not
  const tos = Buffer.from(pkt);
  tos[1] = 0;
  assert.ok(receiveIpv4(fixIpChecksum(tos), opts).ok);
  assert.equal(reason(receiveIpv4(pkt)), 'ah-unexpected');
  assert.equal(reason(receiveIpv4(v2({ authType: AuthType.IpAh }), opts)), 'ah-missing');
  const spi = Buffer.from(pkt);
  spi[27]! ^= 1;
  assert.equal(reason(receiveIpv4(spi, opts)), 'ah-bad-spi');
  const nh = Buffer.from(pkt);
  nh[20] = 6;
  assert.equal(reason(receiveIpv4(nh, opts)), 'ah-bad-next-header');
  const len = Buffer.from(pkt);
  len[21] = 5;
  assert.equal(reason(receiveIpv4(len, opts)), 'ah-bad-length');
  const trunc = fixIpChecksum(Buffer.from(pkt.subarray(0, 40)));
  trunc.writeUInt16BE(40, 2);
  assert.equal(reason(receiveIpv4(fixIpChecksum(trunc), opts)), 'ah-truncated');
});

test('encode refuses bad fields with a typed error, never throws', () => {
  const base: AdvertFields = { version: 2, vrid: 1, priority: 100, advertIntervalCs: 100, addresses: ['192.0.2.1'] };
  const err = (f: Partial<AdvertFields> | Record<string, unknown>, o: Record<string, unknown> = {}) => {
    const r = encodeAdvert({ ...base, ...f } as AdvertFields, { family: 4, ...o } as never);
    return r.ok ? 'ok' : r.error;
  };
  assert.equal(err({ vrid: 0 }), 'bad-vrid');
  assert.equal(err({ vrid: 256 }), 'bad-vrid');
  assert.equal(err({ priority: -1 }), 'bad-priority');
  assert.equal(err({ priority: 1.5 }), 'bad-priority');
  assert.equal(err({ advertIntervalCs: 150 }), 'bad-interval');
  assert.equal(err({ advertIntervalCs: 0 }), 'bad-interval');
  assert.equal(err({ version: 3, advertIntervalCs: 4096 }, { src: '192.0.2.1', dst: '224.0.0.18' }), 'bad-interval');
  assert.equal(err({ version: 3 }), 'missing-ip-addresses');
  assert.equal(err({ version: 4 }), 'bad-version');
  assert.equal(err({}, { family: 6 }), 'bad-version');
  assert.equal(err({ addresses: ['192.0.2.300'] }), 'bad-address');
  assert.equal(err({ addresses: [42] }), 'bad-address');
  assert.equal(err({ addresses: new Array(256).fill('192.0.2.1') }), 'too-many-addresses');
  assert.equal(err({ authType: 300 }), 'bad-auth');
  const small = new Uint8Array(10);
  const r = encodeAdvertInto(small, 0, base, { family: 4 });
  assert.equal(typeof r === 'number' ? r : r.error, 'too-long');
  const fits = new Uint8Array(advertLength(2, 4, 1) + 3);
  assert.equal(encodeAdvertInto(fits, 3, base, { family: 4 }), 20);
  assert.equal(internetChecksum(fits, 3), 0);
});

test('pseudo-header sums match a manual computation', () => {
  const src = Uint8Array.from([192, 0, 2, 1]);
  const dst = Uint8Array.from([224, 0, 0, 18]);
  // 0xc000 + 0x0201 + 0xe000 + 0x0012 + 112 + 20
  assert.equal(pseudoHeaderSum4(src, 0, dst, 0, 20), 0xc000 + 0x0201 + 0xe000 + 0x0012 + 112 + 20);
});

test('address text parsing and RFC 5952 formatting', () => {
  const b = new Uint8Array(16);
  for (const [text, want] of [
    ['2001:db8::1', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::cc71:23ff:fe8c:5e87', 'fe80::cc71:23ff:fe8c:5e87'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1::', '1::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['ff02:0:0:0:0:0:0:12', 'ff02::12'],
  ]) {
    assert.ok(parseIpv6Into(text!, b, 0), text);
    assert.equal(formatIpv6(b, 0), want, text);
  }
  for (const bad of [
    '',
    ':',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    'g::',
    '1:2:3:4:5:6:7:',
    '::1.2.3',
    '1:2:3:4:5:6:7:1.2.3.4',
    '1.2.3.4',
  ]) {
    assert.equal(parseIpv6Into(bad, b, 0), false, bad);
  }
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'a.b.c.d', '1..2.3', '1.2.3.4 ']) {
    assert.equal(parseIpv4Into(bad, b, 0), false, bad);
  }
  assert.equal(canonicalAddress('0.0.0.0', 4), '0.0.0.0');
  assert.equal(canonicalAddress('2001:0db8::0001', 6), '2001:db8::1');
  assert.equal(canonicalAddress('x', 6), null);
});

test('hostile JavaScript inputs give typed results, never exceptions', () => {
  const junk: unknown[] = [undefined, null, 0, 'x', {}, [], [1, 2], new ArrayBuffer(8), { length: 100 }];
  for (const j of junk) {
    const anyJ = j as never;
    assert.equal(receiveIpv4(anyJ).ok, false);
    assert.equal(typeof receiveIpv4(v2(), anyJ).ok, 'boolean'); // junk options: a result, no exception
    assert.equal(receiveIpv6(anyJ, 'fe80::1', 'ff02::12').ok, false);
    assert.equal(receiveIpv6(new Uint8Array(40), anyJ, anyJ).ok, false);
    assert.equal(parseIpv4Packet(anyJ).ok, false);
    assert.equal(parseIpv6Packet(anyJ).ok, false);
    assert.equal(decodeAdvert(anyJ, 0, 10, { family: 4 }).ok, false);
    assert.equal(decodeAdvert(new Uint8Array(20), 0, 20, anyJ).ok, false);
    assert.equal(encodeAdvert(anyJ, { family: 4 }).ok, false);
    assert.equal(encodeAdvert({ version: 2, vrid: 1, priority: 1, advertIntervalCs: 100, addresses: [] }, anyJ).ok, false);
    assert.equal(buildIpv4Packet(anyJ, new Uint8Array(1)).ok, false);
    assert.equal(parseIpv4Into(anyJ, new Uint8Array(4), 0), false);
    assert.equal(parseIpv6Into(anyJ, new Uint8Array(16), 0), false);
  }
  assert.equal(decodeAdvert(new Uint8Array(20), 5, 100, { family: 4 }).ok, false);
  assert.equal(decodeAdvert(new Uint8Array(20), -1, 10, { family: 4 }).ok, false);
  const pass = v2({ authType: AuthType.SimpleText, authData: 'secret12' });
  assert.equal(reason(receiveIpv4(pass, { authType: AuthType.SimpleText, authPass: 42 as never })), 'auth-mismatch');
  assert.equal(reason(receiveIpv4(v2(), { addresses: [42 as never] })), 'addr-list-mismatch');
});

test('toReceivedAdvert gives the shared ReceivedAdvert with its IP context', () => {
  const r = receiveIpv4(v2({}, { dst: '192.0.2.2', ttl: 200 }), { unicast: true });
  assert.ok(r.ok);
  const ra = toReceivedAdvert(r, 'eth9');
  assert.equal(ra.srcAddress, '192.0.2.1');
  assert.equal(ra.dstAddress, '192.0.2.2');
  assert.equal(ra.ttl, 200);
  assert.equal(ra.ifname, 'eth9');
  assert.equal(ra.family, 4);
  assert.equal(ra.checksumForm, 'v2');
  assert.equal(ra.advert.vrid, 1);
});
