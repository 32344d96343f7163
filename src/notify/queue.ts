/**
 * Notify scripts, better than keepalived: ordered, one at a time, bounded in time, reaped.
 *
 * API:
 *   const n = new Notifier({ timeoutMs?: 30000, killGraceMs?, maxQueued?, env? })
 *   n.notifyState(ev: StateNotification): Promise<NotifyRunReport[]>
 *       queues, on the queue of `${ev.kind} ${ev.name}`, the state-specific script
 *       (notify_master/backup/fault/stop/deleted) then the generic `notify` with its 4 extra
 *       arguments (GROUP|INSTANCE, name, MASTER|BACKUP|FAULT|STOP|DELETED, priority; keepalived
 *       2.2.7 passes 0 as the priority of a GROUP, measured).
 *       Returns at once (the promise settles when both have run; it never rejects).
 *   n.enqueue(queueKey: string, script: NotifyScript, extraArgs?: string[]): Promise<NotifyRunReport>
 *   n.idle(queueKey?): Promise<void>      all (or that) queue(s) drained
 *   n.close(): Promise<void>              drop pending jobs, kill running ones, wait for them
 *   n.counters: { queued, ran, succeeded, failed, timedOut, dropped, spawnErrors }
 *   events: 'run' (report: NotifyRunReport) after each script; 'dropped' (key, script)
 *
 * keepalived runs notify scripts fire-and-forget: several at once, unordered, no timeout, never
 * reaped. Here every instance (or sync group) has its own FIFO queue, one script at a time; each
 * run has a timeout (default 30 s) after which its process group is killed (child.ts). A hung
 * script therefore delays only later notifications of the same instance, never another queue and
 * never the caller. Arguments go straight to execve unless the configured line itself needs a
 * shell (cmdline.ts).
 */
import { EventEmitter } from 'node:events';
import { isCommandLineError, prepareCommand } from '../track/cmdline.js';
import { runCommand, type RunResult } from '../track/child.js';

export interface NotifyScript {
  /** the configured line, e.g. `/usr/local/bin/to_master.sh` or `"/path/fault.sh VG_1"` */
  line: string;
  uid?: number;
  gid?: number;
}

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';

export interface StateNotification {
  kind: 'INSTANCE' | 'GROUP';
  name: string;
  state: NotifyState;
  priority: number;
  scripts: {
    master?: NotifyScript;
    backup?: NotifyScript;
    fault?: NotifyScript;
    stop?: NotifyScript;
    deleted?: NotifyScript;
    /** the generic `notify` */
    generic?: NotifyScript;
  };
}

export interface NotifierOptions {
  /** per-script run limit, ms (default 30000) */
  timeoutMs?: number;
  killGraceMs?: number;
  /** per-queue bound; beyond it the oldest pending job is dropped (default 1000) */
  maxQueued?: number;
  env?: NodeJS.ProcessEnv;
}

export interface NotifyRunReport {
  queueKey: string;
  line: string;
  args: string[];
  result: RunResult;
  /** ms spent waiting in the queue */
  waitedMs: number;
}

export interface NotifierCounters {
  queued: number;
  ran: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  spawnErrors: number;
}

export interface NotifierEvents {
  run: [report: NotifyRunReport];
  dropped: [queueKey: string, line: string];
}

interface Job {
  key: string;
  script: NotifyScript;
  extraArgs: string[];
  enqueuedAt: number;
  resolve: (r: NotifyRunReport) => void;
}

interface Queue {
  jobs: Job[];
  running: { kill(): void; done: Promise<void> } | undefined;
  idleWaiters: (() => void)[];
}

export class Notifier extends EventEmitter<NotifierEvents> {
  readonly counters: NotifierCounters = { queued: 0, ran: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, spawnErrors: 0 };
  private readonly queues = new Map<string, Queue>();
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private closed = false;

  constructor(private readonly opts: NotifierOptions = {}) {
    super();
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxQueued = Math.max(1, opts.maxQueued ?? 1000);
  }

  notifyState(ev: StateNotification): Promise<NotifyRunReport[]> {
    const key = `${ev.kind} ${ev.name}`;
    const specific =
      ev.state === 'MASTER'
        ? ev.scripts.master
        : ev.state === 'BACKUP'
          ? ev.scripts.backup
          : ev.state === 'FAULT'
            ? ev.scripts.fault
            : ev.state === 'STOP'
              ? ev.scripts.stop
              : ev.scripts.deleted;
    const runs: Promise<NotifyRunReport>[] = [];
    if (specific) runs.push(this.enqueue(key, specific));
    // keepalived: "notify" is called AFTER the notify_* script, with 4 extra arguments
    if (ev.scripts.generic) runs.push(this.enqueue(key, ev.scripts.generic, [ev.kind, ev.name, ev.state, String(ev.priority)]));
    return Promise.all(runs);
  }

  enqueue(queueKey: string, script: NotifyScript, extraArgs: string[] = []): Promise<NotifyRunReport> {
    return new Promise<NotifyRunReport>((resolve) => {
      if (this.closed) {
        resolve(this.notRun(queueKey, script, extraArgs, 'notifier closed'));
        return;
      }
      let q = this.queues.get(queueKey);
      if (!q) {
        q = { jobs: [], running: undefined, idleWaiters: [] };
        this.queues.set(queueKey, q);
      }
      this.counters.queued++;
      q.jobs.push({ key: queueKey, script, extraArgs, enqueuedAt: performance.now(), resolve });
      if (q.jobs.length > this.maxQueued) {
        const old = q.jobs.shift()!;
        this.counters.dropped++;
        this.emit('dropped', queueKey, old.script.line);
        old.resolve(this.notRun(queueKey, old.script, old.extraArgs, 'dropped: queue full'));
      }
      if (!q.running) this.pump(q);
    });
  }

  private notRun(key: string, script: NotifyScript, extraArgs: string[], why: string): NotifyRunReport {
    return {
      queueKey: key,
      line: script.line,
      args: extraArgs,
      waitedMs: 0,
      result: { kind: 'spawn-error', code: null, signal: null, pid: undefined, durationMs: 0, error: why },
    };
  }

  private pump(q: Queue): void {
    const job = q.jobs.shift();
    if (!job) {
      q.running = undefined;
      const waiters = q.idleWaiters.splice(0);
      for (const w of waiters) w();
      return;
    }
    const waitedMs = performance.now() - job.enqueuedAt;
    const cmd = prepareCommand(job.script.line, job.extraArgs);
    let result: Promise<RunResult>;
    let kill = (): void => {};
    if (isCommandLineError(cmd)) {
      result = Promise.resolve({ kind: 'spawn-error', code: null, signal: null, pid: undefined, durationMs: 0, error: cmd.message });
    } else {
      const run = runCommand(cmd, {
        timeoutMs: this.timeoutMs,
        killGraceMs: this.opts.killGraceMs,
        uid: job.script.uid,
        gid: job.script.gid,
        env: this.opts.env,
      });
      result = run.result;
      kill = run.kill;
    }
    const done = result.then((r) => {
      this.counters.ran++;
      if (r.kind === 'exit' && r.code === 0) this.counters.succeeded++;
      else this.counters.failed++;
      if (r.kind === 'timeout') this.counters.timedOut++;
      if (r.kind === 'spawn-error') this.counters.spawnErrors++;
      const report: NotifyRunReport = { queueKey: job.key, line: job.script.line, args: job.extraArgs, result: r, waitedMs };
      job.resolve(report);
      this.emit('run', report);
      this.pump(q);
    });
    q.running = { kill, done };
  }

  /** Resolves when the given queue (or every queue) has nothing pending or running. */
  idle(queueKey?: string): Promise<void> {
    const qs = queueKey === undefined ? [...this.queues.values()] : [this.queues.get(queueKey)].filter((q): q is Queue => !!q);
    return Promise.all(
      qs.map((q) => (q.running || q.jobs.length > 0 ? new Promise<void>((r) => q.idleWaiters.push(r)) : Promise.resolve())),
    ).then(() => undefined);
  }

  /** Pending jobs are dropped (resolved as not run), running scripts are killed and awaited. */
  async close(): Promise<void> {
    this.closed = true;
    const waits: Promise<void>[] = [];
    for (const [key, q] of this.queues) {
      for (const job of q.jobs.splice(0)) {
        this.counters.dropped++;
        job.resolve(this.notRun(key, job.script, job.extraArgs, 'notifier closed'));
      }
      if (q.running) {
        q.running.kill();
        waits.push(q.running.done);
      }
    }
    await Promise.all(waits);
  }
}
