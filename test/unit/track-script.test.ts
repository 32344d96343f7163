import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { VrrpScript, type ScriptStatus } from '../../src/track/script.js';
import { suiteTempDir, writeScript } from '../helpers/tmp.js';

const tmp = suiteTempDir('track-script');

function script(name: string, body: string): string {
  return writeScript(join(tmp.path(), name), body);
}

/** State of a pid: undefined when gone, else the /proc stat state letter and parent. */
function procState(pid: number): { state: string; ppid: number } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Our own zombie children (a leak would show here). */
function ourZombies(): number[] {
  const z: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const s = procState(Number(n));
    if (s && s.ppid === process.pid && s.state === 'Z') z.push(Number(n));
  }
  return z;
}

test('rise/fall: status changes only when the thresholds are crossed', async () => {
  const state = join(tmp.path(), 'state1');
  writeFileSync(state, 'ok');
  const line = script('rf.sh', `[ "$(cat ${state})" = ok ]`);
  const s = new VrrpScript({ name: 'chk', script: line, rise: 2, fall: 3, timeoutMs: 5000 });
  const seen: ScriptStatus[] = [];
  s.on('status', (st) => seen.push(st));
  assert.equal(s.status, 'init');
  await s.runNow(); // the first result decides at once
  assert.deepEqual(seen.splice(0), ['ok']);
  writeFileSync(state, 'fail');
  await s.runNow();
  await s.runNow();
  assert.deepEqual(seen, [], 'two failures < fall 3');
  writeFileSync(state, 'ok');
  await s.runNow(); // resets the failure streak
  writeFileSync(state, 'fail');
  await s.runNow();
  await s.runNow();
  assert.deepEqual(seen, []);
  await s.runNow();
  assert.deepEqual(seen, ['failed']);
  assert.equal(s.status, 'failed');
  writeFileSync(state, 'ok');
  await s.runNow();
  assert.deepEqual(seen, ['failed'], 'one success < rise 2');
  await s.runNow();
  assert.deepEqual(seen, ['failed', 'ok']);
  await s.runNow();
  assert.deepEqual(seen, ['failed', 'ok'], 'no event without a crossing');
  assert.equal(s.counters.runs, 10);
  assert.equal(s.counters.failed, 5);
});

test('the first result sets the status at once, whatever rise/fall/init_fail (keepalived 2.2.7)', async () => {
  const s = new VrrpScript({ name: 'init', script: '/bin/true', initFail: true, rise: 3 });
  assert.equal(s.status, 'init');
  assert.equal(s.initFail, true);
  const seen: ScriptStatus[] = [];
  s.on('status', (st) => seen.push(st));
  await s.runNow();
  assert.equal(s.status, 'ok');
  assert.deepEqual(seen, ['ok']);
  const f = new VrrpScript({ name: 'f3', script: '/bin/false', fall: 3 });
  await f.runNow();
  assert.equal(f.status, 'failed');
});

test('quoted arguments reach the script as keepalived splits them, no shell', async () => {
  const out = join(tmp.path(), 'args.out');
  const p = script('args.sh', `printf '%s|' "$#" "$@" > ${out}`);
  const s = new VrrpScript({ name: 'args', script: `${p} "a b" 'c  d' e\\ f $HOME`.replace('$HOME', "'$HOME'") });
  const r = await s.runNow();
  assert.equal(r?.kind, 'exit');
  assert.equal(readFileSync(out, 'utf8'), '4|a b|c  d|e f|$HOME|');
});

test('a script that never exits is killed at timeout with its group, counts as failure, leaves no zombie', async () => {
  const pidfile = join(tmp.path(), 'hang.pids');
  const p = script('hang.sh', `sleep 1000 &\necho "$$ $!" > ${pidfile}\nsleep 1000`);
  const s = new VrrpScript({ name: 'hang', script: p, timeoutMs: 300, fall: 1, killGraceMs: 200 });
  const statuses: ScriptStatus[] = [];
  s.on('status', (st) => statuses.push(st));
  const t0 = performance.now();
  const run = s.runNow();
  await sleep(100);
  // overlapping-run prevention: a second run while the first is in progress is skipped
  assert.equal(await s.runNow(), undefined);
  assert.equal(s.counters.skipped, 1);
  const r = await run;
  const took = performance.now() - t0;
  assert.equal(r?.kind, 'timeout');
  assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
  assert.deepEqual(statuses, ['failed']);
  assert.equal(s.counters.timedOut, 1);
  const [shPid, bgPid] = readFileSync(pidfile, 'utf8').trim().split(' ').map(Number) as [number, number];
  assert.equal(shPid, r?.pid);
  await sleep(300);
  // the script is reaped by us (gone); its background sleep was killed with the group
  assert.equal(procState(shPid), undefined, 'script process still exists');
  const bg = procState(bgPid);
  assert.ok(bg === undefined || bg.state === 'Z' || bg.state === 'X', `background child still running: ${JSON.stringify(bg)}`);
  assert.deepEqual(ourZombies(), []);
});

test('periodic runs never overlap even when a run outlasts the interval', async () => {
  const lock = join(tmp.path(), 'lock');
  const log = join(tmp.path(), 'overlap.log');
  writeFileSync(log, '');
  const p = script(
    'slow.sh',
    `mkdir ${lock} 2>/dev/null || { echo overlap >> ${log}; exit 3; }\necho run >> ${log}\nsleep 0.25\nrmdir ${lock}`,
  );
  const s = new VrrpScript({ name: 'slow', script: p, intervalMs: 50, timeoutMs: 2000 });
  s.start();
  await sleep(900);
  await s.stop();
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(!lines.includes('overlap'), lines.join(','));
  assert.ok(lines.length >= 2 && lines.length <= 4, `runs: ${lines.length}`);
  // the run killed by stop() is not a verdict: no failure recorded
  assert.equal(s.counters.failed, 0);
  assert.equal(s.status, 'ok');
  assert.deepEqual(ourZombies(), []);
});

test('stop() kills a run in progress and no further run starts', async () => {
  const log = join(tmp.path(), 'stop.log');
  writeFileSync(log, '');
  const p = script('stopme.sh', `echo x >> ${log}\nsleep 1000`);
  const s = new VrrpScript({ name: 'stopme', script: p, intervalMs: 100, timeoutMs: 60_000, killGraceMs: 100 });
  s.start();
  await sleep(150);
  const t0 = performance.now();
  await s.stop();
  assert.ok(performance.now() - t0 < 1500);
  await sleep(250);
  assert.equal(readFileSync(log, 'utf8'), 'x\n');
  assert.deepEqual(ourZombies(), []);
});

test('a missing script or a bad line is a failure, not a crash', async () => {
  const a = new VrrpScript({ name: 'missing', script: join(tmp.path(), 'nope.sh'), fall: 1 });
  const r = await a.runNow();
  assert.equal(r?.kind, 'spawn-error');
  assert.equal(a.status, 'failed');
  const b = new VrrpScript({ name: 'bad', script: '"unterminated', fall: 1 });
  assert.match(b.lastError ?? '', /unterminated/);
  await b.runNow();
  assert.equal(b.status, 'failed');
});

test('non-zero exit and death by signal are failures', async () => {
  const a = new VrrpScript({ name: 'exit2', script: script('e2.sh', 'exit 2'), fall: 1 });
  assert.equal((await a.runNow())?.code, 2);
  assert.equal(a.status, 'failed');
  const b = new VrrpScript({ name: 'sig', script: script('sig.sh', 'kill -KILL $$'), fall: 1 });
  const r = await b.runNow();
  assert.equal(r?.kind, 'signal');
  assert.equal(b.status, 'failed');
});

test('user/group: the script runs with the given uid/gid (root only)', {
  skip: process.getuid?.() !== 0 ? 'needs root' : false,
}, async () => {
  const out = join(tmp.path(), 'id.out');
  const outDir = mkdtempSync(join(tmpdir(), 'kts-track-id-'));
  chmodSync(outDir, 0o777);
  try {
    const p = script('id.sh', `id -u > ${outDir}/id; id -g >> ${outDir}/id`);
    const s = new VrrpScript({ name: 'id', script: p, uid: 65534, gid: 65534 });
    const r = await s.runNow();
    assert.equal(r?.kind, 'exit', JSON.stringify(r));
    assert.equal(readFileSync(join(outDir, 'id'), 'utf8'), '65534\n65534\n');
  } finally {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(out, { force: true });
  }
});
