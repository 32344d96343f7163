// The running daemon: every vrrp_instance of one configuration in one process, with the shared
// pieces they need (netlink, the link/address monitor, GARP/ND senders, the notifier, trackers).
import type { Logger } from 'pino';
import type { KeepalivedConfig, VrrpInstance } from '../config/model.js';
import { Rtnl } from '../net/netlink.js';
import { NetMonitor } from '../net/monitor.js';
import { GarpSender } from '../net/garp.js';
import { NdiscSender } from '../net/ndisc.js';
import { Notifier, type NotifyScript } from '../notify/queue.js';
import { NotifyFifo } from '../notify/fifo.js';
import { checkScriptSecurity, resolveScriptUser } from '../notify/security.js';
import { VrrpScript } from '../track/script.js';
import { TrackFile } from '../track/file.js';
import { effectivePriority, type TrackedInput } from '../track/priority.js';
import { InstanceRunner, type InstanceStatus } from './instance.js';
import { SocketHub } from './sockets.js';

export interface DaemonDeps {
  log: Logger;
  now?: () => number;
}

export class Daemon {
  readonly runners: InstanceRunner[] = [];
  private readonly hub = new SocketHub();
  private rtnl!: Rtnl;
  private monitor: NetMonitor | undefined;
  private garpSender: GarpSender | undefined;
  private garpFailed = false;
  private readonly ndiscs = new Map<string, Promise<NdiscSender | undefined>>();
  private readonly notifier: Notifier;
  private fifo: NotifyFifo | undefined;
  private readonly scripts = new Map<string, VrrpScript>();
  private readonly files = new Map<string, TrackFile>();
  private readonly waiting = new Set<InstanceRunner>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly securityRefused = new Set<string>();

  constructor(readonly config: KeepalivedConfig, deps: DaemonDeps) {
    this.log = deps.log;
    this.now = deps.now ?? (() => performance.now());
    this.notifier = new Notifier({});
    this.notifier.on('run', (r) => {
      if (r.result.kind !== 'exit' || r.result.code !== 0) {
        this.log.warn(`notify script "${r.line}" ${r.result.kind === 'timeout' ? 'timed out and was killed' : `failed (${r.result.kind} ${r.result.code ?? r.result.signal ?? ''})`}`);
      }
    });
  }

  async start(): Promise<void> {
    const cfg = this.config;
    this.rtnl = Rtnl.open();
    if (cfg.virtualServers.length > 0) {
      this.log.warn(`${cfg.virtualServers.length} virtual_server block(s) configured: LVS/IPVS is not implemented yet in keepalived-ts; only the VRRP part runs`);
    }
    const fifoCmd = cfg.globalDefs.vrrpNotifyFifo ?? cfg.globalDefs.notifyFifo;
    if (fifoCmd) {
      this.fifo = new NotifyFifo({ path: fifoCmd.command });
      const err = await this.fifo.open();
      if (err) { this.log.error(`notify_fifo ${fifoCmd.command}: ${err.message}`); this.fifo = undefined; }
    }
    try {
      this.monitor = await NetMonitor.start();
      this.monitor.on('link', (link) => {
        for (const r of this.runners) if (r.ifname === link.name) r.onLink(link);
        for (const r of [...this.waiting]) if (r.ifname === link.name) void this.startRunner(r);
        this.recomputeAll();
      });
      this.monitor.on('addressRemoved', (a) => { for (const r of this.runners) r.onAddressRemoved(a.address, a.ifindex); });
      this.monitor.on('addressAdded', () => { for (const r of [...this.waiting]) void this.startRunner(r); });
      this.monitor.on('error', (e) => this.log.warn(`netlink monitor: ${e.message}`));
    } catch (err) {
      this.log.warn(`cannot monitor links and addresses: ${(err as Error).message}`);
    }
    for (const inst of cfg.vrrpInstances) {
      const runner = new InstanceRunner(inst, {
        log: this.log, rtnl: this.rtnl, hub: this.hub, global: cfg.globalDefs, notifier: this.notifier,
        now: this.now, garp: () => this.garp(), ndisc: (ifname) => this.ndisc(ifname), fifo: this.fifo,
        script: (line, user, group) => this.script(line, user, group),
      });
      this.runners.push(runner);
    }
    // Open the gratuitous ARP / unsolicited NA senders now: loading the addon and opening the
    // sockets lazily put them on the first takeover's critical path.
    const owned = cfg.vrrpInstances.flatMap((i) => [...i.virtualIpAddresses, ...i.virtualIpAddressesExcluded].map((a) => ({ a, dev: a.dev ?? i.interface ?? cfg.globalDefs.defaultInterface })));
    if (owned.some((o) => o.a.family === 'inet')) this.garp();
    for (const dev of new Set(owned.filter((o) => o.a.family === 'inet6').map((o) => o.dev))) if (dev) void this.ndisc(dev);
    this.startTrackers();
    // One after the other, as keepalived does: 200 instances starting at once sent 200 concurrent
    // link dumps over one rtnetlink socket and every one of them failed ("interface does not
    // exist"), leaving the whole daemon waiting (bench/scale.ts).
    for (const r of this.runners) await this.startRunner(r);
    this.recomputeAll();
  }

  private async startRunner(r: InstanceRunner): Promise<void> {
    if (r.core) { this.waiting.delete(r); return; }
    let ok = false;
    try {
      ok = await r.start();
    } catch (err) {
      this.log.error(`(${r.name}) cannot start: ${(err as Error).message}`);
    }
    if (ok) { this.waiting.delete(r); this.recompute(r); } else this.waiting.add(r);
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

  /** Resolve a script line for running: script_user, and enable_script_security's refusal. */
  private script(line: string | undefined, user?: string, group?: string): NotifyScript | undefined {
    if (!line) return undefined;
    const g = this.config.globalDefs;
    const su = resolveScriptUser({ user: user ?? g.scriptUser?.user, group: user ? group : g.scriptUser?.group });
    if (g.enableScriptSecurity) {
      const c = checkScriptSecurity(line, { uid: su.uid, gid: su.gid });
      if (!c.ok && c.error === 'insecure') {
        if (!this.securityRefused.has(line)) this.log.error(`${c.reason} - disabling script "${line}"`);
        this.securityRefused.add(line);
        return undefined;
      }
    }
    return { line, uid: su.uid, gid: su.gid };
  }

  // ---- trackers --------------------------------------------------------------------------------

  private startTrackers(): void {
    const used = new Set(this.config.vrrpInstances.flatMap((i) => i.trackScripts.map((t) => t.name)));
    for (const def of this.config.vrrpScripts) {
      if (!used.has(def.name)) continue; // keepalived runs only tracked scripts
      const s = this.script(def.script.command, def.script.user, def.script.group);
      if (!s) continue;
      const runner = new VrrpScript({
        name: def.name, script: s.line, uid: s.uid, gid: s.gid, intervalMs: def.intervalMs, timeoutMs: def.timeoutMs,
        rise: def.rise, fall: def.fall, initFail: def.initFail,
      });
      runner.on('status', (status) => {
        this.log.info(`VRRP_Script(${def.name}) ${status === 'ok' ? 'succeeded' : 'failed'}`);
        this.recomputeAll();
      });
      this.scripts.set(def.name, runner);
      runner.start();
    }
    const usedFiles = new Set(this.config.vrrpInstances.flatMap((i) => i.trackFiles.map((t) => t.name)));
    for (const def of this.config.trackFiles) {
      if (!usedFiles.has(def.name)) continue;
      const tf = new TrackFile({ name: def.name, path: def.file, weight: def.weight, reverse: def.reverse, initFile: def.initFile });
      tf.on('value', () => this.recomputeAll());
      tf.on('warning', (m) => this.log.warn(`track_file ${def.name}: ${m}`));
      this.files.set(def.name, tf);
      tf.start().catch((err: Error) => this.log.error(`track_file ${def.name}: ${err.message}`));
    }
  }

  private trackedInputs(inst: VrrpInstance): TrackedInput[] {
    const out: TrackedInput[] = [];
    for (const t of inst.trackScripts) {
      const def = this.config.vrrpScripts.find((d) => d.name === t.name);
      const s = this.scripts.get(t.name);
      if (!def || !s) continue;
      out.push({ kind: 'status', name: `script ${t.name}`, up: s.status === 'ok', weight: t.weight ?? def.weight, reverse: t.reverse ?? def.reverse });
    }
    const links = this.monitor?.links();
    for (const t of inst.trackInterfaces) {
      const link = links ? [...links.values()].find((l) => l.name === t.name) : undefined;
      out.push({ kind: 'status', name: `interface ${t.name}`, up: !!link && link.adminUp && link.carrier, weight: t.weight, reverse: t.reverse });
    }
    for (const t of inst.trackFiles) {
      const def = this.config.trackFiles.find((d) => d.name === t.name);
      const f = this.files.get(t.name);
      if (!def || !f) continue;
      out.push({ kind: 'file', name: `file ${t.name}`, value: f.value, weight: t.weight ?? def.weight, reverse: t.reverse ?? def.reverse });
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
  }

  status(): InstanceStatus[] {
    return this.runners.map((r) => r.status());
  }

  /** Graceful stop: every instance sends priority 0 and releases its addresses. */
  async stop(): Promise<void> {
    await Promise.all([...this.scripts.values()].map((s) => s.stop().catch(() => undefined)));
    for (const f of this.files.values()) f.stop();
    await Promise.all(this.runners.map((r) => r.stop().catch((err: Error) => this.log.error(`(${r.name}) stop: ${err.message}`))));
    await this.notifier.idle().catch(() => undefined);
    await this.notifier.close();
    await this.fifo?.close();
    await this.hub.closeAll();
    this.monitor?.close();
    this.garpSender?.close();
    for (const p of this.ndiscs.values()) (await p)?.close();
    this.rtnl.close();
  }
}
