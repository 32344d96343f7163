// A virtual clock for the health checkers' scheduler (src/check/scheduler.ts CheckClock).
import type { CheckClock } from '../../src/check/scheduler.js';

/** A virtual clock: timers fire in order; each probe may take `probeMs` of virtual time. */
export function fakeClock(random = 0.5) {
  let t = 0;
  let ids = 0;
  const timers = new Map<number, { at: number; cb: () => void }>();
  const clock: CheckClock & { run(untilMs: number): Promise<void>; readonly t: number } = {
    get t() {
      return t;
    },
    now: () => t,
    setTimer: (cb, ms) => {
      const id = ++ids;
      timers.set(id, { at: t + ms, cb });
      return id;
    },
    clearTimer: (h) => {
      timers.delete(h as number);
    },
    random: () => random,
    async run(untilMs: number) {
      for (let n = 0; n < 10000; n++) {
        let best: [number, { at: number; cb: () => void }] | undefined;
        for (const e of timers) if (!best || e[1].at < best[1].at) best = e;
        if (!best || best[1].at > untilMs) break;
        timers.delete(best[0]);
        t = best[1].at;
        best[1].cb();
        // let the probe's promise chain settle before the next timer
        for (let k = 0; k < 10; k++) await Promise.resolve();
      }
      t = Math.max(t, untilMs);
    },
  };
  return clock;
}
