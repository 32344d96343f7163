/**
 * Running one script to completion, safely: the building block of vrrp_script, the notify queue
 * and notify_fifo_script.
 *
 * API:
 *   runCommand(cmd: PreparedCommand, opts: RunOptions): RunningCommand
 *     RunningCommand { pid?: number; result: Promise<RunResult>; kill(reason?): void }
 *   The promise always resolves (never rejects): spawn failures come back as kind 'spawn-error'.
 *
 * Why this shape:
 * - Each child is spawned `detached` (setsid: its own process group) so that on timeout the whole
 *   group (the script and whatever it forked: sleep, curl, ...) is signalled with kill(-pgid):
 *   SIGTERM first, SIGKILL after `killGraceMs`.
 * - Completion is taken from the 'exit' event, not 'close': a grandchild holding an inherited
 *   stdout would otherwise keep the run "alive" forever. stdio is ignored (scripts' output is not
 *   read by keepalived either), so nothing can block on a full pipe.
 * - Node reaps the direct child (waitpid on SIGCHLD) once 'exit' fires: no zombie. Grandchildren
 *   (killed with the group, or left running in the background) are reparented to the daemon, a
 *   child subreaper, which reaps them on SIGCHLD (./reaper.ts).
 */
import { spawn } from 'node:child_process';
import type { PreparedCommand } from './cmdline.js';

export interface RunOptions {
  /** run time limit; 0 or undefined = none */
  timeoutMs?: number;
  /** delay between SIGTERM and SIGKILL to the process group on timeout/kill (default 500 ms) */
  killGraceMs?: number;
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export type RunKind = 'exit' | 'signal' | 'timeout' | 'killed' | 'spawn-error';

export interface RunResult {
  kind: RunKind;
  /** exit status when kind === 'exit' */
  code: number | null;
  signal: NodeJS.Signals | null;
  pid: number | undefined;
  durationMs: number;
  /** text for spawn errors */
  error?: string;
}

export interface RunningCommand {
  readonly pid: number | undefined;
  readonly result: Promise<RunResult>;
  /** Kill the whole process group (TERM, then KILL after the grace); result kind 'killed'. */
  kill(): void;
}

/** true when the run counts as a success for a track script (exit status 0). */
export function isSuccess(r: RunResult): boolean {
  return r.kind === 'exit' && r.code === 0;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone
  }
}

export function runCommand(cmd: PreparedCommand, opts: RunOptions = {}): RunningCommand {
  const started = performance.now();
  const grace = opts.killGraceMs ?? 500;
  let child;
  try {
    child = spawn(cmd.file, cmd.args, {
      detached: true,
      stdio: 'ignore',
      uid: opts.uid,
      gid: opts.gid,
      env: opts.env ?? process.env,
      cwd: opts.cwd ?? '/',
    });
  } catch (e) {
    // spawn throws synchronously on invalid arguments (e.g. uid out of range)
    const result: RunResult = {
      kind: 'spawn-error',
      code: null,
      signal: null,
      pid: undefined,
      durationMs: performance.now() - started,
      error: (e as Error).message,
    };
    return { pid: undefined, result: Promise.resolve(result), kill() {} };
  }
  const pid = child.pid;
  let reason: 'timeout' | 'killed' | undefined;
  let timer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let done = false;

  const terminate = (why: 'timeout' | 'killed'): void => {
    if (done || reason) return;
    reason = why;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), grace);
  };

  const result = new Promise<RunResult>((resolve) => {
    const finish = (r: Omit<RunResult, 'durationMs' | 'pid'>): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      // The leader is gone; make sure nothing it left in its group survives a timeout.
      if (killTimer) {
        clearTimeout(killTimer);
        if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      }
      resolve({ ...r, pid, durationMs: performance.now() - started });
    };
    child.once('error', (err) => {
      // ENOENT/EACCES/EPERM: no process ran (or it is already reaped)
      finish({ kind: 'spawn-error', code: null, signal: null, error: err.message });
    });
    child.once('exit', (code, signal) => {
      if (reason) finish({ kind: reason, code, signal });
      else if (signal) finish({ kind: 'signal', code: null, signal });
      else finish({ kind: 'exit', code, signal: null });
    });
  });
  if (opts.timeoutMs && opts.timeoutMs > 0 && pid !== undefined) {
    timer = setTimeout(() => terminate('timeout'), opts.timeoutMs);
  }
  return { pid, result, kill: () => terminate('killed') };
}
