// Deterministic simulator: N routers running the real VrrpCore on a virtual LAN with a virtual
// clock (an event queue ordered by time, then insertion order). Every random choice comes from a
// seeded PRNG, so a seed replays exactly: `node dist/src/sim/cli.js --seed N --trace`.
//
// A run has three phases:
//  1. chaos: packet loss, delay/jitter (hence reordering), duplication, partitions and healing,
//     crashes and restarts (graceful or not), priority changes, link faults;
//  2. stable: no more events, no loss; after a settling bound every invariant must hold;
//  3. handover: the Master of one partition shuts down gracefully; a Backup must take over within
//     Skew_Time plus the network delay.
// Invariants (checked on every step or at each checkpoint) fail the run with the seed.

import { Prng } from '../util/prng.js';
import {
  VrrpCore,
  carryOut,
  coreConfig,
  masterDownIntervalMs,
  skewTimeMs,
  type DeferredDecision,
  type LogTopic,
  type UrgentDecision,
  type VrrpCoreConfig,
  type VrrpDecision,
  type VrrpEvent,
  type VrrpTimer,
} from '../vrrp/core.js';
import type { ReceivedAdvert, VrrpVersion } from '../vrrp/types.js';

export class SimInvariantError extends Error {
  override readonly name = 'SimInvariantError';
  constructor(
    readonly seed: number,
    readonly atMs: number,
    message: string,
  ) {
    super(`seed ${seed} t=${atMs.toFixed(3)}ms: ${message}\n  replay: node dist/src/sim/cli.js --seed ${seed} --trace`);
  }
}

interface Router {
  readonly id: number;
  readonly addr: string;
  readonly cfg: VrrpCoreConfig;
  core: VrrpCore | null; // null while crashed
  incarnation: number;
  linkUp: boolean;
  partition: number;
  holdsVips: boolean;
  /** the priority the (virtual) trackers ask for; survives restarts */
  trackedPriority: number;
}

type QItem =
  | { t: number; seq: number; kind: 'deliver'; to: number; from: number; adv: ReceivedAdvert }
  | { t: number; seq: number; kind: 'timer'; r: number; inc: number; timer: VrrpTimer }
  | { t: number; seq: number; kind: 'scenario'; run: () => void; label: string };

/** Binary min-heap on (t, seq). */
class Queue {
  private h: QItem[] = [];
  get size(): number {
    return this.h.length;
  }
  push(x: QItem): void {
    const h = this.h;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): QItem | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
type NoSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
const less = (a: QItem, b: QItem): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq);

export interface SimOptions {
  trace?: boolean;
  /** build the core of a router (tests inject faulty cores to prove the invariants bite) */
  makeCore?: (cfg: VrrpCoreConfig) => VrrpCore;
  /** called with each trace line (default: collected in the result) */
  onTrace?: (line: string) => void;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  error?: SimInvariantError;
  /** summary of the scenario, for reports */
  summary: string;
  steps: number;
  simulatedMs: number;
  trace: string[];
  /** what the run exercised (counts), so tests can tell a vacuous simulator */
  coverage: SimCoverage;
}

export interface SimCoverage {
  handover: number;
  ownerFight: number;
  priorityZeroReceived: number;
  forcedElection: number;
  preemptDelay: number;
  intervalLearnt: number;
  faults: number;
  partitions: number;
  crashes: number;
  gracefulStops: number;
  restarts: number;
  priorityChanges: number;
  lostPackets: number;
  duplicates: number;
  masterTakeovers: number;
}

export function runSeed(seed: number, opts: SimOptions = {}): SimResult {
  const sim = new Sim(seed, opts);
  try {
    sim.run();
    return { seed, ok: true, summary: sim.summary, steps: sim.steps, simulatedMs: sim.now, trace: sim.traceLines, coverage: sim.cov };
  } catch (e) {
    if (e instanceof SimInvariantError) {
      return {
        seed,
        ok: false,
        error: e,
        summary: sim.summary,
        steps: sim.steps,
        simulatedMs: sim.now,
        trace: sim.traceLines,
        coverage: sim.cov,
      };
    }
    // Anything else (a crash inside the core) is also a failure of that seed.
    const err = new SimInvariantError(seed, sim.now, `exception: ${(e as Error)?.stack ?? String(e)}`);
    return {
      seed,
      ok: false,
      error: err,
      summary: sim.summary,
      steps: sim.steps,
      simulatedMs: sim.now,
      trace: sim.traceLines,
      coverage: sim.cov,
    };
  }
}

/** What the run exercised, counted from the core's log topics. */
const COVERED: { readonly [T in LogTopic]?: keyof SimCoverage } = {
  ownerConflict: 'ownerFight',
  priorityZeroReceived: 'priorityZeroReceived',
  forcedElection: 'forcedElection',
  preemptDelay: 'preemptDelay',
  intervalLearned: 'intervalLearnt',
  faultOn: 'faults',
  enterMaster: 'masterTakeovers',
};

class Sim {
  readonly rng: Prng;
  readonly q = new Queue();
  seq = 0;
  now = 0;
  steps = 0;
  readonly routers: Router[] = [];
  readonly version: VrrpVersion;
  readonly family: 4 | 6;
  readonly traceLines: string[] = [];
  summary = '';
  // network conditions (changed by phase)
  loss = 0;
  dup = 0;
  delayMin = 0.1;
  delayMax = 1;
  // phase bookkeeping
  stableAt = Infinity;
  settleAt = Infinity;
  handoverAt = Infinity;
  inHandover = false;
  /** stable phase: a LAN keeps each sender->receiver flow in order (chaos may reorder) */
  fifo = false;
  private readonly lastArrival = new Map<number, number>();
  readonly cov: SimCoverage = {
    handover: 0,
    ownerFight: 0,
    priorityZeroReceived: 0,
    forcedElection: 0,
    preemptDelay: 0,
    intervalLearnt: 0,
    faults: 0,
    partitions: 0,
    crashes: 0,
    gracefulStops: 0,
    restarts: 0,
    priorityChanges: 0,
    lostPackets: 0,
    duplicates: 0,
    masterTakeovers: 0,
  };

  constructor(
    readonly seed: number,
    readonly opts: SimOptions,
  ) {
    this.rng = new Prng(seed);
    const rng = this.rng;
    this.version = rng.chance(0.5) ? 2 : 3;
    this.family = this.version === 3 && rng.chance(0.3) ? 6 : 4;
    const n = rng.int(2, 4);
    const baseInterval = this.version === 2 ? rng.pick([100, 100, 200]) : rng.pick([50, 100, 100, 200]);
    const prios = [50, 100, 100, 150, 200, 254];
    // keepalived: "All virtual routers for a given VRRP instance MUST use the same value" of
    // down_timer_adverts; 1 makes a Backup time out just as each advert lands, so use 2..5.
    const downTimerAdverts = rng.chance(0.1) ? rng.int(2, 5) : 3;
    for (let i = 0; i < n; i++) {
      const addr = this.family === 4 ? `192.0.2.${rng.int(1, 254)}` : `fe80::${rng.int(1, 0xffff).toString(16)}`;
      if (this.routers.some((r) => r.addr === addr)) {
        i--;
        continue;
      }
      let priority = rng.chance(0.07) ? 255 : rng.chance(0.3) ? rng.pick(prios) : rng.int(1, 254);
      if (i > 0 && rng.chance(0.2)) priority = this.routers[0]!.cfg.priority; // ties
      const interval = this.version === 3 && rng.chance(0.2) ? rng.pick([50, 100, 150, 300]) : baseInterval;
      const cfg = coreConfig({
        name: `VI_${i + 1}`,
        vrid: 51,
        version: this.version,
        family: this.family,
        priority,
        primaryAddress: addr,
        virtualAddresses: [this.family === 4 ? '203.0.113.10' : '2001:db8::10'],
        advertIntervalCs: interval,
        preempt: !rng.chance(0.15),
        preemptDelayMs: rng.chance(0.15) ? rng.pick([500, 1000, 3000]) : 0,
        startupDelayMs: rng.chance(0.1) ? rng.pick([500, 2000]) : 0,
        garpMasterDelayMs: rng.pick([0, 1000, 5000]),
        garpMasterRepeat: rng.int(0, 5),
        garpMasterRefreshMs: rng.chance(0.2) ? 2000 : 0,
        lowerPrioNoAdvert: rng.chance(0.2),
        higherPrioSendAdvert: rng.chance(0.2),
        downTimerAdverts,
      });
      this.routers.push({
        id: i,
        addr,
        cfg,
        core: null,
        incarnation: 0,
        linkUp: true,
        partition: 0,
        holdsVips: false,
        trackedPriority: priority,
      });
    }
    this.summary =
      `v${this.version} IPv${this.family} ${n} routers: ` +
      this.routers
        .map(
          (r) =>
            `r${r.id}(${r.addr} prio ${r.cfg.priority} int ${r.cfg.advertIntervalCs}cs` +
            `${r.cfg.preempt ? '' : ' nopreempt'}${r.cfg.preemptDelayMs ? ` preempt_delay ${r.cfg.preemptDelayMs}` : ''}` +
            `${r.cfg.startupDelayMs ? ` startup_delay ${r.cfg.startupDelayMs}` : ''}` +
            `${r.cfg.downTimerAdverts !== 3 ? ` down_timer_adverts ${r.cfg.downTimerAdverts}` : ''})`,
        )
        .join(', ');
  }

  trace(line: string): void {
    if (!this.opts.trace) return;
    const l = `[${this.now.toFixed(3).padStart(11)}] ${line}`;
    if (this.opts.onTrace) this.opts.onTrace(l);
    else this.traceLines.push(l);
  }

  fail(msg: string): never {
    throw new SimInvariantError(this.seed, this.now, `${msg}\n  scenario: ${this.summary}`);
  }

  push(x: NoSeq<QItem>): void {
    (x as QItem).seq = this.seq++;
    this.q.push(x as QItem);
  }

  scenario(t: number, label: string, run: () => void): void {
    this.push({ t, kind: 'scenario', label, run });
  }

  // ---- driving a router's core -----------------------------------------------------------------

  feed(r: Router, ev: VrrpEvent): void {
    if (!r.core) return;
    const ds = r.core.handle(ev);
    this.apply(r, ds);
  }

  /** The daemon's order (carryOut): the urgent decisions, then the words, at the same instant. */
  apply(r: Router, ds: VrrpDecision[]): void {
    const words = carryOut(ds, (d) => this.applyUrgent(r, d));
    if (words) for (const d of words) this.applyWord(r, d);
    // Virtual addresses are held only by a Master, and a Master holds them.
    const st = r.core?.state;
    if (r.holdsVips !== (st === 'MASTER')) {
      this.fail(`r${r.id} holds VIPs=${r.holdsVips} in state ${st ?? 'crashed'}`);
    }
  }

  applyUrgent(r: Router, d: UrgentDecision): void {
    switch (d.kind) {
      case 'sendAdvert':
        this.send(r, d.priority, d.advertIntervalCs);
        break;
      case 'addAddresses':
        r.holdsVips = true;
        break;
      case 'removeAddresses':
        r.holdsVips = false;
        break;
      case 'armTimer':
        if (!(d.atMs >= this.now)) this.fail(`r${r.id} armed ${d.timer} in the past: ${d.atMs} < now ${this.now}`);
        this.push({ t: d.atMs, kind: 'timer', r: r.id, inc: r.incarnation, timer: d.timer });
        if (this.opts.trace) this.trace(`r${r.id} arm ${d.timer} at ${d.atMs.toFixed(3)}`);
        break;
      case 'cancelTimer':
      case 'announce':
        break;
    }
  }

  applyWord(r: Router, d: DeferredDecision): void {
    switch (d.kind) {
      case 'stateChanged':
        this.trace(`r${r.id} ${d.from} -> ${d.to} (${d.reason})`);
        if (this.now >= this.settleAt && !this.inHandover) {
          this.fail(`r${r.id} changed state ${d.from} -> ${d.to} (${d.reason}) in a stable network`);
        }
        break;
      case 'log': {
        this.trace(`r${r.id} ${d.message}`);
        const counter = d.topic && COVERED[d.topic];
        if (counter) this.cov[counter]++;
        break;
      }
      case 'notify':
      case 'notifyMasterRxLowerPri':
        break;
    }
  }

  canReach(a: Router, b: Router): boolean {
    return a !== b && a.core !== null && b.core !== null && a.linkUp && b.linkUp && a.partition === b.partition;
  }

  send(from: Router, priority: number, intervalCs: number): void {
    if (!from.linkUp) return;
    for (const to of this.routers) {
      if (!this.canReach(from, to)) continue;
      if (this.rng.chance(this.loss)) {
        this.cov.lostPackets++;
        this.trace(`net: advert r${from.id} -> r${to.id} lost`);
        continue;
      }
      const copies = this.rng.chance(this.dup) ? 2 : 1;
      if (copies > 1) this.cov.duplicates++;
      for (let k = 0; k < copies; k++) {
        const adv: ReceivedAdvert = {
          family: this.family,
          srcAddress: from.addr,
          dstAddress: this.family === 4 ? '224.0.0.18' : 'ff02::12',
          advert: {
            version: this.version,
            type: 1,
            vrid: from.cfg.vrid,
            priority,
            advertIntervalCs: intervalCs,
            addresses: from.cfg.virtualAddresses,
            checksum: 0,
          },
        };
        let t = this.now + this.rng.range(this.delayMin, this.delayMax);
        if (this.fifo) {
          const key = from.id * 64 + to.id;
          t = Math.max(t, this.lastArrival.get(key) ?? 0);
          this.lastArrival.set(key, t);
        }
        this.push({ t, kind: 'deliver', to: to.id, from: from.id, adv });
      }
    }
  }

  // ---- scenario actions ------------------------------------------------------------------------

  boot(r: Router): void {
    if (r.incarnation++ > 0) this.cov.restarts++;
    r.core = this.opts.makeCore ? this.opts.makeCore(r.cfg) : new VrrpCore(r.cfg);
    r.holdsVips = false;
    this.trace(`r${r.id} boots`);
    if (!r.linkUp) this.feed(r, { type: 'faultChanged', nowMs: this.now, fault: true, reason: 'interface-down', source: 'eth0' });
    this.feed(r, { type: 'startup', nowMs: this.now });
    if (r.trackedPriority !== r.cfg.priority) this.feed(r, { type: 'priorityChanged', nowMs: this.now, priority: r.trackedPriority });
  }

  crash(r: Router, graceful: boolean): void {
    if (!r.core) return;
    this.trace(`r${r.id} ${graceful ? 'stops gracefully' : 'crashes'}`);
    if (graceful) this.cov.gracefulStops++;
    else this.cov.crashes++;
    if (graceful) this.feed(r, { type: 'shutdown', nowMs: this.now });
    r.core = null;
    r.holdsVips = false;
  }

  randomEvent(): void {
    const rng = this.rng;
    const r = rng.pick(this.routers);
    const what = rng.int(0, 5);
    switch (what) {
      case 0:
        if (r.core) this.crash(r, rng.chance(0.5));
        else this.boot(r);
        break;
      case 1: {
        const parts = rng.int(1, 3);
        for (const x of this.routers) x.partition = rng.int(0, parts - 1);
        if (new Set(this.routers.map((x) => x.partition)).size > 1) this.cov.partitions++;
        this.trace(`net: partition ${this.routers.map((x) => `r${x.id}:${x.partition}`).join(' ')}`);
        break;
      }
      case 2:
        for (const x of this.routers) x.partition = 0;
        this.trace('net: healed');
        break;
      case 3: {
        const p = rng.chance(0.3) ? r.cfg.priority : r.cfg.priority + rng.pick([-60, -20, 20, 60, 300, -300]);
        r.trackedPriority = p;
        this.cov.priorityChanges++;
        this.trace(`r${r.id} trackers ask for priority ${p}`);
        this.feed(r, { type: 'priorityChanged', nowMs: this.now, priority: p });
        break;
      }
      case 4:
      case 5:
        r.linkUp = !r.linkUp;
        this.trace(`r${r.id} link ${r.linkUp ? 'up' : 'down'}`);
        this.feed(r, { type: 'faultChanged', nowMs: this.now, fault: !r.linkUp, reason: 'interface-down', source: 'eth0' });
        break;
    }
  }

  // ---- invariants at checkpoints ---------------------------------------------------------------

  partitions(): Map<number, Router[]> {
    const m = new Map<number, Router[]>();
    for (const r of this.routers) {
      if (!r.core || !r.linkUp) continue; // crashed or faulted: not a live member
      const list = m.get(r.partition) ?? [];
      list.push(r);
      m.set(r.partition, list);
    }
    return m;
  }

  checkStable(): void {
    for (const [p, live] of this.partitions()) {
      const masters = live.filter((r) => r.core!.state === 'MASTER');
      const desc = live.map((r) => `r${r.id}:${r.core!.state}/${r.core!.effectivePriority}`).join(' ');
      if (masters.length !== 1) this.fail(`partition ${p}: ${masters.length} Masters, expected 1 (${desc})`);
      // With preemption on everywhere, the Master has the highest effective priority. On equal
      // priority the RFC does not guarantee the highest address: a Backup with a priority equal
      // to the Master's accepts its adverts (RFC 5798 6.4.2 ">="), so the first one in keeps it.
      if (live.every((r) => r.cfg.preempt)) {
        const best = Math.max(...live.map((r) => r.core!.effectivePriority));
        if (masters[0]!.core!.effectivePriority !== best) {
          this.fail(`partition ${p}: Master r${masters[0]!.id} does not have the highest priority ${best} (${desc})`);
        }
      }
    }
  }

  // ---- the run ---------------------------------------------------------------------------------

  run(): void {
    const rng = this.rng;
    // chaos phase
    this.loss = rng.pick([0, 0.01, 0.05, 0.2]);
    this.dup = rng.pick([0, 0.01, 0.1]);
    this.delayMin = 0.05;
    this.delayMax = rng.pick([1, 5, 50]);
    const chaosMaxDelay = this.delayMax;
    const chaosMs = rng.int(0, 20000);
    const startAll = rng.chance(0.5);
    for (const r of this.routers) {
      const t = startAll ? 0 : rng.range(0, Math.min(chaosMs, 5000));
      this.scenario(t, `boot r${r.id}`, () => this.boot(r));
    }
    const nEvents = chaosMs === 0 ? 0 : rng.int(0, 12);
    for (let i = 0; i < nEvents; i++) this.scenario(rng.range(0, chaosMs), 'random', () => this.randomEvent());
    // stable phase: no loss, small delay; everything frozen.
    this.stableAt = chaosMs + 1;
    this.scenario(this.stableAt, 'stable', () => {
      this.loss = 0;
      this.fifo = true;
      this.delayMin = 0.05;
      this.delayMax = 2;
      this.trace('--- stable network from now on ---');
    });
    // Settling bound: a restart just before stableAt may still be in vrrp_startup_delay, then
    // waits Master_Down_Interval (+ preempt_delay); in-flight chaos packets land within
    // chaosMaxDelay. Chaos can leave the Backups' down timers reset at different times, so a
    // lower-priority Backup may take over first and be preempted in turn (each preemption costs
    // up to preempt_delay + Master_Down_Interval, and the Master's priority rises each time, so at
    // most n-1 of them follow the first takeover).
    const maxIntCs = Math.max(...this.routers.map((r) => r.cfg.advertIntervalCs));
    const maxMdi = Math.max(...this.routers.map((r) => masterDownIntervalMs(this.version, 1, maxIntCs, r.cfg.downTimerAdverts)));
    const perTakeover = Math.max(...this.routers.map((r) => r.cfg.preemptDelayMs)) + maxMdi + 2 * maxIntCs * 10 + 4;
    const settle = Math.max(...this.routers.map((r) => r.cfg.startupDelayMs)) + this.routers.length * perTakeover + 2 * chaosMaxDelay + 10;
    this.settleAt = this.stableAt + settle;
    const checkUntil = this.settleAt + rng.int(2000, 10000);
    this.scenario(this.settleAt, 'settled', () => {
      this.trace('--- settled: invariants from now on ---');
      this.checkStable();
    });
    for (let t = this.settleAt + 250; t < checkUntil; t += 250) this.scenario(t, 'check', () => this.checkStable());
    // handover phase
    this.handoverAt = checkUntil;
    let deadline = Infinity;
    let handoverPart = -1;
    this.scenario(this.handoverAt, 'handover', () => {
      this.checkStable();
      for (const [p, live] of this.partitions()) {
        const backups = live.filter((r) => r.core!.state === 'BACKUP');
        if (backups.length === 0) continue;
        // Several address owners (a configuration error) fight on takeover: keepalived's remedy
        // (one lowers itself to 254 and yields) can leave no Master for a Master_Down_Interval.
        if (live.filter((r) => r.cfg.priority === 255).length > 1) continue;
        const m = live.find((r) => r.core!.state === 'MASTER')!;
        // Skew_Time of the fastest Backup, from its priority and learnt interval.
        const skew = Math.min(...backups.map((b) => skewTimeMs(this.version, b.core!.effectivePriority, b.core!.masterAdverIntervalCs)));
        deadline = this.now + skew + this.delayMax + 1;
        handoverPart = p;
        this.inHandover = true;
        this.cov.handover++;
        this.trace(`--- handover: r${m.id} stops gracefully; a Backup must be Master by ${deadline.toFixed(3)} ---`);
        this.crash(m, true);
        this.scenario(deadline, 'handover-check', () => {
          const live2 = this.partitions().get(handoverPart) ?? [];
          if (!live2.some((r) => r.core!.state === 'MASTER')) {
            this.fail(`graceful shutdown: no Backup took over within Skew_Time + delay (${(deadline - this.handoverAt).toFixed(3)} ms)`);
          }
        });
        break;
      }
    });
    const endAt = this.handoverAt + 5000;
    const maxSteps = 2_000_000;
    for (;;) {
      const it = this.q.pop();
      if (!it || it.t > endAt) break;
      if (++this.steps > maxSteps) this.fail(`more than ${maxSteps} steps: runaway`);
      if (it.t < this.now) this.fail(`event queue went back in time: ${it.t} < ${this.now}`);
      this.now = it.t;
      switch (it.kind) {
        case 'scenario':
          it.run();
          break;
        case 'timer': {
          const r = this.routers[it.r]!;
          if (!r.core || r.incarnation !== it.inc) break;
          this.feed(r, { type: 'timerExpired', nowMs: this.now, timer: it.timer });
          break;
        }
        case 'deliver': {
          const to = this.routers[it.to]!;
          const from = this.routers[it.from]!;
          // the network may have changed while the packet was in flight
          if (!to.core || !to.linkUp || to.partition !== from.partition) break;
          this.feed(to, { type: 'advertReceived', nowMs: this.now, advert: it.adv });
          break;
        }
      }
    }
  }
}
