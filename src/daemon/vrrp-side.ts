// The VRRP side of a process that has none yet: -C (keepalived's checker process) or a file with
// only virtual_server blocks. It stands in for the Daemon (src/daemon/daemon.ts) without loading
// it: daemon.ts and its graph (runners, raw sockets, netlink monitor, GARP addon, trackers) are a
// good part of an LVS-only start (README "LVS (IPVS)", measured). A reload that brings VRRP parts
// (instances, sync groups, static addresses, routes or rules) loads and starts the Daemon then, so
// such a reload still runs them in this process, as before.
import type { KeepalivedConfig } from '../config/model.js';
import type { Daemon, DaemonDeps, DaemonSnapshot, ReloadSummary } from './daemon.js';

/** Does this configuration give the VRRP side anything to run? */
export function hasVrrpPart(c: KeepalivedConfig): boolean {
  return (
    c.vrrpInstances.length > 0 ||
    c.vrrpSyncGroups.length > 0 ||
    c.staticIpAddresses.length > 0 ||
    c.staticRoutes.length > 0 ||
    c.staticRules.length > 0
  );
}

/** What the entry point uses of a Daemon (index.ts). */
export type VrrpSide = Pick<Daemon, 'start' | 'stop' | 'reload' | 'snapshot' | 'reloads' | 'runners' | 'config'>;

/** The Daemon, created with the first configuration that has a VRRP part. */
export class LazyVrrp implements VrrpSide {
  private inner: Daemon | undefined;
  private readonly startedAtMs = Date.now();
  private readonly ownReloads = { ok: 0, failed: 0, lastMs: 0, lastDurationMs: 0 };

  constructor(
    private cfg: KeepalivedConfig,
    private readonly deps: DaemonDeps,
  ) {}

  get config(): KeepalivedConfig {
    return this.inner?.config ?? this.cfg;
  }

  /** true once the Daemon is loaded (tests) */
  get loaded(): boolean {
    return this.inner !== undefined;
  }

  get runners(): Daemon['runners'] {
    return this.inner?.runners ?? [];
  }

  get reloads(): Daemon['reloads'] {
    return this.inner?.reloads ?? this.ownReloads;
  }

  private async load(c: KeepalivedConfig): Promise<Daemon> {
    const { Daemon } = await import('./daemon.js');
    const d = new Daemon(c, this.deps);
    Object.assign(d.reloads, this.ownReloads);
    this.inner = d;
    return d;
  }

  /** what keeps the process running while it has no Daemon (whose sockets do that otherwise) */
  private hold: NodeJS.Timeout | undefined;

  async start(): Promise<void> {
    if (hasVrrpPart(this.cfg)) await (await this.load(this.cfg)).start();
    // without it, -C with no IPVS, no status socket and no checker would end at once
    else this.hold = setInterval(() => undefined, 2 ** 30);
  }

  async reload(next: KeepalivedConfig): Promise<ReloadSummary> {
    if (this.inner) return this.inner.reload(next);
    this.cfg = next;
    if (!hasVrrpPart(next)) {
      this.ownReloads.ok++;
      return { unchanged: [], changed: [], added: [], removed: [] };
    }
    const d = await this.load(next);
    await d.start();
    clearInterval(this.hold);
    d.reloads.ok++;
    return { unchanged: [], changed: [], added: next.vrrpInstances.map((i) => i.name), removed: [] };
  }

  snapshot(): DaemonSnapshot {
    if (this.inner) return this.inner.snapshot();
    return {
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      instances: [],
      trackers: [],
      notify: { queued: 0, ran: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, spawnErrors: 0 },
      reloads: { ...this.ownReloads },
      unknownVridPackets: 0,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.hold);
    await this.inner?.stop();
  }
}
