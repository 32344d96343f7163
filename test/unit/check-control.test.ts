// src/check/index.ts: real-server state from its checkers (all up = alive), the sink calls,
// keepalived's log lines, fifo lines, misc_dynamic weights, reload keeping state, suspend, stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerDepsFromConfig, startCheckers, type CheckerDeps } from '../../src/check/index.js';
import { parseConfigText } from '../../src/config/index.js';
import type { ProbeResult } from '../../src/check/scheduler.js';
import type { Checker, RealServer, VirtualServer } from '../../src/config/model.js';
import { fakeClock } from '../helpers/check-clock.js';

const ip = (a: string) => ({ family: 'inet' as const, address: a, prefixLength: 32 });
const ck = (type: string, o: Partial<Checker> = {}): Checker =>
  ({
    type,
    file: 'k.conf',
    line: 9,
    connectTimeoutMs: 5000,
    retry: 1,
    delayBeforeRetryMs: 1000,
    urls: [],
    miscDynamic: false,
    options: {},
    warmupMs: 0,
    ...o,
  }) as Checker;
const rs = (a: string, checkers: Checker[], o: Partial<RealServer> = {}): RealServer =>
  ({
    address: ip(a),
    port: 8080,
    file: 'k.conf',
    line: 5,
    weight: 3,
    inhibitOnFailure: false,
    trackFiles: [],
    checkers,
    ...o,
  }) as RealServer;
const vs = (rss: RealServer[], o: Partial<VirtualServer> = {}): VirtualServer =>
  ({
    kind: 'address',
    address: ip('203.0.113.1'),
    port: 80,
    file: 'k.conf',
    line: 1,
    delayLoopMs: 1000,
    lvsSched: 'wlc',
    lvsMethod: 'NAT',
    protocol: 'TCP',
    quorum: 1,
    hysteresis: 0,
    haSuspend: false,
    realServers: rss,
    options: {},
    ...o,
  }) as VirtualServer;

/** probes answer from a table the test flips: key = checker line */
function setup(vss: VirtualServer[], extra: Partial<CheckerDeps> = {}) {
  const clock = fakeClock();
  const healthy = new Map<number, boolean>();
  const dyn = new Map<number, number>();
  const calls: string[] = [];
  const logs: string[] = [];
  const fifo: string[] = [];
  const sink = {
    setAlive: (_v: VirtualServer, r: RealServer, alive: boolean) =>
      calls.push(`${clock.now()} ${r.address.address} ${alive ? 'alive' : 'dead'}`),
    setWeight: (_v: VirtualServer, r: RealServer, w: number) => calls.push(`${clock.now()} ${r.address.address} weight ${w}`),
  };
  const ctl = startCheckers(vss, sink, {
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(`WARN ${m}`), error: (m) => logs.push(`ERROR ${m}`) },
    fifo: { realServer: (r, v, up) => fifo.push(`RS ${r} ${v} ${up ? 'UP' : 'DOWN'}`) > 0 },
    clock,
    probeFor: (c) => async (): Promise<ProbeResult> => {
      const ok = healthy.get(c.line) ?? true;
      return { ok, reason: ok ? 'fine' : 'refused', weight: ok ? dyn.get(c.line) : undefined };
    },
    ...extra,
  });
  return { clock, healthy, dyn, calls, logs, fifo, ctl };
}

test('a real server is alive only while all its checkers are up; one sink call per transition', async () => {
  const r = rs('192.0.2.10', [ck('TCP_CHECK', { line: 10 }), ck('TCP_CHECK', { line: 11, connectPort: 8081 })]);
  const h = setup([vs([r])]);
  await h.clock.run(1500);
  assert.deepEqual(h.calls, [], 'healthy: the table keeps its initial state');
  // keepalived logs the success line of a checker's first run (has_run), without a transition
  assert.deepEqual(h.logs, ['TCP connection to [192.0.2.10]:tcp:8080 success.', 'TCP connection to [192.0.2.10]:tcp:8081 success.']);
  h.healthy.set(10, false);
  await h.clock.run(3500); // 2000 fail, 3000 retry fail -> down
  assert.deepEqual(h.calls, ['3000 192.0.2.10 dead']);
  assert.ok(h.logs.includes('TCP_CHECK on service [192.0.2.10]:tcp:8080 failed after 1 retries.'), h.logs.join('\n'));
  h.healthy.set(11, false);
  await h.clock.run(6000);
  assert.deepEqual(h.calls, ['3000 192.0.2.10 dead'], 'a second failing checker is no new transition');
  h.healthy.set(10, true);
  await h.clock.run(8000);
  assert.deepEqual(h.calls, ['3000 192.0.2.10 dead'], 'still one checker down');
  h.healthy.set(11, true);
  await h.clock.run(10000);
  assert.equal(h.calls.length, 2);
  assert.match(h.calls[1]!, /192\.0\.2\.10 alive/);
  assert.ok(h.logs.includes('TCP connection to [192.0.2.10]:tcp:8081 success.'));
  assert.deepEqual(h.fifo, ['RS [192.0.2.10]:tcp:8080 [203.0.113.1]:tcp:80 DOWN', 'RS [192.0.2.10]:tcp:8080 [203.0.113.1]:tcp:80 UP']);
  await h.ctl.stop();
});

test('log_all_failures: per-attempt lines; without it, only transitions', async () => {
  const r = rs('192.0.2.11', [ck('TCP_CHECK', { line: 12, options: { log_all_failures: '' } })]);
  const h = setup([vs([r])]);
  h.healthy.set(12, false);
  await h.clock.run(1000);
  assert.deepEqual(h.logs, ['TCP connection to [192.0.2.11]:tcp:8080 failed.', 'TCP_CHECK on service [192.0.2.11]:tcp:8080 failed.']);
  const q = setup([vs([rs('192.0.2.12', [ck('TCP_CHECK', { line: 13 })])])]);
  q.healthy.set(13, false);
  await q.clock.run(1000);
  assert.deepEqual(q.logs, ['TCP_CHECK on service [192.0.2.12]:tcp:8080 failed.']);
  await h.ctl.stop();
  await q.ctl.stop();
});

test('alpha: the real server starts dead and comes alive after its checker succeeded once', async () => {
  const r = rs('192.0.2.13', [ck('TCP_CHECK', { line: 14, options: { alpha: '' } })]);
  const h = setup([vs([r])]);
  await h.clock.run(1000);
  assert.deepEqual(h.calls, ['1000 192.0.2.13 alive']);
  await h.ctl.stop();
});

test('misc_dynamic: exit status 2..255 sets the weight to status-2; failure keeps it', async () => {
  const r = rs('192.0.2.14', [
    ck('MISC_CHECK', { line: 15, retry: 0, miscDynamic: true, miscPath: { command: '/bin/true', argv: ['/bin/true'] } }),
  ]);
  const h = setup([vs([r])]);
  h.dyn.set(15, 10);
  await h.clock.run(1000);
  assert.deepEqual(h.calls, ['1000 192.0.2.14 weight 10']);
  h.dyn.delete(15); // exit 0: the configured weight again
  await h.clock.run(2000);
  assert.deepEqual(h.calls.slice(1), ['2000 192.0.2.14 weight 3']);
  await h.ctl.stop();
});

test('reload: an identical checker keeps its state; a new real server needs retry+1 failures', async () => {
  const a = rs('192.0.2.15', [ck('TCP_CHECK', { line: 16 })]);
  const h = setup([vs([a])]);
  h.healthy.set(16, false);
  await h.clock.run(1000);
  assert.deepEqual(h.calls, ['1000 192.0.2.15 dead']);
  // the same real server and checker (another line: options identical), plus a new one
  const a2 = rs('192.0.2.15', [ck('TCP_CHECK', { line: 16 })]);
  const b = rs('192.0.2.16', [ck('TCP_CHECK', { line: 17 })]);
  h.healthy.set(17, false);
  h.ctl.reload([vs([a2, b])]);
  await h.clock.run(2500);
  assert.deepEqual(h.calls, ['1000 192.0.2.15 dead'], 'no transition from the reload itself; the new RS is not down after one failure');
  await h.clock.run(3500);
  assert.deepEqual(h.calls.slice(1), ['3000 192.0.2.16 dead'], 'retry+1 failures (2000, 3000)');
  h.healthy.set(16, true);
  await h.clock.run(6000);
  assert.ok(
    h.calls.some((c) => /192\.0\.2\.15 alive/.test(c)),
    h.calls.join(','),
  );
  await h.ctl.stop();
});

test('reload: a kept checker is scheduled again 1 s + warmup after it, as keepalived does; its state stays', async () => {
  // delay_loop 5 s: attempts at 1000 and 6000 without a reload
  const mk = () => vs([rs('192.0.2.18', [ck('TCP_CHECK', { line: 20 })])], { delayLoopMs: 5000 });
  const probes: number[] = [];
  const h = setup([mk()], {
    probeFor: () => async () => {
      probes.push(h.clock.now());
      return { ok: !(h.healthy.get(20) === false), reason: 'x' };
    },
  });
  await h.clock.run(3000);
  assert.deepEqual(probes, [1000]);
  h.healthy.set(20, false);
  h.ctl.reload([mk()]);
  await h.clock.run(5500);
  // 4000: first attempt 1 s after the reload (warmup 0), fails; retry at 5000 (delay_before_retry):
  // down, with retries (the start's priming is over): not on the old timer (6000, 7000)
  assert.deepEqual(probes, [1000, 4000, 5000]);
  assert.deepEqual(h.calls, ['5000 192.0.2.18 dead']);
  assert.ok(h.logs.includes('TCP_CHECK on service [192.0.2.18]:tcp:8080 failed after 1 retries.'), h.logs.join('\n'));
  // the state is kept across a second reload: down stays down, no transition from the reload
  h.ctl.reload([mk()]);
  await h.clock.run(7000);
  assert.deepEqual(h.calls, ['5000 192.0.2.18 dead']);
  assert.deepEqual(probes, [1000, 4000, 5000, 6500]);
  await h.ctl.stop();
});

test('reload: an attempt under way is dropped, its result unheard', async () => {
  const mk = () => vs([rs('192.0.2.19', [ck('TCP_CHECK', { line: 21 })])]);
  let release: ((r: ProbeResult) => void) | undefined;
  let n = 0;
  const h = setup([mk()], {
    probeFor: () => () => {
      n++;
      // the first attempt hangs until released; later ones succeed at once
      return n === 1
        ? new Promise<ProbeResult>((r) => {
            release = r;
          })
        : Promise.resolve({ ok: true, reason: 'ok' });
    },
  });
  await h.clock.run(1000);
  assert.equal(n, 1);
  h.ctl.reload([mk()]);
  release!({ ok: false, reason: 'refused' });
  await h.clock.run(2500);
  assert.equal(n, 2, 'scheduled again 1 s after the reload');
  assert.deepEqual(h.calls, [], 'the dropped failure took nothing down');
  await h.ctl.stop();
});

test('suspend: no probes while suspended; BFD_CHECK and a bad url are ignored with a clear message', async () => {
  const v = vs([rs('192.0.2.17', [ck('TCP_CHECK', { line: 18 }), ck('BFD_CHECK', { line: 19, options: { name: 'b1' } })])]);
  let probes = 0;
  const h = setup([v], {
    probeFor: (c) =>
      c.type === 'TCP_CHECK'
        ? async () => {
            probes++;
            return { ok: false, reason: 'refused' };
          }
        : undefined,
  });
  h.ctl.suspend(v, true);
  await h.clock.run(5000);
  assert.equal(probes, 0);
  assert.ok(
    h.logs.some((l) => /BFD_CHECK \(k\.conf:19\).*no BFD subsystem/.test(l)),
    h.logs.join('\n'),
  );
  h.ctl.suspend(v, false);
  await h.clock.run(6000);
  assert.equal(probes, 1);
  await h.ctl.stop();
  const bad = setup([vs([rs('192.0.2.18', [ck('HTTP_GET', { line: 20, urls: [{ path: '/', status_code: '2xx' }] })])])], {
    probeFor: () => undefined,
  });
  assert.ok(
    bad.logs.some((l) => /HTTP_GET \(k\.conf:20\).*status_code "2xx".*ignored/.test(l)),
    bad.logs.join('\n'),
  );
  await bad.ctl.stop();
});

test("smtp_alert: keepalived's subject and body; no_checker_emails mails only real-server changes", async () => {
  const mails: string[] = [];
  const r = rs('192.0.2.19', [ck('TCP_CHECK', { line: 21 }), ck('TCP_CHECK', { line: 22, connectPort: 9 })]);
  const h = setup([vs([r])], {
    alert: (s, b) => mails.push(`${s} | ${b}`),
    routerId: 'lb1',
    smtpAlertChecker: true,
    noCheckerEmails: true,
  });
  h.healthy.set(21, false);
  await h.clock.run(1000);
  assert.deepEqual(mails, [
    '[lb1] Realserver [192.0.2.19]:tcp:8080 of virtual server [203.0.113.1]:tcp:80 - DOWN | => TCP CHECK failed on service <=',
  ]);
  h.healthy.set(22, false);
  await h.clock.run(3000);
  assert.equal(mails.length, 1, 'a second checker down: no mail with no_checker_emails');
  h.healthy.set(21, true);
  h.healthy.set(22, true);
  await h.clock.run(6000);
  assert.equal(mails.length, 2);
  assert.match(mails[1]!, / - UP \| => TCP CHECK succeed on service <=$/);
  await h.ctl.stop();
  const off = setup([vs([rs('192.0.2.20', [ck('TCP_CHECK', { line: 23 })], { smtpAlert: false })])], {
    alert: (s) => mails.push(s),
    smtpAlertChecker: true,
  });
  off.healthy.set(23, false);
  await off.clock.run(1000);
  assert.equal(mails.length, 2, 'real server smtp_alert off');
  await off.ctl.stop();
});

test('checkerDepsFromConfig: global_defs that shape the checkers', () => {
  const { config } = parseConfigText(
    `global_defs {
  router_id lb7
  checker_log_all_failures
  no_checker_emails
  smtp_alert_checker
}
SSL {
  certificate /nonexistent.crt
}
track_file tf {
  file /tmp/x
}
`,
    'k.conf',
  );
  const d = checkerDepsFromConfig(config, { log: { info() {}, warn() {}, error() {} } });
  assert.deepEqual(
    [d.routerId, d.logAllFailures, d.noCheckerEmails, d.rsInitNotifies, d.smtpAlertChecker],
    ['lb7', true, true, false, true],
  );
  assert.equal(d.ssl?.['certificate'], '/nonexistent.crt');
  assert.equal(d.trackFiles?.[0]?.name, 'tf');
});

test('SSL_GET with an unreadable SSL block file: said once, and the real server fails its checks', async () => {
  const r = rs('192.0.2.21', [ck('SSL_GET', { line: 24, urls: [{ path: '/' }] })]);
  const h = setup([vs([r])], { probeFor: () => undefined, ssl: { certificate: '/nonexistent/client.crt' } });
  await h.clock.run(1000);
  assert.equal(h.logs.filter((l) => /^ERROR SSL block: .*nonexistent.*SSL_GET checks will fail$/.test(l)).length, 1, h.logs.join('\n'));
  assert.deepEqual(h.calls, ['1000 192.0.2.21 dead']);
  await h.ctl.stop();
});

test('notify_up / notify_down run through the notify queue, in transition order', async (t) => {
  const { Notifier } = await import('../../src/notify/queue.js');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'kts-rsnotify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'events');
  const script = (word: string) => ({ command: `/bin/sh -c 'echo ${word} >> ${out}'`, argv: [] });
  const notifier = new Notifier({ timeoutMs: 5000 });
  const r = rs('192.0.2.22', [ck('TCP_CHECK', { line: 25 })], { notifyUp: script('up'), notifyDown: script('down') });
  const h = setup([vs([r])], { notifier, script: (line) => ({ line }) });
  h.healthy.set(25, false);
  await h.clock.run(1000);
  h.healthy.set(25, true);
  await h.clock.run(2000);
  await h.ctl.stop();
  await notifier.idle();
  assert.equal(readFileSync(out, 'utf8'), 'down\nup\n');
  await notifier.close();
});

test("FILE_CHECK through startCheckers: value x weight moves the real server's weight; text takes it down", async (t) => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'kts-filecheck-'));
  const path = join(dir, 'v');
  writeFileSync(path, '2\n');
  const trackFiles = [{ name: 'tf', path, weight: 1, reverse: false, file: 'k.conf', line: 1 }];
  const r = rs('192.0.2.23', [ck('FILE_CHECK', { line: 26, options: { track_file: 'tf', weight: '3' } })]);
  const h = setup([vs([r])], { trackFiles, probeFor: () => undefined });
  t.after(async () => {
    await h.ctl.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const until = async (what: string, cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(cond(), `${what}: ${h.calls.join(', ')}`);
  };
  await until('weight 3 + 2 x 3', () => h.calls.some((c) => c.endsWith('192.0.2.23 weight 9')));
  writeFileSync(path, '0\n');
  await until('back to the configured weight', () => h.calls[h.calls.length - 1]!.endsWith('192.0.2.23 weight 3'));
  writeFileSync(path, 'hello\n');
  await until('text: down', () => h.calls[h.calls.length - 1]!.endsWith('192.0.2.23 dead'));
  assert.ok(
    h.logs.some((l) => /FILE_CHECK tf on \[192\.0\.2\.23\]:tcp:8080 down: .* holds no number/.test(l)),
    h.logs.join('\n'),
  );
});
