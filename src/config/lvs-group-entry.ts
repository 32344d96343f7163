// The address word of a virtual_server_group entry (man 5 keepalived.conf, "IPADDR RANGE"), as a
// pure function so that the schema's call site stays one line. Forms (keepalived 2.2.7, the
// messages are its own, measured with `keepalived -t`):
//   A.B.C.D                     one service
//   A.B.C.D-E                   last byte up to E (decimal); IPv6: last 16-bit group, hex
//                               ("2001:db8::a-ff", strtoul base 16 so "0x10" is read too);
//                               the end must be greater than the start
//   A.B.C.D-E.F.G.H             a full address as the end (may cross bytes); end >= start
//   A.B.C.D/nn                  every address of the subnet; the host bits must be 0
// Each address of a range becomes its own IPVS service (src/lvs/desired.ts expands them).

import type { IpAddress } from './model.js';
import { canonicalAddress } from '../util/ip.js';

export interface GroupEntryAddress {
  /** the first address (prefixLength 32 / 128, or the subnet's for A.B.C.D/nn) */
  readonly address: IpAddress;
  /** the last address of a range or subnet, canonical text (absent: one address) */
  readonly last?: string;
  /** "A.B.C.D-E": E (the old model field; last says the same) */
  readonly range?: number;
}

export type GroupEntryResult = { readonly ok: true; readonly entry: GroupEntryAddress } | { readonly ok: false; readonly message: string };

const fail = (message: string): GroupEntryResult => ({ ok: false, message });

/** The address as a bigint; undefined if it is not an address of that family. */
export function toBig(text: string, v6: boolean): bigint | undefined {
  const c = canonicalAddress(text, v6 ? 6 : 4);
  if (c === null || text.includes('%')) return undefined;
  if (!v6) return c.split('.').reduce((a, b) => (a << 8n) | BigInt(Number(b)), 0n);
  // canonical text: expand "::" to the missing groups
  const [head, tail] = c.includes('::') ? c.split('::') : [c, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The canonical text of an address given as a bigint. */
export function fromBig(v: bigint, v6: boolean): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const g: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) g.push(((v >> s) & 0xffffn).toString(16));
  return canonicalAddress(g.join(':'), 6)!;
}

/** strtoul's reading of the range end: leading digits (base 10, or 16 with an optional 0x), then the rest. */
function strtoul(s: string, hex: boolean): { value: number; rest: string } {
  let i = 0;
  if (hex && /^0[xX][0-9a-fA-F]/.test(s)) i = 2;
  const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
  const from = i;
  while (i < s.length && digit.test(s[i]!)) i++;
  const digits = s.slice(from, i);
  return { value: digits ? parseInt(digits, hex ? 16 : 10) : 0, rest: s.slice(i) };
}

/** Read a virtual_server_group entry's first word (the port is the next word, read by the caller). */
export function parseGroupEntryAddress(text: string): GroupEntryResult {
  const v6 = text.includes(':');
  const max = v6 ? 128 : 32;
  const slash = text.indexOf('/');
  const dash = text.indexOf('-');
  const invalid = `Invalid virtual server group IP address ${text} - skipping`;
  if (slash >= 0) {
    const a = text.slice(0, slash);
    const p = text.slice(slash + 1);
    const start = toBig(a, v6);
    if (start === undefined) return fail(invalid);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return fail(`Invalid netmask - ${text} - skipping`);
    const len = Number(p);
    const hostMask = (1n << BigInt(max - len)) - 1n;
    if ((start & hostMask) !== 0n) return fail(`Address mask bits not empty - ${text} - skipping`);
    const address: IpAddress = { family: v6 ? 'inet6' : 'inet', address: fromBig(start, v6), prefixLength: len };
    return { ok: true, entry: len === max ? { address } : { address, last: fromBig(start | hostMask, v6) } };
  }
  const a = dash >= 0 ? text.slice(0, dash) : text;
  const start = toBig(a, v6);
  if (start === undefined) return fail(invalid);
  const address: IpAddress = { family: v6 ? 'inet6' : 'inet', address: fromBig(start, v6), prefixLength: max };
  if (dash < 0) return { ok: true, entry: { address } };
  const endText = text.slice(dash + 1);
  // a full address as the end: it has the family's separator
  if (endText.includes(v6 ? ':' : '.')) {
    const end = toBig(endText, v6);
    if (end === undefined) return fail(`Invalid range end ${text} - skipping`);
    if (end < start) return fail(`Address range end is less than address range start - ${text} - skipping`);
    return { ok: true, entry: end === start ? { address } : { address, last: fromBig(end, v6) } };
  }
  const { value, rest } = strtoul(endText, v6);
  // strtoul reads "-3" as a huge number
  if (endText.startsWith('-')) return fail(`Virtual server group range '${text}' end '${endText}' too large`);
  if (rest !== '') return fail(`Virtual server group range '${text}' has extra characters at end '${rest}'`);
  if (value > (v6 ? 0xffff : 255)) return fail(`Virtual server group range '${text}' end '${endText}' too large`);
  const lastUnit = Number(start & (v6 ? 0xffffn : 255n));
  if (value <= lastUnit) return fail(`Address range end is not greater than address range start - ${text} - skipping`);
  const end = (start & ~(v6 ? 0xffffn : 255n)) | BigInt(value);
  return { ok: true, entry: { address, last: fromBig(end, v6), range: value } };
}
