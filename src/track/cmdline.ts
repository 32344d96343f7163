/**
 * Command-line handling shared by vrrp_script, notify scripts and notify_fifo_script.
 *
 * API:
 *   splitCommandLine(line: string): CommandLine | CommandLineError
 *     Splits a configured script line into argv the way keepalived does (whitespace separated
 *     words; '...' literal; "..." with \" and \\ escapes; a backslash outside quotes escapes the
 *     next character). `needsShell` is true when the line holds unquoted shell syntax
 *     (| & ; < > ( ) $ ` * ? [ ] or a leading ~): keepalived would exec such a line literally and
 *     fail; we run it through /bin/sh -c instead, and only then.
 *   prepareCommand(line, extraArgs?): PreparedCommand | CommandLineError
 *     The concrete file + args to spawn; extra args (the generic `notify` arguments, the fifo path
 *     of notify_fifo_script) are appended as separate argv entries, also in the shell case
 *     (passed as "$@", never interpolated into the shell text).
 */

export interface CommandLine {
  readonly argv: string[];
  readonly needsShell: boolean;
}

/** A typed error for a line that cannot be split (bad input never throws). */
export interface CommandLineError {
  readonly error: 'empty' | 'unterminated-quote' | 'trailing-backslash';
  readonly message: string;
}

export interface PreparedCommand {
  readonly file: string;
  readonly args: string[];
  /** true when run through /bin/sh -c */
  readonly shell: boolean;
  /** the configured line, for logs */
  readonly line: string;
}

const SHELL_CHARS = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']']);

export function isCommandLineError(x: unknown): x is CommandLineError {
  return typeof x === 'object' && x !== null && 'error' in x && 'message' in x;
}

export function splitCommandLine(line: string): CommandLine | CommandLineError {
  const argv: string[] = [];
  let needsShell = false;
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        argv.push(cur);
        cur = '';
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { error: 'unterminated-quote', message: `unterminated ' quote in "${line}"` };
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          cur += line[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) return { error: 'unterminated-quote', message: `unterminated " quote in "${line}"` };
      inWord = true;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= n) return { error: 'trailing-backslash', message: `trailing backslash in "${line}"` };
      cur += line[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (SHELL_CHARS.has(c) || (c === '~' && !inWord)) needsShell = true;
    cur += c;
    inWord = true;
    i++;
  }
  if (inWord) argv.push(cur);
  if (argv.length === 0) return { error: 'empty', message: 'empty command line' };
  return { argv, needsShell };
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
