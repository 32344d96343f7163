// global_defs (and the daemon keywords keepalived reads before it, at the top level): each
// keyword's parser, range and default.
import type { IpAddress, GlobalDefs, ScriptCommand } from '../model.js';
import type { ConfigDraft } from '../build.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, makeScript } from '../values.js';
import { listWords, needChildren, type Table, walk } from './common.js';

export interface GlobalDraft {
  vals: Record<string, unknown>;
  other: Record<string, string[]>;
  nodes: Map<string, ConfigNode>;
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

const V4_GROUP: IpAddress = { family: 'inet', address: '224.0.0.18', prefixLength: 32 };
const V6_GROUP: IpAddress = { family: 'inet6', address: 'ff02::12', prefixLength: 128 };

export function finishGlobal(gd: GlobalDraft): GlobalDefs {
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


// ---------------------------------------------------------------- top-level blocks

export const GLOBAL_BLOCKS: Table<ConfigDraft> = {
  global_defs: (n, d, c) => {
    if (needChildren(n, c)) walk(n.children, GLOBAL_DEFS_BLOCK, d.global, c);
  },
  ...Object.fromEntries(
    TOP_LEVEL_ONLY.map((k) => [
      k,
      (n: ConfigNode, d: ConfigDraft, c: Ctx) => GLOBAL_DEFS[k]!(n, d.global, c),
    ]),
  ),
};
