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

test('a precise long wait is cut short by the kernel\'s epoll slack, then finished by a short sleep and a spin', () => {
  // 3609 ms away (a v2 Master_Down_Interval): the first sleep stops ~4.6 ms short (3.6 ms of
  // epoll slack + 1), the next one is short enough that its own slack is microseconds
  const c = fakeClock(0);
  const sleeps: number[] = [];
  const fired: number[] = [];
  const schedule = (cb: () => void, ms: number) => { sleeps.push(ms); return c.schedule(cb, ms); };
  const spin = (cb: () => void) => { c.schedule(cb, 0.05); };
  armDeadline(1000 + 3609.375, c.now, (n) => fired.push(n), schedule, c.unschedule, 2, spin);
  c.run(1000);
  assert.equal(fired.length, 1);
  assert.ok(sleeps[0]! <= 3609.375 - 2 - 3.6 - 1, `first sleep ${sleeps[0]} ms reaches into the slack`);
  assert.ok(sleeps.slice(1).every((x) => x <= 20), `later sleeps ${sleeps.slice(1).join(',')} are short`);
  assert.ok(fired[0]! >= 4609.375 && fired[0]! <= 4609.375 + 0.05 + 1e-9, `fired at ${fired[0]}`);
});

test('an ordinary deadline (no spin) sleeps once: a Master\'s Adver_Timer wakes once per advert', () => {
  const c = fakeClock(0);
  const sleeps: number[] = [];
  const fired: number[] = [];
  armDeadline(1000 + 1000, c.now, (n) => fired.push(n), (cb, ms) => { sleeps.push(ms); return c.schedule(cb, ms); }, c.unschedule);
  c.run();
  assert.deepEqual(sleeps, [1000]);
  assert.deepEqual(fired, [2000]);
});

test('with a final spin, a timer that wakes late still fires within one spin step of the deadline', () => {
  // the platform timer lands 0.9 ms late; each setImmediate turn of the loop takes 0.05 ms
  const c = fakeClock(-0.9);
  const fired: number[] = [];
  let spins = 0;
  const spin = (cb: () => void) => { spins++; c.schedule(cb, 0.05); };
  const at = 1000 + 3609.375;
  armDeadline(at, c.now, (n) => fired.push(n), c.schedule, c.unschedule, 2, spin);
  c.run(10_000);
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! >= at && fired[0]! <= at + 0.05 + 0.9 + 1e-9, `fired ${fired[0]! - at} ms after the deadline`);
  assert.ok(spins > 0 && spins <= 2 / 0.05 + 1, `${spins} spins: only the last 2 ms`);
});

test('a spinning deadline cancelled mid-spin never fires', () => {
  const c = fakeClock(0);
  const fired: number[] = [];
  const pending: Array<() => void> = [];
  const h = armDeadline(1001, c.now, (n) => fired.push(n), c.schedule, c.unschedule, 2, (cb) => pending.push(cb));
  assert.equal(pending.length, 1, 'within spinMs of the deadline: spins at once');
  h.cancel();
  pending.shift()!();
  assert.deepEqual(fired, []);
  assert.equal(pending.length, 0, 'no further spin after cancel');
});
