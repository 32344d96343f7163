// src/daemon/timer.ts: a deadline timer never fires before its deadline, even when the platform
// timer fires early (Node's setTimeout can be ~1 ms early against performance.now()); the core
// drops early expiries, which stopped a Master's adverts at advert_int 0.01 (seen in interop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armDeadline } from '../../src/daemon/timer.js';

/** A fake clock whose scheduler fires each callback `earlyMs` before the requested delay. */
function fakeClock(earlyMs: number) {
  let t = 1000;
  const queue: Array<{ at: number; cb: () => void; id: number }> = [];
  let ids = 0;
  return {
    now: () => t,
    schedule: (cb: () => void, ms: number) => { const id = ++ids; queue.push({ at: t + ms - earlyMs, cb, id }); return id; },
    unschedule: (h: NodeJS.Timeout | number) => { const i = queue.findIndex((q) => q.id === h); if (i >= 0) queue.splice(i, 1); },
    /** run every due callback in order, advancing the clock; bounded */
    run(limit = 100) {
      for (let n = 0; n < limit && queue.length; n++) {
        queue.sort((a, b) => a.at - b.at);
        const q = queue.shift()!;
        t = Math.max(t, q.at);
        q.cb();
      }
    },
  };
}

test('an early platform timer does not make the deadline fire early, nor get lost', () => {
  const c = fakeClock(0.7);
  const fired: number[] = [];
  armDeadline(1010.3, c.now, (n) => fired.push(n), c.schedule, c.unschedule);
  c.run();
  assert.equal(fired.length, 1, 'fires exactly once');
  assert.ok(fired[0]! >= 1010.3, `fired at ${fired[0]} before the deadline 1010.3`);
});

test('cancel before the deadline: never fires', () => {
  const c = fakeClock(0.9);
  const fired: number[] = [];
  const h = armDeadline(1005, c.now, (n) => fired.push(n), c.schedule, c.unschedule);
  h.cancel();
  c.run();
  assert.deepEqual(fired, []);
});

test('real timers: 40 short deadlines all fire, none before its deadline by performance.now()', async () => {
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => new Promise<[number, number]>((resolve) => {
    const at = performance.now() + 1 + (i % 10) + 0.5;
    armDeadline(at, () => performance.now(), (n) => resolve([at, n]));
  })));
  for (const [at, n] of results) assert.ok(n >= at, `fired at ${n} before ${at}`);
});
