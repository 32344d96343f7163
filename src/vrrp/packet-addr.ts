// IPv4/IPv6 textual <-> binary conversion for the codec, without exceptions or regexes:
// parse functions write into a caller's buffer and return false on bad text.

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
      else if (c === 46) { sawDot = true; break; }
      else break;
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
    if (j === n) { i = n; break; }
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
    if (k === gap) for (let z = 0; z < zeros; z++) { out[off + w * 2] = 0; out[off + w * 2 + 1] = 0; w++; }
    out[off + w * 2] = words[k]! >> 8;
    out[off + w * 2 + 1] = words[k]! & 0xff;
    w++;
  }
  if (gap === count) for (let z = 0; z < zeros; z++) { out[off + w * 2] = 0; out[off + w * 2 + 1] = 0; w++; }
  return true;
}

export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** RFC 5952 canonical text: lower case, longest run (>= 2) of zero words as "::", first one on ties. */
// byte -> hex, without and with a leading zero (IPv6 words are written without leading zeros)
const HEX8: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
const HEX8PAD: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatIpv6(buf: Uint8Array, off: number): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let w = 0; w <= 8; w++) {
    const zero = w < 8 && buf[off + 2 * w] === 0 && buf[off + 2 * w + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = w;
    } else if (runStart >= 0) {
      if (w - runStart > bestLen) { bestStart = runStart; bestLen = w - runStart; }
      runStart = -1;
    }
  }
  // IPv4-mapped ::ffff:a.b.c.d keeps its conventional form
  if (bestStart === 0 && bestLen === 5 && buf[off + 10] === 0xff && buf[off + 11] === 0xff) {
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
export function canonicalAddress(text: string, family: 4 | 6): string | null {
  const b = new Uint8Array(16);
  if (family === 4) return parseIpv4Into(text, b, 0) ? formatIpv4(b, 0) : null;
  return parseIpv6Into(text, b, 0) ? formatIpv6(b, 0) : null;
}
