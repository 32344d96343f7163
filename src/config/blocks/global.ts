// global_defs (and the daemon keywords keepalived reads before it, at the top level): each
// keyword's parser, range and default.
import type { GlobalDefs, IpAddress, ScriptCommand } from '../model.js';
import type { ConfigDraft } from '../build.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, makeScript } from '../values.js';
import { listWords, needChildren, type Table, walk } from './common.js';
import { KEEPALIVED_GARP_DEFAULTS } from '../../vrrp/defaults.js';

export interface GlobalDraft {
  /** the values set so far, by model field (defaults come in finishGlobal) */
  vals: { -readonly [F in Field]?: GlobalDefs[F] };
  other: Record<string, string[]>;
  /** keyword -> its line (diagnostics name it) */
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

/** the typed fields of GlobalDefs (every keyword but the ones kept raw in `other`) */
type Field = Exclude<keyof GlobalDefs, 'other'>;
/** a keyword's parser: its value, or undefined when invalid (reported) or absent */
type Parse<V> = (n: ConfigNode, c: Ctx, vals: GlobalDraft['vals']) => V | undefined;
/**
 * One global_defs keyword: the model field it sets, its parser (with its range) and the default
 * the model holds when the keyword is absent (none: the field stays unset). A misspelt field,
 * a parser of the wrong type or a default of the wrong type does not compile.
 */
type GlobalKeyword = { [F in Field]: { readonly field: F; readonly parse: Parse<GlobalDefs[F]>; readonly default?: GlobalDefs[F] } }[Field];

// parsers by value kind; each reports an invalid value where keepalived does
const str: Parse<string> = (n, c) => c.need(n, 0);
const bool: Parse<boolean> = (n, c) => c.bool(n);
/** present = on (the keyword takes no value) */
const flag: Parse<boolean> = () => true;
const int =
  (min: number, max: number): Parse<number> =>
  (n, c) => {
    const v = c.int(n, 0, min, max);
    if (v === undefined && n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
    return v;
  };
const uint =
  (max: number): Parse<number> =>
  (n, c) => {
    const v = c.uint(n, 0, 0, max);
    if (v === undefined && n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
    return v;
  };
// vrrp_/checker_ priority, rt_priority, rlimit_rttime: keepalived 2.2.7's messages and verdicts
// (measured: an invalid or missing value is an error, exit 5 of -t; an RT priority out of 1..99
// is clamped with a word; rlimit_rttime without its value aborts like any missing parameter)
const nice =
  (proc: 'vrrp' | 'checker'): Parse<number> =>
  (n, c) => {
    const s = n.args[0];
    if (s === undefined) {
      c.report(n, `No ${proc} process priority specified`);
      return undefined;
    }
    const v = c.intText(n, s, -20, 19, 0);
    if (v === undefined) c.report(n, `Invalid ${proc} process priority specified`);
    return v;
  };
const rtPriority =
  (proc: 'vrrp' | 'checker'): Parse<number> =>
  (n, c) => {
    const s = n.args[0];
    if (s === undefined) {
      c.report(n, `No ${proc} process real-time priority specified`);
      return undefined;
    }
    const v = c.intText(n, s, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
    if (v === undefined) {
      c.report(n, `${proc} process real-time priority '${s}' invalid`);
      return undefined;
    }
    if (v < 1 || v > 99) {
      c.report(
        n,
        `${proc} process real-time priority ${v} ${v < 1 ? 'less than minimum 1' : 'greater than maximum 99'} - setting to ${v < 1 ? 'minimum' : 'maximum'}`,
      );
      return v < 1 ? 1 : 99;
    }
    return v;
  };
const rttime =
  (proc: 'vrrp' | 'checker'): Parse<number> =>
  (n, c) => {
    const v = c.uint(n, 0, 1, 0xffffffff);
    if (v === undefined && n.args[0] !== undefined) c.report(n, `Invalid ${proc} real-time limit - ${n.args[0]}`);
    return v;
  };
/** seconds with decimals, in ms */
const timerMs =
  (maxS: number, sayInvalid = false): Parse<number> =>
  (n, c) => {
    const v = c.timerMs(n, 0, 0, maxS);
    if (v === undefined && sayInvalid && n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' is invalid`, 'invalid-value');
    return v;
  };
const script: Parse<ScriptCommand> = (n, c) => c.script(n);
/** FIFO [username [groupname]]: a file, not a script */
const fifo: Parse<ScriptCommand> = (n, c) => {
  const s = c.need(n, 0);
  return s === undefined ? undefined : makeScript(s, n.args[1], n.args[2]);
};
// keepalived checks these two itself: no script is an ordinary error (measured: exit 5, not 2)
const scriptOrSay =
  (missing: string): Parse<ScriptCommand> =>
  (n, c) => {
    if (n.args.length > 0) return c.script(n);
    c.report(n, missing, 'semantic');
    return undefined;
  };
const mcastGroup =
  (family: 'inet' | 'inet6', isGroup: RegExp): Parse<IpAddress> =>
  (n, c) => {
    const a = c.addr(n, 0, false);
    if (a && a.family === family && isGroup.test(a.address)) return a;
    if (a) c.report(n, `${n.keyword} [${a.address}] is not multicast. Skipping`, 'invalid-value');
    return undefined;
  };

/** global_defs, keyword by keyword: the model field, the parser with its range, the default. */
const GLOBAL_KEYWORDS = {
  router_id: {
    field: 'routerId',
    parse: (n, c) => {
      if (n.args[0] === undefined) c.report(n, `routerid name missing - ignoring`, 'semantic'); // its own handler: exit 5, not 2
      return n.args[0];
    },
  },
  notification_email: {
    field: 'notificationEmail',
    parse: (n, c, vals) => {
      const words = listWords(n, c);
      // keepalived names the block's closing line (measured: exit 5)
      if (n.children && words.length === 0)
        c.global(
          'Warning - empty notification_email block',
          'semantic',
          'warning',
          { file: n.file, line: n.endLine },
          'notification_email',
        );
      return [...(vals.notificationEmail ?? []), ...words];
    },
    default: [],
  },
  notification_email_from: {
    field: 'notificationEmailFrom',
    parse: (n, c) => {
      if (n.args[0] === undefined) c.report(n, `emailfrom missing - ignoring`, 'semantic');
      return n.args[0];
    },
  },
  smtp_server: {
    field: 'smtpServer',
    parse: (n, c) => {
      const h = c.need(n, 0);
      if (h === undefined) return undefined;
      const port = n.args[1] === undefined ? 25 : c.int(n, 1, 1, 65535);
      if (port !== undefined) return { host: h, port };
      c.report(n, `Invalid smtp server ${n.args.join(' ')}`, 'invalid-value');
      return undefined;
    },
  },
  smtp_helo_name: { field: 'smtpHeloName', parse: str },
  smtp_connect_timeout: { field: 'smtpConnectTimeoutS', parse: int(1, 0x7fffffff), default: 30 },
  smtp_alert: { field: 'smtpAlert', parse: bool },
  smtp_alert_vrrp: { field: 'smtpAlertVrrp', parse: bool },
  smtp_alert_checker: { field: 'smtpAlertChecker', parse: bool },
  enable_script_security: { field: 'enableScriptSecurity', parse: flag, default: false },
  script_user: {
    field: 'scriptUser',
    parse: (n, c) => {
      const u = c.need(n, 0);
      if (u === undefined) return undefined;
      return n.args[1] !== undefined ? { user: u, group: n.args[1] } : { user: u };
    },
  },
  vrrp_strict: { field: 'vrrpStrict', parse: flag, default: false },
  vrrp_version: {
    field: 'vrrpVersion',
    parse: (n, c) => {
      const v = c.int(n, 0, 2, 3);
      if (v === undefined && n.args[0] !== undefined) c.report(n, `VRRP Error: Version must be either 2 or 3`, 'invalid-value');
      return v as 2 | 3 | undefined;
    },
    default: 2,
  },
  vrrp_mcast_group4: {
    field: 'vrrpMcastGroup4',
    parse: mcastGroup('inet', /^(22[4-9]|23\d)\./),
    default: { family: 'inet', address: '224.0.0.18', prefixLength: 32 },
  },
  vrrp_mcast_group6: {
    field: 'vrrpMcastGroup6',
    parse: mcastGroup('inet6', /^ff/i),
    default: { family: 'inet6', address: 'ff02::12', prefixLength: 128 },
  },
  // delays in seconds: [0, 4294] (measured: 1000 accepted, 5000 refused); repeats: unsigned
  vrrp_garp_master_delay: { field: 'vrrpGarpMasterDelayS', parse: uint(4294), default: KEEPALIVED_GARP_DEFAULTS.garpMasterDelayMs / 1000 },
  vrrp_garp_master_repeat: {
    field: 'vrrpGarpMasterRepeat',
    parse: (n, c) => {
      const v = c.uint(n, 0, 0, 0xffffffff);
      if (v === undefined) {
        if (n.args[0] !== undefined) c.report(n, `${n.keyword} '${n.args[0]}' invalid - ignoring`, 'invalid-value');
        return undefined;
      }
      if (v > 0) return v;
      c.report(n, `${n.keyword} must be greater than 0, setting to 1`, 'invalid-value');
      return 1;
    },
    default: KEEPALIVED_GARP_DEFAULTS.garpMasterRepeat,
  },
  // without them, an instance uses its garp_master_delay / garp_master_repeat
  vrrp_garp_lower_prio_delay: { field: 'vrrpGarpLowerPrioDelayS', parse: uint(4294) },
  vrrp_garp_lower_prio_repeat: {
    field: 'vrrpGarpLowerPrioRepeat',
    parse: (n, c) => {
      const v = c.uint(n, 0, 0, 0xffffffff);
      if (v === undefined && n.args[0] !== undefined) c.report(n, `Invalid ${n.keyword} '${n.args[0]}'`, 'invalid-value');
      return v;
    },
  },
  vrrp_garp_master_refresh: {
    field: 'vrrpGarpMasterRefreshS',
    parse: int(0, 0x7fffffff),
    default: KEEPALIVED_GARP_DEFAULTS.garpMasterRefreshMs / 1000,
  },
  vrrp_garp_master_refresh_repeat: {
    field: 'vrrpGarpMasterRefreshRepeat',
    parse: int(1, 255),
    default: KEEPALIVED_GARP_DEFAULTS.garpMasterRefreshRepeat,
  },
  // measured (2.2.7): any interval up to 4294.967295 s is accepted without a word
  vrrp_garp_interval: { field: 'vrrpGarpIntervalMs', parse: timerMs(4294.967295, true), default: 0 },
  vrrp_gna_interval: { field: 'vrrpGnaIntervalMs', parse: timerMs(4294.967295, true), default: 0 },
  vrrp_min_garp: { field: 'vrrpMinGarp', parse: bool, default: false },
  vrrp_lower_prio_no_advert: { field: 'vrrpLowerPrioNoAdvert', parse: bool, default: false },
  vrrp_higher_prio_send_advert: { field: 'vrrpHigherPrioSendAdvert', parse: bool, default: false },
  vrrp_skip_check_adv_addr: { field: 'vrrpSkipCheckAdvAddr', parse: bool, default: false },
  vrrp_check_unicast_src: { field: 'vrrpCheckUnicastSrc', parse: flag, default: false },
  vrrp_down_timer_adverts: { field: 'vrrpDownTimerAdverts', parse: int(1, 100), default: 3 },
  vrrp_startup_delay: { field: 'vrrpStartupDelayMs', parse: timerMs(180), default: 0 },
  vrrp_notify_priority_changes: { field: 'vrrpNotifyPriorityChanges', parse: bool, default: false },
  default_interface: { field: 'defaultInterface', parse: str, default: 'eth0' },
  dynamic_interfaces: { field: 'dynamicInterfaces', parse: flag, default: false },
  notify_fifo: { field: 'notifyFifo', parse: fifo },
  vrrp_notify_fifo: { field: 'vrrpNotifyFifo', parse: fifo },
  lvs_notify_fifo: { field: 'lvsNotifyFifo', parse: fifo },
  notify_fifo_script: { field: 'notifyFifoScript', parse: script },
  vrrp_notify_fifo_script: { field: 'vrrpNotifyFifoScript', parse: script },
  lvs_notify_fifo_script: { field: 'lvsNotifyFifoScript', parse: script },
  startup_script: { field: 'startupScript', parse: scriptOrSay('startup script missing') },
  shutdown_script: { field: 'shutdownScript', parse: scriptOrSay('shutdown script missing') },
  startup_script_timeout: { field: 'startupScriptTimeoutS', parse: int(1, 1000), default: 10 },
  shutdown_script_timeout: { field: 'shutdownScriptTimeoutS', parse: int(1, 1000), default: 10 },
  max_auto_priority: { field: 'maxAutoPriority', parse: (n, c) => (n.args[0] === undefined ? 99 : c.int(n, 0, -1, 99)) },
  net_namespace: { field: 'netNamespace', parse: str },
  instance: { field: 'instance', parse: str },
  vmac_prefix: { field: 'vmacPrefix', parse: str, default: 'vrrp' },
  random_seed: { field: 'randomSeed', parse: int(0, 0xffffffff) },
  // process scheduling (src/daemon/sched.ts applies them), with keepalived 2.2.7's words
  vrrp_priority: { field: 'vrrpProcessPriority', parse: nice('vrrp') },
  checker_priority: { field: 'checkerProcessPriority', parse: nice('checker') },
  vrrp_rt_priority: { field: 'vrrpRtPriority', parse: rtPriority('vrrp') },
  checker_rt_priority: { field: 'checkerRtPriority', parse: rtPriority('checker') },
  vrrp_rlimit_rttime: { field: 'vrrpRlimitRttimeUs', parse: rttime('vrrp') },
  checker_rlimit_rttime: { field: 'checkerRlimitRttimeUs', parse: rttime('checker') },
  // keepalived-ts extensions (keepalived itself warns "Unknown keyword" on them): what the
  // --status-listen and --watch-config flags say, carried by the configuration
  keepalived_ts_status_listen: {
    field: 'statusListen',
    parse: (n, c) => {
      const s = c.need(n, 0);
      if (s === undefined || isListenSpec(s)) return s;
      c.report(
        n,
        `keepalived_ts_status_listen '${s}' invalid: expected HOST:PORT, [IPV6]:PORT or :PORT (port 1-65535) - ignoring`,
        'invalid-value',
        'error',
        0,
      );
      return undefined;
    },
  },
  keepalived_ts_watch_config: { field: 'watchConfig', parse: bool, default: false },
} satisfies Record<string, GlobalKeyword>;

// Every field the model requires has its default in the table: a required field added to
// GlobalDefs without one, or a default dropped, does not compile.
type Table_ = typeof GLOBAL_KEYWORDS;
type Defaulted = { [K in keyof Table_]: Table_[K] extends { default: unknown } ? Table_[K]['field'] : never }[keyof Table_];
type RequiredField = { [F in Field]-?: undefined extends GlobalDefs[F] ? never : F }[Field];
const allDefaulted: [Exclude<RequiredField, Defaulted>] extends [never] ? true : Exclude<RequiredField, Defaulted> = true;
void allDefaulted;

const KEYWORDS: readonly [string, GlobalKeyword][] = Object.entries(GLOBAL_KEYWORDS);

/** global_defs keywords kept as written in GlobalDefs.other (keepalived knows them; runtime may not). */
const GLOBAL_OTHER = [
  'bfd_cpu_affinity',
  'bfd_no_swap',
  'bfd_priority',
  'bfd_process_name',
  'bfd_rlimit_rttime',
  'bfd_rt_priority',
  'checker_cpu_affinity',
  'checker_log_all_failures',
  'checker_no_swap',
  'checker_process_name',
  'child_wait_time',
  'config_save_dir',
  'data_use_instance',
  'dbus_service_name',
  'disable_local_igmp',
  'enable_dbus',
  'enable_snmp_checker',
  'enable_snmp_rfc',
  'enable_snmp_rfcv2',
  'enable_snmp_rfcv3',
  'enable_snmp_vrrp',
  'enable_snmp_keepalived',
  'enable_traps',
  'fifo_write_vrrp_states_on_reload',
  'linkbeat_use_polling',
  'log_unknown_vrids',
  'lvs_flush',
  'lvs_flush_on_stop',
  'lvs_netlink_cmd_rcv_bufs',
  'lvs_netlink_cmd_rcv_bufs_force',
  'lvs_netlink_monitor_rcv_bufs',
  'lvs_netlink_monitor_rcv_bufs_force',
  'lvs_sync_daemon',
  'lvs_timeouts',
  'min_auto_priority_delay',
  'namespace_with_ipsets',
  'net_namespace_ipvs',
  'nftables',
  'nftables_counters',
  'nftables_ifindex',
  'nftables_ipvs',
  'nftables_ipvs_priority',
  'nftables_ipvs_start_fwmark',
  'nftables_priority',
  'no_checker_emails',
  'no_email_faults',
  'process_monitor_rcv_bufs',
  'process_monitor_rcv_bufs_force',
  'process_name',
  'process_names',
  'reload_check_config',
  'reload_file',
  'reload_repeat',
  'reload_time_file',
  'rs_init_notifies',
  'snmp_socket',
  'tmp_config_directory',
  'umask',
  'use_pid_dir',
  'vmac_addr_prefix',
  'vrrp_cpu_affinity',
  'vrrp_garp_extra_if',
  'vrrp_ipsets',
  'vrrp_iptables',
  'vrrp_netlink_cmd_rcv_bufs',
  'vrrp_netlink_cmd_rcv_bufs_force',
  'vrrp_netlink_monitor_rcv_bufs',
  'vrrp_netlink_monitor_rcv_bufs_force',
  'vrrp_no_swap',
  'vrrp_process_name',
  'vrrp_rx_bufs_multiplier',
  'vrrp_rx_bufs_policy',
  'lvs_id',
  'lvs_sync_daemon_interface',
  'script_security',
];

const GLOBAL_DEFS: Table<GlobalDraft> = {
  ...Object.fromEntries(
    KEYWORDS.map(([k, e]) => [
      k,
      (n: ConfigNode, g: GlobalDraft, c: Ctx) => {
        const v = e.parse(n, c, g.vals);
        if (v === undefined) return;
        (g.vals as Record<Field, unknown>)[e.field] = v;
        g.nodes.set(n.keyword, n);
      },
    ]),
  ),
  ...Object.fromEntries(
    GLOBAL_OTHER.map((k) => [
      k,
      (n: ConfigNode, g: GlobalDraft) => {
        g.other[k] = [...n.args];
        g.nodes.set(k, n);
      },
    ]),
  ),
};

// Daemon facilities keepalived 2.2.7 reads only outside global_defs (man page: "before
// global_defs"): inside it, they are unknown keywords (measured: exit 5).
const TOP_LEVEL_ONLY = [
  'net_namespace',
  'net_namespace_ipvs',
  'namespace_with_ipsets',
  'instance',
  'use_pid_dir',
  'linkbeat_use_polling',
  'child_wait_time',
];
// Keywords of other keepalived versions that 2.2.7 does not know in global_defs (measured).
const NOT_IN_GLOBAL_DEFS = new Set([...TOP_LEVEL_ONLY, 'lvs_id']);
const GLOBAL_DEFS_BLOCK: Table<GlobalDraft> = {
  ...Object.fromEntries(Object.entries(GLOBAL_DEFS).filter(([k]) => !NOT_IN_GLOBAL_DEFS.has(k))),
  // Debian's 2.2.7 is built with nftables only: it says so and uses nftables (exit 5)
  ...Object.fromEntries(
    ['vrrp_iptables', 'vrrp_ipsets'].map((k) => [
      k,
      (n: ConfigNode, g: GlobalDraft, c: Ctx) => {
        c.report(
          n,
          `iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option`,
          'invalid-value',
          'warning',
        );
        GLOBAL_DEFS[k]!(n, g, c);
      },
    ]),
  ),
};

/** The model's global_defs: each keyword's value, else its default from GLOBAL_KEYWORDS. */
export function finishGlobal(gd: GlobalDraft): GlobalDefs {
  const out: Record<string, unknown> = {};
  for (const [, e] of KEYWORDS) {
    const v = gd.vals[e.field] ?? e.default;
    if (v !== undefined) out[e.field] = v;
  }
  out['other'] = gd.other;
  return out as unknown as GlobalDefs;
}

// ---------------------------------------------------------------- top-level blocks

export const GLOBAL_BLOCKS: Table<ConfigDraft> = {
  global_defs: (n, d, c) => {
    if (needChildren(n, c)) walk(n.children, GLOBAL_DEFS_BLOCK, d.global, c);
  },
  ...Object.fromEntries(TOP_LEVEL_ONLY.map((k) => [k, (n: ConfigNode, d: ConfigDraft, c: Ctx) => GLOBAL_DEFS[k]!(n, d.global, c)])),
};
