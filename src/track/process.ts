/**
 * vrrp_track_process: is a given process running (quorum .. quorum_max instances)?
 *
 * API:
 *   const mon = new ProcessMonitor({ mode?: 'auto' | 'connector' | 'scan', scanIntervalMs? })
 *   const t = mon.track(opts: TrackProcessOptions): TrackedProcess
 *   await mon.start()     -> resolves to the mode in use ('connector' | 'scan'); mon.mode
 *   mon.stop()
 *   mon.rescan()          full /proc scan now (also done after an event-loss error)
 *   TrackedProcess: .up: boolean, .count: number, .pids: ReadonlySet<number>
 *     events: 'status' (up: boolean, count: number)   after fork_delay/terminate_delay
 *             'count'  (count: number)                 every change of the matching set
 *   matchProcess(opts, info: { comm, argv }): boolean   the matching rule alone (pure)
 *
 * Like keepalived, /proc is scanned once at start, then process events come from the kernel's
 * process-events connector (netlink NETLINK_CONNECTOR, group CN_IDX_PROC, PROC_CN_MCAST_LISTEN):
 * FORK, EXEC, COMM (name change) and EXIT, through the netlink package's RawNetlinkSocket. That
 * needs CAP_NET_ADMIN; when it is not available (or mode 'scan' is asked for), we fall back to a
 * full /proc scan every `scanIntervalMs` (default 1000 ms) and say so in `mon.mode` and a
 * 'warning' event.
 *
 * Matching (keepalived's rules): without parameters and without full_command, the name is
 * compared exactly with /proc/PID/comm (the kernel truncates comm to 15 bytes, so only the first
 * 15 bytes of a longer configured name are compared). With parameters or full_command, argv from
 * /proc/PID/cmdline is compared: argv[0] exactly with the process string, then the parameters:
 * default (no param_match) exact and the same count; param_match partial: the configured
 * parameters are the first ones, more may follow; param_match initial: like partial but the last
 * configured parameter may be a prefix of the actual one. `param_match` with no parameters: the
 * process must have no parameters. Zombies are not running and do not count; threads do not count.
 *
 * quorum (default 1) <= count <= quorum_max (default unlimited) is "up". A change of status is
 * reported after fork_delay (gain after a fork) or terminate_delay (loss); `delay` sets both. If
 * the status comes back within the delay, nothing is reported.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

export interface TrackProcessOptions {
  name: string;
  /** `process` first word: the process name (or argv[0] with params/full_command) */
  process: string;
  /** `process` further words */
  params?: string[];
  paramMatch?: 'initial' | 'partial';
  /** true when `param_match` was given at all (with no params: "must have no parameters") */
  paramMatchSet?: boolean;
  fullCommand?: boolean;
  quorum?: number;
  quorumMax?: number;
  forkDelayMs?: number;
  terminateDelayMs?: number;
  /** `delay`: sets both fork_delay and terminate_delay (the specific ones win) */
  delayMs?: number;
  /** kept for the tracker (priority.ts); default 1 */
  weight?: number;
  reverse?: boolean;
}

export interface ProcessInfo {
  comm: string;
  /** undefined when not read (no tracker needs the command line) */
  argv?: string[];
}

const TASK_COMM_LEN = 15;

function usesCmdline(o: TrackProcessOptions): boolean {
  return !!o.fullCommand || (o.params !== undefined && o.params.length > 0) || !!o.paramMatchSet;
}

export function matchProcess(o: TrackProcessOptions, info: ProcessInfo): boolean {
  if (!usesCmdline(o)) {
    return info.comm === Buffer.from(o.process).subarray(0, TASK_COMM_LEN).toString();
  }
  const argv = info.argv;
  if (!argv || argv.length === 0) return false; // kernel threads have no cmdline
  if (argv[0] !== o.process) return false;
  const want = o.params ?? [];
  const got = argv.slice(1);
  if (!o.paramMatch) {
    if (got.length !== want.length) return false;
    return want.every((p, i) => got[i] === p);
  }
  if (got.length < want.length) return false;
  for (let i = 0; i < want.length; i++) {
    const last = i === want.length - 1;
    if (last && o.paramMatch === 'initial') {
      if (!got[i]!.startsWith(want[i]!)) return false;
    } else if (got[i] !== want[i]) return false;
  }
  return true;
}

/** Reads comm (and argv if asked) of a running, non-zombie process; undefined if gone. */
export function readProcessInfo(pid: number, withArgv: boolean): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) S ...": comm may hold spaces and parentheses: the state follows the last ')'
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    if (state === 'Z' || state === 'X') return undefined;
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
    if (!withArgv) return { comm };
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.length === 0 ? [] : raw.replace(/\0$/, '').split('\0');
    return { comm, argv };
  } catch {
    return undefined;
  }
}

export interface TrackedProcessEvents {
  status: [up: boolean, count: number];
  count: [count: number];
}

export class TrackedProcess extends EventEmitter<TrackedProcessEvents> {
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
  readonly needsArgv: boolean;
  private readonly matched = new Set<number>();
  private _up = false;
  private pending: { up: boolean; timer: NodeJS.Timeout } | undefined;
  private readonly quorum: number;
  private readonly quorumMax: number;

  constructor(readonly opts: TrackProcessOptions) {
    super();
    this.name = opts.name;
    this.weight = opts.weight ?? 1;
    this.reverse = opts.reverse ?? false;
    this.needsArgv = usesCmdline(opts);
    this.quorum = Math.max(0, opts.quorum ?? 1);
    this.quorumMax = opts.quorumMax ?? Number.POSITIVE_INFINITY;
    this._up = this.quorumOk();
  }

  get up(): boolean {
    return this._up;
  }
  get count(): number {
    return this.matched.size;
  }
  get pids(): ReadonlySet<number> {
    return this.matched;
  }

  private quorumOk(): boolean {
    const n = this.matched.size;
    return n >= this.quorum && n <= this.quorumMax;
  }

  /** @internal initial state after the first scan: no delay, no event */
  initialise(pids: Iterable<number>): void {
    this.matched.clear();
    for (const p of pids) this.matched.add(p);
    this._up = this.quorumOk();
  }

  /** @internal */
  update(pid: number, matches: boolean, cause: 'fork' | 'exec' | 'exit' | 'comm' | 'scan'): void {
    const had = this.matched.has(pid);
    if (had === matches) return;
    if (matches) this.matched.add(pid);
    else this.matched.delete(pid);
    this.emit('count', this.matched.size);
    this.evaluate(cause);
  }

  private evaluate(cause: string): void {
    const want = this.quorumOk();
    if (want === this._up) {
      // back to the reported status within the delay: report nothing
      if (this.pending) {
        clearTimeout(this.pending.timer);
        this.pending = undefined;
      }
      return;
    }
    if (this.pending && this.pending.up === want) return; // already waiting for this
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    const delay = want
      ? cause === 'fork'
        ? (this.opts.forkDelayMs ?? this.opts.delayMs ?? 0)
        : 0
      : (this.opts.terminateDelayMs ?? this.opts.delayMs ?? 0);
    if (delay <= 0) {
      this._up = want;
      this.emit('status', want, this.matched.size);
      return;
    }
    const timer = setTimeout(() => {
      this.pending = undefined;
      if (this.quorumOk() === want && this._up !== want) {
        this._up = want;
        this.emit('status', want, this.matched.size);
      }
    }, delay);
    timer.unref();
    this.pending = { up: want, timer };
  }

  /** @internal */
  dispose(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}

export interface ProcessMonitorOptions {
  mode?: 'auto' | 'connector' | 'scan';
  scanIntervalMs?: number;
}

export interface ProcessMonitorEvents {
  warning: [message: string];
}

// netlink connector constants (linux/connector.h, linux/cn_proc.h)
const NETLINK_CONNECTOR = 11;
const CN_IDX_PROC = 1;
const CN_VAL_PROC = 1;
const PROC_CN_MCAST_LISTEN = 1;
const PROC_CN_MCAST_IGNORE = 2;
const NLMSG_DONE = 3;
const PROC_EVENT_FORK = 0x1;
const PROC_EVENT_EXEC = 0x2;
const PROC_EVENT_COMM = 0x200;
const PROC_EVENT_EXIT = 0x80000000;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;

interface RawSocketLike {
  on(ev: 'message', l: (msg: Buffer) => void): unknown;
  on(ev: 'error', l: (err: Error & { code?: string }) => void): unknown;
  send(msg: Uint8Array, options?: object, cb?: (err?: Error) => void): void;
  close(): void;
  unref(): void;
}

function cnProcControl(op: number): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 4);
  b.writeUInt32LE(b.length, 0); // nlmsg_len
  b.writeUInt16LE(NLMSG_DONE, 4); // nlmsg_type
  b.writeUInt32LE(process.pid, 12); // nlmsg_pid
  b.writeUInt32LE(CN_IDX_PROC, 16); // cn_msg.id.idx
  b.writeUInt32LE(CN_VAL_PROC, 20); // cn_msg.id.val
  b.writeUInt16LE(4, 32); // cn_msg.len
  b.writeUInt32LE(op, 36);
  return b;
}

export type ProcEvent = { what: 'fork'; pid: number; parentPid: number } | { what: 'exec' | 'comm' | 'exit'; pid: number };

/** Parses one datagram of process events (several netlink messages may be packed). */
export function parseProcEvents(buf: Buffer): ProcEvent[] {
  const out: ProcEvent[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    const data = off + NLMSG_HDRLEN + CN_MSG_LEN; // struct proc_event
    if (len >= NLMSG_HDRLEN + CN_MSG_LEN + 16 + 8 && buf.readUInt32LE(off + 16) === CN_IDX_PROC) {
      const what = buf.readUInt32LE(data);
      const ev = data + 16; // after what, cpu, timestamp_ns
      if (what === PROC_EVENT_FORK && len >= ev - off + 16) {
        const childPid = buf.readUInt32LE(ev + 8);
        const childTgid = buf.readUInt32LE(ev + 12);
        if (childPid === childTgid) out.push({ what: 'fork', pid: childPid, parentPid: buf.readUInt32LE(ev + 4) });
      } else if (what === PROC_EVENT_EXEC || what === PROC_EVENT_COMM || what === PROC_EVENT_EXIT) {
        const pid = buf.readUInt32LE(ev);
        const tgid = buf.readUInt32LE(ev + 4);
        if (pid === tgid) out.push({ what: what === PROC_EVENT_EXEC ? 'exec' : what === PROC_EVENT_COMM ? 'comm' : 'exit', pid });
      }
    }
    off += (len + 3) & ~3;
  }
  return out;
}

export class ProcessMonitor extends EventEmitter<ProcessMonitorEvents> {
  private readonly trackers: TrackedProcess[] = [];
  private socket: RawSocketLike | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private _mode: 'connector' | 'scan' | 'stopped' = 'stopped';
  private needArgv = false;

  constructor(private readonly opts: ProcessMonitorOptions = {}) {
    super();
  }

  get mode(): 'connector' | 'scan' | 'stopped' {
    return this._mode;
  }

  track(opts: TrackProcessOptions): TrackedProcess {
    const t = new TrackedProcess(opts);
    this.trackers.push(t);
    if (t.needsArgv) this.needArgv = true;
    if (this._mode !== 'stopped') {
      const pids: number[] = [];
      for (const [pid, info] of this.scanAll()) if (matchProcess(t.opts, info)) pids.push(pid);
      t.initialise(pids);
    }
    return t;
  }

  private scanAll(): Map<number, ProcessInfo> {
    const m = new Map<number, ProcessInfo>();
    let names: string[] = [];
    try {
      names = readdirSync('/proc');
    } catch {
      return m;
    }
    for (const n of names) {
      if (!/^[1-9]\d*$/.test(n)) continue;
      const pid = Number(n);
      if (pid === process.pid) continue;
      const info = readProcessInfo(pid, this.needArgv);
      if (info) m.set(pid, info);
    }
    return m;
  }

  async start(): Promise<'connector' | 'scan'> {
    if (this._mode !== 'stopped') return this._mode;
    const procs = this.scanAll();
    for (const t of this.trackers) {
      const pids: number[] = [];
      for (const [pid, info] of procs) if (matchProcess(t.opts, info)) pids.push(pid);
      t.initialise(pids);
    }
    const mode = this.opts.mode ?? 'auto';
    if (mode !== 'scan') {
      const err = await this.openConnector();
      if (!err) {
        this._mode = 'connector';
        // events between the first scan and the subscription are caught by a second scan
        this.rescan();
        return 'connector';
      }
      if (mode === 'connector') throw new Error(`process connector unavailable: ${err}`);
      this.emit(
        'warning',
        `vrrp_track_process: process connector unavailable (${err}); polling /proc every ${this.opts.scanIntervalMs ?? 1000} ms`,
      );
    }
    this._mode = 'scan';
    const every = this.opts.scanIntervalMs ?? 1000;
    this.scanTimer = setInterval(() => this.rescan(), every);
    this.scanTimer.unref();
    return 'scan';
  }

  stop(): void {
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = undefined;
    if (this.socket) {
      const s = this.socket;
      this.socket = undefined;
      try {
        s.send(cnProcControl(PROC_CN_MCAST_IGNORE), {}, () => s.close());
      } catch {
        s.close();
      }
    }
    for (const t of this.trackers) t.dispose();
    this._mode = 'stopped';
  }

  rescan(): void {
    const procs = this.scanAll();
    for (const t of this.trackers) {
      for (const pid of [...t.pids]) if (!procs.has(pid)) t.update(pid, false, 'scan');
      for (const [pid, info] of procs) t.update(pid, matchProcess(t.opts, info), 'scan');
    }
  }

  private handle(ev: ProcEvent): void {
    if (ev.what === 'exit') {
      for (const t of this.trackers) t.update(ev.pid, false, 'exit');
      return;
    }
    const info = readProcessInfo(ev.pid, this.needArgv);
    for (const t of this.trackers) t.update(ev.pid, info ? matchProcess(t.opts, info) : false, ev.what);
  }

  private async openConnector(): Promise<string | undefined> {
    try {
      const mod = (await import('netlink')) as unknown as {
        default?: { RawNetlinkSocket: new (p: number, o?: object) => RawSocketLike };
        RawNetlinkSocket?: new (p: number, o?: object) => RawSocketLike;
      };
      const Ctor = mod.RawNetlinkSocket ?? mod.default?.RawNetlinkSocket;
      if (!Ctor) return 'netlink package has no RawNetlinkSocket';
      const s = new Ctor(NETLINK_CONNECTOR, { localGroups: CN_IDX_PROC, recvBufferSize: 1 << 20, sendBufferSize: 65536 });
      const sendErr = await new Promise<Error | undefined>((resolve) => s.send(cnProcControl(PROC_CN_MCAST_LISTEN), {}, resolve));
      if (sendErr) {
        s.close();
        return sendErr.message;
      }
      s.on('message', (msg) => {
        for (const ev of parseProcEvents(msg)) this.handle(ev);
      });
      s.on('error', (e) => {
        // ENOBUFS: the kernel dropped events; resynchronise from /proc
        this.emit('warning', `vrrp_track_process: connector error ${e.code ?? e.message}; rescanning /proc`);
        this.rescan();
      });
      s.unref(); // the daemon's other handles keep the process alive
      this.socket = s;
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }
}
