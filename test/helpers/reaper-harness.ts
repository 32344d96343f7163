// Runs scripts through runCommand (the daemon's script runner) with or without the orphan reaper,
// inside a PID namespace whose PID 1 never reaps, and reports what it saw as one JSON line.
//   node reaper-harness.js init <reaper|none>   PID 1 of the namespace: starts `run`, never reaps
//   node reaper-harness.js run <reaper|none>    the measurements
// Run it as: unshare --pid --fork --mount-proc node reaper-harness.js init reaper
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type RunResult } from '../../src/track/child.js';
import type { PreparedCommand } from '../../src/track/cmdline.js';
import { listChildren, startOrphanReaper } from '../../src/track/reaper.js';

const [mode, which] = process.argv.slice(2);

/** 'Z' (zombie), 'gone', or another state letter of /proc/<pid>/stat */
function procState(pid: number): string {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return 'gone';
  }
}

function ppidOf(pid: number): number {
  const m = /^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : -1;
}

/** Poll until the pid is gone; returns the ms it took, or -1 (still a zombie or alive) after limitMs. */
async function goneWithin(pid: number, limitMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (procState(pid) === 'gone') return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1));
  }
  return -1;
}

const sh = (script: string): PreparedCommand => ({ file: '/bin/sh', args: ['-c', script], shell: true, line: script });

async function measure(): Promise<void> {
  const reaper = which === 'reaper' ? startOrphanReaper() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kts-reaper-'));
  const out: Record<string, unknown> = { pid: process.pid };
  try {
    // 1. a script that backgrounds a child (the seed's notify.sh starting httpd) and exits 3
    const pidFile = join(dir, 'bg.pid');
    const r1 = await runCommand(sh(`sleep 60 & echo $! > ${pidFile}; exit 3`)).result;
    out.orphanScript = { kind: r1.kind, code: r1.code };
    const bg = Number(readFileSync(pidFile, 'utf8'));
    // adopted by us when we are a subreaper, by PID 1 otherwise
    out.orphanParentIsUs = ppidOf(bg) === process.pid;
    process.kill(bg, 'SIGKILL');
    out.orphanGoneMs = await goneWithin(bg, 1000);
    out.orphanStateAfter = procState(bg);

    // 2. a timeout kills the group (script and its background child); nothing is left behind.
    //    The child ignores SIGTERM, so it dies of the group's SIGKILL after the script, orphaned
    //    (dying first, it would be reaped by the script's own shell and prove nothing).
    const grp = join(dir, 'grp.pid');
    const r2 = await runCommand(sh(`(trap '' TERM; exec sleep 60) & echo $! > ${grp}; sleep 60`), { timeoutMs: 200, killGraceMs: 100 })
      .result;
    out.timeoutScript = { kind: r2.kind, signal: r2.signal };
    const g = Number(readFileSync(grp, 'utf8'));
    out.timeoutChildGoneMs = await goneWithin(g, 1000);

    // 3. many scripts at once, each leaving an orphan that dies right after it: Node's own
    //    children must still get their exit status (the race the reaper must not lose)
    const n = 40;
    const runs: Promise<RunResult>[] = [];
    for (let i = 0; i < n; i++) runs.push(runCommand(sh(`sleep 0.0${i % 10} & exit ${i + 1}`)).result);
    const all = await Promise.race([Promise.all(runs), new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref())]);
    out.burstCodes = all ? all.map((r) => (r.kind === 'exit' ? r.code : r.kind)) : 'hung';
    await new Promise((r) => setTimeout(r, 300)); // the orphans' sleeps end
    out.childrenLeft = listChildren().map((p) => `${p}:${procState(p)}`);
    out.reaped = reaper?.reaped ?? 0;
    // 4. a notify-style spawn outside runCommand (systemd-notify's path): 'exit' still fires
    out.plainSpawn = await new Promise((resolve) => {
      const c = spawn('/bin/sh', ['-c', 'exit 7'], { stdio: 'ignore' });
      c.on('exit', (code) => resolve(code));
      setTimeout(() => resolve('no exit event'), 5000).unref();
    });
  } finally {
    reaper?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (mode === 'init') {
  // PID 1 of the namespace, that never reaps orphans (libuv waits only for its own child)
  const self = fileURLToPath(import.meta.url);
  const c = spawn(process.execPath, [self, 'run', which ?? 'reaper'], { stdio: 'inherit' });
  c.on('exit', (code) => process.exit(code ?? 1));
} else if (mode === 'run') {
  measure().catch((err: Error) => {
    process.stderr.write(`harness: ${err.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: reaper-harness.js init|run reaper|none\n');
  process.exit(2);
}
