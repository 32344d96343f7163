// VRRP packet codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) encode / decode / receive validation,
// as keepalived 2.2.7 speaks them. Pure code: no I/O, never throws on any input (every failure is a
// typed result), and the receive path avoids allocation beyond the decoded advert itself.
import { createHmac } from 'node:crypto';
import {
  AuthType,
  type AdvertWarning,
  type ChecksumForm,
  type IpFamily,
  type ReceivedAdvert,
  type VrrpAdvert,
  type VrrpVersion,
} from './types.js';
import { foldChecksum, internetChecksum, IPPROTO_VRRP, pseudoHeaderSum4, pseudoHeaderSum6, sumWords } from './checksum.js';
import { canonicalAddress, formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from '../util/ip.js';

export { IPPROTO_VRRP } from './checksum.js';
/** IP protocol number of the IPsec Authentication Header (keepalived's auth_type AH). */
export const IPPROTO_AH = 51;
export const VRRP_MCAST_V4 = '224.0.0.18';
export const VRRP_MCAST_V6 = 'ff02::12';
/** RFC 3768 / RFC 5798: adverts to the multicast group must arrive with TTL / hop limit 255. */
export const VRRP_TTL = 255;
/** Type 1 is the only VRRP packet type (ADVERTISEMENT). */
export const VRRP_TYPE_ADVERT = 1;
/** VRRPv2 authentication data length (RFC 3768 section 5.3.10; PASS compares these 8 bytes). */
export const VRRP_AUTH_LEN = 8;
/** keepalived's AH: fixed header 12 bytes + HMAC-MD5-96 ICV 12 bytes. */
export const AH_HEADER_LEN = 24;
const VRRP_HEADER_LEN = 8;

export type { ChecksumForm, AdvertWarning } from './types.js';

/** Why a received packet is dropped (RFC 3768 / RFC 5798 section 7.1, keepalived's checks). */
export type DropReason =
  // IP layer
  | 'not-ipv4'
  | 'bad-ip-header-length'
  | 'ip-truncated'
  | 'bad-ip-checksum'
  | 'ip-fragment'
  | 'not-vrrp-protocol'
  | 'ttl-not-255'
  | 'ttl-out-of-range'
  // AH (auth_type AH)
  | 'ah-truncated'
  | 'ah-bad-length'
  | 'ah-bad-next-header'
  | 'ah-bad-spi'
  | 'ah-unexpected'
  | 'ah-missing'
  // VRRP header
  | 'too-short'
  | 'bad-version'
  | 'bad-type'
  | 'length-mismatch'
  | 'bad-vrid'
  | 'bad-checksum'
  | 'bad-interval' // advert interval 0: no timer can be derived from it (our choice; RFC 5798 is silent)
  | 'missing-ip-addresses' // VRRPv3 checksum needs the IP source and destination
  // instance configuration
  | 'unknown-vrid'
  | 'version-mismatch'
  | 'auth-type-mismatch'
  | 'auth-mismatch'
  | 'interval-mismatch'
  | 'addr-count-mismatch'
  | 'addr-list-mismatch'; // keepalived 2.2.7 drops these (measured); addressMismatch: 'warn' keeps them

export type Drop = { readonly ok: false; readonly reason: DropReason; readonly detail?: string };

const NO_WARNINGS: readonly AdvertWarning[] = Object.freeze([]);
const GROUP4 = new Uint8Array([224, 0, 0, 18]);
const phScratch = new Uint8Array(32); // pseudo-header addresses while encoding (synchronous use only)

function drop(reason: DropReason, detail?: string): Drop {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

// ---------------------------------------------------------------------------------------------
// IP layer

/** Fields of a received IPv4 packet (raw sockets deliver the IPv4 header). */
export interface Ipv4Packet {
  readonly ok: true;
  readonly tos: number;
  readonly id: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly headerLength: number;
  readonly totalLength: number;
  readonly src: string;
  readonly dst: string;
  /** offsets of the payload inside the buffer given */
  readonly payloadOffset: number;
  readonly payloadEnd: number;
  /** the payload (a view, not a copy) */
  readonly payload: Uint8Array;
}

/**
 * Parse an IPv4 packet as a raw socket delivers it. Checks version, header length, total length
 * against the buffer (trailing bytes beyond Total Length are ignored, e.g. link padding), header
 * checksum, and refuses fragments (the kernel reassembles before raw delivery).
 */
export function parseIpv4Packet(buf: Uint8Array): Ipv4Packet | Drop {
  const bad = checkIpv4Header(buf);
  if (bad !== null) return bad;
  const headerLength = (buf[0]! & 15) * 4;
  const totalLength = (buf[2]! << 8) | buf[3]!;
  return {
    ok: true,
    tos: buf[1]!,
    id: (buf[4]! << 8) | buf[5]!,
    ttl: buf[8]!,
    protocol: buf[9]!,
    headerLength,
    totalLength,
    src: formatIpv4(buf, 12),
    dst: formatIpv4(buf, 16),
    payloadOffset: headerLength,
    payloadEnd: totalLength,
    payload: buf.subarray(headerLength, totalLength),
  };
}

/** The IPv4 header checks, without building anything (the receive path reads fields in place). */
function checkIpv4Header(buf: Uint8Array): Drop | null {
  if (!(buf instanceof Uint8Array)) return drop('ip-truncated', 'not a byte buffer');
  if (buf.length < 20) return drop('ip-truncated', `${buf.length} bytes`);
  if (buf[0]! >> 4 !== 4) return drop('not-ipv4', `version ${buf[0]! >> 4}`);
  const headerLength = (buf[0]! & 15) * 4;
  if (headerLength < 20) return drop('bad-ip-header-length', `IHL ${headerLength / 4}`);
  const totalLength = (buf[2]! << 8) | buf[3]!;
  if (totalLength < headerLength) return drop('bad-ip-header-length', `total length ${totalLength} < header ${headerLength}`);
  if (buf.length < totalLength) return drop('ip-truncated', `${buf.length} bytes, total length ${totalLength}`);
  if (internetChecksum(buf, 0, headerLength) !== 0) return drop('bad-ip-checksum');
  if ((buf[6]! & 0x20) !== 0 || (((buf[6]! & 0x1f) << 8) | buf[7]!) !== 0) return drop('ip-fragment');
  return null;
}

/** Fields of an IPv6 packet with the fixed header only (captures and tests; raw sockets give the payload). */
export interface Ipv6Packet {
  readonly ok: true;
  readonly hopLimit: number;
  readonly nextHeader: number;
  readonly src: string;
  readonly dst: string;
  readonly payload: Uint8Array;
}

export function parseIpv6Packet(buf: Uint8Array): Ipv6Packet | Drop {
  if (!(buf instanceof Uint8Array)) return drop('ip-truncated', 'not a byte buffer');
  if (buf.length < 40) return drop('ip-truncated', `${buf.length} bytes`);
  if (buf[0]! >> 4 !== 6) return drop('not-ipv4', `version ${buf[0]! >> 4} (expected 6)`);
  const payloadLength = (buf[4]! << 8) | buf[5]!;
  if (buf.length < 40 + payloadLength) return drop('ip-truncated', `payload length ${payloadLength}`);
  return {
    ok: true,
    nextHeader: buf[6]!,
    hopLimit: buf[7]!,
    src: formatIpv6(buf, 8),
    dst: formatIpv6(buf, 24),
    payload: buf.subarray(40, 40 + payloadLength),
  };
}

export interface Ipv4HeaderFields {
  src: string;
  dst: string;
  /** default 255 */
  ttl?: number;
  /** default 112 (VRRP) */
  protocol?: number;
  /** default 0xc0 (Internetwork Control, what keepalived sends) */
  tos?: number;
  /** default 0 */
  id?: number;
}

export type EncodeError =
  | 'bad-version'
  | 'bad-vrid'
  | 'bad-priority'
  | 'bad-interval'
  | 'too-many-addresses'
  | 'bad-address'
  | 'bad-auth'
  | 'missing-ip-addresses'
  | 'bad-family'
  | 'bad-ip-field'
  | 'too-long'
  | 'bad-fields';
export type EncodeFailure = { readonly ok: false; readonly error: EncodeError; readonly detail?: string };
export type EncodeResult = { readonly ok: true; readonly bytes: Buffer } | EncodeFailure;

function encFail(error: EncodeError, detail?: string): EncodeFailure {
  return detail === undefined ? { ok: false, error } : { ok: false, error, detail };
}

function byte(n: number | undefined, dflt: number): number | null {
  const v = n ?? dflt;
  return Number.isInteger(v) && v >= 0 && v <= 255 ? v : null;
}

/**
 * Wrap a payload in an IPv4 header (for tests, pcaps and tools; the daemon lets the kernel build
 * headers). With `ah`, inserts keepalived's AH header and computes its HMAC-MD5-96.
 */
export function buildIpv4Packet(
  fields: Ipv4HeaderFields,
  payload: Uint8Array,
  ah?: { spi?: number; seq: number; key: string | Uint8Array },
): EncodeResult {
  if (fields === null || typeof fields !== 'object' || typeof fields.src !== 'string' || typeof fields.dst !== 'string')
    return encFail('bad-fields');
  if (!(payload instanceof Uint8Array)) return encFail('bad-fields', 'payload');
  if (ah !== undefined && (ah === null || typeof ah !== 'object' || !(typeof ah.key === 'string' || ah.key instanceof Uint8Array)))
    return encFail('bad-auth', 'AH key');
  const ttl = byte(fields.ttl, VRRP_TTL);
  const tos = byte(fields.tos, 0xc0);
  const protocol = ah ? IPPROTO_AH : byte(fields.protocol, IPPROTO_VRRP);
  const id = fields.id ?? 0;
  if (ttl === null || tos === null || protocol === null || !Number.isInteger(id) || id < 0 || id > 0xffff) {
    return encFail('bad-ip-field');
  }
  const extra = ah ? AH_HEADER_LEN : 0;
  const total = 20 + extra + payload.length;
  if (total > 0xffff) return encFail('too-long');
  const b = Buffer.alloc(total);
  if (!parseIpv4Into(fields.src, b, 12)) return encFail('bad-address', `source ${fields.src}`);
  if (!parseIpv4Into(fields.dst, b, 16)) return encFail('bad-address', `destination ${fields.dst}`);
  b[0] = 0x45;
  b[1] = tos;
  b.writeUInt16BE(total, 2);
  b.writeUInt16BE(id, 4);
  b[8] = ttl;
  b[9] = protocol;
  b.set(payload, 20 + extra);
  if (ah) {
    const spi = ah.spi ?? b.readUInt32BE(12); // keepalived: SPI = the sender's address
    if (!Number.isInteger(ah.seq) || ah.seq < 0 || ah.seq > 0xffffffff || !Number.isInteger(spi) || spi < 0 || spi > 0xffffffff) {
      return encFail('bad-ip-field', 'AH spi/seq');
    }
    b[20] = fields.protocol ?? IPPROTO_VRRP; // next header
    b[21] = AH_HEADER_LEN / 4 - 2; // payload len, RFC 4302 section 2.2
    b.writeUInt32BE(spi >>> 0, 24);
    b.writeUInt32BE(ah.seq >>> 0, 28);
    // ICV over the packet with mutable fields zeroed: computed before the header checksum is set
    ahIcv(b, 0, total, 20, toKey(ah.key)).copy(b, 32);
  }
  b.writeUInt16BE(internetChecksum(b, 0, 20), 10);
  return { ok: true, bytes: b };
}

function toKey(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'utf8').subarray(0, VRRP_AUTH_LEN) : key.subarray(0, VRRP_AUTH_LEN);
}

let ahScratch = Buffer.alloc(256);
/**
 * keepalived's AH ICV: HMAC-MD5 keyed with auth_pass (at most 8 bytes), over the whole IPv4 packet
 * with TOS, flags/fragment offset, header checksum and the ICV zeroed, truncated to 96 bits.
 * (Measured on keepalived 2.2.7's packets: it keeps the TTL in the hash, unlike RFC 4302's list.)
 */
function ahIcv(pkt: Uint8Array, start: number, end: number, ahOff: number, key: Uint8Array): Buffer {
  const len = end - start;
  if (ahScratch.length < len) ahScratch = Buffer.alloc(Math.max(len, ahScratch.length * 2));
  const s = ahScratch.subarray(0, len);
  s.set(pkt.subarray(start, end));
  s[1] = 0;
  s[6] = 0;
  s[7] = 0;
  s[10] = 0;
  s[11] = 0;
  s.fill(0, ahOff - start + 12, ahOff - start + AH_HEADER_LEN);
  return createHmac('md5', key).update(s).digest().subarray(0, 12);
}

// ---------------------------------------------------------------------------------------------
// VRRP message encode

/** What is needed to encode an advert (VrrpAdvert minus the checksum, which is computed). */
export interface AdvertFields {
  readonly version: VrrpVersion;
  /** default 1 (ADVERTISEMENT); other values only for tests */
  readonly type?: number;
  readonly vrid: number;
  readonly priority: number;
  /** centiseconds; v2 needs a whole number of seconds (1-255 s), v3 1-4095 cs */
  readonly advertIntervalCs: number;
  readonly addresses: readonly string[];
  /** v2 only, default None */
  readonly authType?: number;
  /** v2 only: PASS text (truncated to 8 bytes) or the 8 raw bytes; zero padded */
  readonly authData?: Uint8Array | string;
}

export interface EncodeOptions {
  readonly family: IpFamily;
  /** v3: IP source and destination for the pseudo-header */
  readonly src?: string;
  readonly dst?: string;
  /** v3 over IPv4 only; default 'v3-pseudo-header' (keepalived's default) */
  readonly checksumForm?: Exclude<ChecksumForm, 'v2'>;
  /** v3-old-unicast: the group used as pseudo-header destination (default 224.0.0.18) */
  readonly multicastGroup?: string;
}

/** Shapes a JavaScript caller could get wrong (TypeScript callers cannot). */
function badInput(fields: AdvertFields, opts: EncodeOptions): EncodeFailure | null {
  if (fields === null || typeof fields !== 'object' || !Array.isArray(fields.addresses)) return encFail('bad-fields', 'fields');
  if (opts === null || typeof opts !== 'object') return encFail('bad-fields', 'options');
  if ((opts.src !== undefined && typeof opts.src !== 'string') || (opts.dst !== undefined && typeof opts.dst !== 'string'))
    return encFail('bad-address', 'src/dst');
  return null;
}

/** Bytes of the VRRP message for these fields (no IP header). */
export function advertLength(version: VrrpVersion, family: IpFamily, count: number): number {
  return VRRP_HEADER_LEN + count * (family === 4 ? 4 : 16) + (version === 2 ? VRRP_AUTH_LEN : 0);
}

/** Encode a VRRP advertisement (the VRRP message only), computing its checksum. */
export function encodeAdvert(fields: AdvertFields, opts: EncodeOptions): EncodeResult {
  const bad = badInput(fields, opts);
  if (bad) return bad;
  const f = opts.family;
  if (f !== 4 && f !== 6) return encFail('bad-family');
  const v = fields.version;
  if (v !== 2 && v !== 3) return encFail('bad-version', String(v));
  if (v === 2 && f === 6) return encFail('bad-version', 'VRRPv2 is IPv4 only');
  const n = fields.addresses.length;
  if (n > 255) return encFail('too-many-addresses', String(n));
  const out = Buffer.alloc(advertLength(v, f, n));
  const r = encodeAdvertInto(out, 0, fields, opts);
  return typeof r === 'number' ? { ok: true, bytes: out } : r;
}

/**
 * Encode into out at offset (no allocation); returns the number of bytes written or a failure.
 * out must have advertLength(...) bytes free from offset.
 */
export function encodeAdvertInto(out: Uint8Array, offset: number, fields: AdvertFields, opts: EncodeOptions): number | EncodeFailure {
  const bad = badInput(fields, opts);
  if (bad) return bad;
  if (!(out instanceof Uint8Array) || !Number.isInteger(offset)) return encFail('bad-fields', 'output buffer/offset');
  const f = opts.family;
  const v = fields.version;
  if (f !== 4 && f !== 6) return encFail('bad-family');
  if (v !== 2 && v !== 3) return encFail('bad-version', String(v));
  if (v === 2 && f === 6) return encFail('bad-version', 'VRRPv2 is IPv4 only');
  const { vrid, priority, advertIntervalCs: cs } = fields;
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) return encFail('bad-vrid', String(vrid));
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) return encFail('bad-priority', String(priority));
  const type = fields.type ?? VRRP_TYPE_ADVERT;
  if (!Number.isInteger(type) || type < 0 || type > 15) return encFail('bad-version', `type ${type}`);
  let intervalField: number;
  if (v === 2) {
    // v2 Adver Int is whole seconds; keepalived rounds the configured value with a warning
    if (!Number.isInteger(cs) || cs % 100 !== 0 || cs < 100 || cs > 25500) return encFail('bad-interval', `${cs} cs`);
    intervalField = cs / 100;
  } else {
    if (!Number.isInteger(cs) || cs < 1 || cs > 4095) return encFail('bad-interval', `${cs} cs`);
    intervalField = cs;
  }
  const n = fields.addresses.length;
  if (n > 255) return encFail('too-many-addresses', String(n));
  const len = advertLength(v, f, n);
  if (offset < 0 || offset + len > out.length) return encFail('too-long', `need ${len} bytes at ${offset}`);
  out[offset] = (v << 4) | type;
  out[offset + 1] = vrid;
  out[offset + 2] = priority;
  out[offset + 3] = n;
  if (v === 2) {
    const at = fields.authType ?? AuthType.None;
    if (!Number.isInteger(at) || at < 0 || at > 255) return encFail('bad-auth', `type ${at}`);
    out[offset + 4] = at;
    out[offset + 5] = intervalField;
  } else {
    out[offset + 4] = intervalField >> 8; // 4 reserved bits are zero
    out[offset + 5] = intervalField & 0xff;
  }
  out[offset + 6] = 0;
  out[offset + 7] = 0;
  const step = f === 4 ? 4 : 16;
  let p = offset + VRRP_HEADER_LEN;
  for (let i = 0; i < n; i++, p += step) {
    const a = fields.addresses[i]!;
    const good = typeof a === 'string' && (f === 4 ? parseIpv4Into(a, out, p) : parseIpv6Into(a, out, p));
    if (!good) return encFail('bad-address', String(a));
  }
  if (v === 2) {
    out.fill(0, p, p + VRRP_AUTH_LEN);
    const d = fields.authData;
    if (d !== undefined) {
      const bytes = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
      if (!(bytes instanceof Uint8Array)) return encFail('bad-auth');
      out.set(bytes.subarray(0, VRRP_AUTH_LEN), p);
    }
  }
  const end = offset + len;
  let sum: number;
  if (v === 2) sum = sumWords(out, offset, end);
  else {
    const form = opts.checksumForm ?? 'v3-pseudo-header';
    if (f === 6 || form !== 'v3-no-pseudo-header') {
      if (opts.src === undefined || opts.dst === undefined) return encFail('missing-ip-addresses', 'VRRPv3 checksum needs src and dst');
      const ph = phScratch;
      const dstText = f === 4 && form === 'v3-old-unicast' ? (opts.multicastGroup ?? VRRP_MCAST_V4) : opts.dst;
      const okSrc = f === 4 ? parseIpv4Into(opts.src, ph, 0) : parseIpv6Into(opts.src, ph, 0);
      const okDst = f === 4 ? parseIpv4Into(dstText, ph, 16) : parseIpv6Into(dstText, ph, 16);
      if (!okSrc || !okDst) return encFail('bad-address', `pseudo-header ${opts.src} -> ${dstText}`);
      sum = f === 4 ? pseudoHeaderSum4(ph, 0, ph, 16, len) : pseudoHeaderSum6(ph, 0, ph, 16, len);
      sum = sumWords(out, offset, end, sum);
    } else sum = sumWords(out, offset, end);
  }
  const ck = foldChecksum(sum);
  out[offset + 6] = ck >> 8;
  out[offset + 7] = ck & 0xff;
  return len;
}

// ---------------------------------------------------------------------------------------------
// VRRP message decode (structure + checksum, no instance configuration)

/** IP context the VRRPv3 checksum needs: addresses as bytes at offsets (e.g. straight from the IP header). */
export interface ChecksumContext {
  readonly family: IpFamily;
  /** source address bytes (4 or 16) at srcOffset */
  readonly src?: Uint8Array;
  readonly srcOffset?: number;
  readonly dst?: Uint8Array;
  readonly dstOffset?: number;
  /** also try the pseudo-header with the multicast group as destination (old keepalived unicast); default true */
  readonly tryOldUnicast?: boolean;
  /** accept a v3-over-IPv4 checksum without pseudo-header; default true */
  readonly acceptNoPseudoHeader?: boolean;
}

export interface Decoded {
  readonly ok: true;
  readonly advert: VrrpAdvert;
  readonly checksumForm: ChecksumForm;
}

/**
 * Decode and checksum-verify a VRRP message in buf[start, end). Structural checks only: version
 * 2/3 (2 only over IPv4), type 1, VRID 1-255, length consistent with the address count.
 */
export function decodeAdvert(buf: Uint8Array, start: number, end: number, ctx: ChecksumContext): Decoded | Drop {
  if (!(buf instanceof Uint8Array) || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > buf.length) {
    return drop('too-short', 'bad buffer or range');
  }
  if (ctx === null || typeof ctx !== 'object' || (ctx.family !== 4 && ctx.family !== 6))
    return drop('missing-ip-addresses', 'bad checksum context');
  const len = end - start;
  if (len < VRRP_HEADER_LEN) return drop('too-short', `${len} bytes`);
  const version = buf[start]! >> 4;
  const family = ctx.family;
  if (version !== 2 && version !== 3) return drop('bad-version', `version ${version}`);
  if (version === 2 && family === 6) return drop('bad-version', 'VRRPv2 over IPv6');
  const type = buf[start]! & 15;
  if (type !== VRRP_TYPE_ADVERT) return drop('bad-type', `type ${type}`);
  const vrid = buf[start + 1]!;
  if (vrid === 0) return drop('bad-vrid', 'VRID 0');
  const intervalCs = version === 2 ? buf[start + 5]! * 100 : ((buf[start + 4]! & 0x0f) << 8) | buf[start + 5]!;
  if (intervalCs === 0) return drop('bad-interval', 'advert interval 0');
  const count = buf[start + 3]!;
  const expected = advertLength(version, family, count);
  if (len !== expected) return drop('length-mismatch', `${len} bytes, ${count} addresses need ${expected}`);

  let form: ChecksumForm;
  if (version === 2) {
    if (internetChecksum(buf, start, end) !== 0) return drop('bad-checksum');
    form = 'v2';
  } else {
    const body = sumWords(buf, start, end);
    const { src, dst } = ctx;
    const so = ctx.srcOffset ?? 0;
    const dOff = ctx.dstOffset ?? 0;
    const alen = family === 4 ? 4 : 16;
    const haveIp = src !== undefined && dst !== undefined && so >= 0 && dOff >= 0 && so + alen <= src.length && dOff + alen <= dst.length;
    if (
      haveIp &&
      foldChecksum(family === 4 ? pseudoHeaderSum4(src, so, dst, dOff, len) + body : pseudoHeaderSum6(src, so, dst, dOff, len) + body) === 0
    ) {
      form = 'v3-pseudo-header';
    } else if (family === 4 && ctx.acceptNoPseudoHeader !== false && foldChecksum(body) === 0) {
      form = 'v3-no-pseudo-header';
    } else if (
      haveIp &&
      family === 4 &&
      ctx.tryOldUnicast !== false &&
      foldChecksum(pseudoHeaderSum4(src, so, GROUP4, 0, len) + body) === 0
    ) {
      form = 'v3-old-unicast';
    } else if (!haveIp && family === 6) {
      return drop('missing-ip-addresses', 'VRRPv3 over IPv6 needs the source and destination for its checksum');
    } else return drop('bad-checksum');
  }

  const step = family === 4 ? 4 : 16;
  const addresses = new Array<string>(count);
  let p = start + VRRP_HEADER_LEN;
  for (let i = 0; i < count; i++, p += step) addresses[i] = family === 4 ? formatIpv4(buf, p) : formatIpv6(buf, p);
  const checksum = (buf[start + 6]! << 8) | buf[start + 7]!;
  const advert: VrrpAdvert =
    version === 2
      ? {
          version,
          type,
          vrid,
          priority: buf[start + 2]!,
          advertIntervalCs: intervalCs,
          addresses,
          authType: buf[start + 4]!,
          authData: copy8(buf, p),
          checksum,
        }
      : {
          version,
          type,
          vrid,
          priority: buf[start + 2]!,
          advertIntervalCs: intervalCs,
          addresses,
          checksum,
        };
  return { ok: true, advert, checksumForm: form };
}

/** A plain Uint8Array copy of 8 bytes (slice() on a Buffer goes through the slow species path). */
function copy8(buf: Uint8Array, p: number): Uint8Array {
  const a = new Uint8Array(VRRP_AUTH_LEN);
  for (let i = 0; i < VRRP_AUTH_LEN; i++) a[i] = buf[p + i]!;
  return a;
}

// ---------------------------------------------------------------------------------------------
// Receive validation (instance configuration)

export interface ReceiveOptions {
  /** the instance's VRRP version; a packet of the other version is dropped (keepalived does) */
  readonly version?: VrrpVersion;
  /** VRIDs configured on this interface; others give 'unknown-vrid' */
  readonly vrids?: number | ReadonlySet<number> | readonly number[];
  /** v2: configured auth type (default None) and auth_pass (first 8 bytes compared, zero padded) */
  readonly authType?: AuthType;
  readonly authPass?: string | Uint8Array;
  /** our advert interval (cs): v2 drops a different one, v3 only warns (a Backup learns it) */
  readonly advertIntervalCs?: number;
  /**
   * TTL rules: multicast (default) requires 255; unicast accepts any TTL unless min/max are set
   * (keepalived's unicast_peer ... min_ttl / max_ttl). IPv6 raw sockets cannot see the hop limit.
   */
  readonly unicast?: boolean;
  readonly minTtl?: number;
  readonly maxTtl?: number;
  /**
   * configured virtual addresses (without prefix length), compared with the advert's list.
   * Leave undefined to skip the check (keepalived's skip_check_adv_addr, for an advert from the
   * same Master as the previous one: that needs state, so the caller decides).
   */
  readonly addresses?: readonly string[];
  /**
   * What an address mismatch does. keepalived 2.2.7 drops the advert in both cases (measured in
   * test/interop/capture-keepalived.test.ts: "received an unexpected ip number count" and
   * "ip address associated with VRID not present in MASTER advert"), so 'drop' is the default;
   * 'warn' accepts it with a warning flag (RFC 3768 section 7.1 says MAY drop and SHOULD log).
   */
  readonly addressMismatch?: 'drop' | 'warn';
  /**
   * @deprecated kept so existing callers compile; ignored. It mapped keepalived's strict_mode,
   * but keepalived 2.2.7 drops mismatched address lists without strict_mode too (measured).
   * Use addressMismatch.
   */
  readonly dropOnAddressMismatch?: boolean;
  /** keepalived's old_unicast_checksum: 'auto' (default) detects it, 'never' refuses it */
  readonly oldUnicastChecksum?: 'auto' | 'never';
  /** accept VRRPv3-over-IPv4 checksums without pseudo-header (default true) */
  readonly acceptNoPseudoHeader?: boolean;
}

export interface Received {
  readonly ok: true;
  readonly advert: VrrpAdvert;
  readonly checksumForm: ChecksumForm;
  /** empty (shared, frozen) when nothing to report */
  readonly warnings: readonly AdvertWarning[];
  readonly family: IpFamily;
  readonly src: string;
  readonly dst: string;
  /** TTL / hop limit when known, else undefined */
  readonly ttl: number | undefined;
  /** auth_type AH: the sequence number, for the caller's anti-replay check; else undefined */
  readonly ahSequence: number | undefined;
}

const scratch16 = new Uint8Array(32);

/** Compare the configured PASS with the 8 received bytes, keepalived-style (zero padded, truncated). */
function passMatches(pass: string | Uint8Array | undefined, data: Uint8Array, off: number): boolean {
  const bytes = typeof pass === 'string' ? Buffer.from(pass, 'utf8') : pass instanceof Uint8Array ? pass : undefined;
  for (let i = 0; i < VRRP_AUTH_LEN; i++) {
    const want = bytes !== undefined && i < bytes.length ? bytes[i]! : 0;
    if (data[off + i] !== want) return false;
  }
  return true;
}

function vridKnown(vrids: ReceiveOptions['vrids'], vrid: number): boolean {
  if (vrids === undefined) return true;
  if (typeof vrids === 'number') return vrids === vrid;
  if (vrids instanceof Set) return vrids.has(vrid);
  return (vrids as readonly number[]).includes(vrid);
}

/**
 * Receive path for IPv4: a whole packet from a raw socket (IPv4 header included, protocol 112 or
 * 51 for AH). Never throws; returns the advert with its IP context or the reason to drop it.
 */
export function receiveIpv4(packet: Uint8Array, optsIn: ReceiveOptions = {}): Received | Drop {
  const opts = optsIn ?? {};
  const bad = checkIpv4Header(packet);
  if (bad !== null) return bad;
  let start = (packet[0]! & 15) * 4;
  const end = (packet[2]! << 8) | packet[3]!;
  const protocol = packet[9]!;
  const ttl = packet[8]!;
  let ahSequence: number | undefined;
  const wantAh = opts.authType === AuthType.IpAh;
  if (protocol === IPPROTO_AH) {
    if (!wantAh) return drop('ah-unexpected', 'AH packet but auth_type is not AH');
    if (end - start < AH_HEADER_LEN) return drop('ah-truncated');
    if (packet[start]! !== IPPROTO_VRRP) return drop('ah-bad-next-header', `next header ${packet[start]}`);
    if (packet[start + 1]! !== AH_HEADER_LEN / 4 - 2) return drop('ah-bad-length', `payload len ${packet[start + 1]}`);
    // keepalived sets the SPI to the sender's address
    for (let i = 0; i < 4; i++) if (packet[start + 4 + i] !== packet[12 + i]) return drop('ah-bad-spi');
    ahSequence = ((packet[start + 8]! << 24) >>> 0) + ((packet[start + 9]! << 16) | (packet[start + 10]! << 8) | packet[start + 11]!);
    const key = toKey(opts.authPass ?? '');
    const icv = ahIcv(packet, 0, end, start, key);
    for (let i = 0; i < 12; i++) if (icv[i] !== packet[start + 12 + i]) return drop('auth-mismatch', 'AH ICV');
    start += AH_HEADER_LEN;
  } else if (protocol !== IPPROTO_VRRP) {
    return drop('not-vrrp-protocol', `protocol ${protocol}`);
  } else if (wantAh) {
    return drop('ah-missing', 'auth_type AH but no AH header');
  }
  const ttlDrop = checkTtl(ttl, opts);
  if (ttlDrop) return ttlDrop;
  const d = decodeAdvert(packet, start, end, {
    family: 4,
    src: packet,
    srcOffset: 12,
    dst: packet,
    dstOffset: 16,
    tryOldUnicast: opts.oldUnicastChecksum !== 'never',
    acceptNoPseudoHeader: opts.acceptNoPseudoHeader !== false,
  });
  if (!d.ok) return d;
  return validate(d, 4, formatIpv4(packet, 12), formatIpv4(packet, 16), ttl, ahSequence, opts);
}

/**
 * Receive path for IPv6: the VRRP message as an IPv6 raw socket delivers it, with the source and
 * destination from the socket (recvfrom) or the caller's knowledge (ff02::12 or our address).
 */
export function receiveIpv6(payload: Uint8Array, src: string, dst: string, opts: ReceiveOptions = {}, hopLimit?: number): Received | Drop {
  if (!(payload instanceof Uint8Array)) return drop('too-short', 'not a byte buffer');
  opts ??= {};
  if (typeof src !== 'string' || typeof dst !== 'string' || !parseIpv6Into(src, scratch16, 0) || !parseIpv6Into(dst, scratch16, 16)) {
    return drop('missing-ip-addresses', `bad IPv6 source/destination ${src} -> ${dst}`);
  }
  if (hopLimit !== undefined) {
    const t = checkTtl(hopLimit, opts);
    if (t) return t;
  }
  const d = decodeAdvert(payload, 0, payload.length, { family: 6, src: scratch16, srcOffset: 0, dst: scratch16, dstOffset: 16 });
  if (!d.ok) return d;
  return validate(d, 6, src, dst, hopLimit, undefined, opts);
}

/**
 * The one advert-interval rule, for the codec's receive validation and the core: RFC 3768 7.1, a
 * VRRPv2 advert whose Adver Int differs from ours MUST be discarded ('interval-mismatch');
 * VRRPv3 only warns ('interval-differs': a Backup learns the Master's interval, RFC 5798 6.4.2).
 */
export function advertIntervalCheck(
  version: VrrpVersion,
  receivedCs: number,
  configuredCs: number,
): 'interval-mismatch' | 'interval-differs' | null {
  if (receivedCs === configuredCs) return null;
  return version === 2 ? 'interval-mismatch' : 'interval-differs';
}

function checkTtl(ttl: number, opts: ReceiveOptions): Drop | null {
  if (!opts.unicast) return ttl === VRRP_TTL ? null : drop('ttl-not-255', `TTL ${ttl}`);
  if ((opts.minTtl !== undefined && ttl < opts.minTtl) || (opts.maxTtl !== undefined && ttl > opts.maxTtl)) {
    return drop('ttl-out-of-range', `TTL ${ttl} outside ${opts.minTtl ?? 0}-${opts.maxTtl ?? 255}`);
  }
  return null;
}

function validate(
  d: Decoded,
  family: IpFamily,
  src: string,
  dst: string,
  ttl: number | undefined,
  ahSequence: number | undefined,
  opts: ReceiveOptions,
): Received | Drop {
  const a = d.advert;
  if (opts.version !== undefined && a.version !== opts.version)
    return drop('version-mismatch', `got v${a.version}, configured v${opts.version}`);
  if (!vridKnown(opts.vrids, a.vrid)) return drop('unknown-vrid', `VRID ${a.vrid}`);
  let warnings: AdvertWarning[] | null = null;
  if (a.version === 2) {
    const want = opts.authType ?? AuthType.None;
    if (a.authType !== want) return drop('auth-type-mismatch', `got ${a.authType}, configured ${want}`);
    if (want === AuthType.SimpleText && !passMatches(opts.authPass, a.authData!, 0)) return drop('auth-mismatch');
  }
  const interval = opts.advertIntervalCs === undefined ? null : advertIntervalCheck(a.version, a.advertIntervalCs, opts.advertIntervalCs);
  if (interval === 'interval-mismatch') {
    return drop('interval-mismatch', `got ${a.advertIntervalCs / 100} s, configured ${opts.advertIntervalCs! / 100} s`);
  }
  if (interval !== null) warnings = [interval];
  if (d.checksumForm === 'v3-old-unicast') (warnings ??= []).push('old-unicast-checksum');
  else if (d.checksumForm === 'v3-no-pseudo-header') (warnings ??= []).push('no-pseudo-header-checksum');
  if (opts.addresses !== undefined) {
    const mismatch = addressMismatch(opts.addresses, a.addresses, family);
    if (mismatch !== null) {
      if (opts.addressMismatch !== 'warn') return drop(mismatch);
      (warnings ??= []).push(mismatch);
    }
  }
  // one object shape for every result (ttl / ahSequence undefined when unknown): keeps call sites monomorphic
  return { ok: true, advert: a, checksumForm: d.checksumForm, warnings: warnings ?? NO_WARNINGS, family, src, dst, ttl, ahSequence };
}

/** Configured vs received address list, as keepalived checks it (count, then each configured one present). */
function addressMismatch(
  configured: readonly string[],
  received: readonly string[],
  family: IpFamily,
): 'addr-count-mismatch' | 'addr-list-mismatch' | null {
  if (configured.length !== received.length) return 'addr-count-mismatch';
  for (const c of configured) {
    if (received.includes(c)) continue;
    const canon = canonicalAddress(c, family);
    if (canon === null || !received.includes(canon)) return 'addr-list-mismatch';
  }
  return null;
}

/** The shared ReceivedAdvert the state machine consumes, from a successful receive result. */
export function toReceivedAdvert(r: Received, ifname?: string): ReceivedAdvert {
  return {
    advert: r.advert,
    family: r.family,
    srcAddress: r.src,
    dstAddress: r.dst,
    ttl: r.ttl,
    ifname,
    checksumForm: r.checksumForm,
    warnings: r.warnings,
  };
}
