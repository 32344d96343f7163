// lvs_sync_daemon: the kernel's IPVS connection-synchronisation daemons (global_defs keyword).
//   lvs_sync_daemon IFNAME [[inst] VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]
//   (old positional form: IFNAME VRRP_INSTANCE [SYNC_ID])
// Without an instance both the master and the backup daemon run for the daemon's life. With one,
// the VRRP side drives them, as keepalived's VRRP process does: entering MASTER stops the backup
// daemon and starts the master one; leaving MASTER does the reverse. The sync id defaults to the
// instance's VRID (0 without one).
//
// Public API:
//   parseSyncDaemon(cfg): { spec?: SyncDaemonSpec; error?: string }
//   class SyncDaemonDriver
//     new SyncDaemonDriver(open: () => Promise<SyncDaemonClient>, log)
//     start(cfg) / reload(cfg) / stop(): Promise<void>
//     vrrpState(instance, state): Promise<void>      from the VRRP side's state changes
//     running(): number[]                            the daemon states we started (1 master, 2 backup)
import { isIP } from 'node:net';
import type { KeepalivedConfig } from '../config/model.js';
import { DAEMON_STATE, type IpvsDaemon } from './ipvs-schema.js';
import type { LvsLog } from './table.js';

export interface SyncDaemonSpec {
  ifname: string;
  instance?: string;
  syncId: number;
  maxLen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

export interface SyncDaemonClient {
  addDaemon(d: IpvsDaemon): Promise<void>;
  deleteDaemon(state: number): Promise<void>;
  close(): void;
}

const RANGES: Record<string, [number, number]> = { id: [0, 255], maxlen: [1, 65507], port: [1, 65535], ttl: [1, 255] };

export function parseSyncDaemon(cfg: KeepalivedConfig): { spec?: SyncDaemonSpec; error?: string } {
  const a = cfg.globalDefs.other['lvs_sync_daemon'];
  if (!a) return {};
  if (!a[0]) return { error: 'lvs_sync_daemon needs an interface' };
  const spec: SyncDaemonSpec = { ifname: a[0], syncId: 0 };
  let explicitId = false;
  for (let i = 1; i < a.length; i++) {
    const w = a[i]!;
    const v = a[i + 1];
    if (w === 'inst') {
      if (v === undefined) return { error: 'lvs_sync_daemon: inst needs a vrrp_instance name' };
      spec.instance = v;
      i++;
    } else if (w in RANGES) {
      const [lo, hi] = RANGES[w]!;
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < lo || n > hi)
        return { error: `lvs_sync_daemon: ${w} must be ${lo}..${hi} (got ${v ?? 'nothing'})` };
      if (w === 'id') {
        spec.syncId = n;
        explicitId = true;
      } else if (w === 'maxlen') spec.maxLen = n;
      else if (w === 'port') spec.port = n;
      else spec.ttl = n;
      i++;
    } else if (w === 'group') {
      const first = Number(v?.split('.')[0]);
      const multicast =
        v !== undefined && (isIP(v) === 4 ? first >= 224 && first <= 239 : isIP(v) === 6 && v.toLowerCase().startsWith('ff'));
      if (!multicast) {
        return { error: `lvs_sync_daemon: group ${v ?? ''} is not a multicast address` };
      }
      spec.group = v;
      i++;
    } else if (i === 1 && spec.instance === undefined) {
      spec.instance = w; // old positional form: IFNAME INSTANCE [SYNC_ID]
    } else if (i === 2 && /^\d+$/.test(w) && !explicitId) {
      spec.syncId = Number(w);
      explicitId = true;
    } else return { error: `lvs_sync_daemon: unknown option ${w}` };
  }
  if (spec.instance !== undefined) {
    const inst = cfg.vrrpInstances.find((x) => x.name === spec.instance);
    if (!inst) return { error: `lvs_sync_daemon: vrrp_instance ${spec.instance} not found` };
    if (!explicitId) spec.syncId = inst.virtualRouterId;
  }
  return { spec };
}

const same = (a: SyncDaemonSpec | undefined, b: SyncDaemonSpec | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);
const NAME: Record<number, string> = { [DAEMON_STATE.MASTER]: 'master', [DAEMON_STATE.BACKUP]: 'backup' };

export class SyncDaemonDriver {
  private spec: SyncDaemonSpec | undefined;
  private client: SyncDaemonClient | undefined;
  private readonly started = new Set<number>();
  private isMaster = false;
  private queue: Promise<void> = Promise.resolve();

  /**
   * `role`: which side this process runs (-P: 'vrrp', -C: 'lvs', else 'both'). keepalived's VRRP
   * process runs the `inst` form, its checker process the other one.
   */
  constructor(
    private readonly open: () => Promise<SyncDaemonClient>,
    private readonly log: LvsLog,
    private readonly role: 'both' | 'vrrp' | 'lvs' = 'both',
  ) {}

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work).catch((e: unknown) => this.log.error(`lvs_sync_daemon: ${(e as Error).message}`));
    return this.queue;
  }

  running(): number[] {
    return [...this.started].sort();
  }

  private async ensure(states: number[]): Promise<void> {
    const spec = this.spec;
    for (const s of [...this.started]) {
      if (states.includes(s)) continue;
      await this.client!.deleteDaemon(s);
      this.started.delete(s);
      this.log.info(`Stopping IPVS ${NAME[s]} sync daemon`);
    }
    if (!spec) return;
    for (const s of states) {
      if (this.started.has(s)) continue;
      this.client ??= await this.open();
      const d: IpvsDaemon = { state: s, mcastIfn: spec.ifname, syncId: spec.syncId };
      if (spec.maxLen !== undefined) d.syncMaxLen = spec.maxLen;
      if (spec.group !== undefined) d.mcastGroup = spec.group;
      if (spec.port !== undefined) d.mcastPort = spec.port;
      if (spec.ttl !== undefined) d.mcastTtl = spec.ttl;
      await this.client.addDaemon(d);
      this.started.add(s);
      this.log.info(`Starting IPVS ${NAME[s]} sync daemon on ${spec.ifname}, syncid ${spec.syncId}`);
    }
  }

  private wanted(): number[] {
    if (!this.spec) return [];
    if ((this.spec.instance === undefined && this.role === 'vrrp') || (this.spec.instance !== undefined && this.role === 'lvs')) return [];
    if (this.spec.instance === undefined) return [DAEMON_STATE.MASTER, DAEMON_STATE.BACKUP];
    return [this.isMaster ? DAEMON_STATE.MASTER : DAEMON_STATE.BACKUP];
  }

  start(cfg: KeepalivedConfig): Promise<void> {
    return this.reload(cfg);
  }

  reload(cfg: KeepalivedConfig): Promise<void> {
    const { spec, error } = parseSyncDaemon(cfg);
    if (error) this.log.error(error);
    return this.enqueue(async () => {
      if (!same(spec, this.spec)) {
        // a changed daemon is restarted: the kernel has no "edit"
        this.spec = undefined;
        await this.ensure([]);
        this.spec = spec;
      }
      await this.ensure(this.wanted());
    });
  }

  /** A VRRP instance changed state (keepalived's names: MASTER, BACKUP, FAULT...). */
  vrrpState(instance: string, state: string): Promise<void> {
    if (this.spec?.instance !== instance) return Promise.resolve();
    this.isMaster = state === 'MASTER';
    return this.enqueue(() => this.ensure(this.wanted()));
  }

  stop(): Promise<void> {
    return this.enqueue(async () => {
      this.spec = undefined;
      await this.ensure([]);
      this.client?.close();
      this.client = undefined;
    });
  }
}
