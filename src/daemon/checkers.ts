// The health checkers (src/check/) inside the daemon: started beside the LVS table manager
// (src/lvs/), whose RealServerSink they drive, with the daemon's notify queue, fifo, SMTP settings
// and ha_suspend. A kernel without IPVS leaves the sink a no-op: the checkers still run and report
// through logs, notify scripts, the fifo and status (keepalived's checker process dies there).
import { networkInterfaces } from 'node:os';
import type { CheckerLog, Checkers, CheckerSnapshot } from '../check/index.js';
import type { RealServerSink } from '../check/sink.js';
import type { KeepalivedConfig, VirtualServer } from '../config/model.js';
import { NotifyFifo } from '../notify/fifo.js';
import { Notifier } from '../notify/queue.js';
import { sendAlertMail } from '../notify/smtp.js';

/** How often ha_suspend looks at the local addresses besides each VRRP transition. */
const HA_SUSPEND_POLL_MS = 1000;

/** The local addresses (every interface of this namespace), canonical text as the model's. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}

/**
 * ha_suspend: a virtual server's checkers run only while its address is on a local interface
 * (keepalived watches netlink address events; we look at each VRRP transition and every second).
 * A fwmark or group virtual server has no single address: never suspended (keepalived refuses
 * ha_suspend with fwmark).
 */
export function haSuspended(vs: VirtualServer, local: ReadonlySet<string>): boolean {
  return vs.haSuspend && vs.address !== undefined && !local.has(vs.address.address);
}

export class CheckerSide {
  private checkers: Checkers | undefined;
  private config: KeepalivedConfig | undefined;
  private notifier: Notifier;
  private fifo: NotifyFifo | undefined;
  private poll: NodeJS.Timeout | undefined;
  private readonly suspended = new Map<VirtualServer, boolean>();
  private starting: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly log: CheckerLog,
    private readonly sink: RealServerSink,
    notifyTimeoutMs: number | undefined,
    private readonly localAddrs: () => ReadonlySet<string> = localAddresses,
  ) {
    this.notifier = new Notifier({ timeoutMs: notifyTimeoutMs ?? 30_000 });
  }

  /**
   * The daemon calls this once the table is programmed, so a SIGTERM or SIGHUP can come first or
   * while the fifo opens: after stop() nothing starts; a reload waits for the start (one set of
   * checkers, one fifo).
   */
  start(cfg: KeepalivedConfig): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.starting ??= this.doStart(cfg).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(cfg: KeepalivedConfig): Promise<void> {
    this.config = cfg;
    if (cfg.virtualServers.length === 0) return;
    const fifoCmd = cfg.globalDefs.lvsNotifyFifo ?? cfg.globalDefs.notifyFifo;
    if (fifoCmd) {
      const fifo = new NotifyFifo({ path: fifoCmd.command });
      const err = await fifo.open();
      if (err) this.log.error(`lvs_notify_fifo ${fifoCmd.command}: ${err.message}`);
      else this.fifo = fifo;
      if (this.stopped) return;
    }
    // the checker modules (src/check/, a dozen) load with the first virtual server, not with every daemon
    const { checkerDepsFromConfig, startCheckers } = await import('../check/index.js');
    if (this.stopped) return;
    cfg = this.config; // a reload while the fifo opened (or the modules loaded): its configuration
    this.checkers = startCheckers(
      cfg.virtualServers,
      this.sink,
      checkerDepsFromConfig(cfg, {
        log: this.log,
        notifier: this.notifier,
        ...(this.fifo ? { fifo: this.fifo } : {}),
        alert: (subject, body) => this.alert(subject, body),
      }),
    );
    this.applySuspend();
    if (cfg.virtualServers.some((vs) => vs.haSuspend)) this.startPoll();
  }

  /** Real servers and checkers that stay keep their state (src/check/ matches them). */
  async reload(cfg: KeepalivedConfig): Promise<void> {
    if (this.stopped) return;
    this.config = cfg;
    if (this.starting) {
      await this.starting; // it starts with this configuration
      return;
    }
    if (!this.checkers) {
      await this.start(cfg);
      return;
    }
    this.checkers.reload(cfg.virtualServers);
    this.suspended.clear(); // the new model's objects: tell each its state again
    this.applySuspend();
    if (cfg.virtualServers.some((vs) => vs.haSuspend)) this.startPoll();
  }

  /** A VRRP instance changed state: its VIPs come or go a moment later. */
  vrrpChanged(): void {
    if (!this.checkers) return;
    // the address is written by the instance's effects, after the transition is reported
    setTimeout(() => this.applySuspend(), 50).unref();
  }

  snapshot(): CheckerSnapshot[] {
    return this.checkers?.snapshot() ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    if (this.poll) clearInterval(this.poll);
    await this.checkers?.stop();
    await this.notifier.close();
    await this.fifo?.close();
  }

  private startPoll(): void {
    this.poll ??= setInterval(() => this.applySuspend(), HA_SUSPEND_POLL_MS).unref();
  }

  private applySuspend(): void {
    const cfg = this.config;
    if (!cfg || !this.checkers || !cfg.virtualServers.some((vs) => vs.haSuspend)) return;
    const local = this.localAddrs();
    for (const vs of cfg.virtualServers) {
      if (!vs.haSuspend) continue;
      const now = haSuspended(vs, local);
      if (this.suspended.get(vs) === now) continue;
      this.suspended.set(vs, now);
      this.checkers.suspend(vs, now);
    }
  }

  /** smtp_alert of real servers: in the background; failures are logged, never thrown. */
  private alert(subject: string, body: string): void {
    const g = this.config?.globalDefs;
    void (g && sendAlertMail(g, subject, body))?.then((r) => {
      if (!r.ok) this.log.warn(`smtp_alert "${subject}": ${r.stage}: ${r.error ?? 'failed'}`);
    });
  }
}
