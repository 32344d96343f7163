// Lexer for keepalived.conf lines. keepalived's reader is line based: comments are stripped per
// physical line (outside quotes), and each logical line is split into words, where quotes join
// whitespace into a word and may appear inside a word (`ab" c "d` is one word).
// Every character carries its original place, so that tokens produced after parameter
// substitution or ~SEQ expansion still point at the file:line:column the user wrote.

import { readEscape } from '../util/command-line.js';

/** Where a character came from. Shared by all characters of one physical line. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

/** A line of text with, for every character, its origin and 1-based column. */
export interface SrcLine {
  readonly text: string;
  readonly origins: readonly Origin[];
  readonly cols: readonly number[];
  /** origin/column used for an empty line or for positions past the end */
  readonly endOrigin: Origin;
  readonly endCol: number;
  /**
   * set when every character comes from endOrigin at consecutive columns starting here: such a
   * line keeps no per-character arrays (origins/cols are built only when asked for), which is
   * most lines of a file and most of the parser's memory on large ones
   */
  readonly plainCol?: number;
}

class PlainLine implements SrcLine {
  readonly endCol: number;
  constructor(
    readonly text: string,
    readonly endOrigin: Origin,
    readonly plainCol: number,
  ) {
    this.endCol = plainCol + text.length;
  }
  get origins(): readonly Origin[] {
    return new Array<Origin>(this.text.length).fill(this.endOrigin);
  }
  get cols(): readonly number[] {
    const c = new Array<number>(this.text.length);
    for (let i = 0; i < c.length; i++) c[i] = this.plainCol + i;
    return c;
  }
}

/** Where character k of s came from (k may be past the end: the line's end position). */
export function originAt(s: SrcLine, k: number): Origin {
  if (s.plainCol !== undefined || k >= s.text.length) return s.endOrigin;
  return s.origins[k]!;
}

/** The 1-based column of character k of s (past the end: the line's end column). */
export function colAt(s: SrcLine, k: number): number {
  if (k >= s.text.length) return s.endCol;
  return s.plainCol !== undefined ? s.plainCol + k : s.cols[k]!;
}

export interface Token {
  readonly text: string;
  /** true when any part of the word was quoted: a quoted '{' is a word, not a block */
  readonly quoted: boolean;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface LexError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export function srcLineFromText(text: string, origin: Origin, firstCol = 1): SrcLine {
  return new PlainLine(text, origin, firstCol);
}

export function sliceSrc(s: SrcLine, start: number, end = s.text.length): SrcLine {
  const st = Math.max(0, Math.min(start, s.text.length));
  const en = Math.max(st, Math.min(end, s.text.length));
  if (s.plainCol !== undefined) return new PlainLine(s.text.slice(st, en), s.endOrigin, s.plainCol + st);
  const endOrigin = en < s.text.length ? s.origins[en]! : s.endOrigin;
  const endCol = en < s.text.length ? s.cols[en]! : s.endCol;
  return {
    text: s.text.slice(st, en),
    origins: s.origins.slice(st, en),
    cols: s.cols.slice(st, en),
    endOrigin,
    endCol,
  };
}

export function concatSrc(parts: readonly SrcLine[]): SrcLine {
  if (parts.length === 0) return srcLineFromText('', { file: '', line: 0 });
  let text = '';
  const origins: Origin[] = [];
  const cols: number[] = [];
  for (const p of parts) {
    text += p.text;
    for (let i = 0; i < p.text.length; i++) {
      origins.push(originAt(p, i));
      cols.push(colAt(p, i));
    }
  }
  const last = parts[parts.length - 1]!;
  return { text, origins, cols, endOrigin: last.endOrigin, endCol: last.endCol };
}

/** Text with every character placed at one position (used for substituted values). */
export function srcAt(text: string, origin: Origin, col: number): SrcLine {
  return {
    text,
    origins: new Array<Origin>(text.length).fill(origin),
    cols: new Array<number>(text.length).fill(col),
    endOrigin: origin,
    endCol: col,
  };
}

export function trimStartSrc(s: SrcLine): SrcLine {
  let i = 0;
  while (i < s.text.length && isSpace(s.text.charCodeAt(i))) i++;
  return i === 0 ? s : sliceSrc(s, i);
}

export function trimEndSrc(s: SrcLine): SrcLine {
  let e = s.text.length;
  while (e > 0 && isSpace(s.text.charCodeAt(e - 1))) e--;
  return e === s.text.length ? s : sliceSrc(s, 0, e);
}

export function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 11 || c === 12;
}

/**
 * Index where a comment starts ('#' or '!' outside quotes), or the text length.
 * keepalived lets comments start anywhere on a line.
 */
export function commentStart(text: string): number {
  // most lines have neither a comment nor a quote: native searches answer that at once
  if (text.indexOf('#') < 0 && text.indexOf('!') < 0) return text.length;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' || ch === '!') return i;
  }
  return text.length;
}

/**
 * Split a logical line into words. Unquoted '{' and '}' are structural tokens when they stand
 * alone or begin/end a word ("global_defs{", "}else"); quoted ones are plain words.
 */
export function tokenize(s: SrcLine, errors: LexError[]): Token[] {
  const out: Token[] = [];
  const t = s.text;
  const n = t.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(t.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    // structural brace standing at the start of a word
    if (t[i] === '{' || t[i] === '}') {
      const o = originAt(s, i);
      out.push({ text: t[i]!, quoted: false, file: o.file, line: o.line, column: colAt(s, i) });
      i++;
      continue;
    }
    // the common word (no quote, no escape, no brace) is a slice of the line: building it one
    // character at a time made most of a large file's garbage
    let j = i;
    while (j < n) {
      const c = t.charCodeAt(j);
      if (isSpace(c) || c === 34 || c === 39 || c === 123 || c === 125) break; // " ' { }
      j++;
    }
    if (j === n || isSpace(t.charCodeAt(j))) {
      const o = originAt(s, start);
      out.push({ text: t.slice(start, j), quoted: false, file: o.file, line: o.line, column: colAt(s, start) });
      i = j;
      continue;
    }
    let word = '';
    let quoted = false;
    let quote = '';
    let quoteStart = 0;
    while (i < n) {
      const ch = t[i]!;
      if (quote) {
        if (ch === quote) {
          quote = '';
          i++;
          continue;
        }
        if (ch === '\\' && i + 1 < n) {
          const [val, len] = readEscape(t, i + 1);
          word += val;
          i += 1 + len;
          continue;
        }
        word += ch;
        i++;
        continue;
      }
      if (isSpace(ch.charCodeAt(0))) break;
      if (ch === '"' || ch === "'") {
        quote = ch;
        quoted = true;
        quoteStart = i;
        i++;
        continue;
      }
      // "word{" or "word}" : the brace ends the word (but not inside "${NAME}" left unsubstituted)
      if ((ch === '{' || ch === '}') && !(ch === '{' && word.endsWith('$')) && !(ch === '}' && hasOpenParam(word))) {
        break;
      }
      word += ch;
      i++;
    }
    if (quote) {
      const p = posOf(s, quoteStart);
      errors.push({ ...p, message: `Unterminated quoted string` });
    }
    out.push({ text: word, quoted, ...posOf(s, start) });
  }
  return out;
}

/** file, line and column of character k of s (a function of its own: no closure per line) */
function posOf(s: SrcLine, k: number): { file: string; line: number; column: number } {
  const o = originAt(s, k);
  return { file: o.file, line: o.line, column: colAt(s, k) };
}

function hasOpenParam(word: string): boolean {
  const o = word.lastIndexOf('${');
  return o >= 0 && word.indexOf('}', o) < 0;
}
