// Preprocessor: everything keepalived does to the text before it looks at keywords.
// Order per physical line (as keepalived): comments stripped; '$NAME= \' multi-line
// definitions collected; trailing '\' continuation joined; include* / include_check handled
// (before conditionals and substitution, as the man page says); then per logical line:
// '@ID' / '@^ID' conditionals, '$NAME=value' definitions, '~SEQ' / '~SEQx' / '~LST' loops,
// '$NAME' / '${NAME}' substitution (recursive; the result is processed again), and tokenising.
// All expansion is bounded (depth, substitutions per line, lines produced) so that hostile
// input yields a diagnostic instead of a hang.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic, DiagnosticCategory, Severity } from './diagnostics.js';
import {
  type Origin,
  type SrcLine,
  type Token,
  commentStart,
  colAt,
  concatSrc,
  isSpace,
  originAt,
  sliceSrc,
  srcAt,
  srcLineFromText,
  tokenize,
  type LexError,
  trimEndSrc,
  trimStartSrc,
} from './lexer.js';
import { pushAll } from './values.js';
import { Prng } from '../util/prng.js';

export interface PreprocessOptions {
  configId: string;
  readFile: (path: string) => string;
  glob?: (pattern: string) => string[];
  /**
   * receives each logical line as soon as it is read (the block tree is built as the file is
   * read, so that a large file's tokens are never all held at once); lines is then empty
   */
  onLine?: (line: LogicalLine) => void;
}

/** One logical line ready for the block builder. */
export type LogicalLine = readonly Token[];

export interface PreprocessResult {
  lines: LogicalLine[];
  diagnostics: Diagnostic[];
  files: string[];
}

/** include_check flags */
interface IncludeCheck {
  readable: boolean;
  match: boolean;
  wildcardMatch: boolean;
  braceMatch: boolean;
}

const NO_CHECKS: IncludeCheck = { readable: false, match: false, wildcardMatch: false, braceMatch: false };
const ALL_CHECKS: IncludeCheck = { readable: true, match: true, wildcardMatch: true, braceMatch: true };

interface Definition {
  readonly lines: readonly SrcLine[];
}

/** Limits that keep hostile configurations from hanging or exhausting memory. */
export const LIMITS = {
  includeDepth: 32,
  lineDepth: 64,
  substitutionsPerLine: 1_000,
  maxSubstitutedLength: 65_536,
  maxOutputLines: 2_000_000,
  maxFiles: 1_000,
  maxLineLength: 1_000_000,
};

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const INCLUDE_WORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);

export function preprocess(mainFile: string, text: string | undefined, opts: PreprocessOptions): PreprocessResult {
  const p = new Preprocessor(opts);
  p.run(mainFile, text);
  return { lines: p.out, diagnostics: p.diags, files: p.files };
}

/** Whether the text ends in '\\' followed only by blanks (a continued line). */
function endsWithBackslash(t: string): boolean {
  let e = t.length - 1;
  while (e >= 0 && isSpace(t.charCodeAt(e))) e--;
  return e >= 0 && t.charCodeAt(e) === 92;
}

function firstNonBlank(t: string): string {
  let k = 0;
  while (k < t.length && isSpace(t.charCodeAt(k))) k++;
  return t[k] ?? '';
}

class Preprocessor {
  readonly out: Token[][] = [];
  readonly diags: Diagnostic[] = [];
  readonly files: string[] = [];
  private readonly defs = new Map<string, Definition>();
  private readonly lexErrs: LexError[] = [];
  private includeCheck: IncludeCheck = { ...NO_CHECKS };
  private readonly stack: string[] = [];
  private currentDir = '.';
  private outputCount = 0;
  private limitReported = false;
  private includeCount = 0;
  private rng: () => number;

  constructor(private readonly opts: PreprocessOptions) {
    const prng = new Prng((Date.now() ^ (process.pid << 8)) >>> 0);
    this.rng = () => prng.next();
  }

  diag(
    severity: Severity,
    category: DiagnosticCategory,
    file: string,
    line: number,
    column: number,
    message: string,
    keyword?: string,
  ): void {
    this.diags.push(
      keyword === undefined
        ? { severity, category, file, line, column, message }
        : { severity, category, file, line, column, keyword, message },
    );
  }

  run(mainFile: string, text: string | undefined): void {
    if (text === undefined) {
      let content: string;
      try {
        content = this.opts.readFile(mainFile);
      } catch (e) {
        this.diag('error', 'file-not-found', mainFile, 0, 0, `Config files missing '${mainFile}'. (${errMsg(e)})`);
        return;
      }
      this.readText(mainFile, content, 0);
    } else {
      this.readText(mainFile, text, 0);
    }
  }

  private readText(file: string, content: string, depth: number): void {
    if (this.files.length < LIMITS.maxFiles) this.files.push(file);
    const savedCheck = this.includeCheck;
    const savedDir = this.currentDir;
    this.includeCheck = { ...savedCheck }; // an included file cannot change its includer's setting
    this.currentDir = path.dirname(file);
    this.stack.push(file);
    try {
      const phys = content.split(/\r?\n/);
      let i = 0;
      while (i < phys.length) {
        if (this.stopped()) return;
        const lineNo = i + 1;
        let line = this.physical(file, phys, i);
        i++;
        // multi-line definition: "$NAME= \" then lines ending in '\'. Measured (2.2.7): a line
        // continues when it ends in '\' before or after its comment is cut ("a \ # c" and
        // "a # c \" both go on); a blank or comment-only line without one ends the definition.
        const rawCont = (k: number): boolean => endsWithBackslash(phys[k]!);
        const defHead = firstNonBlank(line.text) === '$' ? /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.text) : null;
        const headCont = defHead ? /\\\s*$/.exec(line.text) : null;
        if (defHead && (headCont || rawCont(i - 1))) {
          const name = defHead[1]!;
          const lines: SrcLine[] = [];
          const eq = line.text.indexOf('=');
          const first = trimEndSrc(sliceSrc(line, eq + 1, headCont ? headCont.index : line.text.length));
          if (first.text.trim() !== '') lines.push(trimStartSrc(first));
          while (i < phys.length) {
            const l = this.physical(file, phys, i);
            const goesOn = rawCont(i);
            i++;
            const m = /\\\s*$/.exec(l.text);
            if (m) {
              lines.push(trimEndSrc(sliceSrc(l, 0, m.index)));
              continue;
            }
            if (l.text.trim() !== '') lines.push(trimEndSrc(l));
            if (!goesOn) break;
          }
          this.defs.set(name, { lines });
          continue;
        }
        // line continuation
        let guard = 0;
        while (endsWithBackslash(line.text) && i < phys.length && guard++ < 100_000) {
          const cut = line.text.lastIndexOf('\\');
          line = concatSrc([sliceSrc(line, 0, cut), srcAt(' ', { file, line: lineNo }, colAt(line, cut)), this.physical(file, phys, i)]);
          i++;
        }
        const trimmed = trimStartSrc(line);
        if (trimmed.text === '') continue;
        let fw = 0;
        while (fw < trimmed.text.length && !isSpace(trimmed.text.charCodeAt(fw))) fw++;
        const firstWord = trimmed.text.slice(0, fw);
        if (INCLUDE_WORDS.has(firstWord)) {
          this.include(firstWord, trimmed, depth);
          continue;
        }
        // include_check is not in 2.2.7: it warns "Unknown keyword" (no block family knows it) and changes nothing
        this.processLine(trimmed, 0);
      }
    } finally {
      this.stack.pop();
      this.includeCheck = savedCheck;
      this.currentDir = savedDir;
    }
  }

  private physical(file: string, phys: string[], i: number): SrcLine {
    let raw = phys[i]!;
    if (raw.length > LIMITS.maxLineLength) {
      this.diag('error', 'syntax', file, i + 1, LIMITS.maxLineLength, `line longer than ${LIMITS.maxLineLength} characters truncated`);
      raw = raw.slice(0, LIMITS.maxLineLength);
    }
    return srcLineFromText(raw.slice(0, commentStart(raw)), { file, line: i + 1 });
  }

  private stopped(): boolean {
    return this.outputCount > LIMITS.maxOutputLines;
  }

  private include(word: string, line: SrcLine, depth: number): void {
    const origin = originAt(line, 0);
    const col = colAt(line, 0);
    // file names are split on whitespace only: braces belong to the pattern
    const toks = splitWords(line).slice(1);
    if (toks.length === 0) {
      this.diag('error', 'missing-parameter', origin.file, origin.line, col, `${word} requires a file name`, word);
      return;
    }
    const check: IncludeCheck = { ...this.includeCheck };
    switch (word) {
      case 'includer':
        check.readable = true;
        break;
      case 'includem':
        check.match = check.readable = true;
        break;
      case 'includew':
        check.wildcardMatch = check.readable = true;
        break;
      case 'includeb':
        check.braceMatch = check.readable = true;
        break;
      case 'includea':
        Object.assign(check, ALL_CHECKS);
        break;
    }
    if (depth + 1 > LIMITS.includeDepth) {
      this.diag('error', 'syntax', origin.file, origin.line, col, `include nesting deeper than ${LIMITS.includeDepth} - ignoring`, word);
      return;
    }
    for (const tok of toks) {
      const pattern = path.isAbsolute(tok.text) ? tok.text : path.join(this.currentDir, tok.text);
      const alternatives = braceExpand(pattern);
      const matched: string[] = [];
      let someBraceMissing = false;
      for (const alt of alternatives) {
        const hasWild = /[*?[]/.test(alt);
        let found: string[];
        try {
          found = this.opts.glob ? this.opts.glob(alt) : hasWild ? globFs(alt) : fs.existsSync(alt) ? [alt] : [];
        } catch {
          found = [];
        }
        if (found.length === 0 && alternatives.length > 1) someBraceMissing = true;
        pushAll(matched, found.sort());
      }
      if (matched.length === 0) {
        // measured (2.2.7): a pattern that gives no file at all is "Config files missing", a
        // warning for include/includer (exit 0) and an error for the checking variants (exit 6)
        // (includeb checks braces only: a plain missing file is a warning there)
        const strict = check.match || check.wildcardMatch || (check.braceMatch && alternatives.length > 1);
        this.diag(
          strict ? 'error' : 'warning',
          strict ? 'include-missing' : 'file-not-found',
          tok.file,
          tok.line,
          tok.column,
          `Config files missing '${pattern}'.`,
          word,
        );
      } else if (someBraceMissing && check.braceMatch) {
        this.diag('error', 'file-not-found', tok.file, tok.line, tok.column, `Some config files missing: "${pattern}".`, word);
      }
      for (const f of matched) {
        if (this.stopped()) return;
        // bound the total number of files read (includes fanning out under ever new names)
        if (++this.includeCount > LIMITS.maxFiles) {
          if (this.includeCount === LIMITS.maxFiles + 1)
            this.diag(
              'error',
              'fatal',
              tok.file,
              tok.line,
              tok.column,
              `more than ${LIMITS.maxFiles} included files - ignoring further includes`,
              word,
            );
          return;
        }
        if (this.stack.includes(f)) {
          this.diag('error', 'syntax', tok.file, tok.line, tok.column, `include loop: '${f}' is already being read - ignoring`, word);
          continue;
        }
        let content: string;
        try {
          content = this.opts.readFile(f);
        } catch (e) {
          // a directory or unreadable file
          this.diag(
            check.readable ? 'error' : 'warning',
            'file-not-found',
            tok.file,
            tok.line,
            tok.column,
            `Config file '${f}' not readable (${errMsg(e)})`,
            word,
          );
          continue;
        }
        this.readText(f, content, depth + 1);
      }
    }
  }

  /** Conditionals, definitions, loops, substitution, then tokens out. */
  private processLine(line0: SrcLine, depth: number): void {
    if (this.stopped()) {
      if (!this.limitReported) {
        this.limitReported = true;
        const o = line0.text.length > 0 ? originAt(line0, 0) : line0.endOrigin;
        this.diag('error', 'fatal', o.file, o.line, 0, `configuration expands to more than ${LIMITS.maxOutputLines} lines - rest ignored`);
      }
      return;
    }
    const line = trimStartSrc(line0);
    if (line.text === '') return;
    const o = originAt(line, 0);
    const col = colAt(line, 0);
    if (depth > LIMITS.lineDepth) {
      this.diag(
        'error',
        'syntax',
        o.file,
        o.line,
        col,
        `parameter/sequence expansion nested deeper than ${LIMITS.lineDepth} - line ignored`,
      );
      return;
    }
    const t = line.text;
    // @ID / @^ID conditional
    if (t[0] === '@') {
      const neg = t[1] === '^';
      const s = neg ? 2 : 1;
      let e = s;
      while (e < t.length && !isSpace(t.charCodeAt(e))) e++;
      const id = t.slice(s, e);
      const match = id === this.opts.configId;
      if (match !== neg) this.processLine(sliceSrc(line, e), depth + 1);
      return;
    }
    // $NAME=value definition (value substituted at use time)
    if (t[0] === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)=/.exec(t);
      if (m) {
        const value = trimStartSrc(trimEndSrc(sliceSrc(line, m[0].length)));
        this.defs.set(m[1]!, { lines: [value] });
        return;
      }
    }
    // ~SEQ / ~SEQx / ~LST loops
    if (t[0] === '~') {
      // keepalived accepts blanks before the '(' ("~SEQ ( IF , 0 , 1 )")
      const m = /^~(SEQx|SEQ|LST)\s*\(/.exec(t);
      if (m) {
        this.loop(m[1] as 'SEQ' | 'SEQx' | 'LST', line, m[0].length, depth);
        return;
      }
    }
    // most lines have no '$': no substitution pass (it returned a new object and array per line)
    const sub = t.includes('$') ? this.substitute(line) : undefined;
    if (sub?.changed) {
      // keepalived splits words after substitution and stops at a '#' or '!' outside quotes, so
      // one that ${_HASH} / ${_BANG} or a definition brought in starts a comment (measured:
      // "${_HASH} x" is ignored, "foo${_HASH} bar" is the keyword 'foo'); the file's own
      // comments are already gone
      for (const l of sub.lines) {
        const cut = commentStart(l.text);
        this.processLine(cut < l.text.length ? sliceSrc(l, 0, cut) : l, depth + 1);
      }
      return;
    }
    // one errors array for every line (emptied here), not one per line
    const lexErrs = this.lexErrs;
    lexErrs.length = 0;
    const toks = tokenize(line, lexErrs);
    for (const e of lexErrs) this.diag('error', 'syntax', e.file, e.line, e.column, e.message);
    if (toks.length > 0) {
      if (this.opts.onLine) this.opts.onLine(toks);
      else this.out.push(toks);
      this.outputCount++;
    }
  }

  private loop(kind: 'SEQ' | 'SEQx' | 'LST', line: SrcLine, argStart: number, depth: number): void {
    const o = originAt(line, 0);
    const col = colAt(line, 0);
    // find the matching ')'
    let level = 0;
    let close = -1;
    for (let k = argStart; k < line.text.length; k++) {
      const ch = line.text[k];
      if (ch === '(' || ch === '{') level++;
      else if (ch === '}') level--;
      else if (ch === ')') {
        if (level === 0) {
          close = k;
          break;
        }
        level--;
      }
    }
    const kw = `~${kind}`;
    if (close < 0) {
      this.diag('error', 'syntax', o.file, o.line, col, `${kw} missing ')'`, kw);
      return;
    }
    // parameters in the header are substituted first
    // (there "$START," counts: a ',' ends a parameter name as a blank does elsewhere)
    const headerSub = this.substitute(sliceSrc(line, argStart, close), true);
    const header = headerSub.lines.map((l) => l.text).join(' ');
    const rest = sliceSrc(line, close + 1);
    const restOrigin = rest.text.length > 0 ? originAt(rest, 0) : o;
    const restCol = rest.text.length > 0 ? colAt(rest, 0) : col;
    const iterations: Array<Array<[string, string]>> = [];
    if (kind === 'LST') {
      const parsed = parseLst(header);
      if (typeof parsed === 'string') {
        this.diag('error', 'syntax', o.file, o.line, col, `${kw}: ${parsed}`, kw);
        return;
      }
      for (const vals of parsed.values) {
        if (vals.length !== parsed.vars.length) {
          this.diag('error', 'syntax', o.file, o.line, col, `${kw}: ${vals.length} values for ${parsed.vars.length} variables`, kw);
          return;
        }
        iterations.push(parsed.vars.map((v, k) => [v, vals[k]!]));
      }
    } else {
      const parts = header.split(',').map((x) => x.trim());
      const v = parts[0] ?? '';
      if (!PARAM_NAME.test(v) || PARAM_NAME.exec(v)![0] !== v) {
        this.diag('error', 'syntax', o.file, o.line, col, `${kw}: invalid variable name '${v}'`, kw);
        return;
      }
      const nums = parts.slice(1).map(parseSeqNumber);
      if (nums.length < 1 || nums.length > 3 || nums.some((x) => x === undefined)) {
        this.diag('error', 'syntax', o.file, o.line, col, `${kw}(var, [start, [step,]] end): invalid parameters '${header}'`, kw);
        return;
      }
      let start: number, step: number, end: number;
      const ns = nums as number[];
      if (ns.length === 1) {
        end = ns[0]!;
        start = end >= 0 ? 1 : -1;
        step = end >= start ? 1 : -1;
      } else if (ns.length === 2) {
        start = ns[0]!;
        end = ns[1]!;
        step = end >= start ? 1 : -1;
      } else {
        start = ns[0]!;
        step = ns[1]!;
        end = ns[2]!;
      }
      if (step === 0 || (step > 0 && start > end) || (step < 0 && start < end)) {
        if (step === 0) {
          this.diag('error', 'syntax', o.file, o.line, col, `${kw}: step must not be 0`, kw);
        }
        return;
      }
      const count = Math.floor((end - start) / step) + 1;
      if (count > LIMITS.maxOutputLines) {
        this.diag('error', 'fatal', o.file, o.line, col, `${kw}: ${count} iterations exceed the limit of ${LIMITS.maxOutputLines}`, kw);
        return;
      }
      for (let k = 0, val = start; k < count; k++, val += step) {
        iterations.push([[v, kind === 'SEQx' ? val.toString(16) : String(val)]]);
      }
    }
    const saved = new Map<string, Definition | undefined>();
    for (const it of iterations) for (const [name] of it) if (!saved.has(name)) saved.set(name, this.defs.get(name));
    try {
      for (const it of iterations) {
        if (this.stopped()) break;
        for (const [name, val] of it) this.defs.set(name, { lines: [srcAt(val, restOrigin, restCol)] });
        this.processLine(rest, depth + 1);
      }
    } finally {
      // the loop variable is not defined after the loop
      for (const [name, d] of saved) {
        if (d === undefined) this.defs.delete(name);
        else this.defs.set(name, d);
      }
    }
  }

  /** One pass of recursive parameter substitution. Multi-line values split the line. */
  private substitute(line: SrcLine, loopHeader = false): { changed: boolean; lines: SrcLine[] } {
    let cur = line;
    let changed = false;
    let count = 0;
    let i = 0;
    for (;;) {
      const t = cur.text;
      const k = t.indexOf('$', i);
      if (k < 0) break;
      let name: string | undefined;
      let end = k + 1;
      let args = '';
      if (t[k + 1] === '{') {
        const c = t.indexOf('}', k + 2);
        if (c < 0) {
          i = k + 1;
          continue;
        }
        const inner = t.slice(k + 2, c).trim();
        const m = PARAM_NAME.exec(inner);
        if (m) {
          name = m[0];
          args = inner.slice(name.length).trim();
          if (args !== '' && name !== '_RANDOM') name = undefined;
        }
        end = c + 1;
      } else {
        const m = PARAM_NAME.exec(t.slice(k + 1));
        if (m) {
          const e = k + 1 + m[0].length;
          // "$NAME" only when followed by whitespace or the end of the line
          if (e === t.length || isSpace(t.charCodeAt(e)) || (loopHeader && t[e] === ',')) {
            name = m[0];
            end = e;
          }
        }
      }
      if (name === undefined) {
        i = k + 1;
        continue;
      }
      const origin = originAt(cur, k);
      const col = colAt(cur, k);
      const value = this.lookup(name, args, origin, col);
      if (value === undefined) {
        i = end;
        continue;
      }
      if (++count > LIMITS.substitutionsPerLine) {
        this.diag(
          'error',
          'syntax',
          origin.file,
          origin.line,
          col,
          `more than ${LIMITS.substitutionsPerLine} parameter substitutions on one line (recursive definition?) - line ignored`,
        );
        return { changed: true, lines: [] };
      }
      changed = true;
      const before = sliceSrc(cur, 0, k);
      const after = sliceSrc(cur, end);
      if (value.lines.length === 1) {
        // a single-line value is placed where it is used (the '$'), so diagnostics point there
        cur = concatSrc([before, srcAt(value.lines[0]!.text, origin, col), after]);
        if (cur.text.length > LIMITS.maxSubstitutedLength) {
          this.diag(
            'error',
            'syntax',
            origin.file,
            origin.line,
            col,
            `line longer than ${LIMITS.maxSubstitutedLength} characters after parameter substitution (recursive definition?) - line ignored`,
          );
          return { changed: true, lines: [] };
        }
        i = k; // recursive: rescan the replacement
        continue;
      }
      // multi-line value: each line becomes a line of its own and is processed again
      const out: SrcLine[] = [];
      value.lines.forEach((vl, idx) => {
        const parts: SrcLine[] = [];
        if (idx === 0) parts.push(before);
        parts.push(vl);
        if (idx === value.lines.length - 1) parts.push(after);
        out.push(concatSrc(parts));
      });
      if (value.lines.length === 0) out.push(concatSrc([before, after]));
      return { changed: true, lines: out };
    }
    return { changed, lines: [cur] };
  }

  private lookup(name: string, args: string, origin: Origin, col: number): Definition | undefined {
    const at = (s: string): Definition => ({ lines: [srcAt(s, origin, col)] });
    switch (name) {
      case '_PWD':
        return at(this.currentDir);
      case '_INSTANCE':
        return at(this.opts.configId);
      case '_HASH':
        return at('#');
      case '_BANG':
        return at('!');
      case '_RANDOM': {
        const a = args === '' ? [] : args.split(/\s+/).map((x) => Number(x));
        const min = a.length > 0 && Number.isFinite(a[0]) ? Math.max(0, Math.floor(a[0]!)) : 0;
        const max = a.length > 1 && Number.isFinite(a[1]) ? Math.floor(a[1]!) : 32767;
        if (max < min) return at(String(min));
        return at(String(min + Math.floor(this.rng() * (max - min + 1))));
      }
    }
    return this.defs.get(name);
  }
}

/** Whitespace-separated words with their positions; quotes are removed. */
function splitWords(line: SrcLine): { text: string; file: string; line: number; column: number }[] {
  const out: { text: string; file: string; line: number; column: number }[] = [];
  const re = /[^ \t\r\n\v\f]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line.text)) !== null) {
    const o = originAt(line, m.index);
    out.push({ text: m[0].replace(/^["']|["']$/g, ''), file: o.file, line: o.line, column: colAt(line, m.index) });
  }
  return out;
}

function parseSeqNumber(s: string): number | undefined {
  const t = s.trim();
  if (!/^[-+]?(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) return undefined;
  const neg = t.startsWith('-');
  const body = t.replace(/^[-+]/, '');
  const v = body.toLowerCase().startsWith('0x') ? parseInt(body.slice(2), 16) : parseInt(body, 10);
  if (!Number.isSafeInteger(v)) return undefined;
  return neg ? -v : v;
}

/** "~LST(var, a, b)" or "~LST({v1, v2}, {a1, a2}, {b1, b2})" */
function parseLst(header: string): { vars: string[]; values: string[][] } | string {
  const items: string[] = [];
  let level = 0;
  let curItem = '';
  for (const ch of header) {
    if (ch === '{') level++;
    if (ch === '}') level--;
    if (ch === ',' && level === 0) {
      items.push(curItem.trim());
      curItem = '';
    } else curItem += ch;
  }
  items.push(curItem.trim());
  if (level !== 0) return 'unbalanced braces';
  const unbrace = (s: string): string[] =>
    s.startsWith('{') && s.endsWith('}')
      ? s
          .slice(1, -1)
          .split(',')
          .map((x) => x.trim())
      : [s];
  const vars = unbrace(items[0] ?? '');
  for (const v of vars) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) return `invalid variable name '${v}'`;
  const values = items.slice(1).map(unbrace);
  if (values.length === 0) return 'at least one value is required';
  return { vars, values };
}

/** csh-style brace expansion: "a{b,c{d,e}}f" -> abf, acdf, acef. Bounded. */
export function braceExpand(pattern: string, limit = 10_000): string[] {
  const open = findBraceGroup(pattern);
  if (!open) return [pattern];
  const { start, end, alts } = open;
  const pre = pattern.slice(0, start);
  const post = pattern.slice(end + 1);
  const out: string[] = [];
  for (const a of alts) {
    for (const e of braceExpand(pre + a + post, limit)) {
      out.push(e);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function findBraceGroup(p: string): { start: number; end: number; alts: string[] } | undefined {
  for (let s = 0; s < p.length; s++) {
    if (p[s] !== '{') continue;
    let level = 0;
    const alts: string[] = [];
    let cur = '';
    let hasComma = false;
    for (let k = s; k < p.length; k++) {
      const ch = p[k]!;
      if (ch === '{') {
        level++;
        if (level === 1) continue;
      } else if (ch === '}') {
        level--;
        if (level === 0) {
          alts.push(cur);
          if (hasComma) return { start: s, end: k, alts };
          break;
        }
      } else if (ch === ',' && level === 1) {
        alts.push(cur);
        cur = '';
        hasComma = true;
        continue;
      }
      cur += ch;
    }
  }
  return undefined;
}

/** Minimal glob on the real filesystem: '*', '?', '[...]' per path segment. */
export function globFs(pattern: string): string[] {
  const abs = path.resolve(pattern);
  const segs = abs.split('/').filter((x) => x !== '');
  let bases = ['/'];
  for (let si = 0; si < segs.length; si++) {
    const seg = segs[si]!;
    const last = si === segs.length - 1;
    const next: string[] = [];
    if (!/[*?[]/.test(seg)) {
      for (const b of bases) {
        const p = path.join(b, seg);
        if (last ? fs.existsSync(p) : isDir(p)) next.push(p);
      }
    } else {
      const re = globSegmentRegExp(seg);
      for (const b of bases) {
        let names: string[];
        try {
          names = fs.readdirSync(b);
        } catch {
          continue;
        }
        for (const n of names.sort()) {
          if (n.startsWith('.') && !seg.startsWith('.')) continue;
          if (!re.test(n)) continue;
          const p = path.join(b, n);
          if (last || isDir(p)) next.push(p);
        }
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return bases;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function globSegmentRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const c = seg.indexOf(']', i + 2);
      if (c < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, c);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = c;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$');
  } catch {
    return /^$/;
  }
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
