// Deadline timers for the core's armTimer decisions.
// Node's setTimeout counts whole milliseconds from the event loop's cached clock, so it can fire up
// to ~1 ms before the deadline as performance.now() sees it. The core ignores an expiry that comes
// before its deadline (by contract: early or stale expiries are races), so an early fire would
// simply be lost: the Master's Adver_Timer would never be re-armed (it stops sending adverts) and
// a Backup's Master_Down_Timer would never expire. We therefore re-arm for the remainder until
// the deadline is really reached, and only then call back.

export interface DeadlineTimer {
  cancel(): void;
}

/**
 * Call `fire(now)` once `now() >= atMs` (monotonic milliseconds, the clock the core is fed with).
 * `schedule` is setTimeout (injectable for tests).
 */
export function armDeadline(
  atMs: number,
  now: () => number,
  fire: (nowMs: number) => void,
  schedule: (cb: () => void, ms: number) => NodeJS.Timeout | number = setTimeout,
  unschedule: (h: NodeJS.Timeout | number) => void = (h) => clearTimeout(h as NodeJS.Timeout),
): DeadlineTimer {
  let handle: NodeJS.Timeout | number | undefined;
  let cancelled = false;
  const tick = () => {
    if (cancelled) return;
    const t = now();
    if (t >= atMs) {
      handle = undefined;
      fire(t);
      return;
    }
    handle = schedule(tick, Math.max(1, Math.ceil(atMs - t)));
  };
  handle = schedule(tick, Math.max(0, Math.ceil(atMs - now())));
  return {
    cancel() {
      cancelled = true;
      if (handle !== undefined) unschedule(handle);
      handle = undefined;
    },
  };
}
