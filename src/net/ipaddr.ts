// IP and MAC helpers for the network edges: the throwing, Buffer-returning face of src/util/ip.ts.
//
// Public API:
//   parseIp(text): { family: 4 | 6; bytes: Buffer }           throws NetError "EBADARG"
//   parsePrefix(text, defaultLen?): { family; bytes; prefixLength } "192.0.2.0/24", "2001:db8::/64"
//   formatIp(bytes): string                                     4 or 16 bytes; IPv6 per RFC 5952
//   parseMac(text) / formatMac(bytes)                           "00:00:5e:00:01:0a"
//   ipv4Broadcast(bytes, prefixLength): Buffer
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into, type IpFamily } from '../util/ip.js';
import { NetError } from './errors.js';

/** the one family type (src/util/ip.ts), under the name src/net has always used */
export type Family = IpFamily;

export function parseIp(text: string): { family: Family; bytes: Buffer } {
  const t = text.trim();
  const v4 = Buffer.alloc(4);
  if (parseIpv4Into(t, v4, 0)) return { family: 4, bytes: v4 };
  // Strip a zone ("fe80::1%eth0"): the kernel wants the bytes only.
  const bytes = Buffer.alloc(16);
  if (!parseIpv6Into(t.split('%')[0]!, bytes, 0)) throw new NetError('EBADARG', 'parseIp', `not an IP address: "${text}"`);
  return { family: 6, bytes };
}

export function parsePrefix(text: string, defaultLen?: number): { family: Family; bytes: Buffer; prefixLength: number } {
  const [a, p] = text.trim().split('/');
  const { family, bytes } = parseIp(a ?? '');
  const max = family === 4 ? 32 : 128;
  const prefixLength = p === undefined ? (defaultLen ?? max) : Number(p);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max || (p !== undefined && !/^\d+$/.test(p))) {
    throw new NetError('EBADARG', 'parsePrefix', `bad prefix length in "${text}"`);
  }
  return { family, bytes, prefixLength };
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(bytes, 0);
  if (bytes.length !== 16) throw new NetError('EBADARG', 'formatIp', `address of ${bytes.length} bytes`);
  // an IPv4-mapped address in hex (::ffff:c000:201), as this edge has always written it
  return formatIpv6(bytes, 0, false);
}

export function parseMac(text: string): Buffer {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new NetError('EBADARG', 'parseMac', `not a MAC address: "${text}"`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function ipv4Broadcast(bytes: Uint8Array, prefixLength: number): Buffer {
  const v = bytes.length === 4 ? Buffer.from(bytes).readUInt32BE(0) : 0;
  const host = prefixLength >= 32 ? 0 : 0xffffffff >>> prefixLength;
  const out = Buffer.alloc(4);
  out.writeUInt32BE((v | host) >>> 0, 0);
  return out;
}
