// The desired IPVS table, pure logic: virtual_server blocks (config) + real-server states -> the
// services and destinations the kernel should hold; the quorum / sorry-server state machine of
// keepalived 2.2.7 (../shared/notes/lvs.md sections 3 and 4); and the smallest set of changes from
// one table to another. No I/O: table.ts applies what this computes.
//
// Public API:
//   vsName(vs) / rsName(vs, rs)                  keepalived's names: "[192.0.2.1]:tcp:80", "FWM 5"
//   servicesOf(vs, groups)                        the IPVS services of a virtual_server (a group:
//                                                 one per address of each range, one per fwmark)
//   destOf(vs, rs, weight)                        the IPVS destination of a real/sorry server
//   class VsRuntime                               one virtual_server's RS states + quorum machine
//     setAlive(rsKey, alive) / setWeight(rsKey, w): string[]   keepalived's log lines
//     dests(): IpvsDest[]                         what its services should hold now
//   diffTable(from, to): TableChange[]           smallest change list (services, then dests)
//   type DesiredTable = Map<serviceKey, { service, dests: Map<destKey, IpvsDest> }>
import { isIPv4 } from 'node:net';
import type { RealServer, VirtualServer, VirtualServerGroup } from '../config/model.js';
import { fromBig, toBig } from '../config/lvs-group-entry.js';
import { initialAlive } from '../check/sink.js';
import {
  AF_INET,
  AF_INET6,
  FWD,
  PROTO,
  SVC_FLAG,
  TUN_FLAG,
  TUN_TYPE,
  destKey,
  serviceKey,
  type IpvsDest,
  type IpvsService,
} from './ipvs-schema.js';

const PROTO_NUM: Record<string, number> = { TCP: PROTO.TCP, UDP: PROTO.UDP, SCTP: PROTO.SCTP };
const INT32_MAX = 0x7fffffff;

const br = (a: string): string => (a.includes(':') ? `[${a}]` : a);

/** keepalived's FMT_VS: "[192.0.2.1]:tcp:80", "FWM 5", "GROUP web" */
export function vsName(vs: VirtualServer): string {
  if (vs.kind === 'fwmark') return `FWM ${vs.fwmark}`;
  if (vs.kind === 'group') return `GROUP ${vs.group}`;
  return `[${vs.address!.address}]:${vs.protocol.toLowerCase()}:${vs.port ?? 0}`;
}
/** keepalived's FMT_RS: "[198.51.100.11]:tcp:8080" */
export function rsName(vs: VirtualServer, rs: RealServer): string {
  return `[${rs.address.address}]:${vs.protocol.toLowerCase()}:${rsPort(vs, rs)}`;
}
/** The identity of a real server inside its virtual server (reload matches on it). */
export function rsKey(vs: VirtualServer, rs: RealServer): string {
  return `${br(rs.address.address)}:${rsPort(vs, rs)}`;
}
/** The identity of a virtual server across reloads. */
export function vsKey(vs: VirtualServer): string {
  return `${vs.kind} ${vsName(vs)} ${vs.protocol}`;
}

function method(vs: VirtualServer, rs: RealServer): string[] {
  return (rs.lvsMethod ?? vs.lvsMethod ?? 'NAT').split(/\s+/);
}

/** keepalived: DR/TUN real servers use the VS port; a NAT RS without port gets the VS port; fwmark non-NAT: 0. */
export function rsPort(vs: VirtualServer, rs: RealServer): number {
  const m = method(vs, rs)[0];
  if (vs.kind === 'fwmark') return m === 'NAT' ? (rs.port ?? 0) : 0;
  if (m !== 'NAT' && vs.kind === 'address') return vs.port ?? 0;
  return rs.port ?? vs.port ?? 0;
}

function fwdFields(words: string[]): Pick<IpvsDest, 'fwdMethod' | 'tunType' | 'tunPort' | 'tunFlags'> {
  const kind = words[0];
  if (kind === 'DR') return { fwdMethod: FWD.DROUTE };
  if (kind !== 'TUN') return { fwdMethod: FWD.MASQ };
  const out: Pick<IpvsDest, 'fwdMethod' | 'tunType' | 'tunPort' | 'tunFlags'> = { fwdMethod: FWD.TUNNEL };
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === 'type') {
      const t = words[++i];
      out.tunType = t === 'gue' ? TUN_TYPE.GUE : t === 'gre' ? TUN_TYPE.GRE : TUN_TYPE.IPIP;
    } else if (w === 'port') out.tunPort = Number(words[++i]);
    else if (w === 'nocsum') out.tunFlags = TUN_FLAG.NOCSUM;
    else if (w === 'csum') out.tunFlags = TUN_FLAG.CSUM;
    else if (w === 'remcsum') out.tunFlags = TUN_FLAG.REMCSUM;
  }
  return out;
}

/** The IPVS destination of a real server (or the sorry server) at `weight`. */
export function destOf(vs: VirtualServer, rs: RealServer, weight: number, methodWords?: string[]): IpvsDest {
  return {
    address: rs.address.address,
    port: rsPort(vs, rs),
    ...fwdFields(methodWords ?? method(vs, rs)),
    weight: Math.max(0, Math.min(INT32_MAX, weight)),
    uThreshold: rs.uthreshold ?? 0,
    lThreshold: rs.lthreshold ?? 0,
  };
}

function prefixOf(mask: string | undefined, af: number): number {
  if (!mask) return af === AF_INET ? 32 : 128;
  if (/^\d+$/.test(mask)) return Number(mask);
  if (isIPv4(mask)) {
    let n = 0;
    for (let v = mask.split('.').reduce((a, p) => a * 256 + Number(p), 0); v >= 0x80000000; v = (v * 2) % 0x100000000) n++;
    return n;
  }
  return 32;
}

/** Service attributes shared by every service of a virtual_server (scheduler, flags, persistence). */
function serviceAttrs(
  vs: VirtualServer,
  af: number,
  port: number | undefined,
): Pick<IpvsService, 'schedName' | 'flags' | 'timeout' | 'netmask' | 'peName'> {
  const o = vs.options;
  let flags = 0;
  let timeout = vs.persistenceTimeoutS ?? 0;
  // keepalived: a granularity, or a port-0 address service, implies persistence (360 s)
  if (!timeout && (vs.persistenceGranularity !== undefined || (vs.kind !== 'fwmark' && port === 0))) timeout = 360;
  if (timeout) flags |= SVC_FLAG.PERSISTENT;
  // ops only for UDP or fwmark services
  if ('ops' in o && (vs.kind === 'fwmark' || vs.protocol === 'UDP')) flags |= SVC_FLAG.ONEPACKET;
  if ('flag-1' in o) flags |= SVC_FLAG.SCHED1;
  if ('flag-2' in o) flags |= SVC_FLAG.SCHED2;
  if ('flag-3' in o) flags |= SVC_FLAG.SCHED3;
  const hashSched = vs.lvsSched === 'sh' ? 'sh' : vs.lvsSched === 'mh' ? 'mh' : undefined;
  if (hashSched && `${hashSched}-fallback` in o) flags |= SVC_FLAG.SCHED1;
  if (hashSched && `${hashSched}-port` in o) flags |= SVC_FLAG.SCHED2;
  const out: Pick<IpvsService, 'schedName' | 'flags' | 'timeout' | 'netmask' | 'peName'> = {
    schedName: vs.lvsSched,
    flags,
    timeout,
    netmask: prefixOf(vs.persistenceGranularity, af),
  };
  if (o['persistence_engine']) out.peName = o['persistence_engine'];
  return out;
}

const afOf = (a: string): typeof AF_INET | typeof AF_INET6 => (isIPv4(a) ? AF_INET : AF_INET6);

/** Every address from first to last (a group range or subnet entry, src/config/lvs-group-entry.ts); at most 65,536. */
function expandRange(first: string, last: string | undefined): string[] {
  if (last === undefined || last === first) return [first];
  const v6 = !isIPv4(first);
  const out: string[] = [];
  const end = toBig(last, v6) ?? 0n;
  for (let v = toBig(first, v6) ?? 1n; v <= end && out.length < 65536; v++) out.push(fromBig(v, v6));
  return out;
}

/** The IPVS services of a virtual_server. */
export function servicesOf(vs: VirtualServer, groups: readonly VirtualServerGroup[]): IpvsService[] {
  const proto = PROTO_NUM[vs.protocol] ?? PROTO.TCP;
  const familyHint = vs.options['ip_family'] === 'inet6' ? AF_INET6 : vs.options['ip_family'] === 'inet' ? AF_INET : undefined;
  const rsAf = vs.realServers[0] ? afOf(vs.realServers[0].address.address) : AF_INET;
  if (vs.kind === 'address') {
    const af = afOf(vs.address!.address);
    return [{ af, protocol: proto, address: vs.address!.address, port: vs.port ?? 0, ...serviceAttrs(vs, af, vs.port ?? 0) }];
  }
  if (vs.kind === 'fwmark') {
    const af = familyHint ?? rsAf;
    return [{ af, fwmark: vs.fwmark!, ...serviceAttrs(vs, af, undefined) }];
  }
  const g = groups.find((x) => x.name === vs.group);
  if (!g) return [];
  const out: IpvsService[] = [];
  for (const e of g.entries) {
    if (e.fwmark !== undefined) {
      const fam = e.raw[2] === 'inet6' ? AF_INET6 : e.raw[2] === 'inet' ? AF_INET : (familyHint ?? rsAf);
      out.push({ af: fam, fwmark: e.fwmark, ...serviceAttrs(vs, fam, undefined) });
      continue;
    }
    if (!e.address) continue;
    for (const a of expandRange(e.address.address, e.last)) {
      const af = afOf(a);
      out.push({ af, protocol: proto, address: a, port: e.port ?? 0, ...serviceAttrs(vs, af, e.port ?? 0) });
    }
  }
  return out;
}

// ---- quorum / sorry server state machine ---------------------------------------------------------

interface RsState {
  rs: RealServer;
  alive: boolean;
  /** effective weight: configured + dynamic (setWeight) */
  weight: number;
}

/** One virtual_server at run time: real-server states, quorum, sorry server (notes 4.3, 4.4). */
export class VsRuntime {
  readonly rs = new Map<string, RsState>();
  quorumUp: boolean;
  sorryActive = false;
  readonly quorum: number;
  readonly hysteresis: number;

  constructor(
    readonly vs: VirtualServer,
    previous?: VsRuntime,
  ) {
    for (const r of vs.realServers) {
      const k = rsKey(vs, r);
      if (this.rs.has(k)) continue; // duplicate RS: the first one wins (keepalived)
      const old = previous?.rs.get(k);
      // an RS that stays keeps its state (and its dynamic weight offset); a new one starts per initialAlive
      const weight = old ? r.weight + (old.weight - old.rs.weight) : r.weight;
      this.rs.set(k, { rs: r, alive: old ? old.alive : initialAlive(vs, r), weight });
    }
    const total = [...this.rs.values()].reduce((s, x) => s + clampW(x.rs.weight), 0);
    // keepalived clamps quorum to the total configured weight, hysteresis to quorum - 1
    this.quorum = total > 0 ? Math.min(vs.quorum, total) : vs.quorum;
    this.hysteresis = Math.max(0, Math.min(vs.hysteresis, this.quorum - 1));
    if (previous) {
      this.quorumUp = previous.quorumUp;
      this.sorryActive = previous.sorryActive && vs.sorryServer !== undefined;
      this.evaluate();
    } else {
      this.quorumUp = this.aliveWeight() >= this.quorum + this.hysteresis;
      this.sorryActive = !this.quorumUp && vs.sorryServer !== undefined;
    }
  }

  aliveWeight(): number {
    let w = 0;
    for (const s of this.rs.values()) if (s.alive) w += clampW(s.weight);
    return w;
  }

  /** Quorum transitions after a change; returns keepalived's log lines. */
  private evaluate(): string[] {
    const w = this.aliveWeight();
    const q = this.quorum,
      h = this.hysteresis;
    const v = vsName(this.vs);
    const lines: string[] = [];
    const sorry = this.vs.sorryServer;
    if (!this.quorumUp && w >= q + h) {
      this.quorumUp = true;
      lines.push(`Gained quorum ${q}+${h}=${q + h} <= ${w} for VS ${v}`);
      if (this.sorryActive && sorry) {
        this.sorryActive = false;
        lines.push(
          `${'sorry_server_inhibit' in this.vs.options ? 'Disabling' : 'Removing'} sorry server ${rsName(this.vs, sorry)} from VS ${v}`,
        );
        lines.push(`Adding alive servers to the pool for VS ${v}`);
      }
    } else if (this.quorumUp && (w === 0 || w < q - h)) {
      this.quorumUp = false;
      lines.push(`Lost quorum ${q}-${h}=${q - h} > ${w} for VS ${v}`);
      if (sorry && !this.sorryActive) {
        this.sorryActive = true;
        lines.push(
          `${'sorry_server_inhibit' in this.vs.options ? 'Enabling' : 'Adding'} sorry server ${rsName(this.vs, sorry)} to VS ${v}`,
        );
        lines.push(`Removing alive servers from the pool for VS ${v}`);
      }
    }
    return lines;
  }

  setAlive(key: string, alive: boolean): string[] {
    const s = this.rs.get(key);
    if (!s || s.alive === alive) return [];
    s.alive = alive;
    const lines: string[] = [];
    if (!this.sorryActive) {
      const r = rsName(this.vs, s.rs),
        v = vsName(this.vs);
      if (s.rs.inhibitOnFailure) lines.push(`${alive ? 'Enabling' : 'Disabling'} service ${r} of VS ${v}`);
      else lines.push(`${alive ? 'Adding' : 'Removing'} service ${r} ${alive ? 'to' : 'from'} VS ${v}`);
    }
    return [...lines, ...this.evaluate()];
  }

  setWeight(key: string, weight: number): string[] {
    const s = this.rs.get(key);
    if (!s || s.weight === weight) return [];
    const lines =
      s.alive && !this.sorryActive
        ? [`Changing weight from ${s.weight} to ${weight} for active service ${rsName(this.vs, s.rs)} of VS ${vsName(this.vs)}`]
        : [];
    s.weight = weight;
    return [...lines, ...this.evaluate()];
  }

  /** The destinations every service of this virtual_server should hold now. */
  dests(): IpvsDest[] {
    const out: IpvsDest[] = [];
    for (const s of this.rs.values()) {
      // while the sorry server stands in, the pool is out (inhibited RS stay at weight 0)
      if (s.alive && !this.sorryActive) out.push(destOf(this.vs, s.rs, s.weight));
      else if (s.rs.inhibitOnFailure) out.push(destOf(this.vs, s.rs, 0));
    }
    const sorry = this.vs.sorryServer;
    if (sorry) {
      const words = this.vs.options['sorry_server_lvs_method']?.split(/\s+/);
      if (this.sorryActive) out.push(destOf(this.vs, sorry, 1, words));
      else if ('sorry_server_inhibit' in this.vs.options) out.push(destOf(this.vs, sorry, 0, words));
    }
    return out;
  }
}

const clampW = (w: number): number => Math.max(0, Math.min(INT32_MAX, w));

// ---- table diff ----------------------------------------------------------------------------------

export interface DesiredService {
  service: IpvsService;
  dests: Map<string, IpvsDest>;
}
export type DesiredTable = Map<string, DesiredService>;

export type TableChange =
  | { op: 'addService' | 'editService' | 'deleteService'; service: IpvsService }
  | { op: 'addDest' | 'editDest' | 'deleteDest'; service: IpvsService; dest: IpvsDest };

export function sameService(a: IpvsService, b: IpvsService): boolean {
  const hashedOff = ~SVC_FLAG.HASHED;
  return (
    a.schedName === b.schedName &&
    (a.flags & hashedOff) === (b.flags & hashedOff) &&
    a.timeout === b.timeout &&
    ((a.flags & SVC_FLAG.PERSISTENT) === 0 || a.netmask === b.netmask) &&
    (a.peName ?? '') === (b.peName ?? '')
  );
}
export function sameDest(a: IpvsDest, b: IpvsDest): boolean {
  return (
    a.fwdMethod === b.fwdMethod &&
    a.weight === b.weight &&
    a.uThreshold === b.uThreshold &&
    a.lThreshold === b.lThreshold &&
    (a.fwdMethod !== FWD.TUNNEL ||
      ((a.tunType ?? 0) === (b.tunType ?? 0) && (a.tunPort ?? 0) === (b.tunPort ?? 0) && (a.tunFlags ?? 0) === (b.tunFlags ?? 0)))
  );
}

export function tableOf(entries: readonly { service: IpvsService; dests: readonly IpvsDest[] }[]): DesiredTable {
  const t: DesiredTable = new Map();
  for (const e of entries) {
    const cur = t.get(serviceKey(e.service)) ?? { service: e.service, dests: new Map<string, IpvsDest>() };
    for (const d of e.dests) if (!cur.dests.has(destKey(d))) cur.dests.set(destKey(d), d);
    t.set(serviceKey(e.service), cur);
  }
  return t;
}

/**
 * The smallest change list from `from` to `to`: services that go are deleted whole (their dests
 * with them); new services are added then filled; kept services get SET_SERVICE only if an
 * attribute differs, then per-dest add / edit / delete.
 */
export function diffTable(from: DesiredTable, to: DesiredTable): TableChange[] {
  const out: TableChange[] = [];
  for (const [k, cur] of from) if (!to.has(k)) out.push({ op: 'deleteService', service: cur.service });
  for (const [k, want] of to) {
    const cur = from.get(k);
    if (!cur) {
      out.push({ op: 'addService', service: want.service });
      for (const d of want.dests.values()) out.push({ op: 'addDest', service: want.service, dest: d });
      continue;
    }
    if (!sameService(cur.service, want.service)) out.push({ op: 'editService', service: want.service });
    for (const [dk, d] of cur.dests) if (!want.dests.has(dk)) out.push({ op: 'deleteDest', service: want.service, dest: d });
    for (const [dk, d] of want.dests) {
      const c = cur.dests.get(dk);
      if (!c) out.push({ op: 'addDest', service: want.service, dest: d });
      else if (!sameDest(c, d)) out.push({ op: 'editDest', service: want.service, dest: d });
    }
  }
  return out;
}
