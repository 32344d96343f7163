// Exit codes of `keepalived-ts -t`, chosen to equal Debian keepalived 2.2.7's for the same file.
//
// keepalived's man page (keepalived(8), "Exit status") documents 3/4/5 for config-test results,
// but 2.2.7's enum gained a PROGRAM_ERROR member, so every code after 1 moved up by one:
//   0 OK, 1 NO_MEMORY (also: unknown command-line option), 2 PROGRAM_ERROR, 3 FATAL,
//   4 CONFIG (file not found / bad interface / fatal config), 5 CONFIG_TEST (errors, would still
//   run), 6 CONFIG_TEST_SECURITY (scripts configured without enable_script_security), 7 NO_CONFIG.
//
// Measured with `keepalived -t -l -f FILE` (2.2.7, 01/16,2022) inside a kts- namespace that has
// the interfaces (veth pairs) the files name, 2026-11-28:
//   valid file (samples HTTP_GET.port, IPv6, vrrp, sample...)                -> 0
//   empty file                                                              -> 0
//   main file missing ("Config files missing '...'")                        -> 0  (!)
//   main file is a directory ("... is a directory - skipping")              -> 0
//   include of a missing file, nothing else wrong                           -> 0
//   include loop (self-include, "Too many open files - skipping")           -> 0
//   unknown keyword / extra '}' / unclosed '{' / unterminated quote         -> 5
//   priority 300, virtual_router_id 300, advert_int 0.001, bad VIP, bad peer -> 5
//   missing virtual_router_id, duplicate VRID, duplicate instance name      -> 5
//   unknown track_script name, v2 fractional advert_int, no VIP             -> 5
//   interface that does not exist (vrrp_instance, track_interface)          -> 5  (not 4: 2.2.7
//     reports it as a general error and then prints "Non-existent interface specified")
//   vrrp_script / MISC_CHECK without enable_script_security                 -> 6
//   unknown keyword AND scripts without script security                     -> 6  (security wins)
//   include missing AND unknown keyword                                     -> 5
//   keyword without its parameter (priority / interface / state /
//     virtual_router_id with nothing after it): "*** Configuration line starting `priority` is
//     missing a parameter after keyword `priority` at word position 2"     -> 2  (PROGRAM_ERROR:
//     keepalived aborts the parse there, so this beats every other verdict)
//   ...except keywords whose own handler checks the count (router_id alone)  -> 5
//   garp_master_delay 1000, priority 100 200 (extra word)                   -> 0  (accepted)
//   unknown command-line option (--bogus, -Z): "Unknown option --bogus"     -> 1
//   stray positional argument: "Unexpected argument(s): extra", goes on     -> as the file
// No file we tried made 2.2.7 return 4 (CONFIG/FATAL); 'fatal' keeps the code its source gives.
import type { Diagnostic, DiagnosticCategory } from '../config/diagnostics.js';

export const ExitCode = {
  ok: 0,
  /** keepalived: NO_MEMORY; also what it returns for an unknown command-line option */
  usage: 1,
  programError: 2,
  fatal: 3,
  /** config cannot be run (keepalived's CONFIG_FATAL class under -t) */
  configFatal: 4,
  /** errors found, keepalived would still run after fixing them up */
  configErrors: 5,
  /** scripts configured but enable_script_security not set */
  configSecurity: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Exit code each diagnostic category contributes under -t (see the measurements above). */
export const categoryExitCode: Readonly<Record<DiagnosticCategory, ExitCodeValue>> = {
  'file-not-found': ExitCode.ok, // 2.2.7 logs "Config files missing" and still exits 0
  // ...but exits 6 when includem/includew/includeb/includea find nothing (measured)
  'include-missing': ExitCode.configSecurity,
  'unknown-keyword': ExitCode.configErrors,
  syntax: ExitCode.configErrors,
  'missing-parameter': ExitCode.programError, // keepalived aborts the parse: measured 2
  'invalid-value': ExitCode.configErrors,
  'bad-interface': ExitCode.configErrors, // measured 5, not the 4 its source suggests
  semantic: ExitCode.configErrors,
  security: ExitCode.configSecurity,
  fatal: ExitCode.configFatal,
  info: ExitCode.ok,
};

// keepalived keeps one config status; measured: security beats ordinary errors. fatal is ranked
// above both since keepalived would not run that configuration at all, and a missing parameter
// (2) above everything because keepalived stops there, before any later check.
const rank: Record<number, number> = {
  [ExitCode.ok]: 0,
  [ExitCode.configErrors]: 1,
  [ExitCode.configSecurity]: 2,
  [ExitCode.configFatal]: 3,
  [ExitCode.programError]: 4,
};

/** Whether a diagnostic counts toward the -t verdict (notes with severity 'info' never do). */
export function countsForConfigTest(d: Diagnostic): boolean {
  return d.severity !== 'info';
}

/** The exit code `keepalived -t` returns for a file with these diagnostics. */
export function configTestExitCode(diagnostics: readonly Diagnostic[]): ExitCodeValue {
  let code: ExitCodeValue = ExitCode.ok;
  for (const d of diagnostics) {
    if (!countsForConfigTest(d)) continue;
    const c = categoryExitCode[d.category] ?? ExitCode.configErrors;
    if ((rank[c] ?? 0) > (rank[code] ?? 0)) code = c;
  }
  return code;
}
