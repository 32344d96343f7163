// One checker's schedule and retry state machine (keepalived 2.2.7, ../shared/notes/lvs.md 4.1).
// Sans-I/O where it matters: the probe and the clock are injected, so the timing rules are unit
// tested with a fake clock; the runner never touches a socket itself.
//
// Rules:
// - first attempt 1 s + random(0..warmup) after start (warmup 0: exactly 1 s);
// - next attempt delay_loop after the end of the previous one (MISC_CHECK: after its start);
// - a failed attempt while up is retried after delay_before_retry; retry+1 consecutive failures
//   take the checker down. At start (not on reload) the retry counter is primed: the first
//   failure is final. TCP-like checkers keep cycling the counter while down (delay_before_retry
//   and delay_loop alternate: TCP, SMTP), UDP/PING/DNS/MISC do not retry while down;
// - HTTP_GET/SSL_GET: while down, re-check the failing url every max(delay_before_retry,
//   delay_loop); once it succeeds, a full pass over the urls (one per delay_loop) brings the
//   checker up: two successes with one url. fast_recovery: those passes run without waiting;
// - suspended (ha_suspend): the timer keeps running, no probe is made;
// - reload: every checker that stays is scheduled again as at start (its attempt under way is
//   dropped), its state kept.
import type { CheckerTiming } from './timing.js';

export interface ProbeResult {
  readonly ok: boolean;
  /** why it failed (or what succeeded), for the logs */
  readonly reason: string;
  /** MISC_CHECK misc_dynamic: the weight the exit status asks for (undefined: configured) */
  readonly weight?: number;
}

/**
 * What a probe uses of an AbortSignal (a real one fits, as genhash and the tests pass). The runner
 * passes a Cancel: an AbortController with one listener costs ~20 us (EventTarget), a sixth of a
 * TCP_CHECK attempt's CPU, and 1,200 checkers make 1,200 attempts a second.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A one-shot cancel signal: listeners run once, at abort(). */
export class Cancel implements CancelSignal {
  aborted = false;
  private listeners: (() => void)[] | undefined;
  addEventListener(_type: 'abort', listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }
  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const l = this.listeners;
    this.listeners = undefined;
    for (const f of l ?? []) f();
  }
}

/** One attempt. `url` is the HTTP url index (0 for the others). Must settle, even on abort. */
export type Probe = (signal: CancelSignal, url: number) => Promise<ProbeResult>;

export interface CheckClock {
  now(): number;
  setTimer(cb: () => void, ms: number): unknown;
  clearTimer(h: unknown): void;
  /** 0 <= x < 1 */
  random(): number;
}

export const realClock: CheckClock = {
  now: () => performance.now(),
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  random: Math.random,
};

export interface CheckerEvents {
  /** every attempt, after it settled (log_all_failures lines come from here) */
  attempt(r: ProbeResult, willRetry: boolean): void;
  /** the checker came up, or (wasUp) its first attempt succeeded: keepalived logs the success
   *  line then too, without a transition */
  up(r: ProbeResult, wasUp: boolean): void;
  /** the checker went down; `retries` is how many retries were made first (0 at start) */
  down(r: ProbeResult, retries: number): void;
}

/** How a checker starts: at daemon start, added by a reload, or in alpha mode (down). */
export type StartMode = 'start' | 'reload' | 'alpha';

export class CheckerRunner {
  /** the checker's own verdict (a real server is alive when all of its checkers are up) */
  up: boolean;
  suspended = false;
  /** attempts made (for tests and status) */
  attempts = 0;
  private retryIt: number;
  /** keepalived's has_run: false until the first attempt (HTTP: the first full pass) */
  private hasRun = false;
  /** at start, until the first attempt settled: a failure is final and logged without retries */
  private primed: boolean;
  private timer: unknown;
  private inFlight: Promise<void> | undefined;
  private abort: Cancel | undefined;
  private stopped = false;
  /** bumped by reschedule(): an attempt of an earlier generation settles unheard */
  private generation = 0;
  // HTTP: which url is next, and the recovery phase while down
  private url = 0;
  /** HTTP: a url failed for good; cleared when it answers again, then a full pass follows */
  private failedUrl = false;

  constructor(
    readonly timing: CheckerTiming,
    private readonly probe: Probe,
    private readonly clock: CheckClock,
    private readonly events: CheckerEvents,
    mode: StartMode,
    /** HTTP url count (1 for the other checkers) */
    private readonly urls = 1,
  ) {
    this.up = mode !== 'alpha';
    // at start the first failure is final; after a reload a new checker gets its retries
    this.retryIt = mode === 'start' ? timing.retry : 0;
    this.primed = mode === 'start';
  }

  start(): void {
    const jitter = this.timing.warmupMs > 0 ? this.clock.random() * this.timing.warmupMs : 0;
    this.arm(1000 + jitter);
  }

  /**
   * A reload, for a checker that stays (identical type and options): keepalived 2.2.7 cancels every
   * checker's pending timer and attempt and schedules each again as at start, 1 s + random(0..warmup)
   * after the reload, keeping its state (up, has_run, retry counter, HTTP url phase). So a failure
   * just after a reload is seen at the same moment as keepalived's, not on the old timer.
   */
  reschedule(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    // the attempt under way is dropped: its result is not counted (keepalived's thread is gone)
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
    this.inFlight = undefined;
    this.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.inFlight;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.run();
      },
      Math.max(0, ms),
    );
  }

  private run(): void {
    if (this.stopped) return;
    if (this.suspended) {
      this.arm(this.timing.delayLoopMs);
      return;
    }
    const t0 = this.clock.now();
    this.abort = new Cancel();
    const url = this.url;
    const gen = this.generation;
    let p: Promise<ProbeResult>;
    try {
      p = this.probe(this.abort, url);
    } catch (e) {
      p = Promise.resolve({ ok: false, reason: (e as Error).message });
    }
    this.inFlight = p.then(
      (r) => this.settle(r, t0, gen),
      (e: unknown) => this.settle({ ok: false, reason: (e as Error)?.message ?? String(e) }, t0, gen),
    );
  }

  private settle(r: ProbeResult, t0: number, gen: number): void {
    if (gen !== this.generation) return;
    this.inFlight = undefined;
    this.abort = undefined;
    if (this.stopped) return;
    this.attempts++;
    const next = this.timing.http ? this.decideHttp(r) : this.decide(r);
    this.primed = false;
    if (!this.timing.http) this.hasRun = true;
    const elapsed = this.timing.periodFromStart ? this.clock.now() - t0 : 0;
    this.arm(next - elapsed);
  }

  /** TCP, UDP, PING, SMTP, DNS, MISC: returns the delay before the next attempt. */
  private decide(r: ProbeResult): number {
    const t = this.timing;
    if (r.ok) {
      this.retryIt = 0;
      this.events.attempt(r, false);
      if (!this.up || !this.hasRun) {
        const was = this.up;
        this.up = true;
        this.events.up(r, was);
      }
      return t.delayLoopMs;
    }
    if ((this.up || t.retryWhileDown) && this.retryIt < t.retry) {
      this.retryIt++;
      this.events.attempt(r, true);
      return t.delayBeforeRetryMs;
    }
    const retries = this.primed ? 0 : this.retryIt;
    this.retryIt = 0;
    this.events.attempt(r, false);
    if (this.up) {
      this.up = false;
      this.events.down(r, retries);
    }
    return t.delayLoopMs;
  }

  /**
   * HTTP_GET / SSL_GET, one url per attempt (keepalived's check_http.c behaviour):
   * - success: next url; a full pass without a failed url brings the checker up (or, on the
   *   first pass, logs the success line); the failed url answering again clears the mark and
   *   starts a full pass from the first url: two successes with one url;
   * - failure while up (or before the first full pass): retried after delay_before_retry; past
   *   `retry` retries the checker goes down and the url is marked failed;
   * - failure while down: nothing changes, the same url is checked again;
   * - while a url is marked failed the period is max(delay_before_retry, delay_loop);
   * - fast_recovery: no wait while the first pass or a recovery pass is under way.
   */
  private decideHttp(r: ProbeResult): number {
    const t = this.timing;
    this.events.attempt(r, !r.ok && (this.up || !this.hasRun) && this.retryIt + 1 <= t.retry);
    let delay: number;
    if (r.ok) {
      this.url++;
      this.retryIt = 0;
      if (this.url >= this.urls && !this.failedUrl) {
        this.url = 0;
        if (!this.up || !this.hasRun) {
          const was = this.up;
          this.up = true;
          this.hasRun = true;
          this.events.up(r, was);
        }
      } else if (this.failedUrl) {
        this.failedUrl = false;
        this.url = 0;
      }
      delay = t.delayLoopMs;
      // until the first full pass, a failure is final (keepalived primes its retry counter)
      if (!this.hasRun) this.retryIt = t.retry;
    } else {
      if (this.up || !this.hasRun) {
        this.retryIt++;
        const wasUp = this.up;
        this.hasRun = true;
        if (this.retryIt > t.retry) {
          if (wasUp) {
            this.up = false;
            this.events.down(r, t.retry);
          }
          this.failedUrl = true;
        }
      }
      delay = this.failedUrl ? Math.max(t.delayBeforeRetryMs, t.delayLoopMs) : t.delayBeforeRetryMs;
    }
    if (t.fastRecovery && (!this.hasRun || (!this.up && !this.failedUrl))) delay = 0;
    return delay;
  }
}
