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
    schedule: (cb: () => void, ms: number) => {
      const id = ++ids;
      queue.push({ at: t + ms - earlyMs, cb, id });
      return id;
    },
    unschedule: (h: NodeJS.Timeout | number) => {
      const i = queue.findIndex((q) => q.id === h);
      if (i >= 0) queue.splice(i, 1);
    },
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
  const results = await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) =>
        new Promise<[number, number]>((resolve) => {
          const at = performance.now() + 1 + (i % 10) + 0.5;
          armDeadline(
            at,
            () => performance.now(),
            (n) => resolve([at, n]),
          );
        }),
    ),
  );
  for (const [at, n] of results) assert.ok(n >= at, `fired at ${n} before ${at}`);
});

test("a precise long wait is cut short by the kernel's epoll slack, then finished by a short sleep and a spin", () => {
  // 3609 ms away (a v2 Master_Down_Interval): the first sleep stops ~4.6 ms short (3.6 ms of
  // epoll slack + 1), the next one is short enough that its own slack is microseconds
  const c = fakeClock(0);
  const sleeps: number[] = [];
  const fired: number[] = [];
  const schedule = (cb: () => void, ms: number) => {
    sleeps.push(ms);
    return c.schedule(cb, ms);
  };
  const spin = (cb: () => void) => {
    c.schedule(cb, 0.05);
  };
  armDeadline(1000 + 3609.375, c.now, (n) => fired.push(n), schedule, c.unschedule, 2, spin);
  c.run(1000);
  assert.equal(fired.length, 1);
  assert.ok(sleeps[0]! <= 3609.375 - 2 - 3.6 - 1, `first sleep ${sleeps[0]} ms reaches into the slack`);
  assert.ok(
    sleeps.slice(1).every((x) => x <= 20),
    `later sleeps ${sleeps.slice(1).join(',')} are short`,
  );
  assert.ok(fired[0]! >= 4609.375 && fired[0]! <= 4609.375 + 0.05 + 1e-9, `fired at ${fired[0]}`);
});

test("an ordinary deadline (no spin) sleeps once: a Master's Adver_Timer wakes once per advert", () => {
  const c = fakeClock(0);
  const sleeps: number[] = [];
  const fired: number[] = [];
  armDeadline(
    1000 + 1000,
    c.now,
    (n) => fired.push(n),
    (cb, ms) => {
      sleeps.push(ms);
      return c.schedule(cb, ms);
    },
    c.unschedule,
  );
  c.run();
  assert.deepEqual(sleeps, [1000]);
  assert.deepEqual(fired, [2000]);
});

test('with a final spin, a timer that wakes late still fires within one spin step of the deadline', () => {
  // the platform timer lands 0.9 ms late; each setImmediate turn of the loop takes 0.05 ms
  const c = fakeClock(-0.9);
  const fired: number[] = [];
  let spins = 0;
  const spin = (cb: () => void) => {
    spins++;
    c.schedule(cb, 0.05);
  };
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
  const h = armDeadline(
    1001,
    c.now,
    (n) => fired.push(n),
    c.schedule,
    c.unschedule,
    2,
    (cb) => pending.push(cb),
  );
  assert.equal(pending.length, 1, 'within spinMs of the deadline: spins at once');
  h.cancel();
  pending.shift()!();
  assert.deepEqual(fired, []);
  assert.equal(pending.length, 0, 'no further spin after cancel');
});

test('moveTo later: the timer in flight wakes, sleeps for the rest and fires once at the new deadline', () => {
  const c = fakeClock(0);
  const fired: number[] = [];
  let sleeps = 0;
  const schedule = (cb: () => void, ms: number) => {
    sleeps++;
    return c.schedule(cb, ms);
  };
  const h = armDeadline(1000 + 3609, c.now, (n) => fired.push(n), schedule, c.unschedule);
  // a Backup hearing 10 adverts in a row would have re-armed 10 times; here: no new timer
  for (let i = 1; i <= 10; i++) h.moveTo(1000 + 3609 + i * 1000);
  assert.equal(sleeps, 1, 'moving later schedules nothing');
  c.run();
  assert.deepEqual(fired, [1000 + 3609 + 10_000]);
  assert.equal(sleeps, 2, 'one more sleep for the rest');
});

test('moveTo earlier: fires at the earlier deadline, once (the stale wait does nothing)', () => {
  const c = fakeClock(0);
  const fired: number[] = [];
  const h = armDeadline(
    1000 + 3609,
    c.now,
    (n) => fired.push(n),
    c.schedule,
    c.unschedule,
    2,
    (cb) => c.schedule(cb, 0.05),
  );
  h.moveTo(1000 + 609); // a priority 0 advert: Skew_Time instead of Master_Down_Interval
  c.run(10_000);
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! >= 1609 && fired[0]! <= 1609.06, `fired at ${fired[0]}`);
});

test('moveTo while spinning, and after cancel', () => {
  const c = fakeClock(0);
  const fired: number[] = [];
  const pending: Array<() => void> = [];
  const h = armDeadline(
    1001,
    c.now,
    (n) => fired.push(n),
    c.schedule,
    c.unschedule,
    2,
    (cb) => pending.push(cb),
  );
  assert.equal(pending.length, 1, 'spinning');
  h.moveTo(2000); // an advert arrived: the spin turns into a sleep
  pending.shift()!();
  assert.equal(pending.length, 0);
  c.run(10_000);
  // the sleep toward 2000 ends in a spin again
  while (pending.length) {
    c.schedule(pending.shift()!, 0.05);
    c.run(1);
  }
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! >= 2000 && fired[0]! < 2000.1, `fired at ${fired[0]}`);
  const h2 = armDeadline(3000, c.now, (n) => fired.push(n), c.schedule, c.unschedule);
  h2.cancel();
  h2.moveTo(2500);
  c.run();
  assert.equal(fired.length, 1, 'a cancelled timer stays cancelled');
});

test('a precise deadline found past when its platform timer fires polls I/O once (a spin) before firing', () => {
  // the process was not scheduled for 100 ms: the sleep toward the deadline ends 100 ms late,
  // in libuv's timers phase, before the loop has read the adverts queued meanwhile
  const c = fakeClock(-100);
  const fired: number[] = [];
  const pending: Array<() => void> = [];
  const h = armDeadline(
    1000 + 36,
    c.now,
    (n) => fired.push(n),
    c.schedule,
    c.unschedule,
    2,
    (cb) => pending.push(cb),
  );
  c.run();
  assert.deepEqual(fired, [], 'not fired from the timers phase');
  assert.equal(pending.length, 1, 'one spin: the poll phase comes first');
  h.moveTo(c.now() + 36); // the poll read an advert that was queued: the Backup re-arms
  pending.shift()!();
  assert.deepEqual(fired, [], 'the advert read in that poll keeps the Backup a Backup');
  // no advert this time: fires after the one poll
  c.run();
  assert.equal(pending.length, 1);
  pending.shift()!();
  assert.equal(fired.length, 1);
});

test('an ordinary deadline (no spin) found past still fires from the timer itself', () => {
  const c = fakeClock(-100);
  const fired: number[] = [];
  armDeadline(
    1010,
    c.now,
    (n) => fired.push(n),
    c.schedule,
    c.unschedule,
    0,
    () => assert.fail('no spin'),
  );
  c.run();
  assert.equal(fired.length, 1);
});

test('real timers: precise deadlines (slack margin, final spin) fire at or after their deadline, never before', async () => {
  const results: Array<[number, number]> = [];
  for (let i = 0; i < 10; i++) {
    const at = performance.now() + 25 + i * 0.37;
    results.push(
      await new Promise<[number, number]>((resolve) => {
        armDeadline(
          at,
          () => performance.now(),
          (n) => resolve([at, n]),
          undefined,
          undefined,
          2,
        );
      }),
    );
  }
  for (const [at, n] of results) assert.ok(n >= at, `fired at ${n} before ${at}`);
});
