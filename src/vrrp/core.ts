// The sans-I/O VRRP state machine (RFC 5798 section 6, RFC 3768 section 6, plus keepalived 2.2.7's
// additions). No sockets, no timers, no clock, no randomness: the driver (daemon or simulator)
// feeds events carrying `nowMs` and carries out the returned decisions by the driver's contract
// (carryOut: advert, addresses, GARP/NA and timers at once; the words after).
//
// Timers are owned by the core: it tells the driver when to arm/cancel a timer and remembers the
// deadline itself, so a stale or early `timerExpired` (a race in the driver) is ignored safely.
//
// Driving it (daemon): one VrrpCore per vrrp_instance, built from the config model with
// coreConfig({...}) (keepalived defaults) or a full VrrpCoreConfig. Then:
//   - startup once; advertReceived for each advert the codec accepted (receiveIpv4/6 -> ReceivedAdvert);
//   - armTimer {timer, atMs}: (re)schedule timerExpired(timer) at atMs, replacing any previous one;
//     cancelTimer: drop it (a late fire is harmless: the core checks its own deadline);
//   - sendAdvert {priority}: encode and send with the instance's addresses; addAddresses /
//     removeAddresses: netlink; announce {count}: that many GARP/NA per VIP (garp_interval apart);
//   - notify / notifyMasterRxLowerPri: scripts and FIFO; log: the logger, wording as keepalived's;
//   - priorityChanged with base + tracker weights; faultChanged per source (interface, tracker);
//   - shutdown on SIGTERM: the Master's priority-0 advert and VIP removal come back as decisions;
//   - reconfigure on a reload that changed the instance: its new configuration applied in place
//     (state, timers and addresses kept; only the difference comes back as decisions).

import type { IpFamily, ReceivedAdvert, VrrpVersion } from './types.js';
import { addressKey, compareAddresses, compareKeys } from '../util/ip.js';
import { advertIntervalCheck } from './packet.js';
import { clampPriority, VRRP_PRIO_OWNER } from './priority.js';
import { KEEPALIVED_GARP_DEFAULTS } from './defaults.js';

export { clampPriority, VRRP_PRIO_OWNER } from './priority.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** Timers the core may ask the driver to run. */
export type VrrpTimer =
  | 'startupDelay' // vrrp_startup_delay
  | 'masterDown' // Master_Down_Timer (Backup)
  | 'advert' // Adver_Timer (Master)
  | 'garpMasterDelay' // second GARP/NA burst, garp_master_delay after becoming Master
  | 'garpMasterRefresh' // periodic GARP/NA while Master, garp_master_refresh
  | 'garpLowerPrioDelay'; // second burst after a lower-priority advert, garp_lower_prio_delay

export const ALL_TIMERS: readonly VrrpTimer[] = [
  'startupDelay',
  'masterDown',
  'advert',
  'garpMasterDelay',
  'garpMasterRefresh',
  'garpLowerPrioDelay',
];

/** Only what the protocol needs; the daemon maps the config model to it. */
export interface VrrpCoreConfig {
  /** instance name, e.g. "VI_1" (used in log lines) */
  readonly name: string;
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly family: IpFamily;
  /** base priority 1..255; 255 is the address owner */
  readonly priority: number;
  /** Advertisement_Interval in centiseconds (v2: a multiple of 100) */
  readonly advertIntervalCs: number;
  /** Preempt_Mode; keepalived `nopreempt` sets it false */
  readonly preempt: boolean;
  /** keepalived preempt_delay, in ms (0: none) */
  readonly preemptDelayMs: number;
  /** our primary address (IPv4 primary, or IPv6 link-local): the tie-break on equal priority */
  readonly primaryAddress: string;
  /** virtual addresses: opaque to the core, handed back in add/remove decisions */
  readonly virtualAddresses: readonly string[];
  /** garp_master_delay in ms: second burst after becoming Master (0: none) */
  readonly garpMasterDelayMs: number;
  /** garp_master_repeat: GARP/NA per burst on becoming Master */
  readonly garpMasterRepeat: number;
  /** garp_master_refresh in ms: periodic bursts while Master (0: none) */
  readonly garpMasterRefreshMs: number;
  readonly garpMasterRefreshRepeat: number;
  /** garp_lower_prio_delay in ms: second burst after a lower-priority advert (0: none) */
  readonly garpLowerPrioDelayMs: number;
  /** garp_lower_prio_repeat: burst when a Master hears a lower priority (0: none) */
  readonly garpLowerPrioRepeat: number;
  /** lower_prio_no_advert: do not answer a lower-priority advert with our own */
  readonly lowerPrioNoAdvert: boolean;
  /** higher_prio_send_advert: send an advert before yielding to a higher priority */
  readonly higherPrioSendAdvert: boolean;
  /** down_timer_adverts, 1..100 (RFC: 3) */
  readonly downTimerAdverts: number;
  /** vrrp_startup_delay in ms (0: none) */
  readonly startupDelayMs: number;
  /**
   * keepalived `state MASTER|BACKUP`. A hint only: keepalived 2.2.7 still waits
   * Master_Down_Interval in Backup before becoming Master (measured), so the core logs it and
   * otherwise ignores it.
   */
  readonly initialState?: 'MASTER' | 'BACKUP';
}

/** keepalived 2.2.7 defaults for everything but the identity of the instance. */
export function coreConfig(
  base: Pick<VrrpCoreConfig, 'name' | 'vrid' | 'priority' | 'primaryAddress'> & Partial<VrrpCoreConfig>,
): VrrpCoreConfig {
  const family: IpFamily = base.family ?? (base.primaryAddress.includes(':') ? 6 : 4);
  const garpMasterDelayMs = base.garpMasterDelayMs ?? KEEPALIVED_GARP_DEFAULTS.garpMasterDelayMs;
  const garpMasterRepeat = base.garpMasterRepeat ?? KEEPALIVED_GARP_DEFAULTS.garpMasterRepeat;
  return {
    version: family === 6 ? 3 : 2,
    family,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    virtualAddresses: [],
    garpMasterRefreshMs: KEEPALIVED_GARP_DEFAULTS.garpMasterRefreshMs,
    garpMasterRefreshRepeat: KEEPALIVED_GARP_DEFAULTS.garpMasterRefreshRepeat,
    garpLowerPrioDelayMs: garpMasterDelayMs,
    garpLowerPrioRepeat: garpMasterRepeat,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    downTimerAdverts: 3,
    startupDelayMs: 0,
    ...base,
    garpMasterDelayMs,
    garpMasterRepeat,
  };
}

export class VrrpConfigError extends Error {
  override readonly name = 'VrrpConfigError';
  constructor(
    readonly instance: string,
    readonly problems: readonly string[],
  ) {
    super(`(${instance}) invalid VRRP core configuration: ${problems.join('; ')}`);
  }
}

/** All problems with a core configuration (empty when usable). */
export function validateCoreConfig(c: VrrpCoreConfig): string[] {
  const p: string[] = [];
  const int = (v: unknown, lo: number, hi: number, what: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
      p.push(`${what} must be an integer in ${lo}..${hi} (got ${String(v)})`);
  };
  const nonNeg = (v: unknown, what: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) p.push(`${what} must be a finite number >= 0 (got ${String(v)})`);
  };
  if (typeof c.name !== 'string' || c.name.length === 0) p.push('name must be a non-empty string');
  int(c.vrid, 1, 255, 'vrid');
  if (c.version !== 2 && c.version !== 3) p.push(`version must be 2 or 3 (got ${String(c.version)})`);
  if (c.family !== 4 && c.family !== 6) p.push(`family must be 4 or 6 (got ${String(c.family)})`);
  if (c.version === 2 && c.family === 6) p.push('VRRPv2 is IPv4 only');
  int(c.priority, 1, 255, 'priority');
  int(c.advertIntervalCs, 1, 4095, 'advertIntervalCs');
  if (c.version === 2 && c.advertIntervalCs % 100 !== 0) p.push('VRRPv2 advertIntervalCs must be whole seconds');
  if (typeof c.preempt !== 'boolean') p.push('preempt must be a boolean');
  nonNeg(c.preemptDelayMs, 'preemptDelayMs');
  if (typeof c.primaryAddress !== 'string' || compareAddresses(c.primaryAddress, c.primaryAddress) === undefined) {
    p.push(`primaryAddress is not an address (got ${String(c.primaryAddress)})`);
  } else if (c.primaryAddress.includes(':') !== (c.family === 6)) {
    p.push('primaryAddress family does not match family');
  }
  if (!Array.isArray(c.virtualAddresses)) p.push('virtualAddresses must be an array');
  nonNeg(c.garpMasterDelayMs, 'garpMasterDelayMs');
  int(c.garpMasterRepeat, 0, 1000, 'garpMasterRepeat');
  nonNeg(c.garpMasterRefreshMs, 'garpMasterRefreshMs');
  int(c.garpMasterRefreshRepeat, 0, 1000, 'garpMasterRefreshRepeat');
  nonNeg(c.garpLowerPrioDelayMs, 'garpLowerPrioDelayMs');
  int(c.garpLowerPrioRepeat, 0, 1000, 'garpLowerPrioRepeat');
  int(c.downTimerAdverts, 1, 100, 'downTimerAdverts');
  nonNeg(c.startupDelayMs, 'startupDelayMs');
  return p;
}

// ---- events ------------------------------------------------------------------------------------

export type FaultReason = 'interface-down' | 'tracker' | 'no-address' | 'sync-group';

/** One reason for FAULT: its kind, and which one of that kind (interface, tracker, group name). */
export interface FaultSource {
  readonly kind: FaultReason;
  readonly name?: string;
}

export type VrrpEvent =
  | { readonly type: 'startup'; readonly nowMs: number }
  | { readonly type: 'advertReceived'; readonly nowMs: number; readonly advert: ReceivedAdvert }
  | { readonly type: 'timerExpired'; readonly nowMs: number; readonly timer: VrrpTimer }
  /** effective priority from the trackers (base + weights); clamped to 1..254 by the core */
  | { readonly type: 'priorityChanged'; readonly nowMs: number; readonly priority: number }
  /** one fault source on or off; the instance is in FAULT while any source is on */
  | {
      readonly type: 'faultChanged';
      readonly nowMs: number;
      readonly fault: boolean;
      readonly reason: FaultReason;
      /** distinguishes several sources of one reason (interface or tracker name) */
      readonly source?: string;
    }
  /** a sync group forcing a member's state (FAULT is a faultChanged with reason sync-group) */
  | { readonly type: 'forceState'; readonly nowMs: number; readonly state: 'MASTER' | 'BACKUP'; readonly reason: string }
  | { readonly type: 'shutdown'; readonly nowMs: number }
  /**
   * A reload changed this instance: apply `config` in place, keeping the state, the timers and
   * the addresses held. Identity (name, vrid, version, family) cannot change in place: such an
   * event is refused (logged) and the driver replaces the instance instead. `priority`: the
   * effective priority from the trackers under the new configuration (default: the trackers'
   * last adjustment carried over to the new base priority).
   */
  | { readonly type: 'reconfigure'; readonly nowMs: number; readonly config: VrrpCoreConfig; readonly priority?: number };

// ---- decisions ---------------------------------------------------------------------------------

export type AnnounceReason = 'master' | 'masterDelayed' | 'masterRefresh' | 'lowerPrio' | 'lowerPrioDelayed';

export type VrrpDecision =
  | { readonly kind: 'sendAdvert'; readonly priority: number; readonly advertIntervalCs: number }
  | { readonly kind: 'addAddresses'; readonly addresses: readonly string[] }
  | { readonly kind: 'removeAddresses'; readonly addresses: readonly string[] }
  /**
   * a burst of `count` gratuitous ARPs / unsolicited NAs for the virtual addresses (`addresses`:
   * only these, e.g. those a reconfigured Master has just added)
   */
  | { readonly kind: 'announce'; readonly count: number; readonly reason: AnnounceReason; readonly addresses?: readonly string[] }
  | { readonly kind: 'notify'; readonly state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'; readonly priority: number }
  /** keepalived notify_master_rx_lower_pri */
  | { readonly kind: 'notifyMasterRxLowerPri'; readonly from: string; readonly priority: number }
  | { readonly kind: 'armTimer'; readonly timer: VrrpTimer; readonly atMs: number }
  | { readonly kind: 'cancelTimer'; readonly timer: VrrpTimer }
  | { readonly kind: 'stateChanged'; readonly from: VrrpState; readonly to: VrrpState; readonly reason: string }
  /**
   * A log line, worded as keepalived's. `topic` names what it reports for a driver that reacts to
   * it (a reload's quiet re-entry, the simulator's coverage): drivers never match the wording.
   */
  | { readonly kind: 'log'; readonly level: 'info' | 'warning'; readonly message: string; readonly topic?: LogTopic };

/** What a log decision reports, for the drivers that react to some (see VrrpDecision 'log'). */
export type LogTopic =
  | 'enterMaster' // "Entering MASTER STATE"
  | 'enterBackup' // "Entering BACKUP STATE"
  | 'enterFault' // "Entering FAULT STATE"
  | 'advertTimeout' // "Receive advertisement timeout" (Master_Down_Timer, or an owner's start)
  | 'faultOn' // "entering FAULT state (why)": a fault source came on
  | 'priorityZeroReceived'
  | 'forcedElection' // a Master answered a lower priority with its own advert
  | 'preemptDelay' // preempt_delay started
  | 'intervalLearned' // a v3 Backup took the Master's advert interval
  | 'ownerConflict'; // two address owners: ours lowered to 254

// ---- the driver's contract ---------------------------------------------------------------------
//
// Urgent decisions decide what the LAN sees and when: the driver carries them out at once, in
// this order, before anything else of the same event: every sendAdvert first, then the others in
// the core's order (addAddresses before the announce that follows it, removeAddresses after the
// resigning advert, timers). Deferred decisions are words (log lines, notify scripts,
// notify_master_rx_lower_pri, stateChanged for counters and sync groups): the driver may carry
// them out later (the daemon: after the event loop's poll phase), in the core's order. A takeover
// is thus advert, address add and GARP/NA in the same turn, the lines after (keepalived's order on
// the wire). The daemon (src/daemon/instance.ts) and the simulator (src/sim/sim.ts) both go
// through carryOut, so the simulator runs the order the daemon runs.

export type UrgentKind = 'sendAdvert' | 'addAddresses' | 'removeAddresses' | 'announce' | 'armTimer' | 'cancelTimer';
export type UrgentDecision = Extract<VrrpDecision, { readonly kind: UrgentKind }>;
export type DeferredDecision = Exclude<VrrpDecision, { readonly kind: UrgentKind }>;

// every kind, said once (the compiler checks that none is missing)
const URGENCY: { readonly [K in VrrpDecision['kind']]: boolean } = {
  sendAdvert: true,
  addAddresses: true,
  removeAddresses: true,
  announce: true,
  armTimer: true,
  cancelTimer: true,
  notify: false,
  notifyMasterRxLowerPri: false,
  stateChanged: false,
  log: false,
};

/** the urgent kinds (a Set: the daemon's hot path looks up each decision) */
const URGENT: ReadonlySet<VrrpDecision['kind']> = new Set((Object.keys(URGENCY) as Array<VrrpDecision['kind']>).filter((k) => URGENCY[k]));

export function isUrgent(d: VrrpDecision): d is UrgentDecision {
  return URGENT.has(d.kind);
}

/**
 * Carry out one event's decisions by the contract: `urgent` is called for each urgent decision,
 * every sendAdvert first, then the others in the core's order; the deferred ones are returned in
 * the core's order for the driver to carry out (undefined when there are none: a Backup hearing
 * its Master gets one armTimer, and no array is made for it).
 */
export function carryOut(decisions: readonly VrrpDecision[], urgent: (d: UrgentDecision) => void): DeferredDecision[] | undefined {
  let deferred = 0;
  for (const d of decisions) if (d.kind === 'sendAdvert') urgent(d);
  for (const d of decisions) {
    if (!URGENT.has(d.kind)) deferred++;
    else if (d.kind !== 'sendAdvert') urgent(d as UrgentDecision);
  }
  if (deferred === 0) return undefined;
  return decisions.filter((d) => !URGENT.has(d.kind)) as DeferredDecision[];
}

/** Counters, in the spirit of keepalived's stats file. */
export interface VrrpCoreStats {
  advertsReceived: number;
  advertsSent: number;
  priorityZeroReceived: number;
  priorityZeroSent: number;
  becameMaster: number;
  releasedMaster: number;
  intervalErrors: number;
  droppedAdverts: number;
}

// ---- timer formulas ----------------------------------------------------------------------------

/**
 * Skew_Time in ms from the effective priority.
 * v2 (RFC 3768 6.1): (256 - Priority) / 256 s.
 * v3 (RFC 5798 6.1): ((256 - Priority) x Master_Adver_Interval) / 256 cs, to the microsecond as
 * keepalived computes it.
 */
export function skewTimeMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  // keepalived 2.2.7 keeps microseconds, (256 - p) x cs x 625 / 16 us (measured against it at
  // advert_int 0.01: it takes over 0.3 ms after the RFC interval), not whole centiseconds
  return Math.floor(((256 - priority) * masterAdverIntervalCs * 625) / 16) / 1000;
}

/** Master_Down_Interval = down_timer_adverts (3) x Master_Adver_Interval + Skew_Time, in ms. */
export function masterDownIntervalMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number, downTimerAdverts = 3): number {
  return downTimerAdverts * masterAdverIntervalCs * 10 + skewTimeMs(version, priority, masterAdverIntervalCs);
}

// ---- the state machine -------------------------------------------------------------------------

/** What a reconfiguration cannot change in place (the driver replaces the instance instead). */
export function reconfigureBlocker(from: VrrpCoreConfig, to: VrrpCoreConfig): string | undefined {
  if (from.name !== to.name) return 'name';
  if (from.vrid !== to.vrid) return 'virtual_router_id';
  if (from.version !== to.version) return 'version';
  if (from.family !== to.family) return 'family';
  return undefined;
}

const ENTER_TOPIC: { readonly [S in VrrpState]?: LogTopic } = { MASTER: 'enterMaster', BACKUP: 'enterBackup', FAULT: 'enterFault' };

export class VrrpCore {
  private _config: VrrpCoreConfig;
  private _state: VrrpState = 'INIT';
  /** base priority; keepalived lowers an owner to 254 when two owners fight */
  private basePriority: number;
  private _effectivePriority: number;
  /** the priority last requested by the trackers (before clamping) */
  private trackedPriority: number | undefined;
  /** Master_Adver_Interval in cs (v3 Backups learn it from the Master) */
  private _masterAdverIntervalCs: number;
  /** Master_Adver_Interval came from a Master's advert (v3), not from our configuration */
  private intervalLearned = false;
  private readonly timers = new Map<VrrpTimer, number>();
  /** active fault sources by kind and name */
  private readonly faults = new Map<string, FaultSource>();
  /** preempt_delay: until then a Backup accepts lower-priority adverts instead of preempting */
  private preemptUntilMs: number | undefined;
  private _lastEventMs = -Infinity;
  readonly stats: VrrpCoreStats = {
    advertsReceived: 0,
    advertsSent: 0,
    priorityZeroReceived: 0,
    priorityZeroSent: 0,
    becameMaster: 0,
    releasedMaster: 0,
    intervalErrors: 0,
    droppedAdverts: 0,
  };
  private out: VrrpDecision[] = [];
  /** our primary address, parsed once for the per-advert tie-break */
  private primaryKey: readonly number[];
  /** one-entry memo: adverts keep coming from the same Master */
  private lastSrc = '';
  private lastSrcKey: readonly number[] | undefined;

  constructor(config: VrrpCoreConfig) {
    const problems = validateCoreConfig(config);
    if (problems.length) throw new VrrpConfigError(String(config?.name ?? '?'), problems);
    this._config = { ...config, virtualAddresses: [...config.virtualAddresses] };
    this.basePriority = config.priority;
    this._effectivePriority = config.priority;
    this._masterAdverIntervalCs = config.advertIntervalCs;
    this.primaryKey = addressKey(config.primaryAddress)!; // validated above
  }

  /** the configuration in force (replaced by a reconfigure event) */
  get config(): VrrpCoreConfig {
    return this._config;
  }
  get state(): VrrpState {
    return this._state;
  }
  get effectivePriority(): number {
    return this._effectivePriority;
  }
  get masterAdverIntervalCs(): number {
    return this._masterAdverIntervalCs;
  }
  get isOwner(): boolean {
    return this.basePriority === VRRP_PRIO_OWNER;
  }
  get inFault(): boolean {
    return this.faults.size > 0;
  }
  /** active fault sources */
  get faultSources(): FaultSource[] {
    return [...this.faults.values()];
  }
  /** deadline of an armed timer, if any */
  timerAt(timer: VrrpTimer): number | undefined {
    return this.timers.get(timer);
  }
  /** armed timers and their deadlines, earliest first */
  armedTimers(): Array<[VrrpTimer, number]> {
    return [...this.timers.entries()].sort((a, b) => a[1] - b[1]);
  }
  skewTimeMs(): number {
    return skewTimeMs(this.config.version, this._effectivePriority, this._masterAdverIntervalCs);
  }
  masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.config.version, this._effectivePriority, this._masterAdverIntervalCs, this.config.downTimerAdverts);
  }

  /** Feed one event; returns the decisions to carry out, in order. Never throws on bad input. */
  handle(ev: VrrpEvent): VrrpDecision[] {
    this.out = [];
    if (!ev || typeof ev !== 'object' || typeof ev.nowMs !== 'number' || !Number.isFinite(ev.nowMs)) {
      this.log('warning', 'ignoring an event without a valid nowMs');
      return this.out;
    }
    // Time never goes backwards for the core: a late event is treated as happening now.
    const now = Math.max(ev.nowMs, this._lastEventMs);
    this._lastEventMs = now;
    switch (ev.type) {
      case 'startup':
        this.onStartup(now);
        break;
      case 'advertReceived':
        this.onAdvert(now, ev.advert);
        break;
      case 'timerExpired':
        this.onTimer(now, ev.timer);
        break;
      case 'priorityChanged':
        this.onPriority(ev.priority);
        break;
      case 'faultChanged':
        this.onFault(now, ev.fault, ev.reason, ev.source);
        break;
      case 'forceState':
        this.onForce(now, ev.state, ev.reason);
        break;
      case 'shutdown':
        this.onShutdown();
        break;
      case 'reconfigure':
        this.onReconfigure(now, ev.config, ev.priority);
        break;
      default:
        this.log('warning', `ignoring unknown event ${String((ev as { type?: unknown }).type)}`);
    }
    return this.out;
  }

  // ---- event handlers --------------------------------------------------------------------------

  private onStartup(now: number): void {
    if (this._state !== 'INIT' && this._state !== 'STOP') {
      this.log('warning', `(${this.config.name}) startup ignored in state ${this._state}`);
      return;
    }
    if (this._state === 'STOP') this._state = 'INIT';
    this.preemptUntilMs = undefined;
    this._masterAdverIntervalCs = this.config.advertIntervalCs;
    this.intervalLearned = false;
    if (this.config.startupDelayMs > 0) {
      this.log('info', `(${this.config.name}) delaying startup for ${this.config.startupDelayMs / 1000} seconds`);
      this.arm('startupDelay', now + this.config.startupDelayMs);
      return;
    }
    this.start(now);
  }

  /** RFC 5798 6.4.1 Initialize, as keepalived does it. */
  private start(now: number): void {
    if (this.inFault) {
      this.transition('FAULT', 'fault at startup', '(init)');
      this.out.push({ kind: 'notify', state: 'FAULT', priority: this._effectivePriority });
      return;
    }
    if (this.isOwner) {
      // keepalived logs the owner's start as an immediate advertisement timeout.
      this.log('info', `(${this.config.name}) Receive advertisement timeout`, 'advertTimeout');
      this.becomeMaster(now, 'address owner');
      return;
    }
    if (this.config.initialState === 'MASTER') {
      this.log('info', `(${this.config.name}) state MASTER configured: waiting Master_Down_Interval as keepalived does`);
    }
    // preempt_delay also applies "after getting the advertisement timeout at startup".
    let downAt = now + this.masterDownIntervalMs();
    if (this.config.preempt && this.config.preemptDelayMs > 0) {
      this.preemptUntilMs = now + this.config.preemptDelayMs;
      downAt += this.config.preemptDelayMs;
    }
    this.enterBackup(downAt, 'startup', '(init)');
  }

  private onAdvert(now: number, rx: ReceivedAdvert): void {
    if (this._state === 'INIT' || this._state === 'STOP' || this._state === 'FAULT') return;
    const a = rx?.advert;
    if (!a || typeof a.priority !== 'number' || typeof a.advertIntervalCs !== 'number' || typeof rx.srcAddress !== 'string') {
      this.drop('malformed advert');
      return;
    }
    if (a.vrid !== this.config.vrid || a.version !== this.config.version || rx.family !== this.config.family) {
      this.drop(`advert for VRID ${a.vrid} v${a.version} IPv${rx.family} does not match this instance`);
      return;
    }
    if (!Number.isInteger(a.priority) || a.priority < 0 || a.priority > 255) {
      this.drop(`advert with invalid priority ${a.priority}`);
      return;
    }
    if (rx.srcAddress !== this.lastSrc) {
      this.lastSrc = rx.srcAddress;
      this.lastSrcKey = addressKey(rx.srcAddress);
    }
    const srcKey = this.lastSrcKey;
    const cmp = srcKey === undefined ? undefined : compareKeys(srcKey, this.primaryKey);
    if (cmp === undefined) {
      this.drop(`advert from unparsable source address ${rx.srcAddress}`);
      return;
    }
    // RFC 3768 7.1 (the codec's rule, advertIntervalCheck): a v2 advert whose interval differs
    // from ours is discarded. The daemon's codec has already dropped such an advert (and counts it
    // as 'interval-mismatch'); this guard serves callers that feed the core directly (simulator, tests).
    if (advertIntervalCheck(a.version, a.advertIntervalCs, this.config.advertIntervalCs) === 'interval-mismatch') {
      this.stats.intervalErrors++;
      this.drop(`advertisement interval mismatch mine=${this.config.advertIntervalCs / 100} sec rcv'd=${a.advertIntervalCs / 100} sec`);
      return;
    }
    this.stats.advertsReceived++;
    if (a.priority === 0) this.stats.priorityZeroReceived++;
    if (this._state === 'BACKUP') this.backupRx(now, rx);
    else this.masterRx(now, rx, cmp);
  }

  /** RFC 5798 6.4.2, Backup receiving an ADVERTISEMENT. */
  private backupRx(now: number, rx: ReceivedAdvert): void {
    const a = rx.advert;
    const name = this.config.name;
    if (a.priority === 0) {
      this.log('info', `(${name}) Backup received priority 0 advertisement`, 'priorityZeroReceived');
      this.arm('masterDown', now + this.skewTimeMs());
      return;
    }
    const accept = !this.config.preempt || a.priority >= this._effectivePriority;
    if (!accept && this.config.preemptDelayMs > 0) {
      // keepalived preempt_delay: keep following the lower-priority Master for that long first.
      if (this.preemptUntilMs === undefined) {
        this.preemptUntilMs = now + this.config.preemptDelayMs;
        this.log('info', `(${name}) start preempt delay (${(this.config.preemptDelayMs / 1000).toFixed(6)})`, 'preemptDelay');
      }
      if (now < this.preemptUntilMs) {
        this.learnInterval(a.advertIntervalCs);
        this.arm('masterDown', now + this.masterDownIntervalMs());
        return;
      }
    }
    if (accept) {
      if (this.preemptUntilMs !== undefined && a.priority >= this._effectivePriority) {
        this.preemptUntilMs = undefined;
        this.log('info', `(${name}) stop preempt delay`);
      }
      this.learnInterval(a.advertIntervalCs);
      this.arm('masterDown', now + this.masterDownIntervalMs());
      return;
    }
    this.log('info', `(${name}) received lower priority (${a.priority}) advert from ${rx.srcAddress} - discarding`);
  }

  /** RFC 5798 6.4.3, Master receiving an ADVERTISEMENT, with keepalived's additions. */
  private masterRx(now: number, rx: ReceivedAdvert, cmp: -1 | 0 | 1): void {
    const a = rx.advert;
    const name = this.config.name;
    const ours = this._effectivePriority;
    if (a.priority === 0) {
      this.log('info', `(${name}) Master received priority 0 message`, 'priorityZeroReceived');
      this.sendAdvert(ours);
      this.arm('advert', now + this.config.advertIntervalCs * 10);
      return;
    }
    if (a.priority === ours && cmp === 0) {
      this.log('warning', `(${name}) WARNING - equal priority advert received from remote host with our IP address.`);
      return;
    }
    if (a.priority === VRRP_PRIO_OWNER && ours === VRRP_PRIO_OWNER) {
      // Two address owners: keepalived 2.2.7 (measured, both address orders) lowers the Master
      // that first hears the other owner's advert to 254 at once, and it yields.
      this.log(
        'warning',
        `(${name}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority`,
        'ownerConflict',
      );
      this.basePriority = VRRP_PRIO_OWNER - 1;
      this._effectivePriority = VRRP_PRIO_OWNER - 1;
    }
    const eff = this._effectivePriority;
    if (a.priority > eff || (a.priority === eff && cmp > 0)) {
      if (a.priority > eff) {
        this.log('info', `(${name}) Master received advert from ${rx.srcAddress} with higher priority ${a.priority}, ours ${eff}`);
      } else {
        this.log(
          'info',
          `(${name}) Master received advert from ${rx.srcAddress} with same priority ${a.priority} but higher IP address than ours`,
        );
      }
      // higher_prio_send_advert: make the other Master re-announce (its garp_lower_prio_*),
      // since the last GARPs the LAN saw may have been ours.
      if (this.config.higherPrioSendAdvert) this.sendAdvert(eff);
      this.learnInterval(a.advertIntervalCs);
      this.leaveMaster();
      this.enterBackup(now + this.masterDownIntervalMs(), `higher priority advert from ${rx.srcAddress}`);
      return;
    }
    // Lower priority (or equal from a lower address): the RFC discards it; keepalived by
    // default answers at once to force a new election, and may re-announce its addresses.
    const answer = !this.config.lowerPrioNoAdvert;
    this.log(
      'info',
      `(${name}) Received advert from ${rx.srcAddress} with lower priority ${a.priority}, ours ${eff}${answer ? ', forcing new election' : ''}`,
      answer ? 'forcedElection' : undefined,
    );
    if (answer) this.sendAdvert(eff);
    if (this.config.garpLowerPrioRepeat > 0 && this.config.virtualAddresses.length > 0) {
      this.out.push({ kind: 'announce', count: this.config.garpLowerPrioRepeat, reason: 'lowerPrio' });
      if (this.config.garpLowerPrioDelayMs > 0) this.arm('garpLowerPrioDelay', now + this.config.garpLowerPrioDelayMs);
    }
    this.out.push({ kind: 'notifyMasterRxLowerPri', from: rx.srcAddress, priority: a.priority });
  }

  private onTimer(now: number, timer: VrrpTimer): void {
    const at = this.timers.get(timer);
    // Stale (cancelled or re-armed) or early expiries are ignored: the driver may race us.
    if (at === undefined || now < at) return;
    this.timers.delete(timer);
    const c = this.config;
    switch (timer) {
      case 'startupDelay':
        if (this._state === 'INIT') this.start(now);
        return;
      case 'masterDown':
        if (this._state !== 'BACKUP') return;
        this.log('info', `(${c.name}) Receive advertisement timeout`, 'advertTimeout');
        this.becomeMaster(now, 'Master_Down_Timer expired');
        return;
      case 'advert':
        if (this._state !== 'MASTER') return;
        this.sendAdvert(this._effectivePriority);
        this.arm('advert', now + c.advertIntervalCs * 10);
        return;
      case 'garpMasterDelay':
        if (this._state !== 'MASTER') return;
        // the driver logs keepalived's "Sending/queueing gratuitous ARPs on IF for VIP" per address
        this.out.push({ kind: 'announce', count: c.garpMasterRepeat, reason: 'masterDelayed' });
        return;
      case 'garpMasterRefresh':
        if (this._state !== 'MASTER') return;
        this.out.push({ kind: 'announce', count: c.garpMasterRefreshRepeat, reason: 'masterRefresh' });
        this.arm('garpMasterRefresh', now + c.garpMasterRefreshMs);
        return;
      case 'garpLowerPrioDelay':
        if (this._state !== 'MASTER') return;
        this.out.push({ kind: 'announce', count: c.garpLowerPrioRepeat, reason: 'lowerPrioDelayed' });
        return;
    }
  }

  private onPriority(requested: number): void {
    this.trackedPriority = requested;
    const next = clampPriority(this.basePriority, requested);
    if (next === this._effectivePriority) return;
    this.log('info', `(${this.config.name}) Changing effective priority from ${this._effectivePriority} to ${next}`);
    this._effectivePriority = next;
    // Backup: the new skew applies from the next reset of Master_Down_Timer (keepalived does the
    // same); a Backup now above a live Master with preempt discards its next advert and takes over.
    // Master: the next advert carries the new priority; a higher Backup then preempts.
  }

  private onFault(now: number, on: boolean, reason: FaultReason, source?: string): void {
    const key = `${reason}${source ? `:${source}` : ''}`;
    const was = this.inFault;
    if (on) this.faults.set(key, source ? { kind: reason, name: source } : { kind: reason });
    else this.faults.delete(key);
    const is = this.inFault;
    if (was === is) return;
    if (this._state === 'INIT' || this._state === 'STOP') return; // start() looks at faults
    if (is) {
      this.log('info', `(${this.config.name}): entering FAULT state (${this.describeFault(reason, source)})`, 'faultOn');
      if (this._state === 'MASTER') this.resign();
      this.cancelAll();
      this.transition('FAULT', this.describeFault(reason, source));
      this.out.push({ kind: 'notify', state: 'FAULT', priority: this._effectivePriority });
    } else {
      // Leaving FAULT returns to Backup and waits Master_Down_Interval, owner included
      // (keepalived 2.2.7, measured).
      this._masterAdverIntervalCs = this.config.advertIntervalCs;
      this.intervalLearned = false;
      this.enterBackup(now + this.masterDownIntervalMs(), 'fault cleared');
    }
  }

  private onForce(now: number, state: 'MASTER' | 'BACKUP', reason: string): void {
    if (state === 'MASTER' && this._state === 'BACKUP') {
      this.becomeMaster(now, `forced: ${reason}`);
    } else if (state === 'BACKUP' && this._state === 'MASTER') {
      this.leaveMaster();
      this.enterBackup(now + this.masterDownIntervalMs(), `forced: ${reason}`);
    }
  }

  /**
   * A reload's new configuration, applied in place (keepalived replaces its instances on a reload
   * and re-enters their state; here nothing the new configuration keeps is touched):
   * - state and every armed timer are kept; Master_Down_Timer keeps its deadline (the new
   *   priority's skew and interval apply from its next reset, as after a tracker's change);
   * - priority: a new base priority, and the effective priority from the trackers; a Master
   *   carries it in its next advert (a higher Backup then preempts), a Backup compares it with
   *   the next advert it receives (and preempts by discarding a lower one);
   * - advert_int: a Master's next advert is sent no later than the new interval from now; a v3
   *   Backup keeps the interval it learned from the Master;
   * - virtual addresses: a Master removes those gone and adds (and announces) those new, by
   *   difference; the others stay in place;
   * - garp_master_refresh: re-armed or cancelled on a Master; every other setting is read when
   *   it is next used.
   */
  private onReconfigure(now: number, next: VrrpCoreConfig, requested?: number): void {
    const old = this._config;
    const name = old.name;
    const problems = next && typeof next === 'object' ? validateCoreConfig(next) : ['no configuration'];
    const blocker = problems.length === 0 ? reconfigureBlocker(old, next) : undefined;
    if (problems.length > 0 || blocker) {
      this.log('warning', `(${name}) reconfiguration refused: ${blocker ? `${blocker} cannot change in place` : problems.join('; ')}`);
      return;
    }
    this._config = { ...next, virtualAddresses: [...next.virtualAddresses] };
    if (next.primaryAddress !== old.primaryAddress) {
      this.primaryKey = addressKey(next.primaryAddress)!; // validated above
      this.lastSrc = '';
    }
    // priority: the trackers' adjustment moves with the base (an owner that yielded to another
    // owner stays at 254 unless the configured priority changed)
    const delta = this.trackedPriority === undefined ? 0 : this.trackedPriority - this.basePriority;
    if (next.priority !== old.priority) this.basePriority = next.priority;
    const want = requested ?? (this.trackedPriority === undefined ? undefined : this.basePriority + delta);
    if (want !== undefined) this.trackedPriority = want;
    const eff = clampPriority(this.basePriority, want ?? this.basePriority);
    if (eff !== this._effectivePriority) {
      this.log('info', `(${name}) Changing effective priority from ${this._effectivePriority} to ${eff}`);
      this._effectivePriority = eff;
    }
    // Master_Adver_Interval: ours, unless a v3 Backup learned another one from the Master
    if (next.version === 2 || !this.intervalLearned) this._masterAdverIntervalCs = next.advertIntervalCs;
    if (!next.preempt || next.preemptDelayMs === 0) this.preemptUntilMs = undefined;
    if (this._state !== 'MASTER') return;
    const advertAt = this.timers.get('advert');
    const soonest = now + next.advertIntervalCs * 10;
    if (advertAt === undefined || advertAt > soonest) this.arm('advert', soonest);
    const was = new Set(old.virtualAddresses);
    const is = new Set(next.virtualAddresses);
    const gone = old.virtualAddresses.filter((k) => !is.has(k));
    const added = next.virtualAddresses.filter((k) => !was.has(k));
    if (gone.length > 0) this.out.push({ kind: 'removeAddresses', addresses: gone });
    if (added.length > 0) {
      this.out.push({ kind: 'addAddresses', addresses: added });
      if (next.garpMasterRepeat > 0) this.out.push({ kind: 'announce', count: next.garpMasterRepeat, reason: 'master', addresses: added });
    }
    const refresh = next.garpMasterRefreshMs > 0 && next.garpMasterRefreshRepeat > 0 && next.virtualAddresses.length > 0;
    if (!refresh) {
      if (this.timers.delete('garpMasterRefresh')) this.out.push({ kind: 'cancelTimer', timer: 'garpMasterRefresh' });
    } else if (next.garpMasterRefreshMs !== old.garpMasterRefreshMs || !this.timers.has('garpMasterRefresh')) {
      this.arm('garpMasterRefresh', now + next.garpMasterRefreshMs);
    }
  }

  private onShutdown(): void {
    if (this._state === 'STOP') return;
    if (this._state === 'MASTER') this.resign();
    this.cancelAll();
    const from = this._state;
    this._state = 'STOP';
    this.out.push({ kind: 'stateChanged', from, to: 'STOP', reason: 'shutdown' });
    this.out.push({ kind: 'notify', state: 'STOP', priority: this._effectivePriority });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** RFC 5798 6.4.2 "Master_Down_Timer fires" / 6.4.1 owner start. */
  private becomeMaster(now: number, reason: string): void {
    const c = this.config;
    this.cancelAll();
    this.preemptUntilMs = undefined;
    this.transition('MASTER', reason);
    this.stats.becameMaster++;
    this.out.push({ kind: 'addAddresses', addresses: c.virtualAddresses });
    this.sendAdvert(this._effectivePriority);
    if (c.garpMasterRepeat > 0 && c.virtualAddresses.length > 0) {
      this.out.push({ kind: 'announce', count: c.garpMasterRepeat, reason: 'master' });
    }
    this.arm('advert', now + c.advertIntervalCs * 10);
    if (c.garpMasterDelayMs > 0 && c.garpMasterRepeat > 0 && c.virtualAddresses.length > 0) {
      this.arm('garpMasterDelay', now + c.garpMasterDelayMs);
    }
    if (c.garpMasterRefreshMs > 0 && c.garpMasterRefreshRepeat > 0 && c.virtualAddresses.length > 0) {
      this.arm('garpMasterRefresh', now + c.garpMasterRefreshMs);
    }
    this.out.push({ kind: 'notify', state: 'MASTER', priority: this._effectivePriority });
  }

  /** Master stops being Master without resigning (preempted or forced). */
  private leaveMaster(): void {
    this.cancelAll();
    this.stats.releasedMaster++;
    this.out.push({ kind: 'removeAddresses', addresses: this.config.virtualAddresses });
  }

  /** Master resigns (shutdown, fault): priority 0 advert so Backups take over after Skew_Time. */
  private resign(): void {
    this.sendAdvert(0);
    this.log('info', `(${this.config.name}) sent 0 priority`);
    this.stats.releasedMaster++;
    this.out.push({ kind: 'removeAddresses', addresses: this.config.virtualAddresses });
  }

  private enterBackup(downAtMs: number, reason: string, suffix = ''): void {
    const wasMaster = this._state === 'MASTER';
    if (wasMaster) {
      // already cleaned up by leaveMaster()
    } else {
      this.cancelAll();
    }
    this.transition('BACKUP', reason, suffix);
    this.arm('masterDown', downAtMs);
    this.out.push({ kind: 'notify', state: 'BACKUP', priority: this._effectivePriority });
  }

  private learnInterval(cs: number): void {
    // RFC 5798 6.4.2: a v3 Backup sets Master_Adver_Interval from the advert.
    if (this.config.version !== 3 || !(cs > 0)) return;
    this.intervalLearned = true;
    if (cs === this._masterAdverIntervalCs) return;
    this.log(
      'info',
      `(${this.config.name}) advertisement interval updated from ${this._masterAdverIntervalCs * 10}ms to ${cs * 10}ms by master`,
      'intervalLearned',
    );
    this._masterAdverIntervalCs = cs;
  }

  private transition(to: VrrpState, reason: string, suffix = ''): void {
    const from = this._state;
    this._state = to;
    this.log('info', `(${this.config.name}) Entering ${to} STATE${suffix ? ` ${suffix}` : ''}`, ENTER_TOPIC[to]);
    this.out.push({ kind: 'stateChanged', from, to, reason });
  }

  private sendAdvert(priority: number): void {
    this.stats.advertsSent++;
    if (priority === 0) this.stats.priorityZeroSent++;
    this.out.push({ kind: 'sendAdvert', priority, advertIntervalCs: this.config.advertIntervalCs });
  }

  private arm(timer: VrrpTimer, atMs: number): void {
    this.timers.set(timer, atMs);
    this.out.push({ kind: 'armTimer', timer, atMs });
  }

  private cancelAll(): void {
    for (const t of ALL_TIMERS) {
      if (this.timers.delete(t)) this.out.push({ kind: 'cancelTimer', timer: t });
    }
  }

  private drop(why: string): void {
    this.stats.droppedAdverts++;
    this.log('info', `(${this.config.name}) ${why}`);
  }

  private describeFault(reason: FaultReason, source?: string): string {
    switch (reason) {
      case 'interface-down':
        return `interface ${source ?? '?'} down`;
      case 'tracker':
        return `tracker ${source ?? '?'} failed`;
      case 'no-address':
        return `no IPv${this.config.family} address for interface`;
      case 'sync-group':
        return `sync group ${source ?? '?'} in fault`;
    }
  }

  private log(level: 'info' | 'warning', message: string, topic?: LogTopic): void {
    this.out.push(topic ? { kind: 'log', level, message, topic } : { kind: 'log', level, message });
  }

  /** the priority last requested by trackers, before clamping (for status dumps) */
  get requestedPriority(): number | undefined {
    return this.trackedPriority;
  }
}
