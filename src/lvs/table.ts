// The IPVS table manager: keeps the kernel's table equal to the desired table (desired.ts: the
// virtual_server blocks + real-server states) with the smallest set of netlink writes.
//
// Public API:
//   lvsGlobals(cfg): LvsGlobals                   lvs_flush, lvs_flush_on_stop [VS], lvs_timeouts
//   class LvsManager implements RealServerSink (src/check/sink.ts)
//     new LvsManager(ipvs: IpvsClient, log: LvsLog, opts?: { dontRelease? })
//     start(cfg)    lvs_flush, lvs_timeouts, then reconcile the configured services (see README:
//                   a service that already exists is adopted and corrected, foreign ones untouched)
//     reload(cfg)   only the difference; the same file => not one netlink write; a real server
//                   that stays keeps its state
//     stop()        removes our services (foreign ones survive) unless dontRelease (-I);
//                   lvs_flush_on_stop => one FLUSH; restores the timeouts it changed
//     setAlive / setWeight                        the checkers' results (RealServerSink)
//     idle(): Promise<void>                       resolves when every queued write is done
//     status(): LvsStatus                         per VS quorum / sorry, per RS alive / weight / in table
//     applied: DesiredTable                       what we believe the kernel holds (ours only)
//   One write queue: changes are applied in order, one netlink request at a time.
import type { KeepalivedConfig, RealServer, VirtualServer } from '../config/model.js';
import type { RealServerSink } from '../check/sink.js';
import { destKey, serviceKey, type IpvsDest, type IpvsService, type IpvsTimeouts } from './ipvs-schema.js';
import type { IpvsError, IpvsTableEntry } from './ipvs-netlink.js';
import { VsRuntime, diffTable, rsKey, rsName, servicesOf, tableOf, vsKey, vsName, type DesiredTable, type TableChange } from './desired.js';

/** The subset of Ipvs (ipvs-netlink.ts) the manager uses: a fake kernel implements it in unit tests. */
export interface IpvsClient {
  dump(): Promise<IpvsTableEntry[]>;
  flush(): Promise<void>;
  getTimeouts(): Promise<IpvsTimeouts>;
  setTimeouts(t: IpvsTimeouts): Promise<void>;
  addService(s: IpvsService): Promise<void>;
  editService(s: IpvsService): Promise<void>;
  deleteService(s: IpvsService): Promise<void>;
  addDest(s: IpvsService, d: IpvsDest): Promise<void>;
  editDest(s: IpvsService, d: IpvsDest): Promise<void>;
  deleteDest(s: IpvsService, d: Pick<IpvsDest, 'address' | 'port'>): Promise<void>;
}

export interface LvsLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export interface LvsGlobals {
  flush: boolean;
  /** lvs_flush_on_stop: 'all' = one FLUSH, 'vs' = our services only (the default's effect too) */
  flushOnStop: 'no' | 'all' | 'vs';
  timeouts?: IpvsTimeouts;
}

export function lvsGlobals(cfg: KeepalivedConfig): LvsGlobals {
  const o = cfg.globalDefs.other;
  const fos = o['lvs_flush_on_stop'] ?? o['lvs_flush_onstop'];
  const g: LvsGlobals = { flush: o['lvs_flush'] !== undefined, flushOnStop: fos === undefined ? 'no' : fos[0] === 'VS' ? 'vs' : 'all' };
  const t = o['lvs_timeouts'];
  if (t) {
    const to: IpvsTimeouts = { tcp: 0, tcpFin: 0, udp: 0 };
    for (let i = 0; i + 1 < t.length; i += 2) {
      const v = Number(t[i + 1]);
      if (!Number.isInteger(v) || v < 0) continue;
      if (t[i] === 'tcp') to.tcp = v;
      else if (t[i] === 'tcpfin') to.tcpFin = v;
      else if (t[i] === 'udp') to.udp = v;
    }
    if (to.tcp || to.tcpFin || to.udp) g.timeouts = to;
  }
  return g;
}

export interface LvsRsStatus {
  name: string;
  alive: boolean;
  weight: number;
  inTable: boolean;
}
export interface LvsVsStatus {
  name: string;
  services: string[];
  quorum: number;
  hysteresis: number;
  quorumUp: boolean;
  sorryActive: boolean;
  aliveWeight: number;
  realServers: LvsRsStatus[];
}
export interface LvsStatus {
  virtualServers: LvsVsStatus[];
}

const cloneTable = (t: DesiredTable): DesiredTable => new Map([...t].map(([k, v]) => [k, { service: v.service, dests: new Map(v.dests) }]));

export class LvsManager implements RealServerSink {
  private cfg: KeepalivedConfig | undefined;
  private runtimes = new Map<string, VsRuntime>();
  applied: DesiredTable = new Map();
  private queue: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private savedTimeouts: IpvsTimeouts | undefined;
  private globals: LvsGlobals = { flush: false, flushOnStop: 'no' };
  private stopped = false;

  constructor(
    private readonly ipvs: IpvsClient,
    private readonly log: LvsLog,
    private readonly opts: { dontRelease?: boolean; onQuorum?: (vs: VirtualServer, up: boolean) => void } = {},
  ) {}

  private enqueue(work: () => Promise<void>): Promise<void> {
    const p = this.queue.then(work).catch((e: unknown) => this.log.error(`IPVS: ${(e as Error).message}`));
    this.queue = p;
    return p;
  }

  idle(): Promise<void> {
    return this.queue;
  }

  /** vsKey -> its services; serviceKey -> the virtual servers feeding it (a fwmark can be shared) */
  private servicesByVs = new Map<string, IpvsService[]>();
  private vsByService = new Map<string, string[]>();

  /**
   * The desired table: whole, or only the services of the `dirty` virtual servers (with every
   * virtual server that feeds those services), so one checker result costs one VS, not the table.
   */
  private desired(dirty?: ReadonlySet<string>): DesiredTable {
    let vsKeys: Iterable<string> = this.runtimes.keys();
    let only: Set<string> | undefined;
    if (dirty) {
      only = new Set([...dirty].flatMap((k) => (this.servicesByVs.get(k) ?? []).map(serviceKey)));
      vsKeys = new Set([...only].flatMap((s) => this.vsByService.get(s) ?? []));
    }
    const entries: { service: IpvsService; dests: IpvsDest[] }[] = [];
    for (const k of vsKeys) {
      const rt = this.runtimes.get(k);
      if (!rt) continue;
      const dests = rt.dests();
      for (const service of this.servicesByVs.get(k) ?? []) if (!only || only.has(serviceKey(service))) entries.push({ service, dests });
    }
    return tableOf(entries);
  }

  private buildRuntimes(cfg: KeepalivedConfig, previous?: Map<string, VsRuntime>): void {
    const next = new Map<string, VsRuntime>();
    for (const vs of cfg.virtualServers) {
      const k = vsKey(vs);
      if (next.has(k)) continue;
      if (vs.kind === 'group' && !cfg.virtualServerGroups.some((g) => g.name === vs.group)) {
        this.log.error(`Virtual server group ${vs.group} specified but not configured - ignoring virtual server ${vsName(vs)}`);
        continue;
      }
      next.set(k, new VsRuntime(vs, previous?.get(k)));
    }
    this.runtimes = next;
    this.servicesByVs = new Map();
    this.vsByService = new Map();
    for (const [k, rt] of next) {
      const services = servicesOf(rt.vs, cfg.virtualServerGroups);
      this.servicesByVs.set(k, services);
      for (const s of services) this.vsByService.set(serviceKey(s), [...(this.vsByService.get(serviceKey(s)) ?? []), k]);
    }
  }

  async start(cfg: KeepalivedConfig): Promise<void> {
    this.cfg = cfg;
    this.globals = lvsGlobals(cfg);
    this.buildRuntimes(cfg);
    for (const rt of this.runtimes.values()) {
      if (!rt.quorumUp) this.log.info(`Starting with quorum down for VS ${vsName(rt.vs)}`);
    }
    await this.enqueue(async () => {
      if (this.globals.flush) await this.ipvs.flush();
      if (this.globals.timeouts) {
        this.savedTimeouts = await this.ipvs.getTimeouts();
        await this.ipvs.setTimeouts(this.globals.timeouts);
      }
      const want = this.desired();
      // reconcile: services of ours that already exist are read back and corrected
      const kernel = this.globals.flush ? new Map() : tableOf((await this.ipvs.dump()).filter((e) => want.has(serviceKey(e.service))));
      for (const k of kernel.keys()) this.log.info(`IPVS service ${k} already exists: adopting it`);
      this.applied = kernel;
      await this.apply(diffTable(kernel, want));
    });
  }

  async reload(cfg: KeepalivedConfig): Promise<void> {
    const oldVs = new Map((this.cfg?.virtualServers ?? []).map((v) => [vsKey(v), v]));
    const previous = this.runtimes;
    this.cfg = cfg;
    const g = lvsGlobals(cfg);
    this.buildRuntimes(cfg, previous);
    for (const [k, rt] of this.runtimes) {
      const old = previous.get(k);
      if (!old) continue;
      for (const rk of old.rs.keys()) if (!rt.rs.has(rk)) this.log.info(`service ${rsName(old.vs, old.rs.get(rk)!.rs)} no longer exist`);
    }
    for (const [k, v] of oldVs) if (!this.runtimes.has(k)) this.log.info(`Removing Virtual Server ${vsName(v)}`);
    await this.enqueue(async () => {
      if (g.timeouts && (!this.globals.timeouts || JSON.stringify(g.timeouts) !== JSON.stringify(this.globals.timeouts))) {
        this.savedTimeouts ??= await this.ipvs.getTimeouts();
        await this.ipvs.setTimeouts(g.timeouts);
      } else if (!g.timeouts && this.savedTimeouts) {
        await this.ipvs.setTimeouts(this.savedTimeouts);
        this.savedTimeouts = undefined;
      }
      this.globals = g;
      const changes = diffTable(this.applied, this.desired());
      this.log.info(`IPVS: ${changes.length} table change(s) for the new configuration`);
      await this.apply(changes);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
    if (this.opts.dontRelease) {
      this.log.info('Leaving the IPVS table as it is (--dont-release-ipvs)');
      return;
    }
    for (const rt of this.runtimes.values()) {
      for (const s of rt.rs.values()) this.log.info(`Shutting down service ${rsName(rt.vs, s.rs)} from VS ${vsName(rt.vs)}`);
    }
    await this.enqueue(async () => {
      if (this.globals.flushOnStop === 'all') await this.ipvs.flush();
      else {
        // a service's dests go with it: one DEL_SERVICE each (foreign services are not ours)
        await this.apply([...this.applied.values()].map(({ service }) => ({ op: 'deleteService' as const, service })));
      }
      this.applied = new Map();
      if (this.savedTimeouts) await this.ipvs.setTimeouts(this.savedTimeouts);
    });
  }

  setAlive(vs: VirtualServer, rs: RealServer, alive: boolean, reason: string): void {
    const rt = this.runtimes.get(vsKey(vs));
    if (!rt || this.stopped) return;
    const before = rt.quorumUp;
    const lines = rt.setAlive(rsKey(vs, rs), alive);
    if (rt.quorumUp !== before) this.opts.onQuorum?.(rt.vs, rt.quorumUp);
    if (!lines.length) return;
    this.log.debug(`${rsName(vs, rs)}: ${reason}`);
    for (const l of lines) this.log.info(l);
    this.scheduleSync(vsKey(vs));
  }

  setWeight(vs: VirtualServer, rs: RealServer, weight: number): void {
    const rt = this.runtimes.get(vsKey(vs));
    if (!rt || this.stopped) return;
    const before = rt.quorumUp;
    for (const l of rt.setWeight(rsKey(vs, rs), weight)) this.log.info(l);
    if (rt.quorumUp !== before) this.opts.onQuorum?.(rt.vs, rt.quorumUp);
    this.scheduleSync(vsKey(vs));
  }

  /** Coalesce bursts of checker results into one diff. */
  private readonly dirty = new Set<string>();
  private scheduleSync(key: string): void {
    this.dirty.add(key);
    if (this.syncQueued) return;
    this.syncQueued = true;
    void this.enqueue(async () => {
      this.syncQueued = false;
      const dirty = new Set(this.dirty);
      this.dirty.clear();
      if (this.stopped) return;
      const want = this.desired(dirty);
      const from: DesiredTable = new Map();
      for (const k of want.keys()) {
        const cur = this.applied.get(k);
        if (cur) from.set(k, cur);
      }
      await this.apply(diffTable(from, want));
    });
  }

  /**
   * The kernel handles a socket's requests in the order they were sent, so a window of changes is
   * sent at once and the answers read after: one event-loop turn per window instead of one per
   * change (a round trip is about 2 ms in UML). A change that depends on an earlier one (a dest of
   * a new service) comes after it in the list, so after it in the kernel too.
   */
  private async apply(changes: TableChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i += LvsManager.window) {
      await Promise.all(changes.slice(i, i + LvsManager.window).map((c) => this.change(c)));
    }
  }
  /** requests in flight at once (their answers must fit the socket's receive buffer) */
  static window = 256;

  /** One change, tolerant as keepalived is (EEXIST on add, ENOENT on delete), recorded in `applied`. */
  private async change(c: TableChange): Promise<void> {
    const k = serviceKey(c.service);
    const code = (e: unknown): string => (e as IpvsError).code ?? 'EIO';
    try {
      switch (c.op) {
        case 'addService':
          // recorded first: the answers of its dests (sent in the same window) may come back
          // before an EEXIST fallback's
          this.applied.set(k, { service: c.service, dests: new Map() });
          try {
            await this.ipvs.addService(c.service);
          } catch (e) {
            if (code(e) !== 'EEXIST') {
              this.applied.delete(k);
              throw e;
            }
            await this.ipvs.editService(c.service);
          }
          return;
        case 'editService':
          await this.ipvs.editService(c.service);
          this.applied.get(k)!.service = c.service;
          return;
        case 'deleteService':
          try {
            await this.ipvs.deleteService(c.service);
          } catch (e) {
            if (code(e) !== 'ESRCH') throw e;
          }
          this.applied.delete(k);
          return;
        case 'addDest':
        case 'editDest':
          try {
            await (c.op === 'addDest' ? this.ipvs.addDest(c.service, c.dest) : this.ipvs.editDest(c.service, c.dest));
          } catch (e) {
            if (c.op === 'addDest' && code(e) === 'EEXIST') await this.ipvs.editDest(c.service, c.dest);
            else if (c.op === 'editDest' && code(e) === 'ENOENT') await this.ipvs.addDest(c.service, c.dest);
            else throw e;
          }
          this.applied.get(k)?.dests.set(destKey(c.dest), c.dest);
          return;
        case 'deleteDest':
          try {
            await this.ipvs.deleteDest(c.service, c.dest);
          } catch (e) {
            if (code(e) !== 'ENOENT' && code(e) !== 'ESRCH') throw e;
          }
          this.applied.get(k)?.dests.delete(destKey(c.dest));
          return;
      }
    } catch (e) {
      // keepalived's wording: "IPVS cmd ... error: ..."; the table stays as it was for this entry
      this.log.error(`IPVS: ${(e as Error).message}`);
    }
  }

  status(): LvsStatus {
    const vss: LvsVsStatus[] = [];
    for (const rt of this.runtimes.values()) {
      const services = servicesOf(rt.vs, this.cfg?.virtualServerGroups ?? []).map(serviceKey);
      const inTable = (rsk: string): boolean => services.some((s) => this.applied.get(s)?.dests.has(rsk) ?? false);
      vss.push({
        name: vsName(rt.vs),
        services,
        quorum: rt.quorum,
        hysteresis: rt.hysteresis,
        quorumUp: rt.quorumUp,
        sorryActive: rt.sorryActive,
        aliveWeight: rt.aliveWeight(),
        realServers: [...rt.rs.entries()].map(([k, s]) => ({
          name: rsName(rt.vs, s.rs),
          alive: s.alive,
          weight: s.weight,
          inTable: inTable(k),
        })),
      });
    }
    return { virtualServers: vss };
  }

  /** Apply the same table again from scratch (used by tests): a snapshot of what we hold. */
  snapshot(): DesiredTable {
    return cloneTable(this.applied);
  }
}
