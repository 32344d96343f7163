import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Notifier, type NotifyState } from '../../src/notify/queue.js';
import { suiteTempDir, writeScript } from '../helpers/tmp.js';

const tmp = suiteTempDir('notify-q');

function script(name: string, body: string): string {
  return writeScript(join(tmp.path(), name), body);
}
function lines(p: string): string[] {
  try {
    return readFileSync(p, 'utf8')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter(Boolean);
  } catch {
    return [];
  }
}
function ourZombies(): number {
  let n = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = readFileSync(`/proc/${e}/stat`, 'latin1');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' && Number(rest[1]) === process.pid) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

test('keepalived calling conventions: notify_<state> as configured, then notify with 4 extra args', async () => {
  const log = join(tmp.path(), 'conv.log');
  const rec = script('rec.sh', `echo "$(basename $0) $*" >> ${log}`);
  const n = new Notifier();
  const scripts = { master: { line: `${rec} "to master"` }, backup: { line: rec }, generic: { line: `${rec} generic` } };
  await n.notifyState({ kind: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 100, scripts });
  await n.notifyState({ kind: 'INSTANCE', name: 'VI_1', state: 'BACKUP', priority: 90, scripts });
  await n.notifyState({ kind: 'INSTANCE', name: 'VI_1', state: 'FAULT', priority: 0, scripts });
  await n.notifyState({ kind: 'GROUP', name: 'G1', state: 'STOP', priority: 0, scripts: { generic: { line: rec } } });
  assert.deepEqual(
    lines(log),
    [
      'rec.sh to master',
      'rec.sh generic INSTANCE VI_1 MASTER 100',
      'rec.sh ',
      'rec.sh generic INSTANCE VI_1 BACKUP 90',
      'rec.sh generic INSTANCE VI_1 FAULT 0',
      'rec.sh GROUP G1 STOP 0',
    ].map((l) => l.trimEnd()),
  );
  assert.equal(n.counters.ran, 6);
  assert.equal(n.counters.succeeded, 6);
});

test('10 rapid transitions run in order, one at a time, and the caller is never blocked', async () => {
  const log = join(tmp.path(), 'order.log');
  const rec = script('order.sh', `echo "start $4 $3" >> ${log}\nsleep 0.05\necho "end $4 $3" >> ${log}`);
  const n = new Notifier();
  const states: NotifyState[] = ['MASTER', 'BACKUP', 'FAULT', 'BACKUP', 'MASTER', 'BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER'];
  const t0 = performance.now();
  const done = states.map((state, i) =>
    n.notifyState({ kind: 'INSTANCE', name: 'VI_1', state, priority: i, scripts: { generic: { line: rec } } }),
  );
  const callMs = performance.now() - t0;
  assert.ok(callMs < 250, `queuing 10 notifications took ${callMs} ms`);
  await Promise.all(done);
  const expected: string[] = [];
  states.forEach((s, i) => expected.push(`start ${i} ${s}`, `end ${i} ${s}`));
  assert.deepEqual(lines(log), expected);
  assert.equal(n.counters.queued, 10);
  assert.equal(ourZombies(), 0);
});

test("a hung notify script is killed at its timeout without delaying another instance's queue", async () => {
  const logA = join(tmp.path(), 'a.log');
  const logB = join(tmp.path(), 'b.log');
  const hang = script('hang.sh', `echo hang >> ${logA}\nsleep 1000 &\nsleep 1000`);
  const after = script('after.sh', `echo after >> ${logA}`);
  const quick = script('quick.sh', `echo "$3" >> ${logB}`);
  const n = new Notifier({ timeoutMs: 1500, killGraceMs: 100 });
  const t0 = performance.now();
  let a1Settled = false;
  const a1 = n.enqueue('INSTANCE VI_A', { line: hang });
  void a1.then(() => (a1Settled = true));
  const a2 = n.enqueue('INSTANCE VI_A', { line: after });
  const bDone = Promise.all(
    ['MASTER', 'BACKUP', 'MASTER'].map((state) =>
      n.notifyState({ kind: 'INSTANCE', name: 'VI_B', state: state as NotifyState, priority: 50, scripts: { generic: { line: quick } } }),
    ),
  );
  await bDone;
  const bMs = performance.now() - t0;
  assert.equal(a1Settled, false, "VI_B's queue finished only after VI_A's hung script was killed");
  assert.ok(bMs < 1400, `VI_B waited ${bMs} ms behind VI_A's hung script`);
  assert.deepEqual(lines(logB), ['MASTER', 'BACKUP', 'MASTER']);
  assert.deepEqual(lines(logA), ['hang'], 'VI_A later script waits its turn');
  const r1 = await a1;
  assert.equal(r1.result.kind, 'timeout');
  const aMs = performance.now() - t0;
  assert.ok(aMs >= 1490 && aMs < 4000, `timeout after ${aMs} ms`);
  const r2 = await a2;
  assert.equal(r2.result.kind, 'exit');
  assert.ok(r2.waitedMs >= 1450, 'the next script ran after the timeout');
  assert.deepEqual(lines(logA), ['hang', 'after']);
  assert.equal(n.counters.timedOut, 1);
  assert.equal(n.counters.failed, 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(ourZombies(), 0);
});

test('a configured line that needs a shell gets one, and extra args stay arguments', async () => {
  const out = join(tmp.path(), 'shell.out');
  const n = new Notifier();
  const [r] = await n.notifyState({
    kind: 'INSTANCE',
    name: `VI_$(touch ${tmp.path()}/pwned)`,
    state: 'MASTER',
    priority: 1,
    scripts: { generic: { line: `printf '%s|' > ${out}` } },
  });
  assert.equal(r?.result.kind, 'exit');
  assert.equal(readFileSync(out, 'utf8'), `INSTANCE|VI_$(touch ${tmp.path()}/pwned)|MASTER|1|`);
  assert.ok(!existsSync(join(tmp.path(), 'pwned')), 'an argument was interpreted by the shell');
});

test('bad lines and missing scripts are reported, not thrown; close() kills and drops', async () => {
  const n = new Notifier({ killGraceMs: 100 });
  const bad = await n.enqueue('k', { line: '"unterminated' });
  assert.equal(bad.result.kind, 'spawn-error');
  const missing = await n.enqueue('k', { line: join(tmp.path(), 'nope') });
  assert.equal(missing.result.kind, 'spawn-error');
  assert.equal(n.counters.spawnErrors, 2);
  const running = n.enqueue('k', { line: 'sleep 1000' });
  const pending = n.enqueue('k', { line: 'true' });
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  await n.close();
  assert.ok(performance.now() - t0 < 1500);
  assert.equal((await running).result.kind, 'killed');
  assert.match((await pending).result.error ?? '', /closed/);
  assert.match((await n.enqueue('k', { line: 'true' })).result.error ?? '', /closed/);
});

test('idle() waits for the queues to drain', async () => {
  const n = new Notifier();
  const log = join(tmp.path(), 'idle.log');
  for (let i = 0; i < 3; i++) void n.enqueue('q', { line: `sh -c "echo ${i} >> ${log}"` });
  await n.idle();
  assert.deepEqual(lines(log), ['0', '1', '2']);
});
