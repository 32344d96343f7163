// MISC_CHECK: run misc_path (quoted arguments allowed, split like every script line: cmdline.ts)
// as its user, bounded by misc_timeout: on timeout the script's process group gets SIGTERM, then
// SIGKILL 2 s later (child.ts), and the attempt fails ("timed out"). Exit 0 = success; without
// misc_dynamic anything else fails; with it 1 fails, 2..255 succeed with weight status-2.
import { isCommandLineError, prepareCommand } from '../track/cmdline.js';
import { runCommand, type RunResult } from '../track/child.js';
import { fail, success } from './common.js';
import type { Probe, ProbeResult } from './scheduler.js';

export interface MiscOptions {
  readonly line: string;
  readonly timeoutMs: number;
  readonly dynamic: boolean;
  readonly uid?: number;
  readonly gid?: number;
  /** SIGTERM -> SIGKILL delay (keepalived: 2 s) */
  readonly killGraceMs?: number;
}

export function miscVerdict(r: RunResult, dynamic: boolean): ProbeResult {
  if (r.kind === 'timeout') return fail('timed out');
  if (r.kind === 'spawn-error') return fail(`could not be run (${r.error ?? 'spawn error'})`);
  if (r.kind === 'killed') return fail('aborted');
  if (r.kind === 'signal') return fail(`killed by ${r.signal ?? 'a signal'}`);
  const code = r.code ?? -1;
  if (code === 0) return success('exited with status 0');
  if (dynamic && code >= 2 && code <= 255) return { ok: true, reason: `exited with status ${code}`, weight: code - 2 };
  return fail(`exited with status ${code}`);
}

export function miscProbe(o: MiscOptions): Probe {
  const cmd = prepareCommand(o.line);
  return async (signal) => {
    if (isCommandLineError(cmd)) return fail(`misc_path: ${cmd.message}`);
    const run = runCommand(cmd, { timeoutMs: o.timeoutMs, killGraceMs: o.killGraceMs ?? 2000, uid: o.uid, gid: o.gid });
    const onAbort = () => run.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    const r = await run.result;
    signal.removeEventListener('abort', onAbort);
    return miscVerdict(r, o.dynamic);
  };
}
