/**
 * vrrp_script runner.
 *
 * API:
 *   new VrrpScript(opts: VrrpScriptOptions)            (throws nothing; a bad line -> lastError)
 *   .start(): void            first run immediately, then every `intervalMs`
 *   .stop(): Promise<void>    no further run; a run in progress is killed (group) and awaited;
 *                             such an abandoned run is not counted as a failure
 *   .runNow(): Promise<RunResult | undefined>   one run now unless one is already running
 *   .status: 'init' | 'ok' | 'failed'  thresholded status; 'init' until the first result
 *   .initFail: boolean        init_fail: an 'init' script counts as failed for weight 0
 *   .counters: { runs, ok, failed, timedOut, skipped, spawnErrors }
 *   events: 'status' (status: 'ok'|'failed', result: RunResult)  only when rise/fall is crossed
 *           'result' (result: RunResult)  after every run
 *
 * keepalived rules: exit status 0 = success, anything else (non-zero status, killed by a signal,
 * timed out, could not be spawned) = failure. The first result sets the status at once; after
 * that `rise` consecutive successes move failed -> ok and `fall` consecutive failures move
 * ok -> failed. Before the first result ('init') weights do not apply, and a weight-0 tracker is
 * in FAULT only with `init_fail` (all measured with keepalived 2.2.7 in a netns, through
 * notify_priority_changes fifo lines). Default interval 1 s; our default timeout is the interval. weight/reverse are the tracker's concern
 * (see priority.ts), not the script's.
 *
 * Our guarantees: never two runs of the same script at once (a tick that finds a run in progress
 * is skipped and counted), a timed-out run is killed with its process group and counts as a
 * failure, every child is reaped (child.ts), a hung script blocks nothing else.
 */
import { EventEmitter } from 'node:events';
import { isCommandLineError, prepareCommand, type PreparedCommand } from './cmdline.js';
import { isSuccess, runCommand, type RunningCommand, type RunResult } from './child.js';

export interface VrrpScriptOptions {
  name: string;
  /** the configured `script` line */
  script: string;
  /** `interval` in ms (default 1000) */
  intervalMs?: number;
  /** `timeout` in ms (default: the interval) */
  timeoutMs?: number;
  rise?: number;
  fall?: number;
  initFail?: boolean;
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  killGraceMs?: number;
}

/** a finite value >= 1, else the default (bad numbers never reach a timer) */
function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && Number.isFinite(v) && v >= 1 ? v : dflt;
}

/** 'init': no result yet (keepalived's INIT / INIT_FAILED, see `initFail`) */
export type ScriptStatus = 'init' | 'ok' | 'failed';

export interface VrrpScriptCounters {
  runs: number;
  ok: number;
  failed: number;
  timedOut: number;
  skipped: number;
  spawnErrors: number;
}

export interface VrrpScriptEvents {
  status: [status: 'ok' | 'failed', result: RunResult];
  result: [result: RunResult];
}

export class VrrpScript extends EventEmitter<VrrpScriptEvents> {
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  /** set when the script line cannot be parsed: every run is then a failure */
  readonly lastError: string | undefined;
  /** init_fail: until the first result, count as failed for weight 0 (FAULT) */
  readonly initFail: boolean;
  readonly counters: VrrpScriptCounters = { runs: 0, ok: 0, failed: 0, timedOut: 0, skipped: 0, spawnErrors: 0 };

  private readonly cmd: PreparedCommand | undefined;
  private readonly opts: VrrpScriptOptions;
  private _status: ScriptStatus;
  private streak = 0; // consecutive results against the current status
  private running: RunningCommand | undefined;
  private runningPromise: Promise<RunResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(opts: VrrpScriptOptions) {
    super();
    this.opts = opts;
    this.name = opts.name;
    this.intervalMs = positive(opts.intervalMs, 1000);
    this.timeoutMs = positive(opts.timeoutMs, this.intervalMs);
    this.rise = Math.trunc(positive(opts.rise, 1));
    this.fall = Math.trunc(positive(opts.fall, 1));
    this._status = 'init';
    this.initFail = opts.initFail ?? false;
    const prepared = prepareCommand(opts.script);
    if (isCommandLineError(prepared)) {
      this.lastError = `vrrp_script ${opts.name}: ${prepared.message}`;
    } else {
      this.cmd = prepared;
    }
  }

  get status(): ScriptStatus {
    return this._status;
  }

  /** true while a run is in progress */
  get busy(): boolean {
    return this.running !== undefined;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.tick();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) {
      this.running.kill();
      await this.runningPromise;
    }
  }

  private tick(): void {
    if (!this.started) return;
    const t0 = performance.now();
    void this.runNow().then(() => {
      if (!this.started) return;
      // next run one interval after this one started; never overlapping
      const wait = Math.max(0, this.intervalMs - (performance.now() - t0));
      this.timer = setTimeout(() => this.tick(), wait);
    });
  }

  runNow(): Promise<RunResult | undefined> {
    if (this.running) {
      this.counters.skipped++;
      return Promise.resolve(undefined);
    }
    let p: Promise<RunResult>;
    if (!this.cmd) {
      const r: RunResult = { kind: 'spawn-error', code: null, signal: null, pid: undefined, durationMs: 0, error: this.lastError };
      p = Promise.resolve(r);
      this.running = { pid: undefined, result: p, kill() {} };
    } else {
      this.running = runCommand(this.cmd, {
        timeoutMs: this.timeoutMs,
        uid: this.opts.uid,
        gid: this.opts.gid,
        env: this.opts.env,
        killGraceMs: this.opts.killGraceMs,
      });
      p = this.running.result;
    }
    this.runningPromise = p;
    return p.then((r) => {
      this.running = undefined;
      this.runningPromise = undefined;
      this.record(r);
      return r;
    });
  }

  private record(r: RunResult): void {
    if (r.kind === 'killed') {
      // abandoned by stop(): not a verdict on the tracked service
      this.emit('result', r);
      return;
    }
    this.counters.runs++;
    const success = isSuccess(r);
    if (success) this.counters.ok++;
    else this.counters.failed++;
    if (r.kind === 'timeout') this.counters.timedOut++;
    if (r.kind === 'spawn-error') this.counters.spawnErrors++;
    this.emit('result', r);
    if (this._status === 'init') {
      // measured with keepalived 2.2.7: the first result sets the status at once, whatever
      // rise/fall/init_fail say
      this.streak = 0;
      this._status = success ? 'ok' : 'failed';
      this.emit('status', this._status, r);
      return;
    }
    const agrees = success === (this._status === 'ok');
    if (agrees) {
      this.streak = 0;
      return;
    }
    this.streak++;
    const needed = this._status === 'ok' ? this.fall : this.rise;
    if (this.streak >= needed) {
      this.streak = 0;
      this._status = success ? 'ok' : 'failed';
      this.emit('status', this._status, r);
    }
  }
}
