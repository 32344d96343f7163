/**
 * Command-line handling shared by vrrp_script, notify scripts and notify_fifo_script.
 *
 * API:
 *   splitCommandLine(line: string): CommandLine | CommandLineError
 *     keepalived's splitter, defined once in src/util/command-line.ts (also used by the config's
 *     "script not found" and script-security checks); re-exported here for the runners.
 *   prepareCommand(line, extraArgs?): PreparedCommand | CommandLineError
 *     The concrete file + args to spawn; extra args (the generic `notify` arguments, the fifo path
 *     of notify_fifo_script) are appended as separate argv entries, also in the shell case
 *     (passed as "$@", never interpolated into the shell text).
 */

import { isCommandLineError, splitCommandLine, type CommandLineError } from '../util/command-line.js';

export { isCommandLineError, splitCommandLine, type CommandLine, type CommandLineError } from '../util/command-line.js';

export interface PreparedCommand {
  readonly file: string;
  readonly args: string[];
  /** true when run through /bin/sh -c */
  readonly shell: boolean;
  /** the configured line, for logs */
  readonly line: string;
}

export function prepareCommand(line: string, extraArgs: readonly string[] = []): PreparedCommand | CommandLineError {
  const split = splitCommandLine(line);
  if (isCommandLineError(split)) return split;
  if (split.needsShell) {
    // The user wrote shell syntax: let sh parse the configured text, and hand our own arguments
    // over as positional parameters so they are never re-parsed by the shell.
    const script = extraArgs.length > 0 ? `${line} "$@"` : line;
    return { file: '/bin/sh', args: ['-c', script, 'sh', ...extraArgs], shell: true, line };
  }
  const [file, ...args] = split.argv;
  return { file: file!, args: [...args, ...extraArgs], shell: false, line };
}
