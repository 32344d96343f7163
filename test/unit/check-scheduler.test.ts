// src/check/scheduler.ts + timing.ts: keepalived 2.2.7's checker timing with a fake clock and a
// scripted probe (../shared/notes/lvs.md 4.1, 4.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckerRunner, type ProbeResult, type StartMode } from '../../src/check/scheduler.js';
import { checkerTiming, type CheckerTiming } from '../../src/check/timing.js';
import { fakeClock } from '../helpers/check-clock.js';
import type { Checker, VirtualServer } from '../../src/config/model.js';

type Step = boolean | ((url: number) => boolean);

/** A runner whose probe answers from `script` (the last answer repeats); records what happens. */
function harness(timing: CheckerTiming, mode: StartMode, script: Step[], opts: { urls?: number; probeMs?: number; random?: number } = {}) {
  const clock = fakeClock(opts.random ?? 0.5);
  const probes: number[] = [];
  const log: string[] = [];
  let i = 0;
  const runner = new CheckerRunner(
    timing,
    async (_sig, url) => {
      probes.push(clock.now());
      const s = script[Math.min(i++, script.length - 1)]!;
      const ok = typeof s === 'function' ? s(url) : s;
      // a probe that takes time: the clock has moved when it settles
      if (opts.probeMs) await new Promise<void>((res) => clock.setTimer(res, opts.probeMs!));
      return { ok, reason: ok ? 'ok' : 'refused' } satisfies ProbeResult;
    },
    clock,
    {
      attempt: (r, retry) => log.push(`${clock.now()} attempt ${r.ok ? 'ok' : 'fail'}${retry ? ' retry' : ''}`),
      up: (_r, wasUp) => log.push(`${clock.now()} ${wasUp ? 'first success' : 'UP'}`),
      down: (_r, n) => log.push(`${clock.now()} DOWN after ${n}`),
    },
    mode,
    opts.urls ?? 1,
  );
  return { clock, probes, log, runner };
}

const vs = (o: Partial<VirtualServer> = {}): VirtualServer =>
  ({
    kind: 'address',
    file: 'k.conf',
    line: 1,
    delayLoopMs: 1000,
    lvsSched: 'wlc',
    lvsMethod: 'NAT',
    protocol: 'TCP',
    quorum: 1,
    hysteresis: 0,
    haSuspend: false,
    realServers: [],
    options: {},
    ...o,
  }) as VirtualServer;
const ck = (type: string, o: Partial<Checker> = {}): Checker =>
  ({
    type,
    file: 'k.conf',
    line: 2,
    connectTimeoutMs: 5000,
    retry: type === 'MISC_CHECK' ? 0 : 1,
    delayBeforeRetryMs: 1000,
    urls: [],
    miscDynamic: false,
    options: {},
    ...o,
  }) as Checker;

test('per-type defaults: HTTP dbr 3 s, DNS retry 3 dbr = delay_loop, MISC retry 0 and misc_timeout = VS delay_loop', () => {
  const v = vs({ delayLoopMs: 6000 });
  assert.deepEqual([checkerTiming(ck('TCP_CHECK'), v).retry, checkerTiming(ck('TCP_CHECK'), v).delayBeforeRetryMs], [1, 1000]);
  assert.equal(checkerTiming(ck('HTTP_GET'), v).delayBeforeRetryMs, 3000);
  assert.equal(checkerTiming(ck('SSL_GET'), v).delayBeforeRetryMs, 3000);
  const dns = checkerTiming(ck('DNS_CHECK', { delayLoopMs: 2000 }), v);
  assert.deepEqual([dns.retry, dns.delayBeforeRetryMs, dns.delayLoopMs], [3, 2000, 2000]);
  const misc = checkerTiming(ck('MISC_CHECK', { delayLoopMs: 2000 }), v);
  assert.deepEqual([misc.retry, misc.miscTimeoutMs, misc.periodFromStart], [0, 6000, true]);
  // written in the checker: kept even when equal to TCP's default
  const http = checkerTiming(ck('HTTP_GET', { delayBeforeRetryMs: 1000, explicit: ['delay_before_retry'] }), v);
  assert.equal(http.delayBeforeRetryMs, 1000);
  // the virtual server's defaults apply to its checkers
  const t = checkerTiming(ck('TCP_CHECK'), vs({ options: { retry: '4', delay_before_retry: '2.5', warmup: '0' } }));
  assert.deepEqual([t.retry, t.delayBeforeRetryMs, t.warmupMs], [4, 2500, 0]);
  assert.equal(checkerTiming(ck('TCP_CHECK'), v).warmupMs, 6000, 'warmup defaults to delay_loop');
});

test('TCP_CHECK at start against a dead server: first attempt 1 s + random(warmup), first failure final, then dbr and delay_loop alternate', async () => {
  const h = harness(checkerTiming(ck('TCP_CHECK'), vs()), 'start', [false]);
  h.runner.start();
  await h.clock.run(6000);
  assert.equal(h.probes[0], 1500, '1 s + 0.5 x warmup (1 s)');
  assert.equal(h.log[1], '1500 DOWN after 0');
  // while down the retry counter keeps cycling: +1 s delay_loop, +1 s dbr... (both 1 s here)
  assert.deepEqual(h.probes.slice(0, 4), [1500, 2500, 3500, 4500]);
  assert.deepEqual(h.log.filter((l) => l.includes('retry')).length > 0, true, 'retries while down are attempts too');
});

test('TCP_CHECK while down alternates delay_before_retry and delay_loop', async () => {
  const h = harness(checkerTiming(ck('TCP_CHECK', { delayLoopMs: 5000, warmupMs: 0 }), vs()), 'start', [false]);
  h.runner.start();
  await h.clock.run(20000);
  assert.deepEqual(h.probes, [1000, 6000, 7000, 12000, 13000, 18000, 19000]);
});

test('warmup 0: the first attempt comes exactly 1 s after start', async () => {
  const h = harness(checkerTiming(ck('TCP_CHECK', { warmupMs: 0 }), vs({ delayLoopMs: 3000 })), 'start', [true]);
  h.runner.start();
  await h.clock.run(8000);
  assert.deepEqual(h.probes, [1000, 4000, 7000]);
  assert.deepEqual(
    h.log.filter((l) => /UP|DOWN|first/.test(l)),
    ['1000 first success'],
    'already up: no transition, the success line once',
  );
});

test('an up TCP_CHECK goes down after retry+1 consecutive failures, and back up on the first success', async () => {
  const h = harness(checkerTiming(ck('TCP_CHECK', { warmupMs: 0, retry: 2, explicit: ['retry'] }), vs({ delayLoopMs: 3000 })), 'start', [
    true,
    false,
    true,
    false,
    false,
    false,
    true,
  ]);
  h.runner.start();
  await h.clock.run(20000);
  // 1000 ok, 4000 fail, 5000 ok (retry counter reset), 8000 fail, 9000 fail, 10000 fail -> down
  assert.deepEqual(h.probes.slice(0, 7), [1000, 4000, 5000, 8000, 9000, 10000, 13000]);
  assert.ok(h.log.includes('10000 DOWN after 2'), h.log.join('\n'));
  assert.ok(h.log.includes('13000 UP'));
});

test('reload: a new checker needs retry+1 failures (not primed); alpha: starts down, first success brings it up', async () => {
  const r = harness(checkerTiming(ck('TCP_CHECK', { warmupMs: 0 }), vs()), 'reload', [false]);
  r.runner.start();
  await r.clock.run(3000);
  assert.deepEqual(
    r.log.filter((l) => /UP|DOWN/.test(l)),
    ['2000 DOWN after 1'],
  );
  const a = harness(checkerTiming(ck('TCP_CHECK', { warmupMs: 0 }), vs()), 'alpha', [true]);
  assert.equal(a.runner.up, false);
  a.runner.start();
  await a.clock.run(1000);
  assert.deepEqual(a.log, ['1000 attempt ok', '1000 UP']);
});

test('UDP_CHECK and PING_CHECK do not retry while down', async () => {
  const h = harness(checkerTiming(ck('UDP_CHECK', { delayLoopMs: 5000, warmupMs: 0 }), vs()), 'start', [false]);
  h.runner.start();
  await h.clock.run(17000);
  assert.deepEqual(h.probes, [1000, 6000, 11000, 16000]);
});

test('DNS_CHECK: retry 3 at delay_loop: four failures to go down', async () => {
  const h = harness(checkerTiming(ck('DNS_CHECK', { delayLoopMs: 2000, warmupMs: 0 }), vs()), 'start', [true, false]);
  h.runner.start();
  await h.clock.run(12000);
  assert.deepEqual(h.probes.slice(0, 5), [1000, 3000, 5000, 7000, 9000]);
  assert.ok(h.log.includes('9000 DOWN after 3'), h.log.join('\n'));
});

test('HTTP_GET: dbr 3 s, re-check at max(dbr, delay_loop) while down, two successes to come back', async () => {
  const h = harness(checkerTiming(ck('HTTP_GET', { warmupMs: 0 }), vs({ delayLoopMs: 2000 })), 'start', [
    true,
    false,
    false,
    false,
    true,
    true,
  ]);
  h.runner.start();
  await h.clock.run(20000);
  // 1000 ok, 3000 fail, 6000 (dbr 3 s) fail -> down, 9000 (max(3,2)) fail, 12000 ok (mark cleared),
  // 14000 ok (full pass) -> up
  assert.deepEqual(h.probes.slice(0, 6), [1000, 3000, 6000, 9000, 12000, 14000]);
  assert.ok(h.log.includes('6000 DOWN after 1'));
  assert.ok(h.log.includes('14000 UP'), h.log.join('\n'));
  assert.ok(!h.log.includes('12000 UP'));
});

test("HTTP_GET fast_recovery: no wait between the failed url's success and the full pass", async () => {
  const h = harness(checkerTiming(ck('HTTP_GET', { warmupMs: 0, options: { fast_recovery: '' } }), vs({ delayLoopMs: 2000 })), 'start', [
    false,
    true,
  ]);
  h.runner.start();
  await h.clock.run(5000);
  // keepalived marks has_run before logging an HTTP failure: "failed after 1 retries" even at
  // start; fast_recovery: the full pass follows the failed url's success at once
  assert.deepEqual(
    h.log.filter((l) => /UP|DOWN/.test(l)),
    ['1000 DOWN after 1', '4000 UP'],
  );
  assert.deepEqual(h.probes, [1000, 4000, 4000]);
});

test('HTTP_GET with two urls: one url per attempt, round robin; recovery needs the failing url then a full pass', async () => {
  let bad = false;
  const h = harness(
    checkerTiming(ck('HTTP_GET', { warmupMs: 0, retry: 0, explicit: ['retry'] }), vs({ delayLoopMs: 1000 })),
    'start',
    [
      (u) => {
        seen.push(u);
        return u !== 1 || !bad;
      },
    ],
    { urls: 2 },
  );
  const seen: number[] = [];
  h.runner.start();
  await h.clock.run(3000);
  bad = true;
  await h.clock.run(10000);
  bad = false;
  await h.clock.run(30000);
  assert.deepEqual(seen.slice(0, 4), [0, 1, 0, 1], 'round robin while up');
  const transitions = h.log.filter((l) => /UP|DOWN/.test(l));
  assert.equal(transitions.length, 2, h.log.join('\n'));
  assert.match(transitions[0]!, /DOWN after 0/);
  assert.match(transitions[1]!, /UP/);
});

test('MISC_CHECK: the period counts from the start of the previous run', async () => {
  const h = harness(checkerTiming(ck('MISC_CHECK', { warmupMs: 0 }), vs({ delayLoopMs: 2000 })), 'start', [true], { probeMs: 700 });
  h.runner.start();
  await h.clock.run(8000);
  assert.deepEqual(h.probes, [1000, 3000, 5000, 7000]);
  const t = harness(checkerTiming(ck('TCP_CHECK', { warmupMs: 0 }), vs({ delayLoopMs: 2000 })), 'start', [true], { probeMs: 700 });
  t.runner.start();
  await t.clock.run(8000);
  assert.deepEqual(t.probes, [1000, 3700, 6400], 'TCP: from the end of the attempt');
});

test('suspended (ha_suspend): the timer runs on, no probe; stop(): no further attempt', async () => {
  const h = harness(checkerTiming(ck('TCP_CHECK', { warmupMs: 0 }), vs()), 'start', [true]);
  h.runner.suspended = true;
  h.runner.start();
  await h.clock.run(5000);
  assert.deepEqual(h.probes, []);
  h.runner.suspended = false;
  await h.clock.run(7000);
  assert.deepEqual(h.probes, [6000, 7000]);
  await h.runner.stop();
  await h.clock.run(20000);
  assert.equal(h.probes.length, 2);
});

test('stop() aborts the attempt in flight and waits for it to settle', async () => {
  const clock = fakeClock();
  let aborted = false;
  const runner = new CheckerRunner(
    checkerTiming(ck('TCP_CHECK', { warmupMs: 0 }), vs()),
    (signal) =>
      new Promise((res) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          res({ ok: false, reason: 'aborted' });
        });
      }),
    clock,
    {
      attempt() {},
      up() {},
      down() {
        assert.fail('an aborted attempt is no verdict');
      },
    },
    'start',
  );
  runner.start();
  await clock.run(1000);
  await runner.stop();
  assert.equal(aborted, true);
});

test('HTTP_GET, two urls: a failure during the recovery pass re-checks that url after delay_before_retry, the pass goes on', async () => {
  const urls: number[] = [];
  const answers = [true, true, false, false, true, true, false, true];
  let n = 0;
  const h = harness(
    checkerTiming(ck('HTTP_GET', { warmupMs: 0 }), vs({ delayLoopMs: 2000 })),
    'start',
    [
      (u) => {
        urls.push(u);
        return answers[Math.min(n++, answers.length - 1)]!;
      },
    ],
    { urls: 2 },
  );
  h.runner.start();
  await h.clock.run(18500);
  assert.deepEqual(h.probes, [1000, 3000, 5000, 8000, 11000, 13000, 15000, 18000]);
  assert.deepEqual(urls, [0, 1, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual(
    h.log.filter((l) => /UP|DOWN|first/.test(l)),
    ['3000 first success', '8000 DOWN after 1', '18000 UP'],
  );
});

test('real_server defaults for its checkers (parsed): retry, delay_before_retry, delay_loop, warmup, alpha', async () => {
  const { parseConfigText } = await import('../../src/config/index.js');
  const { initialAlive } = await import('../../src/check/sink.js');
  const { config } = parseConfigText(
    `virtual_server 203.0.113.1 80 {
  delay_loop 10
  retry 5
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.0.2.1 80 {
    retry 2
    delay_before_retry 4
    delay_loop 3
    warmup 0
    alpha
    TCP_CHECK {
      connect_timeout 2
    }
    HTTP_GET {
      url {
        path /
      }
      retry 7
    }
  }
  real_server 192.0.2.2 80 {
    TCP_CHECK {
    }
  }
}
`,
    'k.conf',
  );
  const v = config.virtualServers[0]!;
  const [a, b] = v.realServers as [(typeof v.realServers)[0], (typeof v.realServers)[0]];
  const tcp = checkerTiming(a.checkers[0]!, v, a);
  assert.deepEqual([tcp.retry, tcp.delayBeforeRetryMs, tcp.delayLoopMs, tcp.warmupMs, tcp.connectTimeoutMs], [2, 4000, 3000, 0, 2000]);
  assert.equal(checkerTiming(a.checkers[1]!, v, a).retry, 7, "the checker's own keyword wins");
  const other = checkerTiming(b.checkers[0]!, v, b);
  assert.deepEqual([other.retry, other.delayLoopMs, other.warmupMs], [5, 10000, 10000], "the virtual server's defaults");
  assert.equal(initialAlive(v, a), false, 'real_server alpha');
  assert.equal(initialAlive(v, b), true);
});
