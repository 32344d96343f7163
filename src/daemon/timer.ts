// Deadline timers for the core's armTimer decisions.
// Two platform facts shape this:
// - Node's setTimeout counts whole milliseconds from the event loop's cached clock, so it can fire
//   up to ~1 ms before the deadline as performance.now() sees it. The core ignores an expiry that
//   comes before its deadline (by contract: early or stale expiries are races), so an early fire
//   would simply be lost: the Master's Adver_Timer would never be re-armed (it stops sending
//   adverts) and a Backup's Master_Down_Timer would never expire. We therefore re-arm for the
//   remainder until the deadline is really reached, and only then call back.
// - libuv sleeps in epoll_wait, and Linux lets a sleep of T overshoot by T/1000 (the "slack" of
//   select/poll/epoll timeouts for a normal task, up to 100 ms): a 3.6 s Master_Down_Timer fired
//   4-6 ms late, where keepalived (a timerfd) is late by well under 1 ms. And a timer lands up to
//   ~1 ms late anyway (libuv counts whole milliseconds). For a deadline that matters to the
//   millisecond (the Master_Down_Timer: it decides when the takeover advert goes out) the caller
//   asks for precision (`spinMs` > 0): a long wait is cut short by its slack plus a margin, a
//   short sleep brings it within spinMs, and the last spinMs are waited out with setImmediate,
//   which polls I/O (an advert that arrives cancels the timer) without sleeping. That costs at
//   most spinMs of CPU per expiry, and a Master_Down_Timer only reaches its last milliseconds
//   when the Master is gone.

/** The platform waits armDeadline uses (setTimeout, clearTimeout, setImmediate by default): a
 *  test drives them from a fake clock, with the kernel's slack, to see when a deadline fires. */
export interface DeadlineClock {
  schedule(cb: () => void, ms: number): NodeJS.Timeout | number;
  unschedule(h: NodeJS.Timeout | number): void;
  spin(cb: () => void): void;
}

export interface DeadlineTimer {
  cancel(): void;
  /** Move the deadline (keeps the same timer: a Backup re-arms its Master_Down_Timer on every
   *  advert, and a platform timer per advert cost more than the rest of the receive path). */
  moveTo(atMs: number): void;
}

/** The kernel's slack for a poll/epoll timeout of `ms` (0.1%, capped at 100 ms) plus 1 ms. */
export function approachMarginMs(ms: number): number {
  return Math.min(ms / 1000, 100) + 1;
}

/** How long to sleep toward a deadline `remainingMs` away (whole ms, never past the deadline
 *  by more than the short final sleep's own slack). */
export function nextSleepMs(remainingMs: number): number {
  // a short remainder: sleep it out (its slack is a few microseconds); at least 1 ms because a
  // 0 ms timer would spin until the deadline
  if (remainingMs <= 20) return Math.max(1, Math.ceil(remainingMs));
  return Math.floor(remainingMs - approachMarginMs(remainingMs));
}

/** With a final spin of `spinMs`: sleep so as to wake no later than `spinMs` before the deadline
 *  (a short sleep can land up to 1 ms after its whole-millisecond request). */
export function sleepBeforeSpinMs(remainingMs: number, spinMs: number): number {
  const toSpin = remainingMs - spinMs;
  return toSpin > 20 ? nextSleepMs(toSpin) : Math.max(1, Math.floor(toSpin - 1));
}

/**
 * Call `fire(now)` once `now() >= atMs` (monotonic milliseconds, the clock the core is fed with).
 * `schedule` is setTimeout, `spin` setImmediate (injectable for tests); `spinMs` (default 0) the
 * final stretch waited out without sleeping.
 */
export function armDeadline(
  atMs: number,
  now: () => number,
  fire: (nowMs: number) => void,
  schedule: (cb: () => void, ms: number) => NodeJS.Timeout | number = setTimeout,
  unschedule: (h: NodeJS.Timeout | number) => void = (h) => clearTimeout(h as NodeJS.Timeout),
  spinMs = 0,
  spin: (cb: () => void) => void = setImmediate,
): DeadlineTimer {
  let handle: NodeJS.Timeout | number | undefined;
  let cancelled = false;
  let deadline = atMs;
  // each wait carries its generation: a wait made stale by moveTo() or cancel() does nothing
  let gen = 0;
  // `slept`: called from a platform timer, i.e. from libuv's timers phase, which runs before the
  // loop polls for I/O. A precise deadline found already past there (the process was not
  // scheduled, or a GC pause) goes once through the spin first: the poll in between reads the
  // adverts queued meanwhile, and one that arrived in time moves the deadline instead of a
  // false takeover (keepalived reads its ready sockets before it handles expired timers).
  const tick = (g: number, slept: boolean) => {
    if (g !== gen) return;
    handle = undefined;
    if (cancelled) return;
    const t = now();
    if (t >= deadline) {
      if (slept && spinMs > 0) {
        const g2 = ++gen;
        spin(() => tick(g2, false));
        return;
      }
      fire(t);
      return;
    }
    wait(deadline - t);
  };
  // a precise deadline approaches in steps (slack, then spin); the others sleep once (re-armed
  // only when the platform timer fired early): every Master's Adver_Timer is one of these, and
  // waking twice per advert doubled the steady-state CPU with no gain
  const wait = (rem: number) => {
    const g = ++gen;
    if (rem <= spinMs) spin(() => tick(g, false));
    else if (spinMs > 0) handle = schedule(() => tick(g, true), sleepBeforeSpinMs(rem, spinMs));
    else handle = schedule(() => tick(g, true), Math.max(1, Math.ceil(rem)));
  };
  const first = atMs - now();
  if (first <= 0) {
    const g = ++gen;
    handle = schedule(() => tick(g, true), 0);
  } else wait(first);
  return {
    cancel() {
      cancelled = true;
      gen++;
      if (handle !== undefined) unschedule(handle);
      handle = undefined;
    },
    moveTo(nextAtMs: number): void {
      if (cancelled) return;
      const later = nextAtMs >= deadline;
      deadline = nextAtMs;
      // later: the wait in flight ends early and sleeps again for the rest (one platform timer
      // instead of one per call); earlier: wait anew
      if (later) return;
      if (handle !== undefined) unschedule(handle);
      handle = undefined;
      const rem = deadline - now();
      if (rem <= 0) {
        const g = ++gen;
        handle = schedule(() => tick(g, true), 0);
      } else wait(rem);
    },
  };
}
