// Whether the daemon may run a parsed configuration: one judgement for start and for reload, so
// that what a reload refuses, a start refuses too, with the same message.
//
// keepalived 2.2.7 runs a file with ordinary errors after fixing them up (`-t` exits 5 on them)
// and stops at start, exit 2 ("permanent error CONFIG"), on the ones measured in
// test/fixtures/config (a VRID missing or out of range, no interface, two multicast instances
// with one VRID on one interface and family, a keyword without its parameter), exit 6 when the
// main file is missing or a directory. keepalived-ts refuses exactly those. An instance whose
// interface does not exist (keepalived: exit 2) is the one deliberate difference: it waits in
// FAULT for the interface.
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';

/** keepalived's exit code when it stops at start on a configuration error */
export const REFUSED_EXIT_CODE = 2;
/** ...and when the main file is missing or is a directory (measured: 6) */
export const NO_CONFIG_EXIT_CODE = 6;

export interface ConfigVerdict {
  /** false: do not start (or, on reload, keep running the previous configuration) */
  readonly run: boolean;
  /** the diagnostics that make the file unrunnable, in file order */
  readonly refusing: readonly Diagnostic[];
  /** one line for the log: the refusal and the first reason, with its file:line */
  readonly message: string;
  /** the exit code keepalived 2.2.7 stops with at start for this file (0 when it runs) */
  readonly exitCode: number;
}

const mainFileMissing = (d: Diagnostic): boolean => d.category === 'file-not-found' && d.line === 0;

/** Whether this diagnostic alone makes keepalived 2.2.7 refuse to run the file. */
export function refusesToRun(d: Diagnostic): boolean {
  if (d.permanent) return true;
  // keepalived aborts the parse at a keyword without its parameter: nothing after it is read
  if (d.category === 'missing-parameter') return true;
  // an internal parser error, or the main file missing or unreadable (no line: not an include)
  if (d.category === 'fatal') return true;
  return mainFileMissing(d);
}

/** The judgement of a parsed file (the same at start and on SIGHUP). */
export function judgeConfig(diagnostics: readonly Diagnostic[]): ConfigVerdict {
  const refusing = diagnostics.filter(refusesToRun);
  if (refusing.length === 0) return { run: true, refusing, message: '', exitCode: 0 };
  const first = refusing[0]!;
  const where = first.file ? formatDiagnostic(first) : `${first.keyword ? `${first.keyword}: ` : ''}${first.message}`;
  const more = refusing.length > 1 ? ` (and ${refusing.length - 1} more)` : '';
  const exitCode = refusing.some(mainFileMissing) ? NO_CONFIG_EXIT_CODE : REFUSED_EXIT_CODE;
  return { run: false, refusing, message: `configuration refused, keepalived would not run it: ${where}${more}`, exitCode };
}
