// Internet checksum (RFC 1071) and the pseudo-header sums VRRPv3 needs (RFC 5798 section 5.2.8).
// Pure functions over byte ranges: no allocation on the hot path.

/** IP protocol number of VRRP (RFC 5798 section 5.1.1.4). */
export const IPPROTO_VRRP = 112;

/**
 * One's-complement partial sum of buf[start, end) as 16-bit big-endian words, added to `initial`.
 * Returns an unfolded 32-bit accumulator: chain calls, then finish with foldChecksum().
 * An odd trailing byte is padded with zero (RFC 1071).
 */
export function sumWords(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  // fold early when large so the accumulator never leaves the safe integer range
  // (a 64 KiB packet adds at most 2^31; folding here keeps repeated chaining exact)
  if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Fold a partial sum into 16 bits and complement it: the checksum value to put on the wire. */
export function foldChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The Internet checksum of buf[start, end). Over data that carries its own checksum, 0 means valid. */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return foldChecksum(sumWords(buf, start, end));
}

/**
 * Partial sum of the IPv4 pseudo-header: source, destination, zero, protocol, upper-layer length
 * (RFC 5798 section 5.2.8 refers to RFC 768's form). src and dst are 4 bytes each, read at offsets.
 */
export function pseudoHeaderSum4(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  length: number,
  protocol = IPPROTO_VRRP,
): number {
  let sum = sumWords(src, srcOff, srcOff + 4);
  sum = sumWords(dst, dstOff, dstOff + 4, sum);
  return sum + protocol + length;
}

/**
 * Partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source, destination (16 bytes each),
 * 32-bit upper-layer length, three zero bytes, next header.
 */
export function pseudoHeaderSum6(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  length: number,
  nextHeader = IPPROTO_VRRP,
): number {
  let sum = sumWords(src, srcOff, srcOff + 16);
  sum = sumWords(dst, dstOff, dstOff + 16, sum);
  return sum + (length >>> 16) + (length & 0xffff) + nextHeader;
}
