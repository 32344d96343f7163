// Numeric comparison of IP addresses, for the VRRP tie-break on equal priority
// (RFC 5798 6.4.3: "the primary IPvX Address of the sender is greater than the local primary
// IPvX Address"). Pure functions: bad input yields undefined, never an exception.

/** Parse a dotted-quad IPv4 address into an unsigned 32-bit value, or undefined. */
export function parseIPv4(text: string): number | undefined {
  // Hand-written scanner: this sits on the per-advert path (tie-break), so no regex, no split.
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || dots !== 3) return undefined;
  return value * 256 + part;
}

/**
 * Parse an IPv6 address (with "::" compression, an optional embedded IPv4 tail and an optional
 * "%zone" suffix, which is ignored) into a 128-bit bigint, or undefined.
 */
export function parseIPv6(text: string): bigint | undefined {
  const groups = parseIPv6Groups(text);
  if (groups === undefined) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** The eight 16-bit groups of an IPv6 address, or undefined (no bigint: per-advert path). */
export function parseIPv6Groups(text: string): number[] | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0 || s.length > 45) return undefined;
  // An embedded IPv4 tail counts as two groups.
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    const prefix = s.slice(0, lastColon + 1);
    // "::a.b.c.d" keeps its "::"; "x:...:a.b.c.d" loses the colon before the IPv4 part.
    s = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  if (head === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const rest = groupsOf(halves[1]!);
    if (rest === undefined) return undefined;
    const fill = 8 - tail.length - head.length - rest.length;
    if (fill < 1) return undefined; // "::" stands for at least one group
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    groups = [...head, ...tail];
  }
  if (groups.length !== 8) return undefined;
  return groups;
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

/** Numeric value of an address of either family, or undefined when it is not an address. */
export function addressValue(text: string): bigint | undefined {
  if (text.includes(':')) return parseIPv6(text);
  const v4 = parseIPv4(text);
  return v4 === undefined ? undefined : BigInt(v4);
}

/**
 * Compare two addresses numerically: -1, 0 or 1; undefined when either is not a valid address
 * or they are of different families.
 */
export function compareAddresses(a: string, b: string): -1 | 0 | 1 | undefined {
  const a6 = a.includes(':');
  if (a6 !== b.includes(':')) return undefined;
  if (!a6) {
    const va = parseIPv4(a);
    const vb = parseIPv4(b);
    if (va === undefined || vb === undefined) return undefined;
    return va < vb ? -1 : va > vb ? 1 : 0;
  }
  const va = parseIPv6Groups(a);
  const vb = parseIPv6Groups(b);
  if (va === undefined || vb === undefined) return undefined;
  return compareKeys(va, vb);
}
