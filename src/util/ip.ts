/**
 * The one IP address module: parse, canonical text, compare and family, for the config, the
 * codec, the core and the network edges. Parsing writes into a caller's buffer without exceptions
 * or regexes (the codec's per-packet path); the text and comparison helpers are built on it.
 *
 * API:
 *   IpFamily                                   4 | 6 (the config model names them 'inet' | 'inet6')
 *   parseIpv4Into / parseIpv6Into(text, out, off): boolean
 *   formatIpv4 / formatIpv6(buf, off): string  RFC 5952 text
 *   canonicalAddress(text, family): string | null
 *   ipFamilyOf(text): IpFamily | undefined     the family of an address text (zone allowed)
 *   addressKey / compareKeys / compareAddresses / parseIPv6
 *                                              numeric order (RFC 5798 6.4.3 tie-break)
 */

export type IpFamily = 4 | 6;

/** Parse dotted-quad IPv4 text into out[off..off+4). Returns false (and writes nothing useful) on bad text. */
export function parseIpv4Into(text: string, out: Uint8Array, off: number): boolean {
  if (typeof text !== 'string') return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // virtual trailing '.'
    if (c >= 48 && c <= 57) {
      // no leading zeros ("01" is ambiguous: octal in some parsers)
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (value > 255 || ++digits > 3) return false;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[off + part++] = value;
      value = 0;
      digits = 0;
    } else return false;
  }
  return part === 4;
}

/** Parse IPv6 text (RFC 4291 section 2.2, incl. "::" and a trailing dotted quad) into out[off..off+16). */
const WORDS = [0, 0, 0, 0, 0, 0, 0, 0]; // scratch (synchronous use only)
const V4TMP = new Uint8Array(4);

export function parseIpv6Into(text: string, out: Uint8Array, off: number): boolean {
  if (typeof text !== 'string') return false;
  const n = text.length;
  if (n < 2 || n > 45) return false;
  const words = WORDS;
  let count = 0;
  let gap = -1; // index in words where "::" sits
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < n) {
    if (count >= 8) return false;
    // a dotted quad may end the address
    let j = i;
    let value = 0;
    let hexDigits = 0;
    let sawDot = false;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else if (c === 46) {
        sawDot = true;
        break;
      } else break;
      value = value * 16 + d;
      if (++hexDigits > 4) return false;
    }
    if (sawDot) {
      if (count > 6) return false;
      const tmp = V4TMP;
      if (!parseIpv4Into(text.slice(i), tmp, 0)) return false;
      words[count++] = (tmp[0]! << 8) | tmp[1]!;
      words[count++] = (tmp[2]! << 8) | tmp[3]!;
      i = n;
      break;
    }
    if (hexDigits === 0) return false;
    words[count++] = value;
    if (j === n) {
      i = n;
      break;
    }
    if (text.charCodeAt(j) !== 58) return false;
    if (j + 1 < n && text.charCodeAt(j + 1) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i = j + 2;
    } else {
      if (j + 1 === n) return false; // trailing single ':'
      i = j + 1;
    }
  }
  if (gap === -1 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  let w = 0;
  for (let k = 0; k < count; k++) {
    if (k === gap)
      for (let z = 0; z < zeros; z++) {
        out[off + w * 2] = 0;
        out[off + w * 2 + 1] = 0;
        w++;
      }
    out[off + w * 2] = words[k]! >> 8;
    out[off + w * 2 + 1] = words[k]! & 0xff;
    w++;
  }
  if (gap === count)
    for (let z = 0; z < zeros; z++) {
      out[off + w * 2] = 0;
      out[off + w * 2 + 1] = 0;
      w++;
    }
  return true;
}

export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

// byte -> hex, without and with a leading zero (IPv6 words are written without leading zeros)
const HEX8: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
const HEX8PAD: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * RFC 5952 canonical text: lower case, longest run (>= 2) of zero words as "::", first one on
 * ties; an IPv4-mapped address as ::ffff:a.b.c.d (RFC 5952 5, inet_ntop's form) unless
 * mappedAsIpv4 is false (src/net/ipaddr.ts's formatIp writes it in hex: ::ffff:c000:201).
 */
export function formatIpv6(buf: Uint8Array, off: number, mappedAsIpv4 = true): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let w = 0; w <= 8; w++) {
    const zero = w < 8 && buf[off + 2 * w] === 0 && buf[off + 2 * w + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = w;
    } else if (runStart >= 0) {
      if (w - runStart > bestLen) {
        bestStart = runStart;
        bestLen = w - runStart;
      }
      runStart = -1;
    }
  }
  // IPv4-mapped ::ffff:a.b.c.d keeps its conventional form
  if (mappedAsIpv4 && bestStart === 0 && bestLen === 5 && buf[off + 10] === 0xff && buf[off + 11] === 0xff) {
    return `::ffff:${formatIpv4(buf, off + 12)}`;
  }
  let s = '';
  let afterGap = false;
  for (let w = 0; w < 8; w++) {
    if (w === bestStart) {
      s += '::';
      w += bestLen - 1;
      afterGap = true;
      continue;
    }
    if (w > 0 && !afterGap) s += ':';
    afterGap = false;
    const hi = buf[off + 2 * w]!;
    s += hi === 0 ? HEX8[buf[off + 2 * w + 1]!]! : HEX8[hi]! + HEX8PAD[buf[off + 2 * w + 1]!]!;
  }
  return s;
}

/** Canonical text of an address given as text (for comparing configured and received lists); null if bad. */
export function canonicalAddress(text: string, family: IpFamily): string | null {
  const b = new Uint8Array(16);
  if (family === 4) return parseIpv4Into(text, b, 0) ? formatIpv4(b, 0) : null;
  return parseIpv6Into(text, b, 0) ? formatIpv6(b, 0) : null;
}

// ---- numeric order ------------------------------------------------------------------------------

const KEY_BYTES = new Uint8Array(16); // scratch (synchronous use only)

/** the address part of "fe80::1%eth0" (a zone names an interface, not part of the address) */
const withoutZone = (text: string): string => {
  const z = text.indexOf('%');
  return z >= 0 ? text.slice(0, z) : text;
};

/** The eight 16-bit groups of an IPv6 address ("%zone" ignored), or undefined. */
export function parseIPv6Groups(text: string): number[] | undefined {
  if (typeof text !== 'string' || !parseIpv6Into(withoutZone(text), KEY_BYTES, 0)) return undefined;
  // pushed, not new Array(8): a packed array keeps compareKeys (per advert) on V8's fast path
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((KEY_BYTES[i]! << 8) | KEY_BYTES[i + 1]!);
  return g;
}

/** An IPv6 address ("%zone" ignored) as a 128-bit bigint, or undefined. */
export function parseIPv6(text: string): bigint | undefined {
  const groups = parseIPv6Groups(text);
  if (groups === undefined) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit value, or undefined. */
export function parseIPv4(text: string): number | undefined {
  if (!parseIpv4Into(text, KEY_BYTES, 0)) return undefined;
  return ((KEY_BYTES[0]! << 24) | (KEY_BYTES[1]! << 16) | (KEY_BYTES[2]! << 8) | KEY_BYTES[3]!) >>> 0;
}

/** The family of an address text (an IPv6 zone allowed), or undefined when it is not one. */
export function ipFamilyOf(text: string): IpFamily | undefined {
  if (text.includes(':')) return parseIpv6Into(withoutZone(text), KEY_BYTES, 0) ? 6 : undefined;
  return parseIpv4Into(text, KEY_BYTES, 0) ? 4 : undefined;
}

/**
 * An address as comparable key: [v4 value] for IPv4, eight groups for IPv6; undefined when it
 * is not an address. Keys of the same family compare with compareKeys.
 */
export function addressKey(text: string): number[] | undefined {
  if (text.includes(':')) return parseIPv6Groups(text);
  const v4 = parseIPv4(text);
  return v4 === undefined ? undefined : [v4];
}

/** -1, 0, 1; undefined when the keys are of different families. */
export function compareKeys(a: readonly number[], b: readonly number[]): -1 | 0 | 1 | undefined {
  if (a.length !== b.length) return undefined;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}

/**
 * Compare two addresses numerically: -1, 0 or 1; undefined when either is not a valid address
 * or they are of different families.
 */
export function compareAddresses(a: string, b: string): -1 | 0 | 1 | undefined {
  const ka = addressKey(a);
  const kb = ka === undefined ? undefined : addressKey(b);
  return kb === undefined ? undefined : compareKeys(ka!, kb);
}
