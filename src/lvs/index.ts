// The LVS side of the daemon: opens IPVS and runs the table manager (table.ts) for the
// virtual_server blocks. A kernel without IPVS is not fatal: one clear line, VRRP keeps running,
// status says LVS is unavailable.
//
// Public API:
//   class LvsRunner
//     new LvsRunner(log, { dontRelease?, open? })
//     start(cfg): Promise<void>     nothing to do (and IPVS is not opened) without virtual_server
//     reload(cfg): Promise<void>    opens IPVS on the first reload that brings virtual servers
//     stop(): Promise<void>
//     sink: RealServerSink          for the checkers (src/check/): no-op while LVS is unavailable
//     status(): LvsRunnerStatus
//     manager: LvsManager | undefined
import type { KeepalivedConfig, RealServer, VirtualServer } from '../config/model.js';
import type { RealServerSink } from '../check/sink.js';
import type { CheckerSnapshot } from '../check/index.js';
import type { IpvsError } from './ipvs-netlink.js';
import { destKey, serviceKey } from './ipvs-schema.js';
import { LvsManager, type IpvsClient, type LvsLog, type LvsStatus } from './table.js';
import { vsName } from './desired.js';
import { Notifier } from '../notify/queue.js';
import { resolveScriptUser } from '../notify/security.js';

export { LvsManager } from './table.js';

/** IPVS counters of a virtual server (summed over its services) and of its real servers. */
export interface LvsCounters {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  /** destKey -> active / inactive connections */
  dests: Record<string, { active: number; inactive: number }>;
}

export interface LvsRunnerStatus extends LvsStatus {
  /** 'off': no virtual_server configured; 'unavailable': the kernel has no IPVS (see reason) */
  state: 'off' | 'running' | 'unavailable';
  reason?: string;
  /** IPVS version, e.g. "1.2.1" */
  version?: string;
  /** vs name -> counters, read from the kernel at most COUNTERS_MAX_AGE_MS before */
  counters?: Record<string, LvsCounters>;
  /** the health checkers' view (src/check/), filled in by the daemon */
  checkers?: CheckerSnapshot[];
  /** run by a checker child (src/daemon/checker-child.ts): its pid (absent while down), restarts */
  childProcess?: { pid?: number; restarts: number };
}

const COUNTERS_MAX_AGE_MS = 1000;

export class LvsRunner {
  manager: LvsManager | undefined;
  private ipvs: (IpvsClient & { close(): void }) | undefined;
  private state: LvsRunnerStatus['state'] = 'off';
  private reason: string | undefined;
  private version: string | undefined;

  constructor(
    private readonly log: LvsLog,
    private readonly opts: {
      dontRelease?: boolean;
      open?: () => Promise<IpvsClient & { close(): void; info?: () => Promise<{ version: string }> }>;
    } = {},
  ) {}

  readonly sink: RealServerSink = {
    setAlive: (vs: VirtualServer, rs: RealServer, alive: boolean, reason: string) => this.manager?.setAlive(vs, rs, alive, reason),
    setWeight: (vs: VirtualServer, rs: RealServer, weight: number) => this.manager?.setWeight(vs, rs, weight),
  };

  private async open(): Promise<boolean> {
    try {
      // IPVS over generic netlink is loaded when the table is first opened, not by a daemon without LVS
      const ipvs = this.opts.open ? await this.opts.open() : await (await import('./ipvs-netlink.js')).Ipvs.open();
      this.ipvs = ipvs;
      this.version = 'info' in ipvs && typeof ipvs.info === 'function' ? (await ipvs.info()).version : undefined;
      this.state = 'running';
      this.log.info(`Initializing ipvs${this.version ? ` (IP Virtual Server version ${this.version})` : ''}`);
      return true;
    } catch (e) {
      this.state = 'unavailable';
      const err = e as IpvsError;
      this.reason = err.op && err.message.startsWith(`${err.op}: `) ? err.message.slice(err.op.length + 2) : err.message;
      this.log.error(`IPVS is not available: ${this.reason}; LVS is disabled, VRRP keeps running`);
      return false;
    }
  }

  private starting: Promise<void> | undefined;
  private cfg: KeepalivedConfig | undefined;
  private notifier: Notifier | undefined;

  /**
   * quorum_up / quorum_down of a virtual server, on each transition (not at start), one queue per
   * virtual server, as the notify scripts of VRRP run: script_user rules, 30 s limit.
   */
  private quorumScript(vs: VirtualServer, up: boolean): void {
    const cmd = up ? vs.quorumUp : vs.quorumDown;
    if (!cmd) return;
    const g = this.cfg?.globalDefs;
    const su = resolveScriptUser({
      user: cmd.user ?? g?.scriptUser?.user,
      group: cmd.user ? cmd.group : g?.scriptUser?.group,
      enableScriptSecurity: g?.enableScriptSecurity,
    });
    if (su.error) {
      this.log.error(`${su.error} - ${up ? 'quorum_up' : 'quorum_down'} of VS ${vsName(vs)} will not run`);
      return;
    }
    this.notifier ??= new Notifier({ timeoutMs: 30_000 });
    void this.notifier.enqueue(`VS ${vsName(vs)}`, { line: cmd.command, uid: su.uid, gid: su.gid }).then((r) => {
      if (r.result.kind !== 'exit' || r.result.code !== 0)
        this.log.warn(`${up ? 'quorum_up' : 'quorum_down'} script "${cmd.command}" of VS ${vsName(vs)} failed (${r.result.kind})`);
    });
  }

  /** Resolves when every quorum script queued so far has run (tests). */
  scriptsIdle(): Promise<void> {
    return this.notifier?.idle() ?? Promise.resolve();
  }
  private stopped = false;

  start(cfg: KeepalivedConfig): Promise<void> {
    // stop() waits for this: a stop during start must not leave a table programmed behind it
    this.starting = (async () => {
      if (cfg.virtualServers.length === 0 || this.stopped) return;
      if (!(await this.open())) return;
      if (this.stopped) return;
      this.cfg = cfg;
      this.manager = new LvsManager(this.ipvs!, this.log, {
        dontRelease: this.opts.dontRelease,
        onQuorum: (vs, up) => this.quorumScript(vs, up),
      });
      await this.manager.start(cfg);
    })();
    return this.starting;
  }

  async reload(cfg: KeepalivedConfig): Promise<void> {
    await this.starting?.catch(() => undefined);
    if (this.stopped) return;
    this.cfg = cfg;
    if (this.manager) {
      this.log.info('Reinitializing ipvs');
      await this.manager.reload(cfg);
      return;
    }
    // first virtual servers after start (or IPVS was unavailable: tried again, as modules may be loaded now)
    if (cfg.virtualServers.length === 0) return;
    await this.start(cfg);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    await this.manager?.stop();
    await this.notifier?.close();
    this.ipvs?.close();
    this.ipvs = undefined;
  }

  status(): LvsRunnerStatus {
    const base: LvsRunnerStatus = { state: this.state, virtualServers: this.manager?.status().virtualServers ?? [] };
    if (this.reason !== undefined) base.reason = this.reason;
    if (this.version !== undefined) base.version = this.version;
    if (this.counters) base.counters = this.counters;
    // the counters are read from the kernel here, not on a timer: a status or a scrape asks
    if (this.manager && this.ipvs && !this.refreshing && Date.now() - this.countersAt > COUNTERS_MAX_AGE_MS) void this.refreshCounters();
    return base;
  }

  private counters: Record<string, LvsCounters> | undefined;
  private countersAt = 0;
  private refreshing: Promise<void> | undefined;

  /** Read the IPVS counters now (status() also does, when they are older than 1 s). */
  refreshCounters(): Promise<void> {
    const ipvs = this.ipvs;
    const manager = this.manager;
    if (!ipvs || !manager) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const table = new Map((await ipvs.dump()).map((e) => [serviceKey(e.service), e]));
        const out: Record<string, LvsCounters> = {};
        for (const vs of manager.status().virtualServers) {
          const c: LvsCounters = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, dests: {} };
          for (const k of vs.services) {
            const e = table.get(k);
            if (!e) continue;
            const st = e.service.stats;
            if (st) {
              c.conns += st.conns;
              c.inPkts += st.inPkts;
              c.outPkts += st.outPkts;
              c.inBytes += st.inBytes;
              c.outBytes += st.outBytes;
            }
            for (const d of e.dests) {
              const cur = (c.dests[destKey(d)] ??= { active: 0, inactive: 0 });
              cur.active += d.activeConns ?? 0;
              cur.inactive += d.inactConns ?? 0;
            }
          }
          out[vs.name] = c;
        }
        this.counters = out;
        this.countersAt = Date.now();
      } catch (e) {
        this.log.debug(`IPVS counters: ${(e as Error).message}`);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
