// The orphan reaper (src/track/reaper.ts) where PID 1 never reaps: a PID namespace whose init is a
// Node process (libuv waits only for its own child). Without the reaper, a script's background
// child that dies stays a zombie there; with it, the harness adopts and reaps it within 50 ms,
// and the scripts' own exit codes and timeouts are unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig, waitFor } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (unshare --pid)';
const harness = fileURLToPath(new URL('../helpers/reaper-harness.js', import.meta.url));

interface Report {
  pid: number;
  orphanScript: { kind: string; code: number | null };
  orphanParentIsUs: boolean;
  orphanGoneMs: number;
  orphanStateAfter: string;
  timeoutScript: { kind: string; signal: string | null };
  timeoutChildGoneMs: number;
  burstCodes: (number | string)[] | 'hung';
  childrenLeft: string[];
  reaped: number;
  plainSpawn: number | string;
}

function runHarness(which: 'reaper' | 'none'): Report {
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, harness, 'init', which], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `harness exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
}

const expectedBurst = Array.from({ length: 40 }, (_, i) => i + 1);

test('control: without the reaper, a dead orphan stays a zombie under a PID 1 that never reaps', { skip, timeout: 90_000 }, () => {
  const r = runHarness('none');
  const why = JSON.stringify(r);
  assert.equal(r.orphanParentIsUs, false, why);
  assert.equal(r.orphanGoneMs, -1, why);
  assert.equal(r.orphanStateAfter, 'Z', why);
  assert.equal(r.timeoutChildGoneMs, -1, `the timed-out group's background child is left a zombie too: ${why}`);
});

test("reaper: orphans adopted and reaped within 50 ms; exit codes, timeouts and Node's own exits intact", { skip, timeout: 90_000 }, () => {
  const r = runHarness('reaper');
  const why = JSON.stringify(r);
  assert.deepEqual(r.orphanScript, { kind: 'exit', code: 3 }, why);
  assert.equal(r.orphanParentIsUs, true, `the orphan is adopted by the subreaper: ${why}`);
  assert.ok(r.orphanGoneMs >= 0 && r.orphanGoneMs <= 50, `orphan reaped in ${r.orphanGoneMs} ms: ${why}`);
  assert.deepEqual(r.timeoutScript, { kind: 'timeout', signal: 'SIGTERM' }, why);
  assert.ok(r.timeoutChildGoneMs >= 0 && r.timeoutChildGoneMs <= 50, `group child reaped in ${r.timeoutChildGoneMs} ms: ${why}`);
  assert.deepEqual(r.burstCodes, expectedBurst, `every script's own exit code, none stolen: ${why}`);
  assert.deepEqual(r.childrenLeft, [], why);
  assert.ok(r.reaped >= 42, `1 + 1 + 40 orphans reaped: ${why}`);
  assert.equal(r.plainSpawn, 7, why);
});

function procGone(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).startsWith('X');
  } catch {
    return true;
  }
}

test('daemon: what notify_master starts in the background is adopted by the daemon and reaped when killed', {
  skip,
  timeout: 60_000,
}, async () => {
  const c = Cluster.create([{ name: 'n1', addresses: ['192.0.2.11/24'] }]);
  try {
    const bgPid = join(c.dir, 'bg.pid');
    // the seed's notify.sh pattern: start a service in the background and exit
    const script = c.writeFile('start-bg.sh', `#!/bin/sh\nsleep 300 &\necho $! > '${bgPid}'\nexit 0\n`, 0o755);
    const n1 = c.start(
      'n1',
      renderConfig({
        routerId: 'n1',
        instances: [{ priority: 150, advertInt: 0.5, vips: ['192.0.2.100/24'], extra: [`notify_master "${script}"`] }],
      }),
    );
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.ok(await waitFor(() => existsSync(bgPid) && readFileSync(bgPid, 'utf8').trim() !== '', 5000), n1.log());
    const bg = Number(readFileSync(bgPid, 'utf8'));
    const daemonPid = Number(readFileSync(n1.pidFile, 'utf8'));
    const ppid = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${bg}/status`, 'utf8'))?.[1]);
    assert.equal(ppid, daemonPid, "the orphan's parent is the daemon (a child subreaper)");
    process.kill(bg, 'SIGKILL');
    const t0 = performance.now();
    while (!procGone(bg) && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 1));
    const ms = performance.now() - t0;
    assert.ok(procGone(bg) && ms <= 50, `orphan still there (zombie) after ${ms.toFixed(1)} ms\n${n1.log()}`);
    assert.equal((await n1.stop()).code, 0, n1.log());
  } finally {
    await c.cleanup();
  }
});
