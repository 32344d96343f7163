// Table-driven schema: for each block, keyword -> handler that parses the arguments into a
// draft model object. Unknown or misplaced keywords warn "Unknown keyword 'x'" and are skipped
// together with their block. Defaults are applied and cross-checks run in build.ts.

import type {
  AddressFamily,
  BfdInstance,
  Checker,
  GarpGroup,
  InterfaceUpDownDelay,
  IpAddress,
  LinkbeatInterface,
  RealServer,
  RouteSpec,
  RuleSpec,
  ScriptCommand,
  TrackedInterface,
  TrackedObject,
  TrackFile,
  TrackGroup,
  TrackProcess,
  UnicastPeer,
  VirtualIpAddress,
  VirtualServer,
  VirtualServerGroup,
  VrrpScript,
  VrrpSyncGroup,
} from './model.js';
import { isConfigRouteType } from '../net/route-types.js';
import { parseGroupEntryAddress } from './lvs-group-entry.js';
import { VRRP_PRIO_OWNER } from '../vrrp/priority.js';
import type { ConfigNode } from './tree.js';
import { Ctx, parseIpAddress, pushAll } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };
type Handler<T> = (n: ConfigNode, t: T, c: Ctx) => void;
export type Table<T> = Record<string, Handler<T>>;

/** Run a block's children through a table. */
export function walk<T>(nodes: readonly ConfigNode[] | undefined, table: Table<T>, target: T, c: Ctx): void {
  for (const n of nodes ?? []) {
    const h = Object.prototype.hasOwnProperty.call(table, n.keyword) ? table[n.keyword] : undefined;
    if (!h) {
      c.report(n, `Unknown keyword '${n.keyword}'`, 'unknown-keyword', 'warning');
      continue;
    }
    try {
      h(n, target, c);
    } catch (e) {
      // a handler bug must never take the parser down
      c.report(n, `internal error handling '${n.keyword}': ${e instanceof Error ? e.message : String(e)}`, 'fatal');
    }
  }
}

/** Words of a block used as a list ("group { A B }" or one per line). */
export function listWords(n: ConfigNode, c: Ctx): string[] {
  if (!n.children) {
    c.report(n, `${n.keyword} requires a '{' block`, 'syntax');
    return [];
  }
  const out: string[] = [];
  for (const ch of n.children) {
    out.push(ch.keyword);
    pushAll(out, ch.args);
    if (ch.children) c.report(ch, `Unexpected '{' in ${n.keyword}`, 'syntax');
  }
  return out;
}

function needBlock(n: ConfigNode, c: Ctx): readonly ConfigNode[] {
  if (!n.children) {
    c.report(n, `${n.keyword} requires a '{' block`, 'syntax');
    return [];
  }
  return n.children;
}

// ---------------------------------------------------------------- drafts

/** Parsed values of a vrrp_instance; undefined means "not configured" (defaults in validate). */
export interface InstanceDraft {
  name: string;
  file: string;
  line: number;
  node: ConfigNode;
  set: Map<string, ConfigNode>; // keyword -> node where set (for diagnostics)
  state?: 'MASTER' | 'BACKUP';
  interface?: string;
  vrf?: string;
  virtualRouterId?: number;
  priority?: number;
  advertIntUs?: number;
  version?: 2 | 3;
  preempt?: boolean;
  preemptDelayMs?: number;
  accept?: boolean;
  strictMode?: boolean;
  useVmac?: { interfaceName?: string; macAddress?: string };
  useVmacAddr: boolean;
  vmacXmitBase: boolean;
  useIpvlan?: { interfaceName?: string; address?: IpAddress; mode: 'bridge' | 'private' | 'vepa' };
  nativeIpv6: boolean;
  dontTrackPrimary: boolean;
  trackInterfaces: TrackedInterface[];
  trackScripts: (TrackedObject & { node: ConfigNode })[];
  trackFiles: (TrackedObject & { node: ConfigNode })[];
  trackProcesses: (TrackedObject & { node: ConfigNode })[];
  trackBfds: (TrackedObject & { node: ConfigNode })[];
  trackInterfaceNodes: ConfigNode[];
  /** the line of each unicast peer (keepalived names the peer's line in its errors) */
  unicastPeerNodes: Map<UnicastPeer, ConfigNode>;
  sourceIp?: IpAddress;
  mcastDstIp?: IpAddress;
  trackSrcIp: boolean;
  checkUnicastSrc?: boolean;
  unicastPeers: UnicastPeer[];
  unicastPeerSeen: boolean;
  unicastFaultNoPeer: boolean;
  unicastTtl?: number;
  oldUnicastChecksum?: 'on' | 'never';
  garpMasterDelayS?: number;
  garpMasterRepeat?: number;
  garpLowerPrioDelayS?: number;
  garpLowerPrioRepeat?: number;
  garpMasterRefreshS?: number;
  garpMasterRefreshRepeat?: number;
  garpExtraIf?: { all: boolean; intervalS: number };
  downTimerAdverts?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  skipCheckAdvAddr?: boolean;
  authentication?: { authType?: 'PASS' | 'AH'; authPass?: string };
  virtualIpAddresses: VirtualIpAddress[];
  virtualIpAddressesExcluded: VirtualIpAddress[];
  virtualRoutes: RouteSpec[];
  virtualRules: RuleSpec[];
  promoteSecondaries: boolean;
  notifyMaster?: ScriptCommand;
  notifyBackup?: ScriptCommand;
  notifyFault?: ScriptCommand;
  notifyStop?: ScriptCommand;
  notifyDeleted?: ScriptCommand | true;
  notify?: ScriptCommand;
  notifyMasterRxLowerPri?: ScriptCommand;
  notifyPriorityChanges?: boolean;
  smtpAlert?: boolean;
  debug: number;
  kernelRxBufSize?: number;
  linkbeatUsePolling: boolean;
}

export interface GlobalDraft {
  vals: Record<string, unknown>;
  other: Record<string, string[]>;
  nodes: Map<string, ConfigNode>;
}

export interface ConfigDraft {
  global: GlobalDraft;
  vrrpScripts: (Mutable<VrrpScript> & { node: ConfigNode; hasScript: boolean })[];
  trackFiles: (Mutable<TrackFile> & { node: ConfigNode })[];
  trackProcesses: (Mutable<TrackProcess> & { node: ConfigNode })[];
  /** memberNodes: the line naming each member (keepalived names it when the member is unknown) */
  syncGroups: (Mutable<VrrpSyncGroup> & { node: ConfigNode; memberNodes: Map<string, ConfigNode> })[];
  instances: InstanceDraft[];
  garpGroups: GarpGroup[];
  trackGroups: TrackGroup[];
  staticIpAddresses: VirtualIpAddress[];
  staticRoutes: RouteSpec[];
  staticRules: RuleSpec[];
  linkbeatInterfaces: LinkbeatInterface[];
  interfaceUpDownDelays: InterfaceUpDownDelay[];
  bfdInstances: BfdInstance[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  ssl?: Record<string, string>;
}

// ---------------------------------------------------------------- address / route / rule entries

const SCOPES = new Set(['site', 'link', 'host', 'nowhere', 'global']);

/** One line of virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress. */
export function parseVipEntry(n: ConfigNode, c: Ctx, isStatic: boolean): VirtualIpAddress | undefined {
  let a = parseIpAddress(n.keyword);
  const pm = /^(.*)\/(\d+)$/.exec(n.keyword);
  if (!a && pm) {
    // an over-long prefix is reported and the host length used (keepalived)
    const host = parseIpAddress(pm[1]!, false);
    const max = host?.family === 'inet6' ? 128 : 32;
    if (host && Number(pm[2]) > max) {
      c.report(n, `number '${pm[2]}' outside range [0, ${max}]`, 'invalid-value');
      c.report(n, `Invalid address prefix len ${pm[2]} for address ${n.keyword} - using ${max}`, 'invalid-value');
      a = host;
    }
  }
  if (!a) {
    c.report(n, `VRRP parsed invalid IP ${n.keyword}. skipping IP...`, 'invalid-value');
    return undefined;
  }
  const v: Mutable<VirtualIpAddress> = {
    ...a,
    file: n.file,
    line: n.line,
    home: false,
    noDad: false,
    mngTmpAddr: false,
    noPrefixRoute: false,
    autoJoin: false,
    noTrack: false,
    useVmac: false,
  };
  // IPv6 /128 addresses are deprecated (preferred_lft 0) unless told otherwise
  if (a.family === 'inet6' && a.prefixLength === 128) v.preferredLft = 0;
  const args = n.args;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const val = (): string | undefined => {
      const x = args[i + 1];
      if (x === undefined) c.report(n, `${w} requires a value`, 'missing-parameter', 'error', i);
      i++;
      return x;
    };
    switch (w) {
      case 'brd':
      case 'broadcast': {
        const x = val();
        if (x !== undefined) v.broadcast = x;
        break;
      }
      case 'dev': {
        const x = val();
        if (x !== undefined) v.dev = x;
        break;
      }
      case 'scope': {
        const x = val();
        if (x !== undefined) {
          if (SCOPES.has(x) || /^\d+$/.test(x)) v.scope = x;
          else c.report(n, `Invalid scope '${x}' specified for ${n.keyword} - ignoring`, 'invalid-value', 'error', i);
        }
        break;
      }
      case 'label': {
        const x = val();
        if (x !== undefined) v.label = x;
        break;
      }
      case 'peer': {
        const x = val();
        if (x !== undefined) {
          const p = parseIpAddress(x);
          if (p) v.peer = p;
          else c.report(n, `Invalid peer address '${x}'`, 'invalid-value', 'error', i);
        }
        break;
      }
      case 'home':
        v.home = true;
        break;
      case '-nodad':
        v.noDad = true;
        break;
      case 'mngtmpaddr':
        v.mngTmpAddr = true;
        break;
      case 'noprefixroute':
        v.noPrefixRoute = true;
        break;
      case 'autojoin':
        v.autoJoin = true;
        break;
      case 'no_track':
        v.noTrack = true;
        break;
      case 'use_vmac':
        v.useVmac = true;
        break;
      case 'preferred_lft': {
        const x = val();
        if (x === 'forever') v.preferredLft = 'forever';
        else if (x !== undefined) {
          const k = c.intText(n, x, 0, 0xffffffff, i);
          if (k !== undefined) v.preferredLft = k;
        }
        break;
      }
      case 'track_group': {
        const x = val();
        if (x !== undefined) {
          if (isStatic) v.trackGroup = x;
          else c.report(n, `track_group is only valid for static addresses`, 'semantic', 'warning', i);
        }
        break;
      }
      default:
        c.report(n, `Unknown configuration entry '${w}' for ip address - ignoring`, 'unknown-keyword', 'warning', i);
    }
  }
  return v;
}

// ip-route options (each with one value, "lock" aside) that keepalived 2.2.7's route parser knows
const ROUTE_OPTIONS = new Set(['tos', 'dsfield', 'protocol', 'proto', 'scope', 'mtu', 'hoplimit', 'advmss', 'rtt',
  'rttvar', 'reordering', 'window', 'cwnd', 'ssthresh', 'realms', 'rto_min', 'initcwnd', 'initrwnd', 'features',
  'quickack', 'congctl', 'pref', 'fastopen_no_cookie', 'ttl-propagate', 'vrf', 'expires', 'encap', 'weight',
  'lock', 'src']);

export function parseRouteEntry(n: ConfigNode, c: Ctx): RouteSpec | undefined {
  const words = [n.keyword, ...n.args];
  const r: Mutable<RouteSpec> = { file: n.file, line: n.line, family: 'inet', type: 'unicast', noTrack: false, options: {}, raw: words };
  const opts: Record<string, string> = {};
  let forced6 = false;
  let inNexthop = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = (): string | undefined => {
      const x = words[i + 1];
      if (x === undefined) c.report(n, `route option '${w}' requires a value`, 'missing-parameter');
      i++;
      return x;
    };
    const addrOf = (x: string | undefined): IpAddress | undefined => {
      if (x === undefined) return undefined;
      const a = parseIpAddress(x);
      if (!a) c.report(n, `Invalid address '${x}' in route`, 'invalid-value');
      return a;
    };
    if (i === 0 && isConfigRouteType(w)) {
      r.type = w;
      continue;
    }
    switch (w) {
      case 'inet6':
        forced6 = true;
        break;
      case 'to': {
        const a = addrOf(next());
        if (a) r.destination = a;
        break;
      }
      case 'src': {
        const a = addrOf(next());
        if (a) r.src = a;
        break;
      }
      case 'via':
      case 'gw': {
        if (w === 'gw') c.report(n, `"gw" for routes is deprecated. Please use "via"`, 'semantic', 'warning');
        // ip-route's "via [inet|inet6] ADDR": keepalived accepts the family word before the gateway
        const fam = words[i + 1];
        if (fam === 'inet' || fam === 'inet6') {
          i++;
          if (fam === 'inet6') forced6 = true;
        }
        const a = addrOf(next());
        if (a) r.via = a;
        break;
      }
      case 'or': {
        c.report(n, `"or" for routes is deprecated. Please use "nexthop"`, 'semantic', 'warning');
        const a = addrOf(next());
        if (a) r.or = a;
        break;
      }
      case 'dev':
      case 'oif': {
        const x = next();
        if (x !== undefined) r.dev = x;
        break;
      }
      case 'table': {
        const x = next();
        if (x !== undefined) r.table = x;
        break;
      }
      case 'metric':
      case 'priority':
      case 'preference': {
        const x = next();
        if (x !== undefined) {
          const k = c.intText(n, x, 0, 0xffffffff);
          if (k !== undefined) r.metric = k;
        }
        break;
      }
      case 'no_track':
        r.noTrack = true;
        break;
      case 'track_group': {
        const x = next();
        if (x !== undefined) r.trackGroup = x;
        break;
      }
      case 'onlink':
      case 'append':
      case 'pervasive':
        opts[w] = '';
        break;
      case 'nexthop':
        // nexthop groups ("nexthop via A dev X weight 1 nexthop ...") are kept raw from here on
        inNexthop = true;
        opts[w] = words.slice(i + 1).join(' ');
        i = words.length;
        break;
      default: {
        if (r.destination === undefined && (parseIpAddress(w) || w === 'default')) {
          r.destination = w === 'default' ? { family: 'inet', address: '0.0.0.0', prefixLength: 0 } : parseIpAddress(w)!;
          break;
        }
        if (!inNexthop && !ROUTE_OPTIONS.has(w)) {
          // keepalived 2.2.7 logs "unknown route keyword X" and skips the whole route (exit 5)
          c.report(n, `unknown route keyword ${w}`, 'invalid-value');
          return undefined;
        }
        // remaining ip-route options take one value ("ssthresh lock 107": the rest is kept raw)
        let x = words[i + 1];
        if (x !== undefined) i++;
        // metrics may be locked: "mtu lock 1000"
        if (x === 'lock' && words[i + 1] !== undefined) x = `lock ${words[++i]!}`;
        opts[w] = x ?? '';
      }
    }
  }
  if (!r.destination) {
    c.report(n, `route has no destination - ignoring`, 'invalid-value');
    return undefined;
  }
  r.family = forced6 ? 'inet6' : r.destination.family;
  r.options = opts;
  return r;
}

export function parseRuleEntry(n: ConfigNode, c: Ctx): RuleSpec | undefined {
  const words = [n.keyword, ...n.args];
  const r: Omit<Mutable<RuleSpec>, 'preference'> & { preference?: number } = { file: n.file, line: n.line, family: 'inet', noTrack: false, options: {}, raw: words };
  const opts: Record<string, string> = {};
  let forced6 = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = (): string | undefined => {
      const x = words[i + 1];
      if (x === undefined) c.report(n, `rule option '${w}' requires a value`, 'missing-parameter');
      i++;
      return x;
    };
    switch (w) {
      case 'inet6':
        forced6 = true;
        break;
      case 'from':
      case 'to': {
        const x = next();
        if (x === undefined) break;
        const a = x === 'all' ? undefined : parseIpAddress(x);
        if (x !== 'all' && !a) c.report(n, `Invalid address '${x}' in rule`, 'invalid-value');
        if (a) r[w] = a;
        break;
      }
      case 'table':
      case 'lookup': {
        const x = next();
        if (x !== undefined) r.table = x;
        break;
      }
      case 'preference':
      case 'priority':
      case 'order':
      case 'prio': {
        const x = next();
        if (x !== undefined) {
          const k = c.intText(n, x, 0, 0xffffffff);
          if (k !== undefined) r.preference = k;
        }
        break;
      }
      case 'no_track':
        r.noTrack = true;
        break;
      case 'track_group': {
        const x = next();
        if (x !== undefined) r.trackGroup = x;
        break;
      }
      case 'l3mdev':
      case 'not':
        opts[w] = '';
        break;
      default: {
        let x = words[i + 1];
        if (x !== undefined) i++;
        // metrics may be locked: "mtu lock 1000"
        if (x === 'lock' && words[i + 1] !== undefined) x = `lock ${words[++i]!}`;
        opts[w] = x ?? '';
      }
    }
  }
  if (r.preference === undefined) {
    // keepalived assigns 16384, 16383, ... in configuration order
    r.preference = c.nextRulePreference--;
    c.report(n, `Rule has no preference specified - setting to ${r.preference}. This is probably not what you want.`, 'semantic', 'warning');
  }
  const fam: AddressFamily = forced6 || r.from?.family === 'inet6' || r.to?.family === 'inet6' ? 'inet6' : 'inet';
  r.family = fam;
  r.options = opts;
  return r as RuleSpec;
}

// ---------------------------------------------------------------- track lists

function trackedList(n: ConfigNode, c: Ctx, min: number, max: number, what: string, owner: string, isInterface = false): (TrackedObject & { node: ConfigNode })[] {
  const rangeMsg = (e: ConfigNode, v: string): string =>
    isInterface
      ? `(${owner}) weight ${v} for ${e.keyword} must be between [${min}..${max}] inclusive. Ignoring...`
      : `(${owner}) ${what} ${e.keyword}: weight must be between [${min}..${max}] inclusive, ignoring...`;
  const out: (TrackedObject & { node: ConfigNode })[] = [];
  for (const e of needBlock(n, c)) {
    const t: { name: string; weight?: number; reverse?: boolean; node: ConfigNode } = { name: e.keyword, node: e };
    let ok = true;
    for (let i = 0; i < e.args.length; i++) {
      const w = e.args[i]!;
      if (w === 'weight') {
        const s = e.args[i + 1];
        if (s === undefined) {
          c.report(e, `weight requires a value`, 'missing-parameter');
          ok = false;
          break;
        }
        // keepalived parses -254..254 then applies the narrower per-type range
        const v = c.intText(e, s, -254, 254, i + 1);
        i++;
        if (v === undefined) {
          c.report(e, rangeMsg(e, s), 'invalid-value', 'error');
          ok = false;
          break;
        }
        if (v < min || v > max) {
          c.report(e, rangeMsg(e, s), 'invalid-value', 'error');
          ok = false;
          break;
        }
        t.weight = v;
      } else if (w === 'reverse') t.reverse = true;
      else if (w === 'noreverse' || w === 'no_reverse') t.reverse = false;
      else {
        c.report(e, `(${owner}) unknown ${what} option '${w}'`, 'unknown-keyword', 'warning', i);
      }
    }
    if (ok) out.push(t);
  }
  return out;
}

function trackInterfaceList(n: ConfigNode, c: Ctx, owner: string): TrackedInterface[] {
  return trackedList(n, c, -253, 253, 'track interface', owner, true).map((t) => ({ name: t.name, weight: t.weight ?? 0, reverse: t.reverse ?? false }));
}

// ---------------------------------------------------------------- vrrp_instance

const setBool =
  <K extends keyof InstanceDraft>(k: K, v: boolean): Handler<InstanceDraft> =>
  (n, t) => {
    (t as unknown as Record<string, unknown>)[k] = v;
    t.set.set(n.keyword, n);
  };

const instScript =
  (k: 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify' | 'notifyMasterRxLowerPri'): Handler<InstanceDraft> =>
  (n, t, c) => {
    const s = c.script(n);
    if (s) t[k] = s;
  };

const instBool =
  (k: 'lowerPrioNoAdvert' | 'higherPrioSendAdvert' | 'skipCheckAdvAddr' | 'strictMode' | 'notifyPriorityChanges' | 'smtpAlert'): Handler<InstanceDraft> =>
  (n, t, c) => {
    const v = c.bool(n);
    if (v !== undefined) {
      t[k] = v;
      t.set.set(n.keyword, n);
    }
  };

const instInt =
  (k: 'garpMasterRepeat' | 'garpLowerPrioRepeat' | 'garpMasterRefreshRepeat' | 'downTimerAdverts' | 'unicastTtl' | 'kernelRxBufSize' | 'debug', min: number, max: number): Handler<InstanceDraft> =>
  (n, t, c) => {
    const v = c.int(n, 0, min, max);
    if (v !== undefined) {
      t[k] = v;
      t.set.set(n.keyword, n);
    }
  };

const instSeconds =
  (k: 'garpMasterDelayS' | 'garpLowerPrioDelayS' | 'garpMasterRefreshS', max: number): Handler<InstanceDraft> =>
  (n, t, c) => {
    const v = c.uint(n, 0, 0, max);
    if (v !== undefined) {
      t[k] = v;
      t.set.set(n.keyword, n);
    } else if (n.args[0] !== undefined) c.report(n, `(${t.name}): ${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
  };

/** garp_master_repeat / garp_lower_prio_repeat: unsigned (measured: 300 accepted); master: 0 becomes 1 */
const instRepeat =
  (k: 'garpMasterRepeat' | 'garpLowerPrioRepeat'): Handler<InstanceDraft> =>
  (n, t, c) => {
    let v = c.uint(n, 0, 0, 0xffffffff);
    if (v === undefined) {
      if (n.args[0] !== undefined) c.report(n, `(${t.name}): ${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
      return;
    }
    if (v === 0 && k === 'garpMasterRepeat') {
      c.report(n, `(${t.name}): ${n.keyword} must be greater than 0, setting to 1`, 'invalid-value');
      v = 1;
    }
    t[k] = v;
    t.set.set(n.keyword, n);
  };

export const VRRP_INSTANCE: Table<InstanceDraft> = {
  state: (n, t, c) => {
    const s = c.need(n, 0);
    if (s === 'MASTER' || s === 'BACKUP') {
      t.state = s;
      t.set.set('state', n);
    } else if (s === 'EQUAL') {
      t.state = 'BACKUP';
    } else if (s !== undefined) c.report(n, `(${t.name}) unknown state '${s}', defaulting to BACKUP`, 'invalid-value', 'error', 0);
  },
  interface: (n, t, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) {
      t.interface = s;
      t.set.set('interface', n);
    }
  },
  vrf: (n, t, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) t.vrf = s;
  },
  virtual_router_id: (n, t, c) => {
    const v = c.int(n, 0, 1, 255);
    if (v !== undefined) {
      t.virtualRouterId = v;
      t.set.set('virtual_router_id', n);
    } else if (n.args[0] !== undefined) c.report(n, `(${t.name}) VRID not valid - must be between 1 & 255. reconfigure !`, 'invalid-value');
  },
  priority: (n, t, c) => {
    const v = c.int(n, 0, 1, VRRP_PRIO_OWNER);
    if (v === undefined) {
      if (n.args[0] !== undefined) c.report(n, `(${t.name}) Priority not valid! must be between 1 & 255. Using default 100`, 'invalid-value');
      return;
    }
    t.priority = v;
    t.set.set('priority', n);
  },
  advert_int: (n, t, c) => {
    const us = c.timerUs(n, 0, 0.01, 255);
    if (us === undefined) {
      if (n.args[0] !== undefined) c.report(n, `(${t.name}) Advert interval (${n.args[0]}) not valid! Must be > 0 - ignoring`, 'invalid-value');
      return;
    }
    t.advertIntUs = us;
    t.set.set('advert_int', n);
  },
  version: (n, t, c) => {
    const v = c.int(n, 0, 2, 3);
    if (v === 2 || v === 3) {
      t.version = v;
      t.set.set('version', n);
    } else if (n.args[0] !== undefined) c.report(n, `(${t.name}): Version must be either 2 or 3`, 'invalid-value');
  },
  nopreempt: setBool('preempt', false),
  preempt: setBool('preempt', true),
  preempt_delay: (n, t, c) => {
    const ms = c.timerMs(n, 0, 0, 1000);
    if (ms === undefined) {
      c.report(n, `(${t.name}) Preempt_delay not valid! must be between 0-1000`, 'invalid-value');
      return;
    }
    t.preemptDelayMs = ms;
  },
  accept: setBool('accept', true),
  no_accept: setBool('accept', false),
  strict_mode: instBool('strictMode'),
  use_vmac: (n, t, c) => {
    const v: { interfaceName?: string; macAddress?: string } = {};
    for (const a of n.args) {
      if (/^([0-9a-fA-F]{1,2}[:-]){4,5}[0-9a-fA-F]{1,2}$/.test(a)) v.macAddress = a.toLowerCase();
      else if (a.length > 15) c.report(n, `VMAC interface name '${a}' too long - ignoring`, 'invalid-value');
      else v.interfaceName = a;
    }
    t.useVmac = v;
    t.set.set(n.keyword, n);
  },
  use_vmac_addr: setBool('useVmacAddr', true),
  vmac_xmit_base: setBool('vmacXmitBase', true),
  use_ipvlan: (n, t, c) => {
    const v: { interfaceName?: string; address?: IpAddress; mode: 'bridge' | 'private' | 'vepa' } = { mode: 'bridge' };
    for (const a of n.args) {
      if (a === 'bridge' || a === 'private' || a === 'vepa') v.mode = a;
      else if (parseIpAddress(a)) v.address = parseIpAddress(a)!;
      else if (!v.interfaceName) v.interfaceName = a;
      else c.report(n, `unknown use_ipvlan option '${a}'`, 'invalid-value');
    }
    t.useIpvlan = v;
  },
  native_ipv6: setBool('nativeIpv6', true),
  dont_track_primary: setBool('dontTrackPrimary', true),
  track_interface: (n, t, c) => {
    pushAll(t.trackInterfaces, trackInterfaceList(n, c, t.name));
    pushAll(t.trackInterfaceNodes, (n.children ?? []));
  },
  track_script: (n, t, c) => void pushAll(t.trackScripts, trackedList(n, c, -253, 253, 'track script', t.name)),
  track_file: (n, t, c) => void pushAll(t.trackFiles, trackedList(n, c, -254, 254, 'track file', t.name)),
  track_process: (n, t, c) => void pushAll(t.trackProcesses, trackedList(n, c, -254, 254, 'track process', t.name)),
  track_bfd: (n, t, c) => void pushAll(t.trackBfds, trackedList(n, c, -253, 253, 'track bfd', t.name)),
  mcast_src_ip: (n, t, c) => {
    const a = c.addr(n, 0, false);
    if (a) t.sourceIp = a;
  },
  unicast_src_ip: (n, t, c) => {
    const a = c.addr(n, 0, false);
    if (a) t.sourceIp = a;
    t.set.set(n.keyword, n);
  },
  mcast_dst_ip: (n, t, c) => {
    const a = c.addr(n, 0, false);
    if (!a) return;
    const mc = a.family === 'inet' ? /^(22[4-9]|23\d)\./.test(a.address) : /^ff[0-9a-f]2:/i.test(a.address);
    if (!mc) c.report(n, `(${t.name}) mcast_dst_ip ${a.address} not multicast. Skipping...`, 'invalid-value');
    else t.mcastDstIp = a;
  },
  track_src_ip: setBool('trackSrcIp', true),
  check_unicast_src: (n, t) => {
    t.checkUnicastSrc = true;
    t.set.set(n.keyword, n);
  },
  unicast_peer: (n, t, c) => {
    t.unicastPeerSeen = true;
    for (const e of needBlock(n, c)) {
      const a = parseIpAddress(e.keyword, false);
      if (!a) {
        c.report(e, `Configuration error: VRRP instance[${t.name}] malformed unicast peer address[${e.keyword}]. Skipping...`, 'invalid-value');
        continue;
      }
      const p: { -readonly [K in keyof UnicastPeer]: UnicastPeer[K] } = { ...a };
      for (let i = 0; i < e.args.length; i++) {
        const w = e.args[i]!;
        if ((w === 'min_ttl' || w === 'max_ttl') && e.args[i + 1] !== undefined) {
          const v = c.intText(e, e.args[i + 1]!, 0, 255, i + 1);
          if (v !== undefined) p[w === 'min_ttl' ? 'minTtl' : 'maxTtl'] = v;
          t.checkUnicastSrc = true;
          i++;
        } else c.report(e, `(${t.name}) unknown unicast_peer option '${w}'`, 'unknown-keyword', 'warning', i);
      }
      t.unicastPeers.push(p);
      t.unicastPeerNodes.set(p, e);
    }
  },
  unicast_fault_no_peer: setBool('unicastFaultNoPeer', true),
  unicast_ttl: instInt('unicastTtl', 0, 255),
  old_unicast_checksum: (n, t, c) => {
    if (n.args[0] === undefined) t.oldUnicastChecksum = 'on';
    else if (n.args[0] === 'never') t.oldUnicastChecksum = 'never';
    else c.report(n, `unknown old_unicast_checksum option '${n.args[0]}'`, 'invalid-value');
  },
  garp_master_delay: instSeconds('garpMasterDelayS', 4294),
  garp_master_repeat: instRepeat('garpMasterRepeat'),
  garp_lower_prio_delay: instSeconds('garpLowerPrioDelayS', 4294),
  garp_lower_prio_repeat: instRepeat('garpLowerPrioRepeat'),
  garp_master_refresh: instSeconds('garpMasterRefreshS', 0xffffffff),
  garp_master_refresh_repeat: instInt('garpMasterRefreshRepeat', 1, 255),
  garp_extra_if: (n, t, c) => {
    const all = n.args[0] === 'all';
    const v = c.int(n, all ? 1 : 0, 0, 86400);
    if (v !== undefined) t.garpExtraIf = { all, intervalS: v };
  },
  down_timer_adverts: instInt('downTimerAdverts', 1, 100),
  lower_prio_no_advert: instBool('lowerPrioNoAdvert'),
  higher_prio_send_advert: instBool('higherPrioSendAdvert'),
  skip_check_adv_addr: instBool('skipCheckAdvAddr'),
  authentication: (n, t, c) => {
    const a: { authType?: 'PASS' | 'AH'; authPass?: string; owner: string } = { ...(t.authentication ?? {}), owner: t.name };
    t.set.set('authentication', n);
    walk(needBlock(n, c), AUTH, a, c);
    const { owner: _o, ...auth } = a;
    t.authentication = auth;
  },
  virtual_ipaddress: (n, t, c) => {
    t.set.set('virtual_ipaddress', n);
    for (const e of needBlock(n, c)) {
      const v = parseVipEntry(e, c, false);
      if (v) t.virtualIpAddresses.push(v);
    }
  },
  virtual_ipaddress_excluded: (n, t, c) => {
    for (const e of needBlock(n, c)) {
      const v = parseVipEntry(e, c, false);
      if (v) t.virtualIpAddressesExcluded.push(v);
    }
  },
  virtual_routes: (n, t, c) => {
    for (const e of needBlock(n, c)) {
      const r = parseRouteEntry(e, c);
      if (r) t.virtualRoutes.push(r);
    }
  },
  virtual_rules: (n, t, c) => {
    for (const e of needBlock(n, c)) {
      const r = parseRuleEntry(e, c);
      if (r) t.virtualRules.push(r);
    }
  },
  promote_secondaries: setBool('promoteSecondaries', true),
  notify_master: instScript('notifyMaster'),
  notify_backup: instScript('notifyBackup'),
  notify_fault: instScript('notifyFault'),
  notify_stop: instScript('notifyStop'),
  notify: instScript('notify'),
  notify_master_rx_lower_pri: instScript('notifyMasterRxLowerPri'),
  notify_deleted: (n, t, c) => {
    if (n.args.length === 0) t.notifyDeleted = true;
    else {
      const s = c.script(n);
      if (s) t.notifyDeleted = s;
    }
  },
  notify_priority_changes: instBool('notifyPriorityChanges'),
  smtp_alert: instBool('smtpAlert'),
  debug: instInt('debug', 0, 4),
  kernel_rx_buf_size: instInt('kernelRxBufSize', 0, 0x7fffffff),
  linkbeat_use_polling: setBool('linkbeatUsePolling', true),
  // deprecated synonyms kept by keepalived
  lvs_sync_daemon_interface: (n, t, c) => c.report(n, `(${t.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon`, 'semantic', 'warning'),
};

const AUTH: Table<{ authType?: 'PASS' | 'AH'; authPass?: string; owner: string }> = {
  auth_type: (n, a, c) => {
    const s = c.need(n, 0);
    if (s === 'PASS' || s === 'AH') a.authType = s;
    else if (s !== undefined) c.report(n, `(${a.owner}) unknown authentication type '${s}'`, 'invalid-value', 'error', 0);
  },
  auth_pass: (n, a, c) => {
    const s = c.need(n, 0);
    if (s === undefined) return;
    if (s.length > 8) c.report(n, `Truncating auth_pass to 8 characters`, 'invalid-value', 'warning', 0);
    a.authPass = s.slice(0, 8);
  },
};

export function newInstance(n: ConfigNode, name: string): InstanceDraft {
  return {
    name,
    file: n.file,
    line: n.line,
    node: n,
    set: new Map(),
    useVmacAddr: false,
    vmacXmitBase: false,
    nativeIpv6: false,
    dontTrackPrimary: false,
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    trackBfds: [],
    unicastPeerNodes: new Map(),
    trackInterfaceNodes: [],
    trackSrcIp: false,
    unicastPeers: [],
    unicastPeerSeen: false,
    unicastFaultNoPeer: false,
    virtualIpAddresses: [],
    virtualIpAddressesExcluded: [],
    virtualRoutes: [],
    virtualRules: [],
    promoteSecondaries: false,
    debug: 0,
    linkbeatUsePolling: false,
  };
}

// ---------------------------------------------------------------- vrrp_script, track_file, vrrp_track_process

type ScriptDraft = ConfigDraft['vrrpScripts'][number];
export const VRRP_SCRIPT: Table<ScriptDraft> = {
  script: (n, s, c) => {
    // a vrrp_script only runs when something tracks it: counted for security in build.ts
    const sc = c.script(n, 0, false);
    if (sc) {
      s.script = sc;
      s.hasScript = true;
    }
  },
  interval: (n, s, c) => {
    const v = c.timerMs(n, 0, 0, 4_294_967);
    if (v !== undefined) s.intervalMs = v === 0 ? 1000 : v;
  },
  timeout: (n, s, c) => {
    const v = c.timerMs(n, 0, 0, 4_294_967);
    if (v !== undefined) s.timeoutMs = v;
  },
  weight: (n, s, c) => {
    const v = c.int(n, 0, -253, 253);
    if (v !== undefined) s.weight = v;
    else c.report(n, `(${s.name}): vrrp script weight must be between [-253..253] inclusive, ignoring...`, 'invalid-value');
    if (n.args[1] === 'reverse') s.reverse = true;
    else if (n.args[1] !== undefined && n.args[1] !== 'noreverse') c.report(n, `(${s.name}) unknown weight option '${n.args[1]}'`, 'invalid-value', 'error', 1);
  },
  rise: (n, s, c) => {
    const v = c.int(n, 0, 1, 0x7fffffff);
    if (v !== undefined) s.rise = v;
  },
  fall: (n, s, c) => {
    const v = c.int(n, 0, 1, 0x7fffffff);
    if (v !== undefined) s.fall = v;
  },
  user: (n, s, c) => {
    const u = c.need(n, 0);
    if (u !== undefined) s.script = { ...s.script, user: u, ...(n.args[1] !== undefined ? { group: n.args[1] } : {}) };
  },
  init_fail: (_n, s) => {
    s.initFail = true;
  },
};

type TrackFileDraft = ConfigDraft['trackFiles'][number];
export const TRACK_FILE: Table<TrackFileDraft> = {
  file: (n, f, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) f.path = s;
  },
  weight: (n, f, c) => {
    const v = c.int(n, 0, -2147483647, 2147483647);
    if (v !== undefined) f.weight = v;
    if (n.args[1] === 'reverse') f.reverse = true;
  },
  init_file: (n, f, c) => {
    let value = 0;
    let overwrite = false;
    for (const a of n.args) {
      if (a === 'overwrite') overwrite = true;
      else {
        const v = c.intText(n, a, -2147483648, 2147483647);
        if (v !== undefined) value = v;
      }
    }
    f.initFile = { value, overwrite };
  },
};

type TrackProcessDraft = ConfigDraft['trackProcesses'][number];
export const VRRP_TRACK_PROCESS: Table<TrackProcessDraft> = {
  process: (n, p, c) => {
    const s = c.need(n, 0);
    if (s === undefined) return;
    p.process = s;
    p.parameters = n.args.slice(1);
  },
  param_match: (n, p, c) => {
    // measured (2.2.7): param_match alone is accepted without a word (exact matching stays)
    const s = n.args[0];
    if (s === 'initial' || s === 'partial') p.paramMatch = s;
    else if (s !== undefined) c.report(n, `unknown param_match '${s}'`, 'invalid-value');
  },
  weight: (n, p, c) => {
    const v = c.int(n, 0, -254, 254);
    if (v !== undefined) p.weight = v;
    if (n.args[1] === 'reverse') p.reverse = true;
  },
  quorum: (n, p, c) => {
    const v = c.int(n, 0, 1, 65535);
    if (v !== undefined) p.quorum = v;
  },
  quorum_max: (n, p, c) => {
    const v = c.int(n, 0, 0, 65535);
    if (v !== undefined) p.quorumMax = v;
  },
  fork_delay: (n, p, c) => {
    const v = c.timerMs(n, 0, 0, 65535);
    if (v !== undefined) p.forkDelayMs = v;
  },
  terminate_delay: (n, p, c) => {
    const v = c.timerMs(n, 0, 0, 65535);
    if (v !== undefined) p.terminateDelayMs = v;
  },
  delay: (n, p, c) => {
    const v = c.timerMs(n, 0, 0, 65535);
    if (v !== undefined) {
      p.delayMs = v;
      p.forkDelayMs = v;
      p.terminateDelayMs = v;
    }
  },
  full_command: (_n, p) => {
    p.fullCommand = true;
  },
};

// ---------------------------------------------------------------- vrrp_sync_group

type SyncDraft = ConfigDraft['syncGroups'][number];
const syncScript =
  (k: 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify'): Handler<SyncDraft> =>
  (n, g, c) => {
    const s = c.script(n);
    if (s) g[k] = s;
  };
export const VRRP_SYNC_GROUP: Table<SyncDraft> = {
  group: (n, g, c) => {
    pushAll(g.group, listWords(n, c));
    for (const ch of n.children ?? []) {
      for (const w of [ch.keyword, ...ch.args]) if (!g.memberNodes.has(w)) g.memberNodes.set(w, ch);
    }
  },
  track_interface: (n, g, c) => void pushAll(g.trackInterfaces, trackInterfaceList(n, c, g.name)),
  track_script: (n, g, c) => void pushAll(g.trackScripts, trackedList(n, c, -253, 253, 'track script', g.name)),
  track_file: (n, g, c) => void pushAll(g.trackFiles, trackedList(n, c, -254, 254, 'track file', g.name)),
  track_process: (n, g, c) => void pushAll(g.trackProcesses, trackedList(n, c, -254, 254, 'track process', g.name)),
  track_bfd: (n, g, c) => void pushAll(g.trackBfds, trackedList(n, c, -253, 253, 'track bfd', g.name)),
  notify_master: syncScript('notifyMaster'),
  notify_backup: syncScript('notifyBackup'),
  notify_fault: syncScript('notifyFault'),
  notify_stop: syncScript('notifyStop'),
  notify: syncScript('notify'),
  notify_deleted: (n, g, c) => {
    if (n.args.length === 0) g.notifyDeleted = true;
    else {
      const s = c.script(n);
      if (s) g.notifyDeleted = s;
    }
  },
  notify_priority_changes: (n, g, c) => {
    const v = c.bool(n);
    if (v !== undefined) g.notifyPriorityChanges = v;
  },
  smtp_alert: (n, g, c) => {
    const v = c.bool(n);
    if (v !== undefined) g.smtpAlert = v;
  },
  global_tracking: (n, g, c) => {
    g.globalTracking = true;
    c.report(n, `global_tracking is deprecated - use tracking on the sync group`, 'semantic', 'warning');
  },
  sync_group_tracking_weight: (_n, g) => {
    g.syncGroupTrackingWeight = true;
  },
};

// ---------------------------------------------------------------- garp_group, track_group, bfd

export const GARP_GROUP: Table<{ -readonly [K in keyof GarpGroup]: GarpGroup[K] extends readonly (infer U)[] ? U[] : GarpGroup[K] }> = {
  // measured (2.2.7): [0, 2147.483647] s, anything larger "garp_group gna_interval 'X' invalid"
  garp_interval: (n, g, c) => {
    const v = c.timerMs(n, 0, 0, 2147.483647);
    if (v !== undefined) g.garpIntervalMs = v;
    else if (n.args[0] !== undefined) c.report(n, `garp_group garp_interval '${n.args[0]}' invalid`, 'invalid-value');
  },
  gna_interval: (n, g, c) => {
    const v = c.timerMs(n, 0, 0, 2147.483647);
    if (v !== undefined) g.gnaIntervalMs = v;
    else if (n.args[0] !== undefined) c.report(n, `garp_group gna_interval '${n.args[0]}' invalid`, 'invalid-value');
  },
  interface: (n, g, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) g.interfaces.push(s);
  },
  interfaces: (n, g, c) => void pushAll(g.interfaces, listWords(n, c)),
};

export const TRACK_GROUP: Table<{ group: string[] }> = {
  group: (n, g, c) => void pushAll(g.group, listWords(n, c)),
};

export const BFD_INSTANCE: Table<Mutable<BfdInstance>> = {
  neighbor_ip: (n, b, c) => {
    const a = c.addr(n, 0, false);
    if (a) b.neighborIp = a;
  },
  source_ip: (n, b, c) => {
    const a = c.addr(n, 0, false);
    if (a) b.sourceIp = a;
  },
  min_rx: (n, b, c) => {
    const v = c.int(n, 0, 1, 1000);
    if (v !== undefined) b.minRxMs = v;
  },
  min_tx: (n, b, c) => {
    const v = c.int(n, 0, 1, 1000);
    if (v !== undefined) b.minTxMs = v;
  },
  idle_tx: (n, b, c) => {
    const v = c.int(n, 0, 1000, 10000);
    if (v !== undefined) b.idleTxMs = v;
  },
  multiplier: (n, b, c) => {
    const v = c.int(n, 0, 1, 255);
    if (v !== undefined) b.multiplier = v;
  },
  passive: (_n, b) => {
    b.passive = true;
  },
  ttl: (n, b, c) => {
    const v = c.int(n, 0, 1, 255);
    if (v !== undefined) b.ttl = v;
  },
  hoplimit: (n, b, c) => {
    const v = c.int(n, 0, 1, 255);
    if (v !== undefined) b.ttl = v;
  },
  max_hops: (n, b, c) => {
    const v = c.int(n, 0, 0, 255);
    if (v !== undefined) b.maxHops = v;
  },
  vrrp: (_n, b) => {
    b.vrrp = true;
  },
  checker: (_n, b) => {
    b.checker = true;
  },
  weight: (n, b, c) => {
    const v = c.int(n, 0, -253, 253);
    if (v !== undefined) b.weight = v;
  },
};

// ---------------------------------------------------------------- LVS

const CHECKER_TYPES = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK', 'BFD_CHECK'];
/** keywords each checker accepts besides the common connection ones */
const CHECKER_SPECIFIC: Record<string, readonly string[]> = {
  TCP_CHECK: [],
  HTTP_GET: ['url', 'virtualhost', 'http_protocol', 'fast_recovery', 'enable_sni', 'nb_get_retry'],
  SSL_GET: ['url', 'virtualhost', 'http_protocol', 'fast_recovery', 'enable_sni', 'nb_get_retry'],
  MISC_CHECK: ['misc_path', 'misc_timeout', 'misc_dynamic', 'user'],
  SMTP_CHECK: ['helo_name', 'host'],
  DNS_CHECK: ['type', 'name'],
  UDP_CHECK: ['payload', 'require_reply', 'min_reply_length', 'max_reply_length'],
  PING_CHECK: [],
  FILE_CHECK: ['track_file'],
  BFD_CHECK: ['name'],
};
// nb_get_retry: only HTTP_GET/SSL_GET still take it (deprecated); 2.2.7 calls it unknown elsewhere
const CHECKER_COMMON = ['connect_ip', 'connect_port', 'bindto', 'bind_port', 'bind_if', 'connect_timeout', 'retry', 'delay_before_retry', 'warmup', 'delay_loop', 'fwmark', 'log_all_failures', 'alpha', 'omega', 'weight', 'dynamic'];

// keywords each checker type takes, built once per type (files with 30,000 checkers exist)
const checkerKeywordSets = new Map<string, ReadonlySet<string>>();
function checkerKeywords(type: string): ReadonlySet<string> {
  let set = checkerKeywordSets.get(type);
  if (!set) {
    const own = type === 'BFD_CHECK' || type === 'FILE_CHECK';
    set = new Set([...(own ? ['weight'] : CHECKER_COMMON), ...(CHECKER_SPECIFIC[type] ?? [])]);
    checkerKeywordSets.set(type, set);
  }
  return set;
}

function parseChecker(n: ConfigNode, c: Ctx): Checker {
  const ck: Mutable<Checker> = { type: n.keyword, file: n.file, line: n.line, connectTimeoutMs: 5000, retry: 1, delayBeforeRetryMs: 1000, urls: [], miscDynamic: false, options: {} };
  if (n.keyword === 'MISC_CHECK') ck.retry = 0;
  // -t says it (an info note: no effect on the verdict); the checkers log it again at run time
  if (n.keyword === 'BFD_CHECK') c.report(n, `BFD_CHECK is not supported by keepalived-ts (no BFD subsystem): the checker will be ignored, as keepalived ignores one whose bfd_instance is missing`, 'info', 'info');
  const opts: Record<string, string> = {};
  let miscNode: ConfigNode | undefined;
  const allowed = checkerKeywords(n.keyword);
  for (const e of n.children ?? []) {
    if (!allowed.has(e.keyword)) {
      c.report(e, `Unknown keyword '${e.keyword}'`, 'unknown-keyword', 'warning');
      continue;
    }
    if (['retry', 'nb_get_retry', 'delay_before_retry', 'connect_timeout'].includes(e.keyword)) (ck.explicit = [...(ck.explicit ?? []), e.keyword]);
    switch (e.keyword) {
      case 'connect_ip': {
        const a = c.addr(e, 0, false);
        if (a) ck.connectIp = a;
        break;
      }
      case 'bindto': {
        const a = c.addr(e, 0, false);
        if (a) ck.bindTo = a;
        break;
      }
      case 'connect_port': {
        const v = c.int(e, 0, 0, 65535);
        if (v !== undefined) ck.connectPort = v;
        break;
      }
      case 'bind_port': {
        const v = c.int(e, 0, 0, 65535);
        if (v !== undefined) ck.bindPort = v;
        break;
      }
      case 'connect_timeout': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.connectTimeoutMs = v;
        else if (e.args[0] !== undefined) c.report(e, `connect_timeout ${e.args[0]} invalid - ignoring`, 'invalid-value');
        break;
      }
      case 'retry':
      case 'nb_get_retry': {
        if (e.keyword === 'nb_get_retry') c.report(e, `nb_get_retry is deprecated - please use 'retry'`, 'semantic', 'warning');
        const v = c.int(e, 0, 0, 0x7fffffff);
        if (v !== undefined) ck.retry = v;
        break;
      }
      case 'delay_before_retry': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.delayBeforeRetryMs = v;
        break;
      }
      case 'delay_loop': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.delayLoopMs = v;
        break;
      }
      case 'warmup': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.warmupMs = v;
        break;
      }
      case 'misc_path': {
        // registered after the block: its `user` keyword may follow
        const s = c.script(e, 0, false);
        if (s) {
          ck.miscPath = s;
          miscNode = e;
        }
        break;
      }
      case 'misc_timeout': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.miscTimeoutMs = v;
        break;
      }
      case 'misc_dynamic':
        ck.miscDynamic = true;
        break;
      case 'url': {
        const u: Record<string, string> = {};
        for (const k of e.children ?? []) {
          if (!['path', 'digest', 'status_code', 'virtualhost', 'regex', 'regex_no_match', 'regex_options', 'regex_stack', 'regex_min_offset', 'regex_max_offset'].includes(k.keyword)) {
            c.report(k, `Unknown keyword '${k.keyword}'`, 'unknown-keyword', 'warning');
            continue;
          }
          u[k.keyword] = k.args.join(' ');
        }
        if (!u['path']) c.report(e, `url requires a path`, 'missing-parameter');
        ck.urls.push(u);
        break;
      }
      default:
        opts[e.keyword] = e.args.join(' ');
    }
  }
  ck.options = opts;
  if (ck.miscPath && miscNode) {
    const user = ck.miscPath.user ?? opts['user']?.split(/\s+/)[0];
    c.scriptRuns(ck.miscPath.command, user, miscNode, { endLine: n.endLine, checker: ck });
  }
  return ck;
}

function newRealServer(n: ConfigNode, c: Ctx): Mutable<RealServer> | undefined {
  const a = c.addr(n, 0, false);
  if (!a) return undefined;
  const rs: Mutable<RealServer> = { address: a, file: n.file, line: n.line, weight: 1, inhibitOnFailure: false, trackFiles: [], checkers: [] };
  if (n.args[1] !== undefined) {
    const p = c.int(n, 1, 0, 65535);
    if (p !== undefined) rs.port = p;
  }
  return rs;
}

const REAL_SERVER: Table<Mutable<RealServer>> = {
  weight: (n, r, c) => {
    const s = c.need(n, 0);
    if (s === undefined) return;
    if (/^-\d+$/.test(s)) {
      c.report(n, `negative number '${s}'`, 'invalid-value');
      c.report(n, `Real server weight ${s} is outside range 0-2147483647`, 'invalid-value');
      return;
    }
    const v = c.int(n, 0, 0, 2147483647);
    if (v !== undefined) r.weight = v;
  },
  lvs_method: (n, r, c) => {
    const s = c.need(n, 0);
    // TUN keeps its options as written ("TUN type gue port 6080 csum"): src/lvs reads them
    if (s !== undefined) r.lvsMethod = s === 'TUN' ? n.args.join(' ') : s;
  },
  inhibit_on_failure: (_n, r) => {
    r.inhibitOnFailure = true;
  },
  notify_up: (n, r, c) => {
    const s = c.script(n);
    if (s) r.notifyUp = s;
  },
  notify_down: (n, r, c) => {
    const s = c.script(n);
    if (s) r.notifyDown = s;
  },
  uthreshold: (n, r, c) => {
    const v = c.int(n, 0, 0, 0x7fffffff);
    if (v !== undefined) r.uthreshold = v;
  },
  lthreshold: (n, r, c) => {
    const v = c.int(n, 0, 0, 0x7fffffff);
    if (v !== undefined) r.lthreshold = v;
  },
  smtp_alert: (n, r, c) => {
    const v = c.bool(n);
    if (v !== undefined) r.smtpAlert = v;
  },
  track_file: (n, r, c) => void pushAll(r.trackFiles, trackedList(n, c, -2147483647, 2147483647, 'track file', 'real server')),
  // defaults for the real server's checkers, kept as written (src/check/timing.ts reads them)
  ...Object.fromEntries(['delay_loop', 'alpha', 'omega', 'retry', 'delay_before_retry', 'warmup', 'connect_timeout', 'virtualhost'].map((k) => [k,
    ((n: ConfigNode, r: Mutable<RealServer>) => { r.checkerDefaults = { ...r.checkerDefaults, [k]: n.args.join(' ') }; }) as Handler<Mutable<RealServer>>])),
  ...Object.fromEntries(CHECKER_TYPES.map((t) => [t, ((n: ConfigNode, r: Mutable<RealServer>, c: Ctx) => void r.checkers.push(parseChecker(n, c))) as Handler<Mutable<RealServer>>])),
};

const VS_SIMPLE = [
  'alpha', 'omega', 'ops', 'persistence_engine', 'smtp_alert',
  'ip_family', 'retry', 'delay_before_retry', 'warmup', 'connect_timeout', 'inhibit_on_failure', 'mh-port', 'mh-fallback', 'sh-port', 'sh-fallback',
  'flag-1', 'flag-2', 'flag-3', 'nftables_ipvs', 'snmp_name',
];
export const VIRTUAL_SERVER: Table<Mutable<VirtualServer>> = {
  delay_loop: (n, v, c) => {
    const ms = c.timerMs(n, 0);
    if (ms !== undefined) v.delayLoopMs = ms;
  },
  lvs_sched: (n, v, c) => lvsSched(n, v, c),
  lb_algo: (n, v, c) => lvsSched(n, v, c),
  lvs_method: (n, v, c) => lvsMethod(n, v, c),
  lb_kind: (n, v, c) => lvsMethod(n, v, c),
  protocol: (n, v, c) => {
    // keepalived compares the protocol name without regard to case ("protocol tcp")
    const s = c.need(n, 0)?.toUpperCase();
    if (s === 'TCP' || s === 'UDP' || s === 'SCTP') v.protocol = s;
    else if (s !== undefined) c.report(n, `Unknown protocol ${s} - ignoring`, 'invalid-value');
  },
  persistence_timeout: (n, v, c) => {
    const k = n.args[0] === undefined ? 360 : c.int(n, 0, 1, 0x7fffffff);
    if (k !== undefined) v.persistenceTimeoutS = k;
  },
  persistence_granularity: (n, v, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) v.persistenceGranularity = s;
  },
  quorum: (n, v, c) => {
    const k = c.int(n, 0, 1, 0x7fffffff);
    if (k !== undefined) v.quorum = k;
  },
  hysteresis: (n, v, c) => {
    const k = c.int(n, 0, 0, 0x7fffffff);
    if (k !== undefined) v.hysteresis = k;
  },
  quorum_up: (n, v, c) => {
    const s = c.script(n);
    if (s) v.quorumUp = s;
  },
  quorum_down: (n, v, c) => {
    const s = c.script(n);
    if (s) v.quorumDown = s;
  },
  ha_suspend: (_n, v) => {
    v.haSuspend = true;
  },
  virtualhost: (n, v, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) v.virtualhost = s;
  },
  sorry_server: (n, v, c) => {
    const rs = newRealServer(n, c);
    if (rs) v.sorryServer = rs;
  },
  real_server: (n, v, c) => {
    const rs = newRealServer(n, c);
    if (!rs) return;
    walk(n.children, REAL_SERVER, rs, c);
    v.realServers.push(rs);
  },
  ...Object.fromEntries(
    VS_SIMPLE.map((k) => [
      k,
      ((n: ConfigNode, v: Mutable<VirtualServer>) => {
        (v.options as Record<string, string>)[k] = n.args.join(" ");
      }) as Handler<Mutable<VirtualServer>>,
    ]),
  ),
  // both apply to the sorry_server given before them (measured, 2.2.7: otherwise ignored, exit 5)
  sorry_server_inhibit: (n, v, c) => {
    if (!v.sorryServer) return c.report(n, 'Ignoring sorry_server inhibit used before or without sorry_server', 'semantic', 'warning');
    (v.options as Record<string, string>)[n.keyword] = n.args.join(' ');
  },
  sorry_server_lvs_method: (n, v, c) => {
    if (!v.sorryServer) return c.report(n, 'sorry_server forwarding used without sorry_server', 'semantic', 'warning');
    (v.options as Record<string, string>)[n.keyword] = n.args.join(' ');
  },
};

/** IPVS schedulers keepalived 2.2.7 knows (case-sensitive; measured: "RR", "foo" are refused) */
export const LVS_SCHEDULERS: readonly string[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];

function lvsSched(n: ConfigNode, v: Mutable<VirtualServer>, c: Ctx): void {
  const s = c.need(n, 0);
  if (s === undefined) return;
  if (LVS_SCHEDULERS.includes(s)) v.lvsSched = s;
  else c.report(n, `Invalid lvs_scheduler '${s}' - ignoring`, 'invalid-value', 'error', 0);
}

function lvsMethod(n: ConfigNode, v: Mutable<VirtualServer>, c: Ctx): void {
  const s = c.need(n, 0);
  if (s === undefined) return;
  // case-sensitive: keepalived 2.2.7 rejects "dr" and "Tun" (measured)
  if (s === 'NAT' || s === 'DR') v.lvsMethod = s;
  else if (s === 'TUN') v.lvsMethod = n.args.join(' '); // with its options, as for real_server
  else c.report(n, `PARSER : unknown [${s}] routing method for virtual server.`, 'invalid-value');
}

export function newVirtualServer(n: ConfigNode, c: Ctx): Mutable<VirtualServer> | undefined {
  const base = { file: n.file, line: n.line, delayLoopMs: 60000, lvsSched: 'wlc', lvsMethod: 'NAT', protocol: 'TCP', quorum: 1, hysteresis: 0, haSuspend: false, realServers: [], options: {} };
  if (n.args[0] === 'group') {
    const g = c.need(n, 1);
    return g === undefined ? undefined : { ...base, kind: 'group', group: g };
  }
  if (n.args[0] === 'fwmark') {
    const m = c.int(n, 1, 1, 0xffffffff);
    return m === undefined ? undefined : { ...base, kind: 'fwmark', fwmark: m };
  }
  const a = c.addr(n, 0, false);
  if (!a) return undefined;
  const vs: Mutable<VirtualServer> = { ...base, kind: 'address', address: a };
  if (n.args[1] !== undefined) {
    const p = c.int(n, 1, 0, 65535);
    if (p !== undefined) vs.port = p;
  }
  return vs;
}

export function parseVsGroup(n: ConfigNode, c: Ctx, name: string): VirtualServerGroup {
  const entries: { raw: string[]; address?: IpAddress; range?: number; last?: string; port?: number; fwmark?: number }[] = [];
  for (const e of needBlock(n, c)) {
    const raw = [e.keyword, ...e.args];
    if (e.keyword === 'fwmark') {
      const m = c.int(e, 0, 1, 0xffffffff);
      if (m !== undefined) entries.push({ raw, fwmark: m });
      continue;
    }
    // "A.B.C.D", "A.B.C.D-E", "A.B.C.D-E.F.G.H", "A.B.C.D/nn" (IPv6 alike)
    const r = parseGroupEntryAddress(e.keyword);
    if (!r.ok) {
      c.report(e, r.message, 'invalid-value');
      continue;
    }
    const ent: { raw: string[]; address?: IpAddress; range?: number; last?: string; port?: number } = { raw, ...r.entry };
    if (e.args[0] !== undefined) {
      const p = c.intText(e, e.args[0], 0, 65535, 0);
      if (p !== undefined) ent.port = p;
    }
    entries.push(ent);
  }
  return { name, file: n.file, line: n.line, entries };
}
