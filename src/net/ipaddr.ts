// Small IP address helpers for the network edges (no dependency).
//
// Public API:
//   parseIp(text): { family: 4 | 6; bytes: Buffer }           throws NetError "EBADARG"
//   parsePrefix(text, defaultLen?): { family; bytes; prefixLength } "192.0.2.0/24", "2001:db8::/64"
//   formatIp(bytes): string                                     4 or 16 bytes; IPv6 per RFC 5952
//   parseMac(text) / formatMac(bytes)                           "00:00:5e:00:01:0a"
//   ipv4Broadcast(bytes, prefixLength): Buffer
import { isIPv4, isIPv6 } from 'node:net';
import { NetError } from './errors.js';

export type Family = 4 | 6;

export function parseIp(text: string): { family: Family; bytes: Buffer } {
  const t = text.trim();
  if (isIPv4(t)) return { family: 4, bytes: Buffer.from(t.split('.').map(Number)) };
  // Strip a zone ("fe80::1%eth0"): the kernel wants the bytes only.
  const noZone = t.split('%')[0];
  if (!isIPv6(noZone)) throw new NetError('EBADARG', 'parseIp', `not an IP address: "${text}"`);
  let head = noZone;
  let tailV4: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    tailV4 = head.slice(lastColon + 1).split('.').map(Number);
    head = noZone.slice(0, lastColon + 1) + '0:0';
  }
  const groupsWanted = 8;
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l ? l.split(':').filter((s) => s !== '') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const fill = r === undefined ? 0 : groupsWanted - left.length - right.length;
  const groups = [...left, ...Array<string>(fill).fill('0'), ...right].map((g) => parseInt(g, 16));
  const bytes = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  if (tailV4.length === 4) Buffer.from(tailV4).copy(bytes, 12);
  return { family: 6, bytes };
}

export function parsePrefix(text: string, defaultLen?: number): { family: Family; bytes: Buffer; prefixLength: number } {
  const [a, p] = text.trim().split('/');
  const { family, bytes } = parseIp(a);
  const max = family === 4 ? 32 : 128;
  const prefixLength = p === undefined ? (defaultLen ?? max) : Number(p);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max || (p !== undefined && !/^\d+$/.test(p))) {
    throw new NetError('EBADARG', 'parsePrefix', `bad prefix length in "${text}"`);
  }
  return { family, bytes, prefixLength };
}

export function formatIp(bytes: Uint8Array): string {
  // (a template, not Array.from().join(): this runs for every packet received)
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new NetError('EBADARG', 'formatIp', `address of ${bytes.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
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
