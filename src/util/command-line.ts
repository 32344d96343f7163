/**
 * The one home of keepalived's script-line rules: how a configured script line becomes argv, and
 * the backslash escapes shared with the config lexer. The config (which decides "script not
 * found" and counts scripts for script security), the security check and the runner all split a
 * line here, so a command is judged with the argv it is run with.
 *
 * Rules (keepalived 2.2.7, `man 5 keepalived.conf`, "Quoted strings"): words are separated by
 * unquoted whitespace; '...' and "..." group (the quote characters are removed, whitespace inside
 * is kept, and quoted and unquoted parts join into one word: pre"mid"'post' is one word); a
 * backslash escapes the next character everywhere, inside either quote too: \a \b \E \f \n \r \t
 * \v, \nnn (up to 3 octal digits), \xXX (any number of hex digits, one byte), \cC (control C),
 * and \C for any other C is C itself (so \\ is \ and \" is a " that neither opens nor closes a
 * quote). An unterminated quote or a backslash at the end is an error.
 *
 * `needsShell` is our own addition: true when the line holds unquoted shell syntax
 * (| & ; < > ( ) $ ` * ? [ ] or a leading ~). keepalived would exec such a line literally and
 * fail; the runner (src/track/cmdline.ts) runs it through /bin/sh -c instead, and only then.
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

export function isCommandLineError(x: unknown): x is CommandLineError {
  return typeof x === 'object' && x !== null && 'error' in x && 'message' in x;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  E: '\x1b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

const HEX_DIGIT = /[0-9a-fA-F]/;

/** Decode the escape whose letter is at t[k] (after the backslash); returns [value, characters consumed]. */
export function readEscape(t: string, k: number): [string, number] {
  const c = t[k]!;
  if (c in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[c]!, 1];
  if (c >= '0' && c <= '7') {
    let len = 1;
    while (len < 3 && k + len < t.length && t[k + len]! >= '0' && t[k + len]! <= '7') len++;
    return [String.fromCharCode(parseInt(t.slice(k, k + len), 8) & 0xff), len];
  }
  if (c === 'x') {
    let len = 0;
    while (k + 1 + len < t.length && HEX_DIGIT.test(t[k + 1 + len]!)) len++;
    if (len === 0) return ['x', 1];
    const hex = t.slice(k + 1, k + 1 + len);
    // "any sequence of hex digits": the value wraps to one byte
    return [String.fromCharCode(parseInt(hex.slice(-2), 16)), 1 + len];
  }
  if (c === 'c' && k + 1 < t.length) {
    return [String.fromCharCode(t.charCodeAt(k + 1) & 0x1f), 2];
  }
  return [c, 1];
}

const SHELL_CHARS = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']']);

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

/** Split a script line into argv (see the rules above). */
export function splitCommandLine(line: string): CommandLine | CommandLineError {
  const argv: string[] = [];
  let needsShell = false;
  let cur = '';
  let inWord = false;
  let quote = '';
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === '\\') {
      if (i + 1 >= n) return { error: 'trailing-backslash', message: `trailing backslash in "${line}"` };
      const [val, len] = readEscape(line, i + 1);
      cur += val;
      inWord = true;
      i += 1 + len;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
      else cur += c;
      i++;
      continue;
    }
    if (isBlank(c)) {
      if (inWord) {
        argv.push(cur);
        cur = '';
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      i++;
      continue;
    }
    if (SHELL_CHARS.has(c) || (c === '~' && !inWord)) needsShell = true;
    cur += c;
    inWord = true;
    i++;
  }
  if (quote) return { error: 'unterminated-quote', message: `unterminated ${quote} quote in "${line}"` };
  if (inWord) argv.push(cur);
  if (argv.length === 0) return { error: 'empty', message: 'empty command line' };
  return { argv, needsShell };
}

/** argv of a script line, or [] when the line cannot be split (keepalived then has no command). */
export function commandArgv(line: string): string[] {
  const r = splitCommandLine(line);
  return isCommandLineError(r) ? [] : r.argv;
}
