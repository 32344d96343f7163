// The running daemon: every vrrp_instance of one configuration in one process, with the shared
// pieces they need (netlink, the link/address monitor, GARP/ND senders, the notifier, trackers).
import type { LvsRunnerStatus } from '../lvs/index.js';
import type { Logger } from 'pino';
import type {
  KeepalivedConfig,
  TrackFile as TrackFileDef,
  TrackProcess as TrackProcessDef,
  VrrpInstance,
  VrrpScript as VrrpScriptDef,
} from '../config/model.js';
import type { VrrpState } from '../vrrp/core.js';
import { Rtnl } from '../net/netlink.js';
import { NetMonitor } from '../net/monitor.js';
import { GarpSender } from '../net/garp.js';
import { NdiscSender } from '../net/ndisc.js';
import { Notifier, type NotifyScript } from '../notify/queue.js';
import { NotifyFifo } from '../notify/fifo.js';
import { evaluateScripts, resolveScriptUser, type ScriptToCheck } from '../notify/security.js';
import { VrrpScript } from '../track/script.js';
import { TrackFile } from '../track/file.js';
import { ProcessMonitor, type TrackedProcess } from '../track/process.js';
import { sendAlertMail, vrrpAlert } from '../notify/smtp.js';
import { hostname } from 'node:os';
import { effectivePriority, type TrackedInput } from '../track/priority.js';
import { addressSpec, netRoute, netRule, sameConfig } from './map.js';
import { InstanceRunner, netSnapshot, type InstanceStatus, type NetSnapshot, type RunnerDeps } from './instance.js';
import { SocketHub } from './sockets.js';
import { SyncGroups } from './sync-group.js';

export interface ReloadSummary {
  unchanged: string[];
  changed: string[];
  added: string[];
  removed: string[];
}

export { sameConfig } from './map.js';

export interface TrackerStatus {
  kind: 'script' | 'file';
  name: string;
  status: 'init' | 'ok' | 'failed';
  value?: number;
  runs?: number;
  failures?: number;
  timeouts?: number;
}

export interface DaemonSnapshot {
  pid: number;
  startedAtMs: number;
  instances: InstanceStatus[];
  trackers: TrackerStatus[];
  notify: { queued: number; ran: number; succeeded: number; failed: number; timedOut: number; dropped: number; spawnErrors: number };
  reloads: { ok: number; failed: number; lastMs: number; lastDurationMs: number };
  unknownVridPackets: number;
  /** the LVS side (src/lvs/), filled in by the entry point */
  lvs?: LvsRunnerStatus;
}

export interface DaemonDeps {
  log: Logger;
  /** run limit of one notify script (default 30 s) */
  notifyTimeoutMs?: number;
  now?: () => number;
  /** every instance state change (lvs_sync_daemon with `inst` follows its instance) */
  onInstanceState?: (instance: string, from: VrrpState, to: VrrpState) => void;
}

/** Everything that tracks: the instances and the sync groups (whose trackers apply to their members). */
function trackers(cfg: KeepalivedConfig): Array<Pick<VrrpInstance, 'trackScripts' | 'trackFiles' | 'trackProcesses'>> {
  return [...cfg.vrrpInstances, ...cfg.vrrpSyncGroups];
}

export class Daemon {
  /** how long a stopping daemon waits for its notify queues before killing what still runs */
  static stopNotifyGraceMs = 3000;
  readonly runners: InstanceRunner[] = [];
  private readonly hub = new SocketHub();
  private rtnl!: Rtnl;
  private monitor: NetMonitor | undefined;
  private garpSender: GarpSender | undefined;
  private garpFailed = false;
  private readonly ndiscs = new Map<string, Promise<NdiscSender | undefined>>();
  private readonly notifier: Notifier;
  private fifo: NotifyFifo | undefined;
  private readonly scripts = new Map<string, { def: VrrpScriptDef; runner: VrrpScript }>();
  private readonly files = new Map<string, { def: TrackFileDef; tracker: TrackFile }>();
  private readonly processes = new Map<string, { def: TrackProcessDef; tracker: TrackedProcess }>();
  private processMonitor: ProcessMonitor | undefined;
  private readonly waiting = new Set<InstanceRunner>();
  private readonly starting = new Map<InstanceRunner, Promise<void>>();
  /** last link state per name from monitor events (null: deleted) */
  private readonly retryStart = new Set<InstanceRunner>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly securityRefused = new Set<string>();
  private readonly syncGroups: SyncGroups;
  readonly startedAtMs = Date.now();
  /** reload outcomes (the entry point counts refused files as failed) */
  readonly reloads = { ok: 0, failed: 0, lastMs: 0, lastDurationMs: 0 };

  constructor(
    public config: KeepalivedConfig,
    private readonly deps: DaemonDeps,
  ) {
    this.log = deps.log;
    this.now = deps.now ?? (() => performance.now());
    // keepalived has no limit; ours defaults to 30 s (--notify-timeout)
    this.notifier = new Notifier({ timeoutMs: deps.notifyTimeoutMs ?? 30_000 });
    this.notifier.on('run', (r) => {
      if (r.result.kind !== 'exit' || r.result.code !== 0) {
        this.log.warn(
          `notify script "${r.line}" ${r.result.kind === 'timeout' ? 'timed out and was killed' : `failed (${r.result.kind} ${r.result.code ?? r.result.signal ?? ''})`}`,
        );
      }
    });
    this.syncGroups = new SyncGroups({
      config: () => this.config,
      runners: () => this.runners,
      log: this.log,
      notifier: this.notifier,
      fifo: () => this.fifo,
      script: (line, user, group) => this.script(line, user, group),
      alert: (name, state) => this.smtpAlert('GROUP', name, state),
    });
  }

  async start(): Promise<void> {
    const cfg = this.config;
    // concurrent netlink dumps on one socket fail with EBUSY: one request at a time
    this.rtnl = Rtnl.open(); // Rtnl queues its own requests (one dump per socket at a time)
    const fifoCmd = cfg.globalDefs.vrrpNotifyFifo ?? cfg.globalDefs.notifyFifo;
    if (fifoCmd) {
      this.fifo = new NotifyFifo({ path: fifoCmd.command });
      const err = await this.fifo.open();
      if (err) {
        this.log.error(`notify_fifo ${fifoCmd.command}: ${err.message}`);
        this.fifo = undefined;
      }
    }
    try {
      this.monitor = await NetMonitor.start();
      this.monitor.on('link', (link) => {
        for (const r of this.runners) if (r.ifname === link.name) r.onLink(link);
        for (const r of [...this.waiting]) if (r.ifname === link.name) void this.startRunner(r);
        this.recomputeAll();
      });
      this.monitor.on('addressRemoved', (a) => {
        for (const r of this.runners) r.onAddressRemoved(a.address, a.ifindex);
      });
      this.monitor.on('addressAdded', () => {
        for (const r of [...this.waiting]) void this.startRunner(r);
      });
      this.monitor.on('error', (e) => this.log.warn(`netlink monitor: ${e.message}`));
    } catch (err) {
      this.log.warn(`cannot monitor links and addresses: ${(err as Error).message}`);
    }
    this.checkScripts(cfg);
    await this.statics(cfg, true);
    for (const inst of cfg.vrrpInstances) this.runners.push(this.makeRunner(inst, cfg));
    // Open the gratuitous ARP / unsolicited NA senders now: loading the addon and opening the
    // sockets lazily put them on the first takeover's critical path.
    const owned = cfg.vrrpInstances.flatMap((i) =>
      [...i.virtualIpAddresses, ...i.virtualIpAddressesExcluded].map((a) => ({
        a,
        dev: a.dev ?? i.interface ?? cfg.globalDefs.defaultInterface,
      })),
    );
    if (owned.some((o) => o.a.family === 'inet')) this.garp();
    for (const dev of new Set(owned.filter((o) => o.a.family === 'inet6').map((o) => o.dev))) if (dev) void this.ndisc(dev);
    this.reconcileTrackers(cfg);
    const net = netSnapshot(this.rtnl);
    await Promise.all(this.runners.map((r) => this.startRunner(r, undefined, net)));
    this.recomputeAll();
    // compile the takeover path before it is needed, then keep it compiled (InstanceRunner.rehearse)
    this.rehearsalTimer = setTimeout(() => {
      void this.rehearseAll(Daemon.rehearsalRounds);
      this.rehearsalTimer = setInterval(() => void this.rehearseAll(2), Daemon.rehearsalEveryMs);
      this.rehearsalTimer.unref();
    }, 0);
    this.rehearsalTimer.unref();
  }

  static rehearsalRounds = 50;
  static rehearsalEveryMs = 10_000;
  private rehearsalTimer: NodeJS.Timeout | undefined;
  private rehearsing = false;

  /** Rehearse a takeover on one started instance of each kind (they share the code). */
  private async rehearseAll(rounds: number): Promise<void> {
    if (this.rehearsing) return;
    this.rehearsing = true;
    try {
      const seen = new Set<string>();
      for (const r of this.runners) {
        if (!r.core || seen.has(r.rehearsalKey)) continue;
        seen.add(r.rehearsalKey);
        const t0 = this.now();
        const ok = await r.rehearse(rounds);
        if (rounds === Daemon.rehearsalRounds)
          this.log.debug(
            `(${r.name}) takeover rehearsed${ok ? '' : ' (incompletely)'}: ${rounds} rounds in ${(this.now() - t0).toFixed(1)} ms, no packet sent, nothing added (${r.rehearsalKey})`,
          );
      }
    } finally {
      this.rehearsing = false;
    }
  }

  /** static_ipaddress / static_routes / static_rules: set at start, removed at stop (keepalived). */
  private async statics(cfg: KeepalivedConfig, present: boolean): Promise<void> {
    const rtnl = this.rtnl;
    const dflt = cfg.globalDefs.defaultInterface;
    const run = async (what: string, where: { file: string; line: number }, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        this.log.error(`${what} (${where.file}:${where.line}): ${(err as Error).message}`);
      }
    };
    const addrs = cfg.staticIpAddresses,
      routes = cfg.staticRoutes,
      rules = cfg.staticRules;
    if (present) {
      for (const a of addrs) await run(`static_ipaddress ${a.address}`, a, () => rtnl.ensureAddress(addressSpec(a, dflt)));
      for (const r of routes) await run(`static_route ${r.raw.join(' ')}`, r, () => rtnl.ensureRoute(netRoute(r, undefined)));
      for (const r of rules) await run(`static_rule ${r.raw.join(' ')}`, r, () => rtnl.ensureRule(netRule(r)));
    } else {
      for (const r of rules) await run(`static_rule ${r.raw.join(' ')}`, r, () => rtnl.ensureRuleAbsent(netRule(r)));
      for (const r of routes) await run(`static_route ${r.raw.join(' ')}`, r, () => rtnl.ensureRouteAbsent(netRoute(r, undefined)));
      for (const a of addrs) await run(`static_ipaddress ${a.address}`, a, () => rtnl.ensureAddressAbsent(addressSpec(a, dflt)));
    }
  }

  /** What every runner of one configuration shares: its closures reach the daemon, not the runner
   *  (one object and five closures per instance were ~0.5 KB each: issue 14's footprint) */
  private runnerDeps: RunnerDeps | undefined;

  private makeRunner(inst: VrrpInstance, cfg: KeepalivedConfig): InstanceRunner {
    const d = this.runnerDeps;
    if (d?.global === cfg.globalDefs && d.fifo === this.fifo && d.rtnl === this.rtnl) return new InstanceRunner(inst, d);
    this.runnerDeps = {
      log: this.log,
      rtnl: this.rtnl,
      hub: this.hub,
      global: cfg.globalDefs,
      notifier: this.notifier,
      now: this.now,
      garp: () => this.garp(),
      ndisc: (ifname) => this.ndisc(ifname),
      fifo: this.fifo,
      script: (line, user, group) => this.script(line, user, group),
      onStateChanged: (r, from, to) => {
        if (r.inst.smtpAlert && (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT' || to === 'STOP'))
          this.smtpAlert('INSTANCE', r.name, to);
        this.syncGroups.follow(r, from, to);
        this.deps.onInstanceState?.(r.name, from, to);
      },
      beforeNotify: (r, state) => this.syncGroups.beforeMember(r, state),
    };
    return new InstanceRunner(inst, this.runnerDeps);
  }

  /** smtp_alert: a mail per transition, in the background; failures are logged, never thrown. */
  private smtpAlert(kind: 'INSTANCE' | 'GROUP', name: string, state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'): void {
    const g = this.config.globalDefs;
    const routerId = g.routerId ?? hostname().split('.')[0] ?? 'keepalived-ts';
    const { subject, body } = vrrpAlert({ routerId, kind, name, state });
    void sendAlertMail(g, subject, body)?.then((r) => {
      if (!r.ok) this.log.warn(`smtp_alert for ${name} ${state}: ${r.stage}: ${r.error ?? 'failed'}`);
      else this.log.info(`SMTP alert successfully sent for ${name} ${state}`);
    });
  }

  /**
   * Start (or retry) an instance. Link and address events can both ask while an attempt is in
   * flight: start() never runs twice at once (that would open a second core on the same VRID);
   * one more attempt follows if an event came during a failed one.
   */
  private startRunner(
    r: InstanceRunner,
    adopt?: { state: VrrpState | 'WAITING'; held: ReadonlySet<string> },
    net?: NetSnapshot,
  ): Promise<void> {
    if (r.core) {
      this.waiting.delete(r);
      return Promise.resolve();
    }
    const inFlight = this.starting.get(r);
    if (inFlight) {
      this.retryStart.add(r);
      return inFlight;
    }
    const attempt = (async () => {
      let ok = false;
      try {
        const res = effectivePriority(r.inst.priority, this.trackedInputs(r.inst));
        const a = adopt && adopt.state !== 'WAITING' ? { state: adopt.state, held: adopt.held } : undefined;
        ok = await r.start({ priority: res.priority, fault: res.fault }, a, net);
      } catch (err) {
        this.log.error(`(${r.name}) cannot start: ${(err as Error).message}`);
      }
      if (ok) {
        this.waiting.delete(r);
        this.recompute(r);
      } else this.waiting.add(r);
    })().finally(() => this.starting.delete(r));
    this.starting.set(r, attempt);
    return attempt.then(() => {
      if (!this.retryStart.delete(r) || r.core) return;
      return this.startRunner(r);
    });
  }

  /**
   * Apply a new configuration (SIGHUP). Only the difference is applied: an instance whose
   * configuration did not change keeps its runner untouched (state, timers, addresses, no
   * advert missed); a changed one gets its new configuration in place (InstanceRunner.reconfigure:
   * state, timers, socket and kept addresses stay; priority, addresses, tracking, timers, preempt
   * and notify settings take effect by difference), unless what changed is what its socket or
   * identity is made of (interface, VRID, family, version, unicast or multicast, source address,
   * VMAC): then it is replaced by a runner that adopts its state and addresses (no address
   * removed and re-added, no notify for the same state); an added one starts; a removed one sends
   * priority 0 and releases its addresses.
   */
  async reload(next: KeepalivedConfig): Promise<ReloadSummary> {
    const summary: ReloadSummary = { unchanged: [], changed: [], added: [], removed: [] };
    const globalsSame = sameConfig(this.config.globalDefs, next.globalDefs);
    const old = new Map(this.runners.map((r) => [r.name, r]));
    this.checkScripts(next);
    this.reconcileTrackers(next);
    const nextRunners: InstanceRunner[] = [];
    const work: Promise<void>[] = [];
    const inPlace: Array<[InstanceRunner, VrrpInstance]> = [];
    let netCache: NetSnapshot | undefined;
    const net = () => (netCache ??= netSnapshot(this.rtnl));
    for (const inst of next.vrrpInstances) {
      const prev = old.get(inst.name);
      old.delete(inst.name);
      if (prev && globalsSame && sameConfig(prev.inst, inst)) {
        summary.unchanged.push(inst.name);
        nextRunners.push(prev);
        continue;
      }
      const blocker = prev?.inPlaceBlocker(inst, next.globalDefs);
      if (prev && blocker === undefined) {
        summary.changed.push(inst.name);
        nextRunners.push(prev);
        inPlace.push([prev, inst]);
        continue;
      }
      if (prev)
        this.log.debug(`(${inst.name}) ${blocker === 'not running' ? 'not running yet' : `${blocker} changed`}: replaced by a new runner`);
      const runner = this.makeRunner(inst, next);
      nextRunners.push(runner);
      if (!prev) {
        summary.added.push(inst.name);
        work.push(this.startRunner(runner, undefined, net()));
        continue;
      }
      summary.changed.push(inst.name);
      const sameRouter =
        prev.inst.virtualRouterId === inst.virtualRouterId && prev.ifname === runner.ifname && prev.family === runner.family;
      this.waiting.delete(prev);
      work.push(
        (async () => {
          if (!sameRouter) {
            // another virtual router: the old one resigns properly
            await prev.stop();
            await this.startRunner(runner, undefined, netSnapshot(this.rtnl));
            return;
          }
          const taken = await prev.quiesce();
          await this.startRunner(runner, taken, net());
          await prev.releaseAddressesNotOwnedBy(runner);
          await prev.releaseSocket();
        })(),
      );
    }
    for (const prev of old.values()) {
      summary.removed.push(prev.name);
      this.waiting.delete(prev);
      work.push(prev.stop());
    }
    this.runners.splice(0, this.runners.length, ...nextRunners);
    this.config = next;
    // in place: the effective priority under the new configuration (its weights, its sync group)
    for (const [r, inst] of inPlace) {
      try {
        work.push(r.reconfigure(inst, next.globalDefs, effectivePriority(inst.priority, this.trackedInputs(inst)).priority));
      } catch (err) {
        this.log.error(`(${r.name}) reload: ${(err as Error).message}`);
      }
    }
    await Promise.all(work.map((w) => w.catch((err: Error) => this.log.error(`reload: ${err.message}`))));
    this.recomputeAll();
    this.reloads.ok++;
    return summary;
  }

  private garp(): GarpSender | undefined {
    if (!this.garpSender && !this.garpFailed) {
      try {
        this.garpSender = GarpSender.open();
      } catch (err) {
        this.garpFailed = true;
        this.log.error(`gratuitous ARP disabled: ${(err as Error).message}`);
      }
    }
    return this.garpSender;
  }

  private ndisc(ifname: string): Promise<NdiscSender | undefined> {
    let p = this.ndiscs.get(ifname);
    if (!p) {
      p = NdiscSender.open(ifname).catch((err: Error) => {
        this.log.error(`unsolicited NA disabled on ${ifname}: ${err.message}`);
        return undefined;
      });
      this.ndiscs.set(ifname, p);
    }
    return p;
  }

  /**
   * Script security, as keepalived checks it once per configuration: every script line (tracked
   * vrrp_scripts, notify scripts of instances and groups) is checked for its run-as user; refused
   * ones are logged and never run; without enable_script_security, the SECURITY VIOLATION warning.
   */
  private checkScripts(cfg: KeepalivedConfig): void {
    const g = cfg.globalDefs;
    const list: ScriptToCheck[] = [];
    const unusable: string[] = [];
    const add = (name: string, c: { command: string; user?: string; group?: string } | undefined, vrrpScript?: string) => {
      if (!c) return;
      const su = resolveScriptUser({
        user: c.user ?? g.scriptUser?.user,
        group: c.user ? c.group : g.scriptUser?.group,
        enableScriptSecurity: g.enableScriptSecurity,
      });
      if (su.error) {
        this.log.error(`${su.error} - ${name} will not run`);
        unusable.push(c.command);
        return;
      }
      list.push({ name: c.command, line: c.command, uid: su.uid, gid: su.gid, vrrpScript });
    };
    const tracked = new Set(trackers(cfg).flatMap((i) => i.trackScripts.map((t) => t.name)));
    for (const sc of cfg.vrrpScripts) if (tracked.has(sc.name)) add(`vrrp_script ${sc.name}`, sc.script, sc.name);
    for (const i of [...cfg.vrrpInstances, ...cfg.vrrpSyncGroups]) {
      for (const c of [i.notifyMaster, i.notifyBackup, i.notifyFault, i.notifyStop, i.notify]) add(`notify ${i.name}`, c);
    }
    for (const i of cfg.vrrpInstances) add(`notify_master_rx_lower_pri ${i.name}`, i.notifyMasterRxLowerPri);
    const report = evaluateScripts(list, g.enableScriptSecurity);
    for (const m of report.messages) this.log.warn(m);
    this.securityRefused.clear();
    for (const line of [...report.refused.keys(), ...unusable]) this.securityRefused.add(line);
  }

  /** Resolve a script line for running: script_user, unless script security refused it. */
  private script(line: string | undefined, user?: string, group?: string): NotifyScript | undefined {
    if (!line || this.securityRefused.has(line)) return undefined;
    const g = this.config.globalDefs;
    const su = resolveScriptUser({
      user: user ?? g.scriptUser?.user,
      group: user ? group : g.scriptUser?.group,
      enableScriptSecurity: g.enableScriptSecurity,
    });
    if (su.error) return undefined;
    return { line, uid: su.uid, gid: su.gid };
  }

  // ---- trackers --------------------------------------------------------------------------------

  /**
   * Run exactly the trackers that `cfg` uses; an unchanged definition keeps its running tracker
   * (and status). So does one whose weight alone changed (the weight is applied by
   * trackedInputs): restarting it would forget its status, and the priority would jump back and
   * forth until its next result.
   */
  private reconcileTrackers(cfg: KeepalivedConfig): void {
    this.reconcileProcesses(cfg);
    const used = new Set(trackers(cfg).flatMap((i) => i.trackScripts.map((t) => t.name)));
    const scripts = new Map(cfg.vrrpScripts.map((d) => [d.name, d]));
    for (const [name, cur] of this.scripts) {
      const def = scripts.get(name);
      if (!def || !used.has(name) || !sameConfig({ ...def, weight: 0, reverse: false }, { ...cur.def, weight: 0, reverse: false })) {
        void cur.runner.stop().catch(() => undefined);
        this.scripts.delete(name);
      } else {
        cur.def = def;
      }
    }
    for (const def of cfg.vrrpScripts) {
      if (!used.has(def.name) || this.scripts.has(def.name)) continue; // keepalived runs only tracked scripts
      const s = this.script(def.script.command, def.script.user, def.script.group);
      if (!s) continue;
      const runner = new VrrpScript({
        name: def.name,
        script: s.line,
        uid: s.uid,
        gid: s.gid,
        intervalMs: def.intervalMs,
        timeoutMs: def.timeoutMs,
        rise: def.rise,
        fall: def.fall,
        initFail: def.initFail,
      });
      runner.on('status', (status) => {
        this.log.info(`VRRP_Script(${def.name}) ${status === 'ok' ? 'succeeded' : 'failed'}`);
        this.recomputeAll();
      });
      this.scripts.set(def.name, { def, runner });
      runner.start();
    }
    const usedFiles = new Set(trackers(cfg).flatMap((i) => i.trackFiles.map((t) => t.name)));
    for (const [name, cur] of this.files) {
      const def = cfg.trackFiles.find((d) => d.name === name);
      if (!def || !usedFiles.has(name) || !sameConfig({ ...def, weight: 0, reverse: false }, { ...cur.def, weight: 0, reverse: false })) {
        cur.tracker.stop();
        this.files.delete(name);
      } else {
        cur.def = def;
      }
    }
    for (const def of cfg.trackFiles) {
      if (!usedFiles.has(def.name) || this.files.has(def.name)) continue;
      const tf = new TrackFile({ name: def.name, path: def.path, weight: def.weight, reverse: def.reverse, initFile: def.initFile });
      tf.on('value', () => this.recomputeAll());
      tf.on('warning', (m) => this.log.warn(`track_file ${def.name}: ${m}`));
      this.files.set(def.name, { def, tracker: tf });
      tf.start().catch((err: Error) => this.log.error(`track_file ${def.name}: ${err.message}`));
    }
  }

  /** vrrp_track_process: one process-event monitor for all tracked processes (rebuilt when they change). */
  private reconcileProcesses(cfg: KeepalivedConfig): void {
    const used = new Set(trackers(cfg).flatMap((i) => i.trackProcesses.map((t) => t.name)));
    const defs = cfg.trackProcesses.filter((d) => used.has(d.name));
    const same =
      defs.length === this.processes.size &&
      defs.every((d) => {
        const c = this.processes.get(d.name);
        return c && sameConfig(c.def, d);
      });
    if (same) return;
    this.processMonitor?.stop();
    this.processes.clear();
    this.processMonitor = undefined;
    if (!defs.length) return;
    const mon = new ProcessMonitor({ mode: 'auto' });
    for (const def of defs) {
      const tracker = mon.track({
        name: def.name,
        process: def.process,
        params: [...def.parameters],
        paramMatch: def.paramMatch,
        fullCommand: def.fullCommand,
        quorum: def.quorum,
        quorumMax: def.quorumMax,
        forkDelayMs: def.forkDelayMs || undefined,
        terminateDelayMs: def.terminateDelayMs || undefined,
        delayMs: def.delayMs || undefined,
        weight: def.weight,
        reverse: def.reverse,
      });
      tracker.on('status', (up: boolean, count: number) => {
        this.log.info(`Track process ${def.name} is ${up ? 'now running' : 'not running'} (${count} instance(s))`);
        this.recomputeAll();
      });
      this.processes.set(def.name, { def, tracker });
    }
    mon.on('warning', (m: string) => this.log.warn(`track_process: ${m}`));
    this.processMonitor = mon;
    mon.start().then(
      () => this.recomputeAll(),
      (err: Error) => this.log.error(`track_process: ${err.message}`),
    );
  }

  private trackedInputs(instance: VrrpInstance): TrackedInput[] {
    const out: TrackedInput[] = [];
    // a sync group's trackers count for every member, as if each member listed them (keepalived.conf(5))
    const inst = this.syncGroups.trackedBy(instance);
    for (const t of inst.trackScripts) {
      const s = this.scripts.get(t.name);
      if (!s) continue;
      const st = s.runner.status;
      out.push({
        kind: 'status',
        name: `script ${t.name}`,
        up: st === 'init' ? undefined : st === 'ok',
        weight: t.weight ?? s.def.weight,
        reverse: t.reverse ?? s.def.reverse,
        initFail: s.def.initFail,
      });
    }
    const links = this.monitor?.links();
    for (const t of inst.trackInterfaces) {
      const link = links ? [...links.values()].find((l) => l.name === t.name) : undefined;
      out.push({
        kind: 'status',
        name: `interface ${t.name}`,
        up: !!link && link.adminUp && link.carrier,
        weight: t.weight,
        reverse: t.reverse,
      });
    }
    for (const t of inst.trackProcesses) {
      const p = this.processes.get(t.name);
      if (!p) continue;
      out.push({
        kind: 'status',
        name: `process ${t.name}`,
        up: p.tracker.up,
        weight: t.weight ?? p.def.weight,
        reverse: t.reverse ?? p.def.reverse,
      });
    }
    for (const t of inst.trackFiles) {
      const f = this.files.get(t.name);
      if (!f) continue;
      out.push({
        kind: 'file',
        name: `file ${t.name}`,
        value: f.tracker.value,
        weight: t.weight ?? f.def.weight,
        reverse: t.reverse ?? f.def.reverse,
      });
    }
    return out;
  }

  private recompute(r: InstanceRunner): void {
    if (!r.core) return;
    const res = effectivePriority(r.inst.priority, this.trackedInputs(r.inst));
    r.onTrackers(res.priority, res.fault, res.faultBy);
  }

  private recomputeAll(): void {
    for (const r of this.runners) this.recompute(r);
    // an own fault may have cleared without a state change (the group still held the member)
    this.syncGroups.holdAllFaults();
  }

  status(): InstanceStatus[] {
    return this.runners.map((r) => r.status());
  }

  /** Everything an operator may ask about, for /status, /metrics and the USR1/USR2 files. */
  snapshot(): DaemonSnapshot {
    const trackers: TrackerStatus[] = [];
    for (const [name, s] of this.scripts)
      trackers.push({
        kind: 'script',
        name,
        status: s.runner.status,
        runs: s.runner.counters.runs,
        failures: s.runner.counters.failed,
        timeouts: s.runner.counters.timedOut,
      });
    for (const [name, f] of this.files) trackers.push({ kind: 'file', name, status: 'ok', value: f.tracker.value });
    return {
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      instances: this.status(),
      trackers,
      notify: { ...this.notifier.counters },
      reloads: { ...this.reloads },
      unknownVridPackets: this.hub.unknownVrid,
    };
  }

  /** Graceful stop: every instance sends priority 0 and releases its addresses. */
  async stop(): Promise<void> {
    clearTimeout(this.rehearsalTimer);
    clearInterval(this.rehearsalTimer);
    await Promise.all([...this.scripts.values()].map((s) => s.runner.stop().catch(() => undefined)));
    for (const f of this.files.values()) f.tracker.stop();
    this.processMonitor?.stop();
    await Promise.all(this.runners.map((r) => r.stop().catch((err: Error) => this.log.error(`(${r.name}) stop: ${err.message}`))));
    // Let queued notifications (notify_stop among them) finish, but bounded: a hung notify
    // script must not hold the shutdown for its whole timeout; close() kills what still runs.
    let grace: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.notifier.idle().then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((r) => {
        grace = setTimeout(() => r(false), Daemon.stopNotifyGraceMs);
      }),
    ]);
    clearTimeout(grace);
    if (!drained) this.log.warn(`notify scripts still running ${Daemon.stopNotifyGraceMs / 1000} s after stop: killing them`);
    await this.notifier.close();
    await this.fifo?.close();
    await this.statics(this.config, false);
    await this.hub.closeAll();
    this.monitor?.close();
    this.garpSender?.close();
    for (const p of this.ndiscs.values()) (await p)?.close();
    this.rtnl.close();
  }
}
