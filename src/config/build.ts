// From the block tree to the typed model: top-level dispatch, global_defs, then defaults and
// keepalived's cross-checks. Invalid vrrp_instances are dropped with an error, as keepalived
// ignores them.

import * as fs from 'node:fs';
import type {
  BfdInstance,
  GarpGroup,
  GlobalDefs,
  IpAddress,
  KeepalivedConfig,
  ScriptCommand,
  TrackedObject,
  VrrpInstance,
} from './model.js';
import {
  BFD_INSTANCE,
  type ConfigDraft,
  GARP_GROUP,
  LVS_SCHEDULERS,
  type GlobalDraft,
  type InstanceDraft,
  TRACK_FILE,
  TRACK_GROUP,
  type Table,
  VIRTUAL_SERVER,
  VRRP_INSTANCE,
  VRRP_SCRIPT,
  VRRP_SYNC_GROUP,
  VRRP_TRACK_PROCESS,
  listWords,
  newInstance,
  newVirtualServer,
  parseRouteEntry,
  parseRuleEntry,
  parseVipEntry,
  parseVsGroup,
  walk,
} from './schema.js';
import { VRRP_PRIO_OWNER } from '../vrrp/priority.js';
import type { ConfigNode } from './tree.js';
import { Ctx, familyName, makeScript } from './values.js';

export interface BuildOptions {
  interfaceExists?: (ifname: string) => boolean;
  /** does a script file exist (keepalived silently drops scripts it cannot find); default: fs */
  fileExists?: (path: string) => boolean;
  /** where bare command names in scripts are looked up (a PATH string); default process.env.PATH */
  searchPath?: string;
  /** does a system user exist (keepalived's default script user keepalived_script); default /etc/passwd */
  userExists?: (name: string) => boolean;
  /** does a system group exist; default /etc/group */
  groupExists?: (name: string) => boolean;
}

/** keepalived runs scripts as this user when it exists and no script_user is given */
export const DEFAULT_SCRIPT_USER = 'keepalived_script';

function userExists(name: string, opts: BuildOptions): boolean {
  try {
    if (opts.userExists) return opts.userExists(name);
    // local users only (no NSS): getpwnam is not reachable from Node without a native module
    return fs.readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

function groupExists(name: string, opts: BuildOptions): boolean {
  try {
    if (opts.groupExists) return opts.groupExists(name);
    return fs.readFileSync('/etc/group', 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

function fileExists(f: string, opts: BuildOptions): boolean {
  try {
    return opts.fileExists ? opts.fileExists(f) : fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

/**
 * The file a script's argv[0] names, as keepalived finds it: a name without '/' is looked up in
 * PATH (keepalived's own environment; /usr/bin:/bin when PATH is unset), e.g. "killall -0 sshd"
 * runs /usr/bin/killall. undefined when it cannot be found (keepalived then disables the script).
 */
export function resolveScript(argv0: string, opts: BuildOptions): string | undefined {
  if (argv0.includes('/')) return fileExists(argv0, opts) ? argv0 : undefined;
  if (argv0 === '') return undefined;
  const search = opts.searchPath ?? process.env['PATH'] ?? '/usr/bin:/bin';
  for (const dir of search.split(':')) {
    // an empty PATH element means the current directory, as for execvp
    const candidate = dir === '' ? argv0 : `${dir.replace(/\/+$/, '')}/${argv0}`;
    if (fileExists(candidate, opts)) return candidate;
  }
  return undefined;
}

/** "HOST:PORT", "[v6]:PORT" or ":PORT", the grammar of --status-listen */
export function isListenSpec(s: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  if (!m) return false;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535;
}

// ---------------------------------------------------------------- global_defs

type G = GlobalDraft;
const gset = (key: string, v: unknown, n: ConfigNode, g: G): void => {
  g.vals[key] = v;
  g.nodes.set(n.keyword, n);
};
const gStr = (key: string) => (n: ConfigNode, g: G, c: Ctx) => {
  const s = c.need(n, 0);
  if (s !== undefined) gset(key, s, n, g);
};
const gBool = (key: string) => (n: ConfigNode, g: G, c: Ctx) => {
  const v = c.bool(n);
  if (v !== undefined) gset(key, v, n, g);
};
const gInt = (key: string, min: number, max: number) => (n: ConfigNode, g: G, c: Ctx) => {
  const v = c.int(n, 0, min, max);
  if (v !== undefined) gset(key, v, n, g);
  else if (n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
};
const gUint = (key: string, max: number) => (n: ConfigNode, g: G, c: Ctx) => {
  const v = c.uint(n, 0, 0, max);
  if (v !== undefined) gset(key, v, n, g);
  else if (n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
};
const gTimerMs = (key: string, maxS = 4_294_967, sayInvalid = false) => (n: ConfigNode, g: G, c: Ctx) => {
  const v = c.timerMs(n, 0, 0, maxS);
  if (v !== undefined) gset(key, v, n, g);
  else if (sayInvalid && n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' is invalid`, 'invalid-value');
};
const gScript = (key: string) => (n: ConfigNode, g: G, c: Ctx) => {
  const s = c.script(n);
  if (s) gset(key, s, n, g);
};
/** FIFO [username [groupname]]: a file, not a script */
const gFifo = (key: string) => (n: ConfigNode, g: G, c: Ctx) => {
  const s = c.need(n, 0);
  if (s !== undefined) gset(key, makeScript(s, n.args[1], n.args[2]), n, g);
};

/** global_defs keywords kept as written in GlobalDefs.other (keepalived knows them; runtime may not). */
const GLOBAL_OTHER = [
  'bfd_cpu_affinity', 'bfd_no_swap', 'bfd_priority', 'bfd_process_name', 'bfd_rlimit_rttime', 'bfd_rt_priority', 'checker_cpu_affinity',
  'checker_log_all_failures', 'checker_no_swap', 'checker_priority', 'checker_process_name', 'checker_rlimit_rttime', 'checker_rt_priority',
  'child_wait_time', 'config_save_dir', 'data_use_instance', 'dbus_service_name', 'disable_local_igmp', 'enable_dbus', 'enable_snmp_checker',
  'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_vrrp', 'enable_snmp_keepalived', 'enable_traps', 'fifo_write_vrrp_states_on_reload',
  'linkbeat_use_polling', 'log_unknown_vrids', 'lvs_flush', 'lvs_flush_on_stop', 'lvs_netlink_cmd_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs_force',
  'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force', 'lvs_sync_daemon', 'lvs_timeouts', 'min_auto_priority_delay',
  'namespace_with_ipsets', 'net_namespace_ipvs', 'nftables', 'nftables_counters', 'nftables_ifindex', 'nftables_ipvs', 'nftables_ipvs_priority',
  'nftables_ipvs_start_fwmark', 'nftables_priority', 'no_checker_emails', 'no_email_faults', 'process_monitor_rcv_bufs', 'process_monitor_rcv_bufs_force',
  'process_name', 'process_names', 'reload_check_config', 'reload_file', 'reload_repeat', 'reload_time_file', 'rs_init_notifies', 'snmp_socket',
  'tmp_config_directory', 'umask', 'use_pid_dir', 'vmac_addr_prefix', 'vrrp_cpu_affinity', 'vrrp_garp_extra_if', 'vrrp_ipsets', 'vrrp_iptables',
  'vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs_force',
  'vrrp_no_swap', 'vrrp_priority', 'vrrp_process_name', 'vrrp_rlimit_rttime', 'vrrp_rt_priority', 'vrrp_rx_bufs_multiplier', 'vrrp_rx_bufs_policy',
  'lvs_id', 'lvs_sync_daemon_interface', 'script_security',
];

const GLOBAL_DEFS: Table<G> = {
  router_id: (n, g, c) => {
    if (n.args[0] === undefined) c.report(n, `routerid name missing - ignoring`, 'semantic'); // its own handler: exit 5, not 2
    else gset('routerId', n.args[0], n, g);
  },
  notification_email: (n, g, c) => {
    const words = listWords(n, c);
    // keepalived names the block's closing line (measured: exit 5)
    if (n.children && words.length === 0) c.global('Warning - empty notification_email block', 'semantic', 'warning', { file: n.file, line: n.endLine }, 'notification_email');
    gset('notificationEmail', [...((g.vals['notificationEmail'] as string[]) ?? []), ...words], n, g);
  },
  notification_email_from: (n, g, c) => {
    if (n.args[0] === undefined) c.report(n, `emailfrom missing - ignoring`, 'semantic');
    else gset('notificationEmailFrom', n.args[0], n, g);
  },
  smtp_server: (n, g, c) => {
    const h = c.need(n, 0);
    if (h === undefined) return;
    const port = n.args[1] === undefined ? 25 : c.int(n, 1, 1, 65535);
    if (port !== undefined) gset('smtpServer', { host: h, port }, n, g);
    else c.report(n, `Invalid smtp server ${n.args.join(' ')}`, 'invalid-value');
  },
  smtp_helo_name: gStr('smtpHeloName'),
  smtp_connect_timeout: gInt('smtpConnectTimeoutS', 1, 0x7fffffff),
  smtp_alert: gBool('smtpAlert'),
  smtp_alert_vrrp: gBool('smtpAlertVrrp'),
  smtp_alert_checker: gBool('smtpAlertChecker'),
  enable_script_security: (n, g) => gset('enableScriptSecurity', true, n, g),
  script_user: (n, g, c) => {
    const u = c.need(n, 0);
    if (u !== undefined) gset('scriptUser', n.args[1] !== undefined ? { user: u, group: n.args[1] } : { user: u }, n, g);
  },
  vrrp_strict: (n, g) => gset('vrrpStrict', true, n, g),
  vrrp_version: (n, g, c) => {
    const v = c.int(n, 0, 2, 3);
    if (v !== undefined) gset('vrrpVersion', v, n, g);
    else if (n.args[0] !== undefined) c.report(n, `VRRP Error: Version must be either 2 or 3`, 'invalid-value');
  },
  vrrp_mcast_group4: (n, g, c) => {
    const a = c.addr(n, 0, false);
    if (a && a.family === 'inet' && /^(22[4-9]|23\d)\./.test(a.address)) gset('vrrpMcastGroup4', a, n, g);
    else if (a) c.report(n, `vrrp_mcast_group4 [${a.address}] is not multicast. Skipping`, 'invalid-value');
  },
  vrrp_mcast_group6: (n, g, c) => {
    const a = c.addr(n, 0, false);
    if (a && a.family === 'inet6' && /^ff/i.test(a.address)) gset('vrrpMcastGroup6', a, n, g);
    else if (a) c.report(n, `vrrp_mcast_group6 [${a.address}] is not multicast. Skipping`, 'invalid-value');
  },
  // delays in seconds: [0, 4294] (measured: 1000 accepted, 5000 refused); repeats: unsigned
  vrrp_garp_master_delay: gUint('vrrpGarpMasterDelayS', 4294),
  vrrp_garp_master_repeat: (n, g, c) => {
    let v = c.uint(n, 0, 0, 0xffffffff);
    if (v === undefined) {
      if (n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
      return;
    }
    if (v === 0) {
      c.report(n, `${n.keyword} must be greater than 0, setting to 1`, 'invalid-value');
      v = 1;
    }
    gset('vrrpGarpMasterRepeat', v, n, g);
  },
  vrrp_garp_lower_prio_delay: gUint('vrrpGarpLowerPrioDelayS', 4294),
  vrrp_garp_lower_prio_repeat: (n, g, c) => {
    const v = c.uint(n, 0, 0, 0xffffffff);
    if (v !== undefined) gset('vrrpGarpLowerPrioRepeat', v, n, g);
    else if (n.args[0] !== undefined) c.report(n, `Invalid ${n.keyword} '${n.args[0]}'`, 'invalid-value');
  },
  vrrp_garp_master_refresh: gInt('vrrpGarpMasterRefreshS', 0, 0x7fffffff),
  vrrp_garp_master_refresh_repeat: gInt('vrrpGarpMasterRefreshRepeat', 1, 255),
  // measured (2.2.7): any interval up to 4294.967295 s is accepted without a word
  vrrp_garp_interval: gTimerMs('vrrpGarpIntervalMs', 4294.967295, true),
  vrrp_gna_interval: gTimerMs('vrrpGnaIntervalMs', 4294.967295, true),
  vrrp_min_garp: gBool('vrrpMinGarp'),
  vrrp_lower_prio_no_advert: gBool('vrrpLowerPrioNoAdvert'),
  vrrp_higher_prio_send_advert: gBool('vrrpHigherPrioSendAdvert'),
  vrrp_skip_check_adv_addr: gBool('vrrpSkipCheckAdvAddr'),
  vrrp_check_unicast_src: (n, g) => gset('vrrpCheckUnicastSrc', true, n, g),
  vrrp_down_timer_adverts: gInt('vrrpDownTimerAdverts', 1, 100),
  vrrp_startup_delay: gTimerMs('vrrpStartupDelayMs', 180),
  vrrp_notify_priority_changes: gBool('vrrpNotifyPriorityChanges'),
  default_interface: gStr('defaultInterface'),
  dynamic_interfaces: (n, g) => gset('dynamicInterfaces', true, n, g),
  notify_fifo: gFifo('notifyFifo'),
  vrrp_notify_fifo: gFifo('vrrpNotifyFifo'),
  lvs_notify_fifo: gFifo('lvsNotifyFifo'),
  notify_fifo_script: gScript('notifyFifoScript'),
  vrrp_notify_fifo_script: gScript('vrrpNotifyFifoScript'),
  lvs_notify_fifo_script: gScript('lvsNotifyFifoScript'),
  // keepalived checks these two itself: no script is an ordinary error (measured: exit 5, not 2)
  startup_script: (n, g, c) => (n.args.length === 0 ? c.report(n, 'startup script missing', 'semantic') : gScript('startupScript')(n, g, c)),
  shutdown_script: (n, g, c) => (n.args.length === 0 ? c.report(n, 'shutdown script missing', 'semantic') : gScript('shutdownScript')(n, g, c)),
  startup_script_timeout: gInt('startupScriptTimeoutS', 1, 1000),
  shutdown_script_timeout: gInt('shutdownScriptTimeoutS', 1, 1000),
  max_auto_priority: (n, g, c) => {
    const v = n.args[0] === undefined ? 99 : c.int(n, 0, -1, 99);
    if (v !== undefined) gset('maxAutoPriority', v, n, g);
  },
  net_namespace: gStr('netNamespace'),
  instance: gStr('instance'),
  vmac_prefix: gStr('vmacPrefix'),
  random_seed: gInt('randomSeed', 0, 0xffffffff),
  // keepalived-ts extensions (keepalived itself warns "Unknown keyword" on them): what the
  // --status-listen and --watch-config flags say, carried by the configuration
  keepalived_ts_status_listen: (n, g, c) => {
    const s = c.need(n, 0);
    if (s === undefined) return;
    if (isListenSpec(s)) gset('statusListen', s, n, g);
    else c.report(n, `keepalived_ts_status_listen '${s}' invalid: expected HOST:PORT, [IPV6]:PORT or :PORT (port 1-65535) - ignoring`, 'invalid-value', 'error', 0);
  },
  keepalived_ts_watch_config: gBool('watchConfig'),
  ...Object.fromEntries(
    GLOBAL_OTHER.map((k) => [
      k,
      (n: ConfigNode, g: G) => {
        g.other[k] = [...n.args];
        g.nodes.set(k, n);
      },
    ]),
  ),
};

// Daemon facilities keepalived 2.2.7 reads only outside global_defs (man page: "before
// global_defs"): inside it, they are unknown keywords (measured: exit 5).
const TOP_LEVEL_ONLY = ['net_namespace', 'net_namespace_ipvs', 'namespace_with_ipsets', 'instance', 'use_pid_dir', 'linkbeat_use_polling', 'child_wait_time'];
// Keywords of other keepalived versions that 2.2.7 does not know in global_defs (measured).
const NOT_IN_GLOBAL_DEFS = new Set([...TOP_LEVEL_ONLY, 'lvs_id']);
const GLOBAL_DEFS_BLOCK: Table<G> = {
  ...Object.fromEntries(Object.entries(GLOBAL_DEFS).filter(([k]) => !NOT_IN_GLOBAL_DEFS.has(k))),
  // Debian's 2.2.7 is built with nftables only: it says so and uses nftables (exit 5)
  ...Object.fromEntries(['vrrp_iptables', 'vrrp_ipsets'].map((k) => [k, (n: ConfigNode, g: G, c: Ctx) => {
    c.report(n, `iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option`, 'invalid-value', 'warning');
    GLOBAL_DEFS[k]!(n, g, c);
  }])),
};

// ---------------------------------------------------------------- top level

// Measured (2.2.7 -t): vrrp_instance and vrrp_sync_group check their own name (an ordinary error,
// exit 5); the other named blocks read the missing word and abort the parse (exit 2).
const OWN_NAME_CHECK: Readonly<Record<string, string>> = {
  vrrp_instance: 'vrrp_instance must have a name',
  vrrp_sync_group: 'vrrp_sync_group must have a name - skipping',
};
function nameOf(n: ConfigNode, c: Ctx): string | undefined {
  const s = n.args[0];
  if (s !== undefined) return s;
  const own = OWN_NAME_CHECK[n.keyword];
  if (own !== undefined) c.report(n, own, 'semantic');
  else c.need(n, 0);
  return undefined;
}

function needChildren(n: ConfigNode, c: Ctx): boolean {
  if (!n.children) {
    c.report(n, `${n.keyword} requires a '{' block`, 'syntax');
    return false;
  }
  return true;
}

const TOP: Table<ConfigDraft> = {
  global_defs: (n, d, c) => {
    if (needChildren(n, c)) walk(n.children, GLOBAL_DEFS_BLOCK, d.global, c);
  },
  vrrp_script: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const s: ConfigDraft['vrrpScripts'][number] = {
      name, file: n.file, line: n.line, node: n, hasScript: false, script: makeScript(''),
      intervalMs: 1000, timeoutMs: 0, weight: 0, reverse: false, rise: 1, fall: 1, initFail: false,
    };
    walk(n.children, VRRP_SCRIPT, s, c);
    if (!s.hasScript) {
      // keepalived reports this at the block's closing line
      c.global(`No script set for vrrp_script ${name} - removing`, 'semantic', 'error', { file: n.file, line: n.endLine }, 'vrrp_script');
      return;
    }
    if (s.timeoutMs === 0) s.timeoutMs = s.intervalMs;
    if (d.vrrpScripts.length < 10_000 && d.vrrpScripts.some((x) => x.name === name)) c.report(n, `vrrp_script ${name} already defined`, 'semantic');
    d.vrrpScripts.push(s);
  },
  track_file: (n, d, c) => trackFile(n, d, c),
  vrrp_track_file: (n, d, c) => trackFile(n, d, c),
  vrrp_track_process: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const p: ConfigDraft['trackProcesses'][number] = {
      name, file: n.file, line: n.line, node: n, process: '', parameters: [], weight: 0, reverse: false, quorum: 1,
      forkDelayMs: 0, terminateDelayMs: 0, delayMs: 0, fullCommand: false,
    };
    walk(n.children, VRRP_TRACK_PROCESS, p, c);
    if (p.process === '') {
      c.global(`track process '${name}' process name not specified`, 'semantic', 'error', { file: n.file, line: n.endLine }, 'vrrp_track_process');
      return;
    }
    if (p.quorumMax !== undefined && p.quorumMax < p.quorum) c.report(n, `(${name}) quorum_max must be >= quorum`, 'invalid-value');
    d.trackProcesses.push(p);
  },
  vrrp_sync_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const g: ConfigDraft['syncGroups'][number] = {
      name, file: n.file, line: n.line, node: n, memberNodes: new Map(), group: [], trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], trackBfds: [],
      notifyPriorityChanges: false, smtpAlert: false, globalTracking: false, syncGroupTrackingWeight: false,
    };
    walk(n.children, VRRP_SYNC_GROUP, g, c);
    d.syncGroups.push(g);
  },
  vrrp_instance: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const inst = newInstance(n, name);
    walk(n.children, VRRP_INSTANCE, inst, c);
    d.instances.push(inst);
  },
  garp_group: (n, d, c) => {
    if (!needChildren(n, c)) return;
    const g: { -readonly [K in keyof GarpGroup]: GarpGroup[K] extends readonly (infer U)[] ? U[] : GarpGroup[K] } = { file: n.file, line: n.line, interfaces: [] };
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
  track_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const g = { group: [] as string[] };
    walk(n.children, TRACK_GROUP, g, c);
    d.trackGroups.push({ name, file: n.file, line: n.line, group: g.group });
  },
  static_ipaddress: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const v = parseVipEntry(e, c, true);
      if (v) d.staticIpAddresses.push(v);
    }
  },
  static_routes: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const r = parseRouteEntry(e, c);
      if (r) d.staticRoutes.push(r);
    }
  },
  static_rules: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const r = parseRuleEntry(e, c);
      if (r) d.staticRules.push(r);
    }
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
  bfd_instance: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const b: { -readonly [K in keyof BfdInstance]: BfdInstance[K] } = {
      name, file: n.file, line: n.line, minRxMs: 10, minTxMs: 10, idleTxMs: 1000, multiplier: 5, passive: false, ttl: 255, maxHops: 0,
      vrrp: false, checker: false, weight: 0,
    };
    walk(n.children, BFD_INSTANCE, b, c);
    if (!b.neighborIp) {
      c.global(`Configuration error: BFD instance ${name} has no neighbor address set, disabling instance`, 'semantic', 'error', { file: n.file, line: n.endLine }, 'bfd_instance');
      return;
    }
    if (!b.vrrp && !b.checker) b.vrrp = b.checker = true;
    d.bfdInstances.push(b);
  },
  virtual_server_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    d.virtualServerGroups.push(parseVsGroup(n, c, name));
  },
  virtual_server: (n, d, c) => {
    if (!needChildren(n, c)) return;
    const vs = newVirtualServer(n, c);
    if (!vs) return;
    walk(n.children, VIRTUAL_SERVER, vs, c);
    // keepalived 2.2.7 reports missing settings as configuration errors and uses its defaults
    const has = (...k: string[]): boolean => n.children!.some((x) => k.includes(x.keyword) && x.args.length > 0 && vsValid(x));
    const label = vs.kind === 'fwmark' ? `FWM ${vs.fwmark}` : vs.kind === 'group' ? `GROUP ${vs.group}` : `[${vs.address!.address}]:%p:${vs.port ?? 0}`;
    let proto = 'none';
    if (vs.kind !== 'fwmark' && !has('protocol')) {
      c.global(`Virtual server ${label.replace('%p', proto)}: no protocol set - defaulting to UDP`, 'semantic', 'error', vs, 'protocol');
      vs.protocol = 'UDP';
    }
    proto = vs.protocol.toLowerCase();
    if (!has('lvs_sched', 'lb_algo')) c.global(`Virtual server ${label.replace('%p', proto)}: no scheduler set, setting default 'wlc'`, 'semantic', 'error', vs, 'lvs_sched');
    if (!has('lvs_method', 'lb_kind')) c.global(`Virtual server ${label.replace('%p', proto)}: no forwarding method set, setting default NAT`, 'semantic', 'error', vs, 'lvs_method');
    const protoNode = n.children!.find((x) => x.keyword === 'protocol');
    if (vs.kind === 'fwmark' && protoNode) {
      c.report(protoNode, `Warning: Virtual server FWM ${vs.fwmark}: protocol specified for fwmark - protocol will be ignored`, 'semantic');
    }
    // measured (2.2.7, exit 5, no line given): with DR or TUN a real server cannot change the
    // port, keepalived resets it to the virtual server's
    if (vs.kind === 'address' && vs.port !== undefined) {
      vs.realServers = vs.realServers.map((rs) => {
        const method = rs.lvsMethod ?? vs.lvsMethod;
        if ((method !== 'DR' && method !== 'TUN') || rs.port === undefined || rs.port === vs.port) return rs;
        const rsAddr = `[${rs.address.address}]`;
        c.global(`WARNING - virtual server ${label.replace('%p', proto)} and real server ${rsAddr}:${proto}:${rs.port} ports don't match - resetting`, 'semantic', 'warning', rs, 'real_server');
        return { ...rs, port: vs.port };
      });
    }
    // a quorum above the total weight can never be met: keepalived lowers it (measured: exit 5)
    const total = vs.realServers.reduce((a, rs) => a + rs.weight, 0);
    if (vs.realServers.length > 0 && vs.quorum > total) {
      const qn = n.children!.find((x) => x.keyword === 'quorum') ?? n;
      c.report(qn, `Warning - quorum ${vs.quorum} for ${label.replace('%p', proto)} exceeds total weight of real servers ${total}, reducing quorum to ${total}`, 'semantic', 'warning');
      vs.quorum = total;
    }
    d.virtualServers.push(vs);
  },
  SSL: (n, d, c) => {
    if (!needChildren(n, c)) return;
    const s: Record<string, string> = {};
    for (const e of n.children!) {
      if (['password', 'ca', 'certificate', 'key'].includes(e.keyword)) s[e.keyword] = e.args.join(' ');
      else c.report(e, `Unknown keyword '${e.keyword}'`, 'unknown-keyword', 'warning');
    }
    d.ssl = s;
  },
  // daemon facilities written outside global_defs (man page: before global_defs)
  ...Object.fromEntries(
    TOP_LEVEL_ONLY.map((k) => [
      k,
      (n: ConfigNode, d: ConfigDraft, c: Ctx) => GLOBAL_DEFS[k]!(n, d.global, c),
    ]),
  ),
};

/** a protocol / scheduler / method line keepalived accepted */
function vsValid(x: ConfigNode): boolean {
  if (x.keyword === 'protocol') return ['TCP', 'UDP', 'SCTP'].includes(x.args[0]!.toUpperCase());
  if (x.keyword === 'lvs_method' || x.keyword === 'lb_kind') return ['NAT', 'DR', 'TUN'].includes(x.args[0]!);
  if (x.keyword === 'lvs_sched' || x.keyword === 'lb_algo') return LVS_SCHEDULERS.includes(x.args[0]!);
  return true;
}

function trackFile(n: ConfigNode, d: ConfigDraft, c: Ctx): void {
  const name = nameOf(n, c);
  if (name === undefined || !needChildren(n, c)) return;
  const f: ConfigDraft['trackFiles'][number] = { name, file: n.file, line: n.line, node: n, path: '', weight: 1, reverse: false };
  walk(n.children, TRACK_FILE, f, c);
  if (f.path === '') {
    c.global(`No file set for track_file ${name} - ignoring`, 'semantic', 'error', { file: n.file, line: n.endLine }, n.keyword);
    return;
  }
  d.trackFiles.push(f);
}

// ---------------------------------------------------------------- finalisation and cross-checks

const V4_GROUP: IpAddress = { family: 'inet', address: '224.0.0.18', prefixLength: 32 };
const V6_GROUP: IpAddress = { family: 'inet6', address: 'ff02::12', prefixLength: 128 };

export function buildConfig(tree: readonly ConfigNode[], c: Ctx, opts: BuildOptions): KeepalivedConfig {
  const b = new ConfigBuilder(c, opts);
  for (const n of tree) b.take(n);
  return b.finish();
}

/**
 * The model built one top-level block at a time (take), as the tree builder completes them, so
 * that a large file's block tree is never all held at once; finish() runs the cross-checks.
 */
export class ConfigBuilder {
  private readonly d: ConfigDraft = {
    global: { vals: {}, other: {}, nodes: new Map() },
    vrrpScripts: [], trackFiles: [], trackProcesses: [], syncGroups: [], instances: [], garpGroups: [], trackGroups: [],
    staticIpAddresses: [], staticRoutes: [], staticRules: [], linkbeatInterfaces: [], interfaceUpDownDelays: [], bfdInstances: [],
    virtualServerGroups: [], virtualServers: [],
  };
  constructor(
    private readonly c: Ctx,
    private readonly opts: BuildOptions,
  ) {}
  take(n: ConfigNode): void {
    walk([n], TOP, this.d, this.c);
  }
  finish(): KeepalivedConfig {
    return finishConfig(this.d, this.c, this.opts);
  }
}

function finishConfig(d: ConfigDraft, c: Ctx, opts: BuildOptions): KeepalivedConfig {
  const g = finishGlobal(d.global);
  // interfaces may come and go: keepalived 2.2.7 says nothing of missing ones (measured)
  c.dynamicInterfaces = g.dynamicInterfaces;
  checkDefaultScriptUser(d, g, c, opts);
  // static addresses and routes: their interfaces must exist too
  for (const a of d.staticIpAddresses) {
    if (a.dev) checkInterfaces([a.dev], a, c, opts, (i) => `WARNING - interface ${i} for ip address ${a.address} doesn't exist`);
  }
  for (const r of d.staticRoutes) {
    if (r.dev) checkInterfaces([r.dev], r, c, opts, (i) => `WARNING - interface ${i} for VROUTE nexthop doesn't exist`);
  }

  const instances: VrrpInstance[] = [];
  // where each instance set its virtual_router_id (a duplicate VRID is reported there)
  const vridNode = new Map<VrrpInstance, ConfigNode>();
  // a VMAC name belongs to one instance; a later one gets the default name (measured: exit 5)
  const vmacNames = new Map<string, string>();
  for (const inst of d.instances) {
    const vn = inst.useVmac?.interfaceName;
    if (vn === undefined) continue;
    const owner = vmacNames.get(vn);
    if (owner === undefined) vmacNames.set(vn, inst.name);
    else {
      c.report(inst.set.get('use_vmac') ?? inst.node, `(${inst.name}) VRRP instance ${owner} is already using ${vn} - ignoring name`, 'semantic', 'warning');
      const { interfaceName: _n, ...rest } = inst.useVmac!;
      inst.useVmac = rest;
    }
  }
  for (const inst of d.instances) {
    const v = finishInstance(inst, d, g, c, opts);
    if (!v) continue;
    instances.push(v);
    const n = inst.set.get('virtual_router_id');
    if (n) vridNode.set(v, n);
  }
  // instance names must be unique
  const seen = new Set<string>();
  const uniq: VrrpInstance[] = [];
  for (const v of instances) {
    if (seen.has(v.name)) {
      c.global(`vrrp instance ${v.name} already defined`, 'semantic', 'error', v, 'vrrp_instance');
      continue;
    }
    seen.add(v.name);
    uniq.push(v);
  }
  // VRID unique per interface, family and multicast group among multicast instances. Measured
  // (2.2.7): a unicast instance never conflicts, even with a multicast one or with another
  // unicast one that has the same peers; a conflict stops keepalived at start (exit 2).
  // Grouped by key first: configurations with tens of thousands of instances exist.
  const byKey = new Map<string, VrrpInstance[]>();
  for (const v of uniq) {
    if (v.unicastPeers.length > 0) continue;
    const k = `${v.virtualRouterId}|${v.family}|${v.interface ?? ''}`;
    const l = byKey.get(k);
    if (l) l.push(v);
    else byKey.set(k, [v]);
  }
  for (const l of byKey.values()) {
    for (let i = 0; i < l.length; i++) {
      for (let j = i + 1; j < l.length; j++) {
        const a = l[i]!;
        const b = l[j]!;
        if (a.mcastDstIp.address !== b.mcastDstIp.address) continue;
        c.global(`${a.name} and ${b.name} both use VRID ${a.virtualRouterId} with ${familyName(a.family)} on interface ${a.interface ?? '(none)'}`, 'semantic', 'error', vridNode.get(b) ?? b, 'virtual_router_id');
        c.permanent();
      }
    }
  }

  // sync groups: members must exist; an instance in one group only
  const inGroup = new Map<string, string>();
  const syncGroups = [];
  for (const sg of d.syncGroups) {
    const members: string[] = [];
    for (const m of sg.group) {
      if (!seen.has(m)) {
        c.global(`Virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`, 'semantic', 'warning', sg.memberNodes.get(m) ?? sg, 'group');
        continue;
      }
      if (inGroup.has(m)) {
        c.global(`VRRP instance ${m} cannot be in more than one sync group (${inGroup.get(m)}, ${sg.name}) - ignoring`, 'semantic', 'error', sg, 'group');
        continue;
      }
      inGroup.set(m, sg.name);
      members.push(m);
    }
    if (members.length === 0) {
      c.global(`Sync group ${sg.name} has no virtual router(s). removing`, 'semantic', 'warning', sg, 'vrrp_sync_group');
      continue;
    }
    if (members.length === 1) c.global(`Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`, 'semantic', 'warning', sg, 'vrrp_sync_group');
    checkTrackNames(sg.name, sg.trackScripts, sg.trackFiles, sg.trackProcesses, sg.trackBfds, d, c);
    checkInterfaces(sg.trackInterfaces.map((t) => t.name), sg, c, opts, (i) => `(${sg.name}) tracked interface ${i} doesn't exist`);
    const { node: _n, memberNodes: _m, ...rest } = sg;
    syncGroups.push({ ...rest, group: members, trackScripts: strip(sg.trackScripts), trackFiles: strip(sg.trackFiles), trackProcesses: strip(sg.trackProcesses), trackBfds: strip(sg.trackBfds) });
  }
  const sgByName = new Map(d.syncGroups.map((x) => [x.name, x] as const));
  const finalInstances = uniq.map((v) => {
    const sgName = inGroup.get(v.name);
    if (!sgName) return v;
    const sg = sgByName.get(sgName)!;
    if (!sg.syncGroupTrackingWeight) {
      // members of a sync group cannot track with weights: keepalived drops such tracking
      // (its weight is the entry's, else the tracked object's own weight)
      const sets = weightsOf(d);
      const drop = (l: readonly TrackedObject[], weights: Map<string, number>, what: string): TrackedObject[] =>
        l.filter((t) => {
          if ((t.weight ?? weights.get(t.name) ?? 0) === 0) return true;
          c.global(`(${v.name}) ignoring ${what} ${t.name} with weights due to SYNC group`, 'semantic', 'error', v, 'vrrp_sync_group');
          return false;
        });
      return {
        ...v,
        syncGroup: sgName,
        trackScripts: drop(v.trackScripts, sets.scripts, 'tracked script'),
        trackFiles: drop(v.trackFiles, sets.files, 'tracked file'),
        trackProcesses: drop(v.trackProcesses, sets.procs, 'tracked process'),
      };
    }
    return { ...v, syncGroup: sgName };
  });

  // scripts configured without enable_script_security
  // a vrrp_script whose program cannot be found is disabled (tracked or not; measured: exit 5).
  // keepalived 2.2.7 skips the check for a command starting with "</" (the samples'
  // "</dev/tcp/127.0.0.1/80" idiom): neither disabled nor counted for security.
  // A warning (it still makes -t exit 5): the program may be installed later, and a daemon reload
  // should not be refused for it.
  for (const s of d.vrrpScripts) {
    const argv0 = s.script.argv[0] ?? '';
    if (argv0.startsWith('</') || resolveScript(argv0, opts) !== undefined) continue;
    c.global(`Disabling track script ${s.name} since not found/accessible`, 'semantic', 'warning', s, 'script');
  }
  // measured (2.2.7): every vrrp_script counts for script security, tracked or not, and also one
  // tracked only by a sync group that is dropped (exit 6)
  for (const s of d.vrrpScripts) c.scriptRuns(s.script.command, s.script.user, s);
  const runsAsRoot = !g.scriptUser || g.scriptUser.user === 'root';
  if (c.scriptsConfigured && runsAsRoot && !g.enableScriptSecurity) {
    // keepalived names no line; we name the first script that would run (a vrrp_script's block)
    // the VRRP and the checker process each report their own (measured wording for MISC_CHECK)
    for (const checker of [false, true]) {
      const first = c.scriptFiles.find((f) => f.checker === checker && resolveScript(f.path, opts) !== undefined);
      if (!first) continue;
      const what = checker ? 'check scripts' : 'scripts';
      c.global(`SECURITY VIOLATION - ${what} are being executed but script_security not enabled.`, 'security', 'warning', first.file ? first : undefined);
    }
  }

  const stripNode = <T extends { node: ConfigNode }>(x: T): Omit<T, 'node'> => {
    const { node: _n, ...rest } = x;
    return rest;
  };
  return {
    globalDefs: g,
    vrrpScripts: d.vrrpScripts.map((s) => {
      const { hasScript: _h, ...rest } = stripNode(s);
      return rest;
    }),
    trackFiles: d.trackFiles.map(stripNode),
    trackProcesses: d.trackProcesses.map(stripNode),
    vrrpSyncGroups: syncGroups,
    vrrpInstances: finalInstances,
    garpGroups: d.garpGroups,
    trackGroups: d.trackGroups,
    staticIpAddresses: d.staticIpAddresses,
    staticRoutes: d.staticRoutes,
    staticRules: d.staticRules,
    linkbeatInterfaces: d.linkbeatInterfaces,
    interfaceUpDownDelays: d.interfaceUpDownDelays,
    bfdInstances: d.bfdInstances,
    virtualServerGroups: d.virtualServerGroups,
    virtualServers: d.virtualServers,
    ...(d.ssl ? { ssl: d.ssl } : {}),
  };
}

function strip(l: readonly (TrackedObject & { node?: ConfigNode })[]): TrackedObject[] {
  return l.map((t) => {
    const o: { name: string; weight?: number; reverse?: boolean } = { name: t.name };
    if (t.weight !== undefined) o.weight = t.weight;
    if (t.reverse !== undefined) o.reverse = t.reverse;
    return o;
  });
}

function finishGlobal(gd: GlobalDraft): GlobalDefs {
  const v = gd.vals;
  const get = <T>(k: string, dflt: T): T => (k in v ? (v[k] as T) : dflt);
  const opt = <T>(k: string): { [x: string]: T } => (k in v ? { [k]: v[k] as T } : {});
  return {
    ...opt<string>('routerId'),
    notificationEmail: get<string[]>('notificationEmail', []),
    ...opt<string>('notificationEmailFrom'),
    ...opt<{ host: string; port: number }>('smtpServer'),
    ...opt<string>('smtpHeloName'),
    smtpConnectTimeoutS: get('smtpConnectTimeoutS', 30),
    ...opt<boolean>('smtpAlert'),
    ...opt<boolean>('smtpAlertVrrp'),
    ...opt<boolean>('smtpAlertChecker'),
    enableScriptSecurity: get('enableScriptSecurity', false),
    ...opt<{ user: string; group?: string }>('scriptUser'),
    vrrpStrict: get('vrrpStrict', false),
    vrrpVersion: get<2 | 3>('vrrpVersion', 2),
    vrrpMcastGroup4: get('vrrpMcastGroup4', V4_GROUP),
    vrrpMcastGroup6: get('vrrpMcastGroup6', V6_GROUP),
    vrrpGarpMasterDelayS: get('vrrpGarpMasterDelayS', 5),
    vrrpGarpMasterRepeat: get('vrrpGarpMasterRepeat', 5),
    ...opt<number>('vrrpGarpLowerPrioDelayS'),
    ...opt<number>('vrrpGarpLowerPrioRepeat'),
    vrrpGarpMasterRefreshS: get('vrrpGarpMasterRefreshS', 0),
    vrrpGarpMasterRefreshRepeat: get('vrrpGarpMasterRefreshRepeat', 1),
    vrrpGarpIntervalMs: get('vrrpGarpIntervalMs', 0),
    vrrpGnaIntervalMs: get('vrrpGnaIntervalMs', 0),
    vrrpMinGarp: get('vrrpMinGarp', false),
    vrrpLowerPrioNoAdvert: get('vrrpLowerPrioNoAdvert', false),
    vrrpHigherPrioSendAdvert: get('vrrpHigherPrioSendAdvert', false),
    vrrpSkipCheckAdvAddr: get('vrrpSkipCheckAdvAddr', false),
    vrrpCheckUnicastSrc: get('vrrpCheckUnicastSrc', false),
    vrrpDownTimerAdverts: get('vrrpDownTimerAdverts', 3),
    vrrpStartupDelayMs: get('vrrpStartupDelayMs', 0),
    vrrpNotifyPriorityChanges: get('vrrpNotifyPriorityChanges', false),
    defaultInterface: get('defaultInterface', 'eth0'),
    dynamicInterfaces: get('dynamicInterfaces', false),
    ...opt<ScriptCommand>('notifyFifo'),
    ...opt<ScriptCommand>('vrrpNotifyFifo'),
    ...opt<ScriptCommand>('lvsNotifyFifo'),
    ...opt<ScriptCommand>('notifyFifoScript'),
    ...opt<ScriptCommand>('vrrpNotifyFifoScript'),
    ...opt<ScriptCommand>('lvsNotifyFifoScript'),
    ...opt<ScriptCommand>('startupScript'),
    ...opt<ScriptCommand>('shutdownScript'),
    startupScriptTimeoutS: get('startupScriptTimeoutS', 10),
    shutdownScriptTimeoutS: get('shutdownScriptTimeoutS', 10),
    ...opt<number>('maxAutoPriority'),
    ...opt<string>('netNamespace'),
    ...opt<string>('instance'),
    vmacPrefix: get('vmacPrefix', 'vrrp'),
    ...opt<number>('randomSeed'),
    ...opt<string>('statusListen'),
    watchConfig: get('watchConfig', false),
    other: gd.other,
  } as GlobalDefs;
}

/**
 * With enable_script_security and no script_user, scripts run as keepalived_script; when that
 * user does not exist keepalived reports each script configured without its own user, and removes
 * such vrrp_scripts (measured; without enable_script_security it silently uses root).
 */
function checkDefaultScriptUser(d: ConfigDraft, g: GlobalDefs, c: Ctx, opts: BuildOptions): void {
  // (root is always there, even when a test's userExists says otherwise)
  const known = (u: string, grp?: string): boolean => (u === 'root' || userExists(u, opts)) && (grp === undefined || grp === 'root' || groupExists(grp, opts));
  // measured (2.2.7, with or without enable_script_security): a vrrp_script whose own user or
  // group does not exist is removed; so are the ones without a user when script_user names an
  // unknown user or group
  const unusable = new Set<(typeof d.vrrpScripts)[number]>();
  for (const s of d.vrrpScripts) {
    if (s.script.user === undefined || known(s.script.user, s.script.group)) continue;
    const un = s.node.children?.find((k) => k.keyword === 'user') ?? s.node;
    c.report(un, `Unable to set uid/gid for script '${s.script.command}'`, 'semantic');
    unusable.add(s);
  }
  if (g.scriptUser && !known(g.scriptUser.user, g.scriptUser.group)) {
    const at = d.global.nodes.get('script_user');
    c.global('Error setting global script uid/gid', 'semantic', 'error', at, 'script_user');
    for (const s of d.vrrpScripts) {
      if (s.script.user !== undefined) continue;
      c.global(`Unable to set default user for vrrp script ${s.name} - removing`, 'semantic', 'error', { file: s.file, line: s.node.endLine }, 'vrrp_script');
      unusable.add(s);
    }
  }
  if (unusable.size > 0) d.vrrpScripts = d.vrrpScripts.filter((s) => !unusable.has(s));
  if (!g.enableScriptSecurity || g.scriptUser) return;
  const noUser = d.vrrpScripts.filter((s) => s.script.user === undefined);
  if (c.defaultUserScripts.length === 0 && noUser.length === 0) return;
  if (userExists(DEFAULT_SCRIPT_USER, opts)) return;
  const refusedCheckers = new Set<object>();
  for (const w of c.defaultUserScripts) {
    c.global(`Unable to set default user ${DEFAULT_SCRIPT_USER} for script`, 'semantic', 'error', w);
    if (!w.misc) continue;
    c.global(`Unable to set default user for misc script '${w.misc.command}' - removing`, 'semantic', 'error', w, 'MISC_CHECK');
    refusedCheckers.add(w.misc.checker);
  }
  if (refusedCheckers.size > 0) {
    for (const vs of d.virtualServers) {
      for (const rs of [...vs.realServers, ...(vs.sorryServer ? [vs.sorryServer] : [])]) {
        (rs as { checkers: readonly object[] }).checkers = rs.checkers.filter((ck) => !refusedCheckers.has(ck));
      }
    }
  }
  for (const s of noUser) {
    // keepalived names the vrrp_script block's closing line
    const where = { file: s.file, line: s.node.endLine };
    c.global(`Unable to set default user ${DEFAULT_SCRIPT_USER} for script`, 'semantic', 'error', where, 'vrrp_script');
    c.global(`Unable to set default user for vrrp script ${s.name} - removing`, 'semantic', 'error', where, 'vrrp_script');
  }
  const removed = new Set(noUser);
  d.vrrpScripts = d.vrrpScripts.filter((s) => !removed.has(s));
}

function checkInterfaces(names: readonly string[], where: { file: string; line: number }, c: Ctx, opts: BuildOptions, msg: (i: string) => string): boolean {
  if (!opts.interfaceExists || c.dynamicInterfaces) return true;
  let ok = true;
  for (const i of names) {
    let exists = false;
    try {
      exists = opts.interfaceExists(i);
    } catch {
      exists = false;
    }
    if (!exists) {
      c.global(msg(i), 'bad-interface', 'error', where);
      ok = false;
    }
  }
  return ok;
}

function weightsOf(d: ConfigDraft): { scripts: Map<string, number>; files: Map<string, number>; procs: Map<string, number> } {
  return {
    scripts: new Map(d.vrrpScripts.map((x) => [x.name, x.weight])),
    files: new Map(d.trackFiles.map((x) => [x.name, x.weight])),
    procs: new Map(d.trackProcesses.map((x) => [x.name, x.weight])),
  };
}

const nameSetCache = new WeakMap<ConfigDraft, { scripts: Set<string>; files: Set<string>; procs: Set<string>; bfds: Set<string> }>();
/** names of the tracked objects, computed once per configuration (large configs) */
function nameSets(d: ConfigDraft): { scripts: Set<string>; files: Set<string>; procs: Set<string>; bfds: Set<string> } {
  let s = nameSetCache.get(d);
  if (!s) {
    s = {
      scripts: new Set(d.vrrpScripts.map((x) => x.name)),
      files: new Set(d.trackFiles.map((x) => x.name)),
      procs: new Set(d.trackProcesses.map((x) => x.name)),
      bfds: new Set(d.bfdInstances.map((x) => x.name)),
    };
    nameSetCache.set(d, s);
  }
  return s;
}

function checkTrackNames(
  owner: string,
  scripts: (TrackedObject & { node?: ConfigNode })[],
  files: (TrackedObject & { node?: ConfigNode })[],
  procs: (TrackedObject & { node?: ConfigNode })[],
  bfds: (TrackedObject & { node?: ConfigNode })[],
  d: ConfigDraft,
  c: Ctx,
): void {
  const filter = (l: (TrackedObject & { node?: ConfigNode })[], known: (n: string) => boolean, what: string): void => {
    for (let k = l.length - 1; k >= 0; k--) {
      const t = l[k]!;
      if (known(t.name)) continue;
      if (t.node) c.report(t.node, `(${owner}) ${what} ${t.name} not found, ignoring...`, 'semantic', 'warning');
      else c.global(`(${owner}) ${what} ${t.name} not found, ignoring...`, 'semantic', 'warning');
      l.splice(k, 1);
    }
  };
  const sets = nameSets(d);
  filter(scripts, (n) => sets.scripts.has(n), 'track script');
  filter(files, (n) => sets.files.has(n), 'track file');
  filter(procs, (n) => sets.procs.has(n), 'track process');
  filter(bfds, (n) => sets.bfds.has(n), 'track bfd');
}

function finishInstance(t: InstanceDraft, d: ConfigDraft, g: GlobalDefs, c: Ctx, opts: BuildOptions): VrrpInstance | undefined {
  const at = (k: string): ConfigNode => t.set.get(k) ?? t.node;
  const where = { file: t.file, line: t.line };
  if (t.virtualRouterId === undefined) {
    c.global(`(${t.name}) the virtual router id must be set`, 'semantic', 'error', where, 'virtual_router_id');
    c.permanent();
    return undefined;
  }
  const strict = t.strictMode ?? g.vrrpStrict;

  // family from the first VIP (native_ipv6 forces IPv6); others of another family are dropped
  let family: 'inet' | 'inet6' = t.nativeIpv6 ? 'inet6' : (t.virtualIpAddresses[0]?.family ?? (t.unicastPeers[0]?.family ?? 'inet'));
  if (t.nativeIpv6 && t.virtualIpAddresses[0]?.family === 'inet') family = 'inet6';
  const vips = t.virtualIpAddresses.filter((v) => {
    if (v.family === family) return true;
    c.diags.push({ severity: 'error', category: 'invalid-value', file: v.file, line: v.line, column: 0, keyword: 'virtual_ipaddress', message: `(${t.name}): address family must match VRRP instance [${v.address}] - ignoring` });
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
      c.report(at('advert_int'), `(${t.name}) VRRPv2 advertisement interval ${s.toFixed(6)}s must be an integer. rounding`, 'invalid-value');
      s = Math.max(1, Math.round(s));
    }
    advertCs = s * 100;
  } else {
    advertCs = Math.round(us / 10_000);
    if (us % 10_000 !== 0 && advertCs > 0 && advertCs < 4096) {
      c.report(at('advert_int'), `(${t.name}) VRRPv3 advertisement interval ${(us / 1_000_000).toFixed(6)}s must be in units of 10ms - rounding`, 'invalid-value');
    }
    if (advertCs >= 4096) {
      c.report(at('advert_int'), `(${t.name}) VRRPv3 advertisement interval ${(us / 1_000_000).toFixed(2)}s is out of range. Must be less than 40.96s. Setting to 40.95s`, 'invalid-value');
      advertCs = 4095;
    } else if (advertCs === 0) {
      c.report(at('advert_int'), `(${t.name}) VRRPv3 advertisement interval ${(us / 1_000_000).toFixed(2)}s is out of range. Must be at least 0.01s. Setting to 0.01s`, 'invalid-value');
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
  if (vips.length > 255) c.global(`(${t.name}) more than 255 virtual addresses - use virtual_ipaddress_excluded`, 'semantic', 'error', where, 'virtual_ipaddress');


  let promoteSecondaries = t.promoteSecondaries;
  if (t.useVmac && promoteSecondaries) {
    // measured (2.2.7): said and ignored (exit 5); a VMAC gets it anyway
    c.report(at('promote_secondaries'), `(${t.name}) promote_secondaries is automatically set for vmacs - ignoring`, 'semantic', 'warning');
    promoteSecondaries = false;
  }
  let vmacXmitBase = t.vmacXmitBase;
  if (t.useVmac && t.unicastPeers.length > 0 && !t.vmacXmitBase) {
    c.global(`(${t.name}) unicast with use_vmac requires vmac_xmit_base - setting`, 'semantic', 'error', { file: t.file, line: t.node.endLine }, 'use_vmac');
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
    c.diags.push({ severity: 'warning', category: 'semantic', file: r.file, line: r.line, column: 0, keyword: 'virtual_routes', message: `Warning - cannot track route ${r.destination!.address}/${r.destination!.prefixLength} with no interface specified, not tracking` });
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
      c.global(`(${t.name}): Cannot use unicast_ttl without unicast peers - resetting`, 'semantic', 'warning', { file: t.file, line: t.node.endLine }, 'unicast_ttl');
      unicastTtl = undefined;
    }
    t.unicastTtl = unicastTtl;
    if (t.set.has('unicast_src_ip') || t.checkUnicastSrc || t.unicastPeerSeen) {
      c.global(`(${t.name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.`, 'semantic', 'warning', where, 'unicast_peer');
    }
  }
  for (const p of t.unicastPeers) {
    if (p.family === family) continue;
    const pn = t.unicastPeerNodes.get(p);
    c.global(`Configuration error: VRRP instance[${t.name}] and unicast peer address[${p.address}] MUST be of the same family !!! Skipping...`, 'semantic', 'error', pn ?? where, 'unicast_peer');
  }
  if (t.sourceIp && t.sourceIp.family !== family) {
    c.global(`(${t.name}) source address ${t.sourceIp.address} family does not match the instance - ignoring`, 'semantic', 'error', where, 'unicast_src_ip');
  }

  // names of tracked objects must exist
  checkTrackNames(t.name, t.trackScripts, t.trackFiles, t.trackProcesses, t.trackBfds, d, c);
  // a priority-255 instance cannot have its priority changed by tracking
  if (priority === VRRP_PRIO_OWNER) {
    for (const l of [t.trackScripts, t.trackFiles, t.trackProcesses]) {
      for (const x of l) {
        if ((x.weight ?? 0) !== 0) c.report(x.node, `(${t.name}) tracking weight ${x.weight} ignored for address owner (priority 255)`, 'semantic', 'warning');
      }
    }
  }

  // interfaces
  if (t.interface) {
    checkInterfaces([t.interface], { file: at('interface').file, line: at('interface').line }, c, opts, (i) => `WARNING - interface ${i} for vrrp_instance ${t.name} doesn't exist`);
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

  const mcastDstIp = t.mcastDstIp && t.mcastDstIp.family === family ? t.mcastDstIp : family === 'inet' ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6;
  const garpMasterDelayS = t.garpMasterDelayS ?? g.vrrpGarpMasterDelayS;
  const inst: VrrpInstance = {
    name: t.name,
    file: t.file,
    line: t.line,
    state,
    ...(t.interface !== undefined ? { interface: t.interface } : {}),
    ...(t.vrf !== undefined ? { vrf: t.vrf } : {}),
    virtualRouterId: t.virtualRouterId,
    priority,
    advertIntervalCs: advertCs,
    version,
    family,
    preempt,
    preemptDelayMs: t.preemptDelayMs ?? 0,
    accept,
    strictMode: strict,
    ...(t.useVmac ? { useVmac: t.useVmac } : {}),
    useVmacAddr: t.useVmacAddr,
    vmacXmitBase,
    ...(t.useIpvlan ? { useIpvlan: t.useIpvlan } : {}),
    nativeIpv6: t.nativeIpv6,
    dontTrackPrimary: t.dontTrackPrimary,
    trackInterfaces,
    trackScripts: strip(t.trackScripts),
    trackFiles: strip(t.trackFiles),
    trackProcesses: strip(t.trackProcesses),
    trackBfds: strip(t.trackBfds),
    ...(t.sourceIp && t.sourceIp.family === family ? { sourceIp: t.sourceIp } : {}),
    mcastDstIp,
    trackSrcIp: t.trackSrcIp,
    checkUnicastSrc: t.checkUnicastSrc ?? g.vrrpCheckUnicastSrc,
    unicastPeers: t.unicastPeers.filter((p) => p.family === family),
    unicastFaultNoPeer: t.unicastFaultNoPeer,
    unicastTtl: t.unicastTtl ?? 255,
    ...(t.oldUnicastChecksum ? { oldUnicastChecksum: t.oldUnicastChecksum } : {}),
    garpMasterDelayS,
    garpMasterRepeat: t.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpLowerPrioDelayS: t.garpLowerPrioDelayS ?? g.vrrpGarpLowerPrioDelayS ?? garpMasterDelayS,
    garpLowerPrioRepeat: t.garpLowerPrioRepeat ?? g.vrrpGarpLowerPrioRepeat ?? t.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpMasterRefreshS: t.garpMasterRefreshS ?? g.vrrpGarpMasterRefreshS,
    garpMasterRefreshRepeat: t.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
    ...(t.garpExtraIf ? { garpExtraIf: t.garpExtraIf } : {}),
    downTimerAdverts: t.downTimerAdverts ?? g.vrrpDownTimerAdverts,
    lowerPrioNoAdvert: t.lowerPrioNoAdvert ?? g.vrrpLowerPrioNoAdvert,
    higherPrioSendAdvert: t.higherPrioSendAdvert ?? g.vrrpHigherPrioSendAdvert,
    skipCheckAdvAddr: t.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr,
    ...(authentication ? { authentication: { authType: authentication.authType!, authPass: authentication.authPass ?? '' } } : {}),
    virtualIpAddresses: vips,
    virtualIpAddressesExcluded: t.virtualIpAddressesExcluded,
    virtualRoutes,
    virtualRules: t.virtualRules,
    promoteSecondaries,
    ...(t.notifyMaster ? { notifyMaster: t.notifyMaster } : {}),
    ...(t.notifyBackup ? { notifyBackup: t.notifyBackup } : {}),
    ...(t.notifyFault ? { notifyFault: t.notifyFault } : {}),
    ...(t.notifyStop ? { notifyStop: t.notifyStop } : {}),
    ...(t.notifyDeleted ? { notifyDeleted: t.notifyDeleted } : {}),
    ...(t.notify ? { notify: t.notify } : {}),
    ...(t.notifyMasterRxLowerPri ? { notifyMasterRxLowerPri: t.notifyMasterRxLowerPri } : {}),
    notifyPriorityChanges: t.notifyPriorityChanges ?? g.vrrpNotifyPriorityChanges,
    smtpAlert: t.smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false,
    debug: t.debug,
    ...(t.kernelRxBufSize !== undefined ? { kernelRxBufSize: t.kernelRxBufSize } : {}),
    linkbeatUsePolling: t.linkbeatUsePolling,
  };
  return inst;
}
