// vrrp_instance: its keywords, then its defaults (inherited from global_defs) and keepalived's
// checks and fix-ups of one instance; plus garp_group, linkbeat_interfaces and
// interface_up_down_delays, which instances use.
import type {
  GarpGroup,
  GlobalDefs,
  IpAddress,
  RouteSpec,
  RuleSpec,
  ScriptCommand,
  TrackedInterface,
  TrackedObject,
  UnicastPeer,
  VirtualIpAddress,
  VrrpInstance,
} from '../model.js';
import type { ConfigDraft } from '../build.js';
import { VRRP_PRIO_OWNER } from '../../vrrp/priority.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, parseIpAddress, pushAll } from '../values.js';
import { type Handler, listWords, nameOf, needBlock, needChildren, strip, type Table, walk } from './common.js';
import { type BuildOptions, checkInterfaces } from './host.js';
import { parseRouteEntry, parseRuleEntry, parseVipEntry } from './routes-rules.js';
import { checkTrackNames, TRACK_LISTS, trackInterfaceList } from './trackers.js';

/** Parsed values of a vrrp_instance; undefined means "not configured" (defaults in finishInstance, below). */
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
  (
    k: 'lowerPrioNoAdvert' | 'higherPrioSendAdvert' | 'skipCheckAdvAddr' | 'strictMode' | 'notifyPriorityChanges' | 'smtpAlert',
  ): Handler<InstanceDraft> =>
  (n, t, c) => {
    const v = c.bool(n);
    if (v !== undefined) {
      t[k] = v;
      t.set.set(n.keyword, n);
    }
  };

const instInt =
  (
    k:
      | 'garpMasterRepeat'
      | 'garpLowerPrioRepeat'
      | 'garpMasterRefreshRepeat'
      | 'downTimerAdverts'
      | 'unicastTtl'
      | 'kernelRxBufSize'
      | 'debug',
    min: number,
    max: number,
  ): Handler<InstanceDraft> =>
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
      if (n.args[0] !== undefined)
        c.report(n, `(${t.name}) Priority not valid! must be between 1 & 255. Using default 100`, 'invalid-value');
      return;
    }
    t.priority = v;
    t.set.set('priority', n);
  },
  advert_int: (n, t, c) => {
    const us = c.timerUs(n, 0, 0.01, 255);
    if (us === undefined) {
      if (n.args[0] !== undefined)
        c.report(n, `(${t.name}) Advert interval (${n.args[0]}) not valid! Must be > 0 - ignoring`, 'invalid-value');
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
    pushAll(t.trackInterfaceNodes, n.children ?? []);
  },
  ...TRACK_LISTS,
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
        c.report(
          e,
          `Configuration error: VRRP instance[${t.name}] malformed unicast peer address[${e.keyword}]. Skipping...`,
          'invalid-value',
        );
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
  lvs_sync_daemon_interface: (n, t, c) =>
    c.report(
      n,
      `(${t.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon`,
      'semantic',
      'warning',
    ),
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

export function finishInstance(t: InstanceDraft, d: ConfigDraft, g: GlobalDefs, c: Ctx, opts: BuildOptions): VrrpInstance | undefined {
  const at = (k: string): ConfigNode => t.set.get(k) ?? t.node;
  const where = { file: t.file, line: t.line };
  if (t.virtualRouterId === undefined) {
    c.global(`(${t.name}) the virtual router id must be set`, 'semantic', 'error', where, 'virtual_router_id');
    c.permanent();
    return undefined;
  }
  const strict = t.strictMode ?? g.vrrpStrict;

  // family from the first VIP (native_ipv6 forces IPv6); others of another family are dropped
  let family: 'inet' | 'inet6' = t.nativeIpv6 ? 'inet6' : (t.virtualIpAddresses[0]?.family ?? t.unicastPeers[0]?.family ?? 'inet');
  if (t.nativeIpv6 && t.virtualIpAddresses[0]?.family === 'inet') family = 'inet6';
  const vips = t.virtualIpAddresses.filter((v) => {
    if (v.family === family) return true;
    c.diags.push({
      severity: 'error',
      category: 'invalid-value',
      file: v.file,
      line: v.line,
      column: 0,
      keyword: 'virtual_ipaddress',
      message: `(${t.name}): address family must match VRRP instance [${v.address}] - ignoring`,
    });
    return false;
  });
  if (vips.length === 0 && t.virtualIpAddressesExcluded.length === 0) {
    c.global(`(${t.name}) No VIP specified; at least one is sensible`, 'semantic', 'warning', where, 'virtual_ipaddress');
  }

  // version: IPv6 always VRRPv3 (silently, as keepalived); strict v2 limits
  let version: 2 | 3 = t.version ?? g.vrrpVersion;
  if (family === 'inet6') version = 3;

  // priority: state MASTER without a priority means address owner (255)
  const priority = t.priority ?? (t.state === 'MASTER' ? VRRP_PRIO_OWNER : 100);

  // advert_int: v2 whole seconds (rounded with an error), v3 centiseconds < 4096
  let advertCs: number;
  const us = t.advertIntUs ?? 1_000_000;
  if (version === 2) {
    let s = us / 1_000_000;
    if (us % 1_000_000 !== 0) {
      c.report(
        at('advert_int'),
        `(${t.name}) VRRPv2 advertisement interval ${s.toFixed(6)}s must be an integer. rounding`,
        'invalid-value',
      );
      s = Math.max(1, Math.round(s));
    }
    advertCs = s * 100;
  } else {
    advertCs = Math.round(us / 10_000);
    if (us % 10_000 !== 0 && advertCs > 0 && advertCs < 4096) {
      c.report(
        at('advert_int'),
        `(${t.name}) VRRPv3 advertisement interval ${(us / 1_000_000).toFixed(6)}s must be in units of 10ms - rounding`,
        'invalid-value',
      );
    }
    if (advertCs >= 4096) {
      c.report(
        at('advert_int'),
        `(${t.name}) VRRPv3 advertisement interval ${(us / 1_000_000).toFixed(2)}s is out of range. Must be less than 40.96s. Setting to 40.95s`,
        'invalid-value',
      );
      advertCs = 4095;
    } else if (advertCs === 0) {
      c.report(
        at('advert_int'),
        `(${t.name}) VRRPv3 advertisement interval ${(us / 1_000_000).toFixed(2)}s is out of range. Must be at least 0.01s. Setting to 0.01s`,
        'invalid-value',
      );
      advertCs = 1;
    }
  }

  let authentication = t.authentication;
  if (authentication) {
    if (strict) {
      c.report(at('authentication'), `(${t.name}) Strict mode does not support authentication. Ignoring.`, 'semantic');
      authentication = undefined;
    } else if (version === 3) {
      c.report(at('authentication'), `(${t.name}) VRRP version 3 does not support authentication. Ignoring.`, 'semantic');
      authentication = undefined;
    } else if (!authentication.authType) {
      authentication = undefined; // the bad or missing auth_type was reported where it was written
    } else if (authentication.authPass === undefined) {
      c.report(at('authentication'), `(${t.name}) Authentication specified but no password given. Ignoring`, 'semantic');
      authentication = undefined; // keepalived drops it: advertisements go out unauthenticated
    }
  }

  let state = t.state ?? 'BACKUP';
  if (authentication?.authType === 'AH' && state === 'MASTER') {
    c.report(at('state'), `(${t.name}) Initial state master is incompatible with AH authentication - clearing`, 'semantic');
    state = 'BACKUP';
  }
  let preempt = t.preempt ?? true;
  if (!preempt && priority === VRRP_PRIO_OWNER) {
    c.report(at('nopreempt'), `(${t.name}) nopreempt is incompatible with priority 255. resetting nopreempt`, 'semantic');
    preempt = true;
  }
  if (!preempt && state === 'MASTER') {
    c.report(at('nopreempt'), `(${t.name}) Warning - nopreempt will not work with initial state MASTER - clearing`, 'semantic');
    preempt = true;
  }

  // strict mode: accept mode off by default; VRRPv2 has no accept mode at all (RFC 3768)
  let accept = t.accept ?? !strict;
  if (strict && version === 2 && t.accept === true) {
    c.report(at('accept'), `(${t.name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting`, 'semantic');
    accept = false;
  }
  if (vips.length > 255)
    c.global(
      `(${t.name}) more than 255 virtual addresses - use virtual_ipaddress_excluded`,
      'semantic',
      'error',
      where,
      'virtual_ipaddress',
    );

  let promoteSecondaries = t.promoteSecondaries;
  if (t.useVmac && promoteSecondaries) {
    // measured (2.2.7): said and ignored (exit 5); a VMAC gets it anyway
    c.report(at('promote_secondaries'), `(${t.name}) promote_secondaries is automatically set for vmacs - ignoring`, 'semantic', 'warning');
    promoteSecondaries = false;
  }
  let vmacXmitBase = t.vmacXmitBase;
  if (t.useVmac && t.unicastPeers.length > 0 && !t.vmacXmitBase) {
    c.global(
      `(${t.name}) unicast with use_vmac requires vmac_xmit_base - setting`,
      'semantic',
      'error',
      { file: t.file, line: t.node.endLine },
      'use_vmac',
    );
    vmacXmitBase = true;
  }
  // the instance's own interface is tracked anyway
  const trackInterfaces = t.trackInterfaces.filter((ti) => {
    if (ti.name !== t.interface) return true;
    c.global(`(${t.name}) Ignoring track_interface ${ti.name} since own interface`, 'semantic', 'warning', undefined, 'track_interface');
    return false;
  });
  // routes with no interface cannot be tracked
  const virtualRoutes = t.virtualRoutes.map((r) => {
    // (keepalived 2.2.7 does not warn for a route given a table: observed on its samples)
    if (r.dev || r.noTrack || r.table !== undefined) return r;
    c.diags.push({
      severity: 'warning',
      category: 'semantic',
      file: r.file,
      line: r.line,
      column: 0,
      keyword: 'virtual_routes',
      message: `Warning - cannot track route ${r.destination!.address}/${r.destination!.prefixLength} with no interface specified, not tracking`,
    });
    return { ...r, noTrack: true };
  });
  if (!t.interface) {
    // keepalived 2.2.7 wants an interface even for unicast (measured: -t exit 5, exit 2 at start)
    c.global(`(${t.name}) Unknown interface!`, 'semantic', 'error', where, 'interface');
    c.permanent();
    return undefined;
  }
  if (t.unicastPeers.length === 0) {
    // measured (2.2.7): unicast settings without a peer are reset, and the instance is multicast
    let unicastTtl = t.unicastTtl;
    if (unicastTtl !== undefined) {
      c.global(
        `(${t.name}): Cannot use unicast_ttl without unicast peers - resetting`,
        'semantic',
        'warning',
        { file: t.file, line: t.node.endLine },
        'unicast_ttl',
      );
      unicastTtl = undefined;
    }
    t.unicastTtl = unicastTtl;
    if (t.set.has('unicast_src_ip') || t.checkUnicastSrc || t.unicastPeerSeen) {
      c.global(
        `(${t.name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`,
        'semantic',
        'warning',
        where,
        'unicast_peer',
      );
    }
  }
  for (const p of t.unicastPeers) {
    if (p.family === family) continue;
    const pn = t.unicastPeerNodes.get(p);
    c.global(
      `Configuration error: VRRP instance[${t.name}] and unicast peer address[${p.address}] MUST be of the same family !!! Skipping...`,
      'semantic',
      'error',
      pn ?? where,
      'unicast_peer',
    );
  }
  if (t.sourceIp && t.sourceIp.family !== family) {
    c.global(
      `(${t.name}) source address ${t.sourceIp.address} family does not match the instance - ignoring`,
      'semantic',
      'error',
      where,
      'unicast_src_ip',
    );
  }

  // names of tracked objects must exist
  checkTrackNames(t.name, t.trackScripts, t.trackFiles, t.trackProcesses, t.trackBfds, d, c);
  // a priority-255 instance cannot have its priority changed by tracking
  if (priority === VRRP_PRIO_OWNER) {
    for (const l of [t.trackScripts, t.trackFiles, t.trackProcesses]) {
      for (const x of l) {
        if ((x.weight ?? 0) !== 0)
          c.report(x.node, `(${t.name}) tracking weight ${x.weight} ignored for address owner (priority 255)`, 'semantic', 'warning');
      }
    }
  }

  // interfaces
  if (t.interface) {
    checkInterfaces(
      [t.interface],
      { file: at('interface').file, line: at('interface').line },
      c,
      opts,
      (i) => `WARNING - interface ${i} for vrrp_instance ${t.name} doesn't exist`,
    );
  }
  for (const n of t.trackInterfaceNodes) {
    checkInterfaces([n.keyword], n, c, opts, (i) => `(${t.name}) tracked interface ${i} doesn't exist`);
  }
  for (const v of [...vips, ...t.virtualIpAddressesExcluded]) {
    if (v.dev) checkInterfaces([v.dev], v, c, opts, (i) => `WARNING - interface ${i} for ip address ${v.address} doesn't exist`);
  }
  for (const r of t.virtualRoutes) {
    if (r.dev) checkInterfaces([r.dev], r, c, opts, (i) => `WARNING - interface ${i} for VROUTE nexthop doesn't exist`);
  }

  const mcastDstIp =
    t.mcastDstIp && t.mcastDstIp.family === family ? t.mcastDstIp : family === 'inet' ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6;
  const garpMasterDelayS = t.garpMasterDelayS ?? g.vrrpGarpMasterDelayS;
  // one literal with every key in the model's order, an optional one left undefined when not
  // set (JSON, sameConfig and the dumps skip undefined): conditional spreads, or assignments
  // growing the object 60 times, cost ~4 KB of garbage and ~13 ms of a cold reload (issue 14)
  const inst: VrrpInstance = {
    name: t.name,
    file: t.file,
    line: t.line,
    state,
    interface: t.interface !== undefined ? t.interface : undefined,
    vrf: t.vrf !== undefined ? t.vrf : undefined,
    virtualRouterId: t.virtualRouterId,
    priority: priority,
    advertIntervalCs: advertCs,
    version: version,
    family: family,
    preempt: preempt,
    preemptDelayMs: t.preemptDelayMs ?? 0,
    accept: accept,
    strictMode: strict,
    useVmac: t.useVmac ? t.useVmac : undefined,
    useVmacAddr: t.useVmacAddr,
    vmacXmitBase: vmacXmitBase,
    useIpvlan: t.useIpvlan ? t.useIpvlan : undefined,
    nativeIpv6: t.nativeIpv6,
    dontTrackPrimary: t.dontTrackPrimary,
    trackInterfaces: trackInterfaces,
    trackScripts: strip(t.trackScripts),
    trackFiles: strip(t.trackFiles),
    trackProcesses: strip(t.trackProcesses),
    trackBfds: strip(t.trackBfds),
    sourceIp: t.sourceIp && t.sourceIp.family === family ? t.sourceIp : undefined,
    mcastDstIp: mcastDstIp,
    trackSrcIp: t.trackSrcIp,
    checkUnicastSrc: t.checkUnicastSrc ?? g.vrrpCheckUnicastSrc,
    unicastPeers: t.unicastPeers.filter((p) => p.family === family),
    unicastFaultNoPeer: t.unicastFaultNoPeer,
    unicastTtl: t.unicastTtl ?? 255,
    oldUnicastChecksum: t.oldUnicastChecksum ? t.oldUnicastChecksum : undefined,
    // the core's unit: ms (written in seconds)
    garpMasterDelayMs: garpMasterDelayS * 1000,
    garpMasterRepeat: t.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpLowerPrioDelayMs: (t.garpLowerPrioDelayS ?? g.vrrpGarpLowerPrioDelayS ?? garpMasterDelayS) * 1000,
    garpLowerPrioRepeat: t.garpLowerPrioRepeat ?? g.vrrpGarpLowerPrioRepeat ?? t.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpMasterRefreshMs: (t.garpMasterRefreshS ?? g.vrrpGarpMasterRefreshS) * 1000,
    garpMasterRefreshRepeat: t.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
    garpExtraIf: t.garpExtraIf ? t.garpExtraIf : undefined,
    downTimerAdverts: t.downTimerAdverts ?? g.vrrpDownTimerAdverts,
    lowerPrioNoAdvert: t.lowerPrioNoAdvert ?? g.vrrpLowerPrioNoAdvert,
    higherPrioSendAdvert: t.higherPrioSendAdvert ?? g.vrrpHigherPrioSendAdvert,
    skipCheckAdvAddr: t.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr,
    authentication: authentication ? { authType: authentication.authType!, authPass: authentication.authPass ?? '' } : undefined,
    virtualIpAddresses: vips,
    virtualIpAddressesExcluded: t.virtualIpAddressesExcluded,
    virtualRoutes: virtualRoutes,
    virtualRules: t.virtualRules,
    promoteSecondaries: promoteSecondaries,
    notifyMaster: t.notifyMaster ? t.notifyMaster : undefined,
    notifyBackup: t.notifyBackup ? t.notifyBackup : undefined,
    notifyFault: t.notifyFault ? t.notifyFault : undefined,
    notifyStop: t.notifyStop ? t.notifyStop : undefined,
    notifyDeleted: t.notifyDeleted ? t.notifyDeleted : undefined,
    notify: t.notify ? t.notify : undefined,
    notifyMasterRxLowerPri: t.notifyMasterRxLowerPri ? t.notifyMasterRxLowerPri : undefined,
    notifyPriorityChanges: t.notifyPriorityChanges ?? g.vrrpNotifyPriorityChanges,
    smtpAlert: t.smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false,
    debug: t.debug,
    kernelRxBufSize: t.kernelRxBufSize !== undefined ? t.kernelRxBufSize : undefined,
    linkbeatUsePolling: t.linkbeatUsePolling,
  };
  return inst;
}

// ---------------------------------------------------------------- top-level blocks

export const VRRP_INSTANCE_BLOCKS: Table<ConfigDraft> = {
  vrrp_instance: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const inst = newInstance(n, name);
    walk(n.children, VRRP_INSTANCE, inst, c);
    d.instances.push(inst);
  },
  garp_group: (n, d, c) => {
    if (!needChildren(n, c)) return;
    const g: { -readonly [K in keyof GarpGroup]: GarpGroup[K] extends readonly (infer U)[] ? U[] : GarpGroup[K] } = {
      file: n.file,
      line: n.line,
      interfaces: [],
    };
    walk(n.children, GARP_GROUP, g, c);
    // keepalived 2.2.7 says nothing about it (exit 0): a note only
    // an interface belongs to one garp_group: later ones are ignored (measured: exit 5)
    const taken = new Set(d.garpGroups.flatMap((x) => x.interfaces));
    g.interfaces = g.interfaces.filter((i) => {
      if (!taken.has(i)) return true;
      const at = n.children!.find((k) => k.keyword === 'interface' && k.args[0] === i) ?? n;
      c.report(at, `garp_group already specified for ${i} - ignoring`, 'semantic', 'warning');
      return false;
    });
    if (g.interfaces.length === 0) c.report(n, `garp_group has no interface - ignoring`, 'info', 'info');
    else d.garpGroups.push(g);
  },
  linkbeat_interfaces: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const t = e.args[0];
      if (t === undefined) d.linkbeatInterfaces.push({ name: e.keyword });
      else if (t === 'MII' || t === 'ETHTOOL' || t === 'IOCTL') d.linkbeatInterfaces.push({ name: e.keyword, type: t });
      else c.report(e, `unknown linkbeat type '${t}'`, 'invalid-value', 'error', 0);
    }
  },
  interface_up_down_delays: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const down = c.timerMs(e, 0, 0, 255);
      const up = e.args[1] === undefined ? down : c.timerMs(e, 1, 0, 255);
      if (down !== undefined && up !== undefined) d.interfaceUpDownDelays.push({ name: e.keyword, downDelayMs: down, upDelayMs: up });
    }
  },
};
