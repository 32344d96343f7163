// VRRP codec throughput: decode+validate (the per-packet receive path) and encode, packets/s.
// Run: npm run build && node dist/bench/codec.js [seconds-per-case, default 1]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodeAdvert,
  encodeAdvertInto,
  parseIpv6Packet,
  receiveIpv4,
  receiveIpv6,
  advertLength,
  type AdvertFields,
  type ReceiveOptions,
} from '../src/vrrp/packet.js';
import { AuthType } from '../src/vrrp/types.js';

const seconds = Number(process.argv[2] ?? 1);
const fixtureDir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'vrrp');
const hex = (name: string) =>
  Buffer.from(
    (JSON.parse(readFileSync(join(fixtureDir, `${name}.json`), 'utf8')) as { packets: Array<{ hex: string }> }).packets[0]!.hex,
    'hex',
  );

function bench(label: string, fn: () => unknown): void {
  // warm up, then run in batches until the time budget is spent
  for (let i = 0; i < 20_000; i++) fn();
  let n = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let dt = 0n;
  do {
    for (let i = 0; i < 10_000; i++) if (fn()) sink++;
    n += 10_000;
    dt = process.hrtime.bigint() - t0;
  } while (dt < budget);
  const s = Number(dt) / 1e9;
  const rate = n / s;
  console.log(
    `${label.padEnd(46)} ${(rate / 1e6).toFixed(2).padStart(6)} M pkt/s  ${(1e9 / rate).toFixed(0).padStart(5)} ns/pkt${sink < 0 ? '!' : ''}`,
  );
}

const v2 = hex('v2-noauth-multi-vip');
const v2pass = hex('v2-auth-pass');
const v2ah = hex('v2-auth-ah');
const v3 = hex('v3-ipv4');
const v6pkt = parseIpv6Packet(hex('v3-ipv6'));
if (!v6pkt.ok) throw new Error('fixture v3-ipv6');

const v2opts: ReceiveOptions = {
  version: 2,
  vrids: new Set([1]),
  advertIntervalCs: 100,
  addresses: ['192.0.2.101', '192.0.2.102', '198.51.100.7'],
};
console.log(`# node ${process.version}, ${seconds} s per case`);
console.log('## decode + validate');
bench('v2 IPv4, 3 VIPs, full validation', () => receiveIpv4(v2, v2opts).ok);
bench('v2 IPv4, PASS', () => receiveIpv4(v2pass, { version: 2, vrids: 2, authType: AuthType.SimpleText, authPass: 'secret12' }).ok);
bench('v2 IPv4, AH (HMAC-MD5)', () => receiveIpv4(v2ah, { version: 2, authType: AuthType.IpAh, authPass: 'ahkey' }).ok);
bench('v3 IPv4, pseudo-header', () => receiveIpv4(v3, { version: 3, vrids: 3 }).ok);
bench('v3 IPv6, 2 VIPs', () => receiveIpv6(v6pkt.payload, v6pkt.src, v6pkt.dst, { version: 3, vrids: 4 }).ok);
const bad = Buffer.from(v2);
bad[27]! ^= 1;
bench('v2 IPv4, bad checksum (drop)', () => receiveIpv4(bad, v2opts).ok);

console.log('## encode');
const f2: AdvertFields = {
  version: 2,
  vrid: 1,
  priority: 100,
  advertIntervalCs: 100,
  addresses: ['192.0.2.101', '192.0.2.102', '198.51.100.7'],
};
const f3: AdvertFields = { version: 3, vrid: 3, priority: 200, advertIntervalCs: 50, addresses: ['192.0.2.130', '192.0.2.131'] };
const f6: AdvertFields = { version: 3, vrid: 4, priority: 100, advertIntervalCs: 100, addresses: ['2001:db8::140', '2001:db8:1::141'] };
bench('encodeAdvert v2 IPv4 (allocates)', () => encodeAdvert(f2, { family: 4 }).ok);
const out = new Uint8Array(advertLength(3, 6, 2));
bench('encodeAdvertInto v2 IPv4 (reused buffer)', () => encodeAdvertInto(out, 0, f2, { family: 4 }) === 20);
bench(
  'encodeAdvertInto v3 IPv4 pseudo-header',
  () => typeof encodeAdvertInto(out, 0, f3, { family: 4, src: '192.0.2.1', dst: '224.0.0.18' }) === 'number',
);
bench('encodeAdvertInto v3 IPv6', () => typeof encodeAdvertInto(out, 0, f6, { family: 6, src: 'fe80::1', dst: 'ff02::12' }) === 'number');
