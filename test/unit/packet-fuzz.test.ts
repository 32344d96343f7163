// Decoder fuzzing: random and mutated packets never make decode/validate throw; every result is
// a typed drop reason or a valid advert; valid adverts round-trip through encode.
// Seeded: FUZZ_SEED=<n> reproduces a run; FUZZ_ITER=<n> scales it (default 300000 packets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildIpv4Packet,
  encodeAdvert,
  receiveIpv4,
  receiveIpv6,
  decodeAdvert,
  type DropReason,
  type ReceiveOptions,
  type AdvertFields,
  type ChecksumForm,
} from '../../src/vrrp/packet.js';
import { internetChecksum, pseudoHeaderSum4, pseudoHeaderSum6, sumWords, foldChecksum } from '../../src/vrrp/checksum.js';
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from '../../src/util/ip.js';
import { AuthType, type VrrpAdvert } from '../../src/vrrp/types.js';
import { Prng } from '../../src/util/prng.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff) >>> 0;
const ITER = Number(process.env.FUZZ_ITER ?? 300_000);
console.log(`# packet-fuzz seed ${SEED} (reproduce: FUZZ_SEED=${SEED}), ${ITER} packets`);

/** every seeded test uses the simulator's PRNG (src/sim/prng.ts) */
function prng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}
const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;

const REASONS: ReadonlySet<DropReason> = new Set<DropReason>([
  'not-ipv4',
  'bad-ip-header-length',
  'ip-truncated',
  'bad-ip-checksum',
  'ip-fragment',
  'not-vrrp-protocol',
  'ttl-not-255',
  'ttl-out-of-range',
  'ah-truncated',
  'ah-bad-length',
  'ah-bad-next-header',
  'ah-bad-spi',
  'ah-unexpected',
  'ah-missing',
  'too-short',
  'bad-interval',
  'bad-version',
  'bad-type',
  'length-mismatch',
  'bad-vrid',
  'bad-checksum',
  'missing-ip-addresses',
  'unknown-vrid',
  'version-mismatch',
  'auth-type-mismatch',
  'auth-mismatch',
  'interval-mismatch',
  'addr-count-mismatch',
  'addr-list-mismatch',
]);

const fixtureDir = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'vrrp');
const seeds4: Buffer[] = [];
const seeds6: Array<{ payload: Buffer; src: string; dst: string }> = [];
for (const f of readdirSync(fixtureDir).filter((n) => n.endsWith('.json'))) {
  const fx = JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as { family: number; packets: Array<{ hex: string }> };
  for (const p of fx.packets) {
    const b = Buffer.from(p.hex, 'hex');
    if (fx.family === 4) seeds4.push(b);
    else seeds6.push({ payload: b.subarray(40), src: formatIpv6(b, 8), dst: formatIpv6(b, 24) });
  }
}

const optionSets: ReceiveOptions[] = [
  {},
  { version: 2, vrids: [1, 2, 5], advertIntervalCs: 100 },
  { version: 3, vrids: new Set([3, 4, 7]), advertIntervalCs: 50, addresses: ['192.0.2.130', '192.0.2.131'], addressMismatch: 'warn' },
  { authType: AuthType.SimpleText, authPass: 'secret123' },
  { authType: AuthType.IpAh, authPass: 'ahkey' },
  { unicast: true, minTtl: 10, maxTtl: 250, oldUnicastChecksum: 'never' },
  { addresses: ['192.0.2.101'], acceptNoPseudoHeader: false },
];

function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

function randomAddr(family: 4 | 6): string {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = rnd() < 0.3 ? 0 : int(256);
  return family === 4 ? formatIpv4(b, 0) : formatIpv6(b, 0);
}

function randomFields(family: 4 | 6): AdvertFields {
  const version = family === 6 ? 3 : rnd() < 0.5 ? 2 : 3;
  const n = rnd() < 0.01 ? int(256) : int(6);
  const addresses = Array.from({ length: n }, () => randomAddr(family));
  const f: AdvertFields = {
    version,
    vrid: 1 + int(255),
    priority: int(256),
    advertIntervalCs: version === 2 ? 100 * (1 + int(255)) : 1 + int(4095),
    addresses,
  };
  if (version === 2) {
    const authType = int(3);
    const authData = new Uint8Array(8);
    for (let i = 0; i < 8; i++) authData[i] = int(256);
    return { ...f, authType, authData };
  }
  return f;
}

/** Recompute the VRRP checksum of an IPv4 packet in place (keeps mutations deep in the decoder). */
function fixChecksums(b: Buffer, form: ChecksumForm): void {
  if (b.length < 20) return;
  const ihl = (b[0]! & 15) * 4;
  const end = Math.min(b.length, b.readUInt16BE(2));
  if (ihl + 8 <= end) {
    b[ihl + 6] = 0;
    b[ihl + 7] = 0;
    let sum = sumWords(b, ihl, end);
    if (form === 'v3-pseudo-header') sum += pseudoHeaderSum4(b, 12, b, 16, end - ihl);
    const ck = foldChecksum(sum);
    b[ihl + 6] = ck >> 8;
    b[ihl + 7] = ck & 0xff;
  }
  if (ihl <= b.length && ihl >= 20) {
    b[10] = 0;
    b[11] = 0;
    const ck = internetChecksum(b, 0, ihl);
    b[10] = ck >> 8;
    b[11] = ck & 0xff;
  }
}

function mutate(src: Buffer): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    const op = int(7);
    if (op === 0 && b.length)
      b[int(b.length)]! ^= 1 << int(8); // bit flip
    else if (op === 1 && b.length)
      b[int(b.length)] = int(256); // byte set
    else if (op === 2)
      b = b.subarray(0, int(b.length + 1)); // truncate
    else if (op === 3)
      b = Buffer.concat([b, randomBytes(1 + int(12))]); // extend
    else if (op === 4 && b.length > 24)
      b[20 + int(4)] = pick([0, 1, 2, 3, 0x21, 0x31, 0x20, 0xff]); // VRRP header bytes
    else if (op === 5 && b.length > 9)
      b[8] = pick([255, 254, 1, 64]); // TTL
    else if (op === 6 && b.length > 3) b.writeUInt16BE(pick([b.length, b.length - 1, b.length + 4, 20, 0]) & 0xffff, 2); // total length
  }
  // half the time fix checksums so the mutation reaches the deeper checks
  if (rnd() < 0.5) fixChecksums(b, pick(['v2', 'v3-pseudo-header', 'v3-no-pseudo-header'] as const));
  return b;
}

function checkResult(r: unknown, where: string): void {
  const x = r as { ok: boolean; reason?: string; advert?: VrrpAdvert; warnings?: unknown };
  if (x.ok === false) {
    if (!REASONS.has(x.reason as DropReason)) assert.fail(`${where}: untyped reason ${String(x.reason)}`);
    return;
  }
  assert.equal(x.ok, true);
  const a = x.advert!;
  assert.ok(a.version === 2 || a.version === 3, where);
  assert.equal(a.type, 1, where);
  assert.ok(a.vrid >= 1 && a.vrid <= 255, where);
  assert.ok(Array.isArray(x.warnings), where);
}

/** encode(decode(x)) === x (reserved v3 bits aside, which RFC 5798 says to ignore on receive). */
function roundTrip4(pkt: Buffer, r: ReturnType<typeof receiveIpv4>): void {
  if (!r.ok) return;
  const ihl = (pkt[0]! & 15) * 4;
  const start = ihl + (pkt[9] === 51 ? 24 : 0);
  const vrrp = pkt.subarray(start, pkt.readUInt16BE(2));
  if (r.advert.version === 3 && (vrrp[4]! & 0xf0) !== 0) return;
  const form = r.checksumForm === 'v2' ? undefined : r.checksumForm;
  const e = encodeAdvert(r.advert, { family: 4, src: r.src, dst: r.dst, checksumForm: form });
  if (!e.ok) assert.fail(JSON.stringify(e));
  if (!e.bytes.equals(vrrp)) assert.fail(`round trip: ${pkt.toString('hex')}`);
}

test(`fuzz: random and mutated packets never throw, results typed, valid ones round-trip (seed ${SEED})`, () => {
  const stats = new Map<string, number>();
  const count = (k: string) => stats.set(k, (stats.get(k) ?? 0) + 1);
  let roundTrips = 0;
  const t0 = performance.now();
  for (let i = 0; i < ITER; i++) {
    const kind = i % 8;
    const opts = optionSets[i % optionSets.length]!;
    try {
      if (kind === 0) {
        // pure random bytes, often looking like IPv4
        const b = randomBytes(int(90));
        if (b.length > 0 && rnd() < 0.7) b[0] = 0x45;
        const r = receiveIpv4(b, opts);
        checkResult(r, 'random4');
        count(r.ok ? 'ok' : r.reason);
      } else if (kind === 1) {
        const b = randomBytes(int(90));
        if (b.length > 0 && rnd() < 0.7) b[0] = 0x31;
        const r = receiveIpv6(b, 'fe80::1', 'ff02::12', opts);
        checkResult(r, 'random6');
        count(r.ok ? 'ok' : r.reason);
        const d = decodeAdvert(b, int(4), b.length, { family: rnd() < 0.5 ? 4 : 6 });
        checkResult(d.ok ? { ...d, warnings: [] } : d, 'decode');
      } else if (kind <= 4) {
        // mutated keepalived packets
        const b = mutate(pick(seeds4));
        const r = receiveIpv4(b, opts);
        checkResult(r, 'mutated4');
        count(r.ok ? 'ok' : r.reason);
        if (r.ok) {
          roundTrip4(b, r);
          roundTrips++;
        }
      } else if (kind === 5) {
        const s = pick(seeds6);
        const b = mutate(Buffer.concat([Buffer.alloc(20), s.payload])).subarray(20);
        const r = receiveIpv6(b, s.src, s.dst, opts, rnd() < 0.5 ? undefined : 255);
        checkResult(r, 'mutated6');
        count(r.ok ? 'ok' : r.reason);
      } else {
        // valid random adverts: receive accepts them and the round trip is exact
        const family = kind === 6 ? 4 : 6;
        const f = randomFields(family);
        const src = family === 4 ? randomAddr(4) : 'fe80::1';
        const dst = family === 4 ? '224.0.0.18' : 'ff02::12';
        const e = encodeAdvert(f, { family, src, dst, checksumForm: rnd() < 0.2 ? 'v3-no-pseudo-header' : undefined });
        if (!e.ok) assert.fail(JSON.stringify(e));
        if (family === 4) {
          const p = buildIpv4Packet({ src, dst }, e.bytes);
          assert.ok(p.ok);
          const r = receiveIpv4(p.bytes, { authType: (f.authType ?? 0) as AuthType, authPass: f.authData as Uint8Array | undefined });
          if (f.authType === AuthType.IpAh) {
            // AH auth type without an AH header is refused, typed
            assert.equal(r.ok ? 'ok' : r.reason, 'ah-missing');
            continue;
          }
          if (!r.ok) assert.fail(JSON.stringify(r));
          assert.equal(r.advert.vrid, f.vrid);
          assert.deepEqual(r.advert.addresses, f.addresses);
          roundTrip4(p.bytes, r);
          roundTrips++;
        } else {
          const r = receiveIpv6(e.bytes, src, dst);
          if (!r.ok) assert.fail(JSON.stringify(r));
          assert.deepEqual(r.advert.addresses, f.addresses);
          const again = encodeAdvert(r.advert, { family: 6, src, dst });
          assert.ok(again.ok && again.bytes.equals(e.bytes));
          roundTrips++;
        }
        count('valid-generated');
      }
    } catch (err) {
      if (err instanceof assert.AssertionError) throw new Error(`seed ${SEED} iteration ${i}: ${err.message}`);
      throw new Error(`seed ${SEED} iteration ${i}: decoder threw ${String(err)}`);
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `# ${ITER} packets in ${ms.toFixed(0)} ms, ${roundTrips} round trips; outcomes: ${[...stats]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  // the mutations must actually reach deep checks, not all die at the IP layer
  for (const k of ['ok', 'bad-checksum', 'length-mismatch', 'bad-version', 'ttl-not-255', 'unknown-vrid']) {
    assert.ok((stats.get(k) ?? 0) > 0, `fuzz never produced ${k}`);
  }
});

test(`fuzz: address text parsers never throw and round-trip (seed ${SEED})`, () => {
  const alphabet = '0123456789abcdefABCDEF:.:::x ';
  const b = new Uint8Array(16);
  const c = new Uint8Array(16);
  for (let i = 0; i < 50_000; i++) {
    const s = Array.from({ length: int(46) }, () => pick(alphabet.split(''))).join('');
    if (parseIpv6Into(s, b, 0)) {
      const text = formatIpv6(b, 0);
      assert.ok(parseIpv6Into(text, c, 0), text);
      assert.deepEqual(c, b);
    }
    if (parseIpv4Into(s, b, 0)) assert.equal(formatIpv4(b, 0), s);
    // random bytes -> text -> bytes
    for (let k = 0; k < 16; k++) b[k] = rnd() < 0.4 ? 0 : int(256);
    assert.ok(parseIpv6Into(formatIpv6(b, 0), c, 0));
    assert.deepEqual(c, b);
  }
  // pseudo-header sum is used by the IPv6 path; a sanity check it never goes out of range
  const s = pseudoHeaderSum6(b, 0, c, 0, 0xffff);
  assert.ok(Number.isSafeInteger(s));
});
