// The IPVS generic-netlink schema (family "IPVS", genl version 1), from the kernel's uapi header
// include/uapi/linux/ip_vs.h: command and attribute numbers, and typed encode/decode of services,
// destinations, sync daemons, timeouts (config) and info. Pure code: no socket here, so every byte
// can be unit-tested (test/unit/lvs-ipvs-schema.test.ts).
//
// Public API:
//   IPVS_CMD, SVC_ATTR, DEST_ATTR, DAEMON_ATTR, CMD_ATTR, INFO_ATTR   numbers of the uapi header
//   IpvsService, IpvsDest, IpvsDaemon, IpvsTimeouts, IpvsInfo, IpvsStats   typed entries
//   encodeService(svc, full) / decodeService(buf)       the IPVS_CMD_ATTR_SERVICE nest's payload
//   encodeDest(dest, full) / decodeDest(buf)            the IPVS_CMD_ATTR_DEST nest's payload
//   encodeDaemon(d) / decodeDaemon(buf)                 the IPVS_CMD_ATTR_DAEMON nest's payload
//   encodeTimeouts(t) / decodeTimeouts(buf)             top-level TIMEOUT_* attributes
//   decodeInfo(buf)                                     GET_INFO reply
//   attr(type, payload) / nest(type, parts) / parseAttrs(buf)   the TLV layer (struct nlattr)
//   serviceKey(svc) / destKey(dest)                     identity strings ("TCP 192.0.2.1:80", "fwm 5 inet")
//
// Byte order, as the kernel reads them: ports (SVC PORT, DEST PORT, DEST TUN_PORT, DAEMON
// MCAST_PORT) and the IPv4 multicast group are network order; every other integer is host order
// (little endian here). Addresses are 16-byte `union nf_inet_addr` (IPv4 in the first 4 bytes).
// The IPv4 persistence netmask is the mask's bytes (network order); the IPv6 one is a prefix
// length (host order): we carry both as a prefix length.
import { isIPv4 } from 'node:net';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const IPVS_CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** top-level attributes of a command (IPVS_CMD_ATTR_*) */
export const CMD_ATTR = { SERVICE: 1, DEST: 2, DAEMON: 3, TIMEOUT_TCP: 4, TIMEOUT_TCP_FIN: 5, TIMEOUT_UDP: 6 } as const;
export const SVC_ATTR = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;
export const DEST_ATTR = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;
export const DAEMON_ATTR = {
  STATE: 1,
  MCAST_IFN: 2,
  SYNC_ID: 3,
  SYNC_MAXLEN: 4,
  MCAST_GROUP: 5,
  MCAST_GROUP6: 6,
  MCAST_PORT: 7,
  MCAST_TTL: 8,
} as const;
export const STATS_ATTR = { CONNS: 1, INPKTS: 2, OUTPKTS: 3, INBYTES: 4, OUTBYTES: 5 } as const;
export const INFO_ATTR = { VERSION: 1, CONN_TAB_SIZE: 2 } as const;

/** IP_VS_SVC_F_*: service flags */
export const SVC_FLAG = { PERSISTENT: 0x1, HASHED: 0x2, ONEPACKET: 0x4, SCHED1: 0x8, SCHED2: 0x10, SCHED3: 0x20 } as const;
/** IP_VS_CONN_F_FWD_MASK values: the forwarding method of a destination */
export const FWD = { MASQ: 0, LOCALNODE: 1, TUNNEL: 2, DROUTE: 3 } as const;
/** IP_VS_CONN_F_TUNNEL_TYPE_* and IP_VS_TUNNEL_ENCAP_FLAG_* */
export const TUN_TYPE = { IPIP: 0, GUE: 1, GRE: 2 } as const;
export const TUN_FLAG = { NOCSUM: 0, CSUM: 1, REMCSUM: 2 } as const;
/** IP_VS_STATE_MASTER / BACKUP: the sync daemon's role */
export const DAEMON_STATE = { MASTER: 1, BACKUP: 2 } as const;

export const PROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const;
const PROTO_NAME: Record<number, string> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };
export function protocolName(p: number | undefined): string {
  return p === undefined ? '?' : (PROTO_NAME[p] ?? String(p));
}

export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

/** A virtual service: key = af + (fwmark | protocol + address + port). */
export interface IpvsService {
  af: typeof AF_INET | typeof AF_INET6;
  protocol?: number;
  address?: string;
  port?: number;
  fwmark?: number;
  schedName: string;
  /** IP_VS_SVC_F_*; HASHED is set by the kernel and ignored on write */
  flags: number;
  /** persistence timeout, s (0: not persistent) */
  timeout: number;
  /** persistence granularity as a prefix length (32 / 128 by default) */
  netmask: number;
  peName?: string;
  stats?: IpvsStats;
}

/** A destination (real server) of a service: key = address + port. */
export interface IpvsDest {
  address: string;
  port: number;
  fwdMethod: number;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  /** the destination's family when it differs from the service's (mixed-family tunnels) */
  addrFamily?: number;
  tunType?: number;
  tunPort?: number;
  tunFlags?: number;
  activeConns?: number;
  inactConns?: number;
  persistConns?: number;
  stats?: IpvsStats;
}

/** A connection-sync daemon (lvs_sync_daemon). */
export interface IpvsDaemon {
  state: number;
  mcastIfn: string;
  syncId: number;
  syncMaxLen?: number;
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
}

/** IPVS timeouts, s (0 = leave unchanged on write) */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  connTabSize: number;
}

// ---- TLV layer (struct nlattr: u16 len, u16 type, payload, padded to 4) -----------------------

const NLA_TYPE_MASK = 0x3fff;

export function attr(type: number, payload: Uint8Array): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  Buffer.from(payload.buffer, payload.byteOffset, payload.length).copy(b, 4);
  return b;
}
export function nest(type: number, parts: readonly Buffer[]): Buffer {
  return attr(type, Buffer.concat(parts));
}
const u8 = (t: number, v: number): Buffer => attr(t, Buffer.from([v & 0xff]));
function u16(t: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return attr(t, b);
}
function u16be(t: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return attr(t, b);
}
function u32(t: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(t, b);
}
const str = (t: number, s: string): Buffer => attr(t, Buffer.from(`${s}\0`, 'latin1'));

/** Parse a run of attributes into type -> payload (the last one wins). */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > buf.length)
      throw new IpvsDecodeError(`attribute ${type} at ${off}: length ${len} overruns ${buf.length} bytes`);
    out.set(type, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

export class IpvsDecodeError extends Error {
  constructor(message: string) {
    super(`IPVS message: ${message}`);
    this.name = 'IpvsDecodeError';
  }
}

function need(m: Map<number, Buffer>, t: number, size: number, what: string): Buffer {
  const v = m.get(t);
  if (!v) throw new IpvsDecodeError(`${what} missing`);
  if (v.length < size) throw new IpvsDecodeError(`${what}: ${v.length} bytes, ${size} expected`);
  return v;
}
const optU32 = (m: Map<number, Buffer>, t: number): number | undefined => {
  const v = m.get(t);
  return v && v.length >= 4 ? v.readUInt32LE(0) : undefined;
};
function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('latin1');
}

// ---- addresses ----------------------------------------------------------------------------------

/** 16-byte nf_inet_addr of an address text (IPv4 in the first 4 bytes). */
export function encodeInetAddr(address: string): Buffer {
  const out = Buffer.alloc(16);
  if (isIPv4(address)) {
    address.split('.').forEach((p, i) => out.writeUInt8(Number(p), i));
    return out;
  }
  const [head, tail] = address.includes('::') ? (address.split('::') as [string, string]) : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new IpvsDecodeError(`bad IPv6 address ${address}`);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
export function decodeInetAddr(b: Buffer, af: number): string {
  if (af === AF_INET) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16));
  // RFC 5952: compress the longest run (>= 2) of zero groups
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

// ---- services -----------------------------------------------------------------------------------

function v4Mask(prefix: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
  return b;
}
function maskPrefix(b: Buffer): number {
  let n = 0;
  for (let v = b.readUInt32BE(0); v & 0x80000000; v = (v << 1) >>> 0) n++;
  return n;
}

/**
 * The SERVICE nest's payload. `full`: NEW/SET need the scheduler, flags, timeout and netmask on top
 * of the key (the kernel answers EINVAL without them); DEL/GET_DEST send the key only.
 */
export function encodeService(s: IpvsService, full: boolean): Buffer {
  const parts = [u16(SVC_ATTR.AF, s.af)];
  if (s.fwmark !== undefined) parts.push(u32(SVC_ATTR.FWMARK, s.fwmark));
  else {
    if (s.protocol === undefined || s.address === undefined || s.port === undefined)
      throw new IpvsDecodeError('service needs fwmark or protocol+address+port');
    parts.push(u16(SVC_ATTR.PROTOCOL, s.protocol), attr(SVC_ATTR.ADDR, encodeInetAddr(s.address)), u16be(SVC_ATTR.PORT, s.port));
  }
  if (full) {
    parts.push(str(SVC_ATTR.SCHED_NAME, s.schedName));
    if (s.peName) parts.push(str(SVC_ATTR.PE_NAME, s.peName));
    const fl = Buffer.alloc(8);
    fl.writeUInt32LE((s.flags & ~SVC_FLAG.HASHED) >>> 0, 0);
    fl.writeUInt32LE(0xffffffff, 4); // mask: we set every flag bit (new = flags)
    parts.push(attr(SVC_ATTR.FLAGS, fl), u32(SVC_ATTR.TIMEOUT, s.timeout));
    parts.push(s.af === AF_INET ? attr(SVC_ATTR.NETMASK, v4Mask(s.netmask)) : u32(SVC_ATTR.NETMASK, s.netmask));
  }
  return Buffer.concat(parts);
}

export function decodeService(buf: Buffer): IpvsService {
  const m = parseAttrs(buf);
  const af = need(m, SVC_ATTR.AF, 2, 'service AF').readUInt16LE(0);
  if (af !== AF_INET && af !== AF_INET6) throw new IpvsDecodeError(`service AF ${af} is neither inet nor inet6`);
  const s: IpvsService = { af, schedName: '', flags: 0, timeout: 0, netmask: af === AF_INET ? 32 : 128 };
  const fwmark = optU32(m, SVC_ATTR.FWMARK);
  if (fwmark) s.fwmark = fwmark;
  else {
    s.protocol = need(m, SVC_ATTR.PROTOCOL, 2, 'service PROTOCOL').readUInt16LE(0);
    s.address = decodeInetAddr(need(m, SVC_ATTR.ADDR, af === AF_INET ? 4 : 16, 'service ADDR'), af);
    s.port = need(m, SVC_ATTR.PORT, 2, 'service PORT').readUInt16BE(0);
  }
  const sched = m.get(SVC_ATTR.SCHED_NAME);
  if (sched) s.schedName = cstr(sched);
  const pe = m.get(SVC_ATTR.PE_NAME);
  if (pe && cstr(pe)) s.peName = cstr(pe);
  const fl = m.get(SVC_ATTR.FLAGS);
  if (fl && fl.length >= 4) s.flags = fl.readUInt32LE(0);
  s.timeout = optU32(m, SVC_ATTR.TIMEOUT) ?? 0;
  const nm = m.get(SVC_ATTR.NETMASK);
  if (nm && nm.length >= 4) s.netmask = af === AF_INET ? maskPrefix(nm) : nm.readUInt32LE(0);
  const st = decodeStats(m.get(SVC_ATTR.STATS64), m.get(SVC_ATTR.STATS));
  if (st) s.stats = st;
  return s;
}

function decodeStats(s64: Buffer | undefined, s32: Buffer | undefined): IpvsStats | undefined {
  const src = s64 ?? s32;
  if (!src) return undefined;
  const m = parseAttrs(src);
  const get = (t: number): number => {
    const v = m.get(t);
    if (!v) return 0;
    if (v.length >= 8) return Number(v.readBigUInt64LE(0));
    return v.length >= 4 ? v.readUInt32LE(0) : 0;
  };
  return {
    conns: get(STATS_ATTR.CONNS),
    inPkts: get(STATS_ATTR.INPKTS),
    outPkts: get(STATS_ATTR.OUTPKTS),
    inBytes: get(STATS_ATTR.INBYTES),
    outBytes: get(STATS_ATTR.OUTBYTES),
  };
}

// ---- destinations -------------------------------------------------------------------------------

/** The DEST nest's payload; `full` for NEW/SET (DEL sends the key only). `svcAf` = the service's. */
export function encodeDest(d: IpvsDest, svcAf: number, full: boolean): Buffer {
  const af = isIPv4(d.address) ? AF_INET : AF_INET6;
  const parts = [attr(DEST_ATTR.ADDR, encodeInetAddr(d.address)), u16be(DEST_ATTR.PORT, d.port)];
  // a destination of another family than its service (tunnel only) must say so
  if (af !== svcAf || d.addrFamily !== undefined) parts.push(u16(DEST_ATTR.ADDR_FAMILY, af));
  if (full) {
    parts.push(
      u32(DEST_ATTR.FWD_METHOD, d.fwdMethod),
      u32(DEST_ATTR.WEIGHT, d.weight),
      u32(DEST_ATTR.U_THRESH, d.uThreshold),
      u32(DEST_ATTR.L_THRESH, d.lThreshold),
    );
    if (d.fwdMethod === FWD.TUNNEL) {
      parts.push(u8(DEST_ATTR.TUN_TYPE, d.tunType ?? TUN_TYPE.IPIP));
      if (d.tunPort !== undefined) parts.push(u16be(DEST_ATTR.TUN_PORT, d.tunPort));
      if (d.tunFlags !== undefined) parts.push(u16(DEST_ATTR.TUN_FLAGS, d.tunFlags));
    }
  }
  return Buffer.concat(parts);
}

export function decodeDest(buf: Buffer, svcAf: number): IpvsDest {
  const m = parseAttrs(buf);
  const af = m.get(DEST_ATTR.ADDR_FAMILY)?.readUInt16LE(0) ?? svcAf;
  const d: IpvsDest = {
    address: decodeInetAddr(need(m, DEST_ATTR.ADDR, af === AF_INET ? 4 : 16, 'dest ADDR'), af),
    port: need(m, DEST_ATTR.PORT, 2, 'dest PORT').readUInt16BE(0),
    fwdMethod: (optU32(m, DEST_ATTR.FWD_METHOD) ?? 0) & 0x7,
    weight: optU32(m, DEST_ATTR.WEIGHT) ?? 0,
    uThreshold: optU32(m, DEST_ATTR.U_THRESH) ?? 0,
    lThreshold: optU32(m, DEST_ATTR.L_THRESH) ?? 0,
  };
  if (af !== svcAf) d.addrFamily = af;
  if (d.fwdMethod === FWD.TUNNEL) {
    const tt = m.get(DEST_ATTR.TUN_TYPE);
    if (tt) d.tunType = tt.readUInt8(0);
    const tp = m.get(DEST_ATTR.TUN_PORT);
    if (tp && tp.readUInt16BE(0)) d.tunPort = tp.readUInt16BE(0);
    const tf = m.get(DEST_ATTR.TUN_FLAGS);
    if (tf && tf.readUInt16LE(0)) d.tunFlags = tf.readUInt16LE(0);
  }
  const ac = optU32(m, DEST_ATTR.ACTIVE_CONNS);
  if (ac !== undefined) d.activeConns = ac;
  const ic = optU32(m, DEST_ATTR.INACT_CONNS);
  if (ic !== undefined) d.inactConns = ic;
  const pc = optU32(m, DEST_ATTR.PERSIST_CONNS);
  if (pc !== undefined) d.persistConns = pc;
  const st = decodeStats(m.get(DEST_ATTR.STATS64), m.get(DEST_ATTR.STATS));
  if (st) d.stats = st;
  return d;
}

// ---- sync daemons, config, info -----------------------------------------------------------------

export function encodeDaemon(d: IpvsDaemon, full: boolean): Buffer {
  const parts = [u32(DAEMON_ATTR.STATE, d.state)];
  if (!full) return Buffer.concat(parts);
  parts.push(str(DAEMON_ATTR.MCAST_IFN, d.mcastIfn), u32(DAEMON_ATTR.SYNC_ID, d.syncId));
  if (d.syncMaxLen !== undefined) parts.push(u16(DAEMON_ATTR.SYNC_MAXLEN, d.syncMaxLen));
  if (d.mcastGroup !== undefined) {
    if (isIPv4(d.mcastGroup)) parts.push(attr(DAEMON_ATTR.MCAST_GROUP, encodeInetAddr(d.mcastGroup).subarray(0, 4)));
    else parts.push(attr(DAEMON_ATTR.MCAST_GROUP6, encodeInetAddr(d.mcastGroup)));
  }
  if (d.mcastPort !== undefined) parts.push(u16be(DAEMON_ATTR.MCAST_PORT, d.mcastPort));
  if (d.mcastTtl !== undefined) parts.push(u8(DAEMON_ATTR.MCAST_TTL, d.mcastTtl));
  return Buffer.concat(parts);
}

export function decodeDaemon(buf: Buffer): IpvsDaemon {
  const m = parseAttrs(buf);
  const d: IpvsDaemon = {
    state: need(m, DAEMON_ATTR.STATE, 4, 'daemon STATE').readUInt32LE(0),
    mcastIfn: cstr(need(m, DAEMON_ATTR.MCAST_IFN, 1, 'daemon MCAST_IFN')),
    syncId: need(m, DAEMON_ATTR.SYNC_ID, 4, 'daemon SYNC_ID').readUInt32LE(0),
  };
  const ml = m.get(DAEMON_ATTR.SYNC_MAXLEN);
  if (ml) d.syncMaxLen = ml.readUInt16LE(0);
  const g4 = m.get(DAEMON_ATTR.MCAST_GROUP);
  const g6 = m.get(DAEMON_ATTR.MCAST_GROUP6);
  if (g4 && g4.readUInt32BE(0) !== 0) d.mcastGroup = decodeInetAddr(g4, AF_INET);
  else if (g6 && g6.some((x) => x !== 0)) d.mcastGroup = decodeInetAddr(g6, AF_INET6);
  const mp = m.get(DAEMON_ATTR.MCAST_PORT);
  if (mp) d.mcastPort = mp.readUInt16BE(0);
  const tt = m.get(DAEMON_ATTR.MCAST_TTL);
  if (tt) d.mcastTtl = tt.readUInt8(0);
  return d;
}

export function encodeTimeouts(t: IpvsTimeouts): Buffer {
  return Buffer.concat([u32(CMD_ATTR.TIMEOUT_TCP, t.tcp), u32(CMD_ATTR.TIMEOUT_TCP_FIN, t.tcpFin), u32(CMD_ATTR.TIMEOUT_UDP, t.udp)]);
}
export function decodeTimeouts(buf: Buffer): IpvsTimeouts {
  const m = parseAttrs(buf);
  return {
    tcp: optU32(m, CMD_ATTR.TIMEOUT_TCP) ?? 0,
    tcpFin: optU32(m, CMD_ATTR.TIMEOUT_TCP_FIN) ?? 0,
    udp: optU32(m, CMD_ATTR.TIMEOUT_UDP) ?? 0,
  };
}

export function decodeInfo(buf: Buffer): IpvsInfo {
  const m = parseAttrs(buf);
  const v = need(m, INFO_ATTR.VERSION, 4, 'info VERSION').readUInt32LE(0);
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connTabSize: optU32(m, INFO_ATTR.CONN_TAB_SIZE) ?? 0 };
}

// ---- identities ---------------------------------------------------------------------------------

const bracket = (a: string): string => (a.includes(':') ? `[${a}]` : a);
/** "TCP 192.0.2.1:80", "UDP [2001:db8::1]:53", "FWM 5 inet6" */
export function serviceKey(s: Pick<IpvsService, 'af' | 'fwmark' | 'protocol' | 'address' | 'port'>): string {
  if (s.fwmark !== undefined) return `FWM ${s.fwmark} ${s.af === AF_INET ? 'inet' : 'inet6'}`;
  return `${protocolName(s.protocol)} ${bracket(s.address ?? '?')}:${s.port ?? 0}`;
}
/** "192.0.2.10:8080", "[2001:db8::10]:80" */
export function destKey(d: Pick<IpvsDest, 'address' | 'port'>): string {
  return `${bracket(d.address)}:${d.port}`;
}
