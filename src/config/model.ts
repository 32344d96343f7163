// The typed configuration model: the only contract between the config language and the runtime.
// Every field names its keepalived.conf keyword; keepalived 2.2.7 defaults are applied
// (instance values inherit the global_defs vrrp_* values as keepalived does). Durations are
// normalised and carry their unit in the field name (Cs = centiseconds, Ms = milliseconds).

import type { VrrpCoreConfig } from '../vrrp/core.js';

export type AddressFamily = 'inet' | 'inet6';

/** A parsed address, e.g. "192.0.2.1/24" -> {family:'inet', address:'192.0.2.1', prefixLength:24} */
export interface IpAddress {
  readonly family: AddressFamily;
  /** canonical text form (IPv6 compressed, lower case) */
  readonly address: string;
  /** /MASK, or 32 / 128 when absent */
  readonly prefixLength: number;
}

/** Where an item was written, for runtime messages. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** A script command: `notify_master "/path/x.sh arg" [username [groupname]]` */
export interface ScriptCommand {
  /** the command line as written (after unquoting) */
  readonly command: string;
  /** command split into argv by keepalived's rules (src/util/command-line.ts); [] when it cannot be split */
  readonly argv: readonly string[];
  /** username (else global script_user) */
  readonly user?: string;
  /** groupname (else the user's group) */
  readonly group?: string;
}

/** virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress entry */
export interface VirtualIpAddress extends IpAddress, SourceRef {
  /** brd <IPADDR> ('-' / '+' clear or set host bits, kept as written) */
  readonly broadcast?: string;
  /** dev <STRING> */
  readonly dev?: string;
  /** scope <SCOPE>: site|link|host|nowhere|global */
  readonly scope?: string;
  /** label <LABEL> */
  readonly label?: string;
  /** peer <IPADDR> */
  readonly peer?: IpAddress;
  /** home */
  readonly home: boolean;
  /** -nodad */
  readonly noDad: boolean;
  /** mngtmpaddr */
  readonly mngTmpAddr: boolean;
  /** noprefixroute */
  readonly noPrefixRoute: boolean;
  /** autojoin */
  readonly autoJoin: boolean;
  /** no_track */
  readonly noTrack: boolean;
  /** use_vmac (per address) */
  readonly useVmac: boolean;
  /** preferred_lft nn|forever (seconds); IPv6 /128 default 0 */
  readonly preferredLft?: number | 'forever';
  /** track_group GROUP (static addresses only) */
  readonly trackGroup?: string;
}

/** virtual_routes / static_routes entry (ip route syntax) */
export interface RouteSpec extends SourceRef {
  readonly family: AddressFamily;
  /** route type when given first: blackhole, unreachable, prohibit, throw, ... (default unicast) */
  readonly type: string;
  /** destination [to] ADDR/MASK */
  readonly destination?: IpAddress;
  /** src ADDR */
  readonly src?: IpAddress;
  /** via|gw ADDR */
  readonly via?: IpAddress;
  /** or ADDR (alternative gateway) */
  readonly or?: IpAddress;
  /** dev STRING */
  readonly dev?: string;
  /** table N|NAME */
  readonly table?: string;
  /** metric|priority|preference N */
  readonly metric?: number;
  /** no_track */
  readonly noTrack: boolean;
  /** track_group GROUP */
  readonly trackGroup?: string;
  /** every other option as written, e.g. {scope:'link', mtu:'1000'} */
  readonly options: Readonly<Record<string, string>>;
  /** the entry's words as written */
  readonly raw: readonly string[];
}

/** virtual_rules / static_rules entry (ip rule syntax) */
export interface RuleSpec extends SourceRef {
  readonly family: AddressFamily;
  /** from ADDR/MASK */
  readonly from?: IpAddress;
  /** to ADDR/MASK */
  readonly to?: IpAddress;
  /** table N|NAME */
  readonly table?: string;
  /** preference|priority|order N (keepalived assigns 16384, 16383, ... when absent) */
  readonly preference: number;
  /** no_track */
  readonly noTrack: boolean;
  /** track_group GROUP */
  readonly trackGroup?: string;
  readonly options: Readonly<Record<string, string>>;
  readonly raw: readonly string[];
}

/** track_interface entry: `eth0 [weight N [reverse]]` */
export interface TrackedInterface {
  readonly name: string;
  /** weight (default 0: interface down means FAULT) */
  readonly weight: number;
  /** reverse */
  readonly reverse: boolean;
}

/** track_script / track_file / track_process / track_bfd entry: `NAME [weight N [reverse|noreverse]]` */
export interface TrackedObject {
  readonly name: string;
  /** weight; undefined: use the weight of the tracked object's own definition */
  readonly weight?: number;
  /** reverse (undefined: use the definition's) */
  readonly reverse?: boolean;
}

/** unicast_peer entry */
export interface UnicastPeer extends IpAddress {
  /** min_ttl {0..255} */
  readonly minTtl?: number;
  /** max_ttl {0..255} */
  readonly maxTtl?: number;
}

/** authentication { auth_type PASS|AH; auth_pass X } */
export interface Authentication {
  /** auth_type */
  readonly authType: 'PASS' | 'AH';
  /** auth_pass (first 8 characters only, as keepalived) */
  readonly authPass: string;
}

export type VrrpState = 'MASTER' | 'BACKUP';

/**
 * The instance settings the sans-I/O VRRP core (vrrp/core.ts VrrpCoreConfig) takes as they are:
 * the model holds them in the core's own names and units (ms, cs), so daemon/map.ts hands them
 * over unread and a keyword's trace is keyword -> blocks/vrrp-instance.ts -> here -> the core.
 */
export const CORE_SETTINGS = [
  'priority',
  'advertIntervalCs',
  'preempt',
  'preemptDelayMs',
  'garpMasterDelayMs',
  'garpMasterRepeat',
  'garpMasterRefreshMs',
  'garpMasterRefreshRepeat',
  'garpLowerPrioDelayMs',
  'garpLowerPrioRepeat',
  'lowerPrioNoAdvert',
  'higherPrioSendAdvert',
  'downTimerAdverts',
] as const satisfies readonly (keyof VrrpCoreConfig)[];
export type CoreSettings = Pick<VrrpCoreConfig, (typeof CORE_SETTINGS)[number]>;

/** vrrp_instance NAME { ... } (the CoreSettings fields go to the VRRP core unchanged) */
export interface VrrpInstance extends SourceRef, CoreSettings {
  /** vrrp_instance NAME */
  readonly name: string;
  /** state MASTER|BACKUP (default BACKUP); MASTER also needs priority 255 to skip the wait */
  readonly state: VrrpState;
  /** interface (may be absent with unicast) */
  readonly interface?: string;
  /** vrf */
  readonly vrf?: string;
  /** virtual_router_id 1..255 */
  readonly virtualRouterId: number;
  /** priority 1..255 (default 100) */
  readonly priority: number;
  /** advert_int, in centiseconds (default 100); v2 whole seconds, v3 < 4096 */
  readonly advertIntervalCs: number;
  /** version 2|3 (default global vrrp_version, 2; IPv6 instances always 3) */
  readonly version: 2 | 3;
  /** address family of the instance, from its virtual_ipaddress (native_ipv6 forces inet6) */
  readonly family: AddressFamily;
  /** nopreempt inverted; preempt (default true) */
  readonly preempt: boolean;
  /** preempt_delay, ms (0..1000 s, default 0) */
  readonly preemptDelayMs: number;
  /** accept / no_accept (default accept unless strict mode) */
  readonly accept: boolean;
  /** strict_mode (default global vrrp_strict) */
  readonly strictMode: boolean;
  /** use_vmac [NAME] [MAC] */
  readonly useVmac?: { readonly interfaceName?: string; readonly macAddress?: string };
  /** use_vmac_addr */
  readonly useVmacAddr: boolean;
  /** vmac_xmit_base */
  readonly vmacXmitBase: boolean;
  /** use_ipvlan [NAME] [ADDR] [bridge|private|vepa] */
  readonly useIpvlan?: { readonly interfaceName?: string; readonly address?: IpAddress; readonly mode: 'bridge' | 'private' | 'vepa' };
  /** native_ipv6 */
  readonly nativeIpv6: boolean;
  /** dont_track_primary */
  readonly dontTrackPrimary: boolean;
  /** track_interface { } */
  readonly trackInterfaces: readonly TrackedInterface[];
  /** track_script { } */
  readonly trackScripts: readonly TrackedObject[];
  /** track_file { } */
  readonly trackFiles: readonly TrackedObject[];
  /** track_process { } */
  readonly trackProcesses: readonly TrackedObject[];
  /** track_bfd { } */
  readonly trackBfds: readonly TrackedObject[];
  /** mcast_src_ip / unicast_src_ip */
  readonly sourceIp?: IpAddress;
  /** mcast_dst_ip (default 224.0.0.18 / ff02::12, or global vrrp_mcast_group4/6) */
  readonly mcastDstIp: IpAddress;
  /** track_src_ip */
  readonly trackSrcIp: boolean;
  /** check_unicast_src (also set by min_ttl/max_ttl, global vrrp_check_unicast_src) */
  readonly checkUnicastSrc: boolean;
  /** unicast_peer { } */
  readonly unicastPeers: readonly UnicastPeer[];
  /** unicast_fault_no_peer */
  readonly unicastFaultNoPeer: boolean;
  /** unicast_ttl 0..255 (default 255) */
  readonly unicastTtl: number;
  /** old_unicast_checksum [never] */
  readonly oldUnicastChecksum?: 'on' | 'never';
  /** garp_master_delay, in ms (written in seconds; default global vrrp_garp_master_delay) */
  readonly garpMasterDelayMs: number;
  /** garp_master_repeat (default global, 5) */
  readonly garpMasterRepeat: number;
  /** garp_lower_prio_delay, in ms (written in seconds; default garp_master_delay) */
  readonly garpLowerPrioDelayMs: number;
  /** garp_lower_prio_repeat (default global vrrp_garp_lower_prio_repeat) */
  readonly garpLowerPrioRepeat: number;
  /** garp_master_refresh, in ms (written in seconds; 0 = off) */
  readonly garpMasterRefreshMs: number;
  /** garp_master_refresh_repeat (default 1) */
  readonly garpMasterRefreshRepeat: number;
  /** garp_extra_if [all] SECS (0 = off) */
  readonly garpExtraIf?: { readonly all: boolean; readonly intervalS: number };
  /** down_timer_adverts 1..100 (default 3) */
  readonly downTimerAdverts: number;
  /** lower_prio_no_advert (default global vrrp_lower_prio_no_advert) */
  readonly lowerPrioNoAdvert: boolean;
  /** higher_prio_send_advert (default global vrrp_higher_prio_send_advert) */
  readonly higherPrioSendAdvert: boolean;
  /** skip_check_adv_addr (default global vrrp_skip_check_adv_addr) */
  readonly skipCheckAdvAddr: boolean;
  /** authentication { } (v2 only) */
  readonly authentication?: Authentication;
  /** virtual_ipaddress { } */
  readonly virtualIpAddresses: readonly VirtualIpAddress[];
  /** virtual_ipaddress_excluded { } */
  readonly virtualIpAddressesExcluded: readonly VirtualIpAddress[];
  /** virtual_routes { } */
  readonly virtualRoutes: readonly RouteSpec[];
  /** virtual_rules { } */
  readonly virtualRules: readonly RuleSpec[];
  /** promote_secondaries */
  readonly promoteSecondaries: boolean;
  /** notify_master */
  readonly notifyMaster?: ScriptCommand;
  /** notify_backup */
  readonly notifyBackup?: ScriptCommand;
  /** notify_fault */
  readonly notifyFault?: ScriptCommand;
  /** notify_stop */
  readonly notifyStop?: ScriptCommand;
  /** notify_deleted [script]: true when given without a script */
  readonly notifyDeleted?: ScriptCommand | true;
  /** notify */
  readonly notify?: ScriptCommand;
  /** notify_master_rx_lower_pri */
  readonly notifyMasterRxLowerPri?: ScriptCommand;
  /** notify_priority_changes (default global vrrp_notify_priority_changes) */
  readonly notifyPriorityChanges: boolean;
  /** smtp_alert (default global smtp_alert_vrrp / smtp_alert) */
  readonly smtpAlert: boolean;
  /** debug 0..4 */
  readonly debug: number;
  /** kernel_rx_buf_size */
  readonly kernelRxBufSize?: number;
  /** linkbeat_use_polling (deprecated here) */
  readonly linkbeatUsePolling: boolean;
  /** name of the vrrp_sync_group containing this instance */
  readonly syncGroup?: string;
}

/** vrrp_script NAME { } */
export interface VrrpScript extends SourceRef {
  readonly name: string;
  /** script */
  readonly script: ScriptCommand;
  /** interval, ms (default 1 s) */
  readonly intervalMs: number;
  /** timeout, ms (default: interval) */
  readonly timeoutMs: number;
  /** weight -253..253 (default 0) */
  readonly weight: number;
  /** weight ... reverse */
  readonly reverse: boolean;
  /** rise (default 1) */
  readonly rise: number;
  /** fall (default 1) */
  readonly fall: number;
  /** init_fail */
  readonly initFail: boolean;
}

/** track_file NAME { } (vrrp_track_file is a deprecated synonym) */
export interface TrackFile extends SourceRef {
  readonly name: string;
  /** keyword `file`: the tracked file's path (named `path` since SourceRef's `file` is the config file) */
  readonly path: string;
  /** weight (default 1) */
  readonly weight: number;
  /** weight ... reverse */
  readonly reverse: boolean;
  /** init_file [VALUE] [overwrite] */
  readonly initFile?: { readonly value: number; readonly overwrite: boolean };
}

/** vrrp_track_process NAME { } */
export interface TrackProcess extends SourceRef {
  readonly name: string;
  /** process NAME [PARAM...] */
  readonly process: string;
  readonly parameters: readonly string[];
  /** param_match initial|partial (exact when parameters given and unset) */
  readonly paramMatch?: 'initial' | 'partial';
  /** weight (default 0) */
  readonly weight: number;
  readonly reverse: boolean;
  /** quorum (default 1) */
  readonly quorum: number;
  /** quorum_max (default unlimited) */
  readonly quorumMax?: number;
  /** fork_delay, ms */
  readonly forkDelayMs: number;
  /** terminate_delay, ms */
  readonly terminateDelayMs: number;
  /** delay, ms (sets fork and terminate delays) */
  readonly delayMs: number;
  /** full_command */
  readonly fullCommand: boolean;
}

/** vrrp_sync_group NAME { } */
export interface VrrpSyncGroup extends SourceRef {
  readonly name: string;
  /** group { } : member instance names */
  readonly group: readonly string[];
  readonly trackInterfaces: readonly TrackedInterface[];
  readonly trackScripts: readonly TrackedObject[];
  readonly trackFiles: readonly TrackedObject[];
  readonly trackProcesses: readonly TrackedObject[];
  readonly trackBfds: readonly TrackedObject[];
  readonly notifyMaster?: ScriptCommand;
  readonly notifyBackup?: ScriptCommand;
  readonly notifyFault?: ScriptCommand;
  readonly notifyStop?: ScriptCommand;
  readonly notifyDeleted?: ScriptCommand | true;
  readonly notify?: ScriptCommand;
  /** notify_priority_changes */
  readonly notifyPriorityChanges: boolean;
  /** smtp_alert */
  readonly smtpAlert: boolean;
  /** global_tracking (deprecated) */
  readonly globalTracking: boolean;
  /** sync_group_tracking_weight */
  readonly syncGroupTrackingWeight: boolean;
}

/** garp_group { } */
export interface GarpGroup extends SourceRef {
  /** garp_interval, ms */
  readonly garpIntervalMs?: number;
  /** gna_interval, ms */
  readonly gnaIntervalMs?: number;
  /** interface / interfaces { } */
  readonly interfaces: readonly string[];
}

/** track_group NAME { group { } } */
export interface TrackGroup extends SourceRef {
  readonly name: string;
  readonly group: readonly string[];
}

/** linkbeat_interfaces entry */
export interface LinkbeatInterface {
  readonly name: string;
  readonly type?: 'MII' | 'ETHTOOL' | 'IOCTL';
}

/** interface_up_down_delays entry */
export interface InterfaceUpDownDelay {
  readonly name: string;
  readonly downDelayMs: number;
  readonly upDelayMs: number;
}

/** bfd_instance NAME { } */
export interface BfdInstance extends SourceRef {
  readonly name: string;
  /** neighbor_ip */
  readonly neighborIp?: IpAddress;
  /** source_ip */
  readonly sourceIp?: IpAddress;
  /** min_rx, ms (default 10) */
  readonly minRxMs: number;
  /** min_tx, ms (default 10) */
  readonly minTxMs: number;
  /** idle_tx, ms (default 1000) */
  readonly idleTxMs: number;
  /** multiplier (default 5) */
  readonly multiplier: number;
  /** passive */
  readonly passive: boolean;
  /** ttl / hoplimit (default 255) */
  readonly ttl: number;
  /** max_hops (default 0) */
  readonly maxHops: number;
  /** vrrp / checker : who is notified (both when neither given) */
  readonly vrrp: boolean;
  readonly checker: boolean;
  /** weight */
  readonly weight: number;
}

/** A health checker in a real_server. */
export interface Checker extends SourceRef {
  /** TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK */
  readonly type: string;
  /** connect_ip */
  readonly connectIp?: IpAddress;
  /** connect_port */
  readonly connectPort?: number;
  /** bindto */
  readonly bindTo?: IpAddress;
  /** bind_port */
  readonly bindPort?: number;
  /** connect_timeout, ms (default 5 s) */
  readonly connectTimeoutMs: number;
  /** retry (default 1; nb_get_retry is the old name) */
  readonly retry: number;
  /** delay_before_retry, ms (default 1 s) */
  readonly delayBeforeRetryMs: number;
  /** delay_loop, ms (default the virtual_server's) */
  readonly delayLoopMs?: number;
  /** warmup, ms */
  readonly warmupMs?: number;
  /** HTTP_GET/SSL_GET url { path, digest, status_code, virtualhost, regex... } */
  readonly urls: readonly Readonly<Record<string, string>>[];
  /** MISC_CHECK misc_path */
  readonly miscPath?: ScriptCommand;
  /** MISC_CHECK misc_timeout, ms */
  readonly miscTimeoutMs?: number;
  /** MISC_CHECK misc_dynamic */
  readonly miscDynamic: boolean;
  /** every other keyword of the checker as written (args joined by a space) */
  readonly options: Readonly<Record<string, string>>;
  /** which of retry/nb_get_retry, delay_before_retry, connect_timeout were written in the block:
   *  the defaults above are TCP_CHECK's, the checkers apply per-type ones otherwise */
  readonly explicit?: readonly string[];
}

/** real_server ADDR PORT { } / sorry_server */
export interface RealServer extends SourceRef {
  readonly address: IpAddress;
  readonly port?: number;
  /** weight (default 1) */
  readonly weight: number;
  /** lvs_method (default the virtual_server's); TUN with its options as written ("TUN type gue port 6080") */
  readonly lvsMethod?: string;
  /** inhibit_on_failure */
  readonly inhibitOnFailure: boolean;
  /** notify_up */
  readonly notifyUp?: ScriptCommand;
  /** notify_down */
  readonly notifyDown?: ScriptCommand;
  /** uthreshold / lthreshold */
  readonly uthreshold?: number;
  readonly lthreshold?: number;
  /** smtp_alert */
  readonly smtpAlert?: boolean;
  /** track_file { } */
  readonly trackFiles: readonly TrackedObject[];
  readonly checkers: readonly Checker[];
  /** delay_loop, alpha, omega, retry, delay_before_retry, warmup, connect_timeout, virtualhost
   *  written in the real_server block: defaults for its checkers, as written */
  readonly checkerDefaults?: Readonly<Record<string, string>>;
}

/** virtual_server ADDR PORT | fwmark N | group NAME { } */
export interface VirtualServer extends SourceRef {
  /** ip:port, fwmark or group, as written */
  readonly kind: 'address' | 'fwmark' | 'group';
  readonly address?: IpAddress;
  readonly port?: number;
  readonly fwmark?: number;
  readonly group?: string;
  /** delay_loop, ms (default 60 s) */
  readonly delayLoopMs: number;
  /** lvs_sched / lb_algo (default wlc) */
  readonly lvsSched: string;
  /** lvs_method / lb_kind NAT|DR|TUN (default NAT); TUN with its options as written ("TUN type gue port 6080 csum") */
  readonly lvsMethod: string;
  /** protocol TCP|UDP|SCTP (keepalived 2.2.7: absent means UDP, reported as an error) */
  readonly protocol: string;
  /** persistence_timeout, s */
  readonly persistenceTimeoutS?: number;
  /** persistence_granularity */
  readonly persistenceGranularity?: string;
  /** quorum (default 1) */
  readonly quorum: number;
  /** hysteresis */
  readonly hysteresis: number;
  /** quorum_up / quorum_down */
  readonly quorumUp?: ScriptCommand;
  readonly quorumDown?: ScriptCommand;
  /** ha_suspend */
  readonly haSuspend: boolean;
  /** virtualhost */
  readonly virtualhost?: string;
  /** sorry_server */
  readonly sorryServer?: RealServer;
  readonly realServers: readonly RealServer[];
  /** every other keyword as written */
  readonly options: Readonly<Record<string, string>>;
}

/** virtual_server_group NAME { ADDR PORT | ADDR-RANGE PORT | fwmark N } */
/** virtual_server_group: an address entry's range runs from address to last (src/config/lvs-group-entry.ts) */
export interface VirtualServerGroup extends SourceRef {
  readonly name: string;
  readonly entries: readonly {
    readonly raw: readonly string[];
    readonly address?: IpAddress;
    readonly range?: number;
    readonly last?: string;
    readonly port?: number;
    readonly fwmark?: number;
  }[];
}

/**
 * global_defs { }. Each keyword's parser, range and default: GLOBAL_KEYWORDS in
 * config/blocks/global.ts (the compiler checks it against this interface).
 */
export interface GlobalDefs {
  /** router_id (default: the host name) */
  readonly routerId?: string;
  /** notification_email { } */
  readonly notificationEmail: readonly string[];
  /** notification_email_from */
  readonly notificationEmailFrom?: string;
  /** smtp_server ADDR|NAME [PORT] */
  readonly smtpServer?: { readonly host: string; readonly port: number };
  /** smtp_helo_name */
  readonly smtpHeloName?: string;
  /** smtp_connect_timeout, s */
  readonly smtpConnectTimeoutS: number;
  /** smtp_alert / smtp_alert_vrrp / smtp_alert_checker */
  readonly smtpAlert?: boolean;
  readonly smtpAlertVrrp?: boolean;
  readonly smtpAlertChecker?: boolean;
  /** enable_script_security */
  readonly enableScriptSecurity: boolean;
  /** script_user USER [GROUP] */
  readonly scriptUser?: { readonly user: string; readonly group?: string };
  /** vrrp_strict */
  readonly vrrpStrict: boolean;
  /** vrrp_version 2|3 */
  readonly vrrpVersion: 2 | 3;
  /** vrrp_mcast_group4 */
  readonly vrrpMcastGroup4: IpAddress;
  /** vrrp_mcast_group6 */
  readonly vrrpMcastGroup6: IpAddress;
  /** vrrp_garp_master_delay, s */
  readonly vrrpGarpMasterDelayS: number;
  /** vrrp_garp_master_repeat */
  readonly vrrpGarpMasterRepeat: number;
  /** vrrp_garp_lower_prio_delay, s (default: garp_master_delay) */
  readonly vrrpGarpLowerPrioDelayS?: number;
  /** vrrp_garp_lower_prio_repeat */
  readonly vrrpGarpLowerPrioRepeat?: number;
  /** vrrp_garp_master_refresh, s */
  readonly vrrpGarpMasterRefreshS: number;
  /** vrrp_garp_master_refresh_repeat */
  readonly vrrpGarpMasterRefreshRepeat: number;
  /** vrrp_garp_interval, ms */
  readonly vrrpGarpIntervalMs: number;
  /** vrrp_gna_interval, ms */
  readonly vrrpGnaIntervalMs: number;
  /** vrrp_min_garp */
  readonly vrrpMinGarp: boolean;
  /** vrrp_lower_prio_no_advert */
  readonly vrrpLowerPrioNoAdvert: boolean;
  /** vrrp_higher_prio_send_advert */
  readonly vrrpHigherPrioSendAdvert: boolean;
  /** vrrp_skip_check_adv_addr */
  readonly vrrpSkipCheckAdvAddr: boolean;
  /** vrrp_check_unicast_src */
  readonly vrrpCheckUnicastSrc: boolean;
  /** vrrp_down_timer_adverts */
  readonly vrrpDownTimerAdverts: number;
  /** vrrp_startup_delay, ms */
  readonly vrrpStartupDelayMs: number;
  /** vrrp_notify_priority_changes */
  readonly vrrpNotifyPriorityChanges: boolean;
  /** default_interface */
  readonly defaultInterface: string;
  /** dynamic_interfaces [allow_if_changes] */
  readonly dynamicInterfaces: boolean;
  /** notify_fifo / vrrp_notify_fifo / lvs_notify_fifo FIFO [user [group]] */
  readonly notifyFifo?: ScriptCommand;
  readonly vrrpNotifyFifo?: ScriptCommand;
  readonly lvsNotifyFifo?: ScriptCommand;
  /** notify_fifo_script etc. */
  readonly notifyFifoScript?: ScriptCommand;
  readonly vrrpNotifyFifoScript?: ScriptCommand;
  readonly lvsNotifyFifoScript?: ScriptCommand;
  /** startup_script / shutdown_script */
  readonly startupScript?: ScriptCommand;
  readonly shutdownScript?: ScriptCommand;
  /** startup_script_timeout / shutdown_script_timeout, s */
  readonly startupScriptTimeoutS: number;
  readonly shutdownScriptTimeoutS: number;
  /** max_auto_priority [PRIO] */
  readonly maxAutoPriority?: number;
  /** net_namespace */
  readonly netNamespace?: string;
  /** instance */
  readonly instance?: string;
  /** vmac_prefix */
  readonly vmacPrefix: string;
  /** random_seed */
  readonly randomSeed?: number;
  /** vrrp_priority / checker_priority: nice value (-20..19) of the VRRP process / the checker process */
  readonly vrrpProcessPriority?: number;
  readonly checkerProcessPriority?: number;
  /** vrrp_rt_priority / checker_rt_priority: SCHED_RR priority (1..99) */
  readonly vrrpRtPriority?: number;
  readonly checkerRtPriority?: number;
  /** vrrp_rlimit_rttime / checker_rlimit_rttime: RLIMIT_RTTIME, us (with an RT priority) */
  readonly vrrpRlimitRttimeUs?: number;
  readonly checkerRlimitRttimeUs?: number;
  /** every other global_defs keyword that keepalived knows, args as written */
  readonly other: Readonly<Record<string, readonly string[]>>;
  /**
   * keepalived_ts_status_listen HOST:PORT (keepalived-ts extension): serve /metrics and /status
   * there, as --status-listen does. Also "[IPV6]:PORT" and ":PORT" (loopback).
   */
  readonly statusListen?: string;
  /** keepalived_ts_watch_config [BOOL] (keepalived-ts extension): reload when a config file changes, as --watch-config (default false) */
  readonly watchConfig: boolean;
}

/** The whole configuration. */
export interface KeepalivedConfig {
  readonly globalDefs: GlobalDefs;
  readonly vrrpScripts: readonly VrrpScript[];
  readonly trackFiles: readonly TrackFile[];
  readonly trackProcesses: readonly TrackProcess[];
  readonly vrrpSyncGroups: readonly VrrpSyncGroup[];
  /** valid instances only: invalid ones are dropped with an error, as keepalived ignores them */
  readonly vrrpInstances: readonly VrrpInstance[];
  readonly garpGroups: readonly GarpGroup[];
  readonly trackGroups: readonly TrackGroup[];
  /** static_ipaddress { } */
  readonly staticIpAddresses: readonly VirtualIpAddress[];
  /** static_routes { } */
  readonly staticRoutes: readonly RouteSpec[];
  /** static_rules { } */
  readonly staticRules: readonly RuleSpec[];
  /** linkbeat_interfaces { } */
  readonly linkbeatInterfaces: readonly LinkbeatInterface[];
  /** interface_up_down_delays { } */
  readonly interfaceUpDownDelays: readonly InterfaceUpDownDelay[];
  readonly bfdInstances: readonly BfdInstance[];
  readonly virtualServerGroups: readonly VirtualServerGroup[];
  readonly virtualServers: readonly VirtualServer[];
  /** SSL { password, ca, certificate, key } */
  readonly ssl?: Readonly<Record<string, string>>;
}
