// Block tree: logical lines of words and '{' '}' become nodes {keyword, args, children?}.
// keepalived accepts '{' at the end of the keyword line or alone on the next line, and '}'
// on the same line as words ("virtual_ipaddress { 192.0.2.1 }").

import type { Diagnostic } from './diagnostics.js';
import type { Token } from './lexer.js';
import type { LogicalLine } from './preprocess.js';

export interface ConfigNode {
  readonly keyword: string;
  readonly args: readonly string[];
  /** 1-based column of each argument (same order as args) */
  readonly argColumns: readonly number[];
  /** present when the keyword opened a '{' block */
  readonly children?: readonly ConfigNode[];
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** line of the closing '}' (or of the keyword line without a block) */
  readonly endLine: number;
}

interface MutableNode {
  keyword: string;
  args: string[];
  argColumns: number[];
  children?: MutableNode[];
  file: string;
  line: number;
  column: number;
  endLine: number;
}

const isOpen = (t: Token): boolean => !t.quoted && t.text === '{';
const isClose = (t: Token): boolean => !t.quoted && t.text === '}';

export function buildTree(lines: readonly LogicalLine[], diags: Diagnostic[]): ConfigNode[] {
  const b = new TreeBuilder(diags);
  for (const toks of lines) b.push(toks);
  return b.finish();
}

/** The block tree built one logical line at a time (push), then finish() for the roots. */
export class TreeBuilder {
  private readonly root: MutableNode[] = [];
  private readonly stack: MutableNode[] = [];
  private last: MutableNode | undefined; // last statement without block, may receive a '{' on the next line
  // blocks closed by a '}' that starts its line less indented than the block's keyword: when
  // some block is left open at the end, the first of these is where a '}' is most likely missing
  private readonly misfits: { node: MutableNode; close: Token }[] = [];

  /** the last top-level node: handed to onTop once the next one starts (or at finish) */
  private pendingTop: MutableNode | undefined;

  /**
   * onTop: when given, each complete top-level node goes there (in order) instead of being kept
   * (a top-level statement is complete once the next one starts: its '{' may be on the next line)
   */
  constructor(
    private readonly diags: Diagnostic[],
    private readonly onTop?: (n: ConfigNode) => void,
  ) {}

  push(toks: LogicalLine): void {
    const { stack, diags, misfits } = this;
    let last = this.last;
    let i = 0;
    while (i < toks.length) {
      const t = toks[i]!;
      if (isOpen(t)) {
        if (last && !last.children && i === 0) {
          // '{' on the line after its keyword
          last.children = [];
          stack.push(last);
          last = undefined;
        } else {
          diags.push({
            severity: 'error',
            category: 'syntax',
            file: t.file,
            line: t.line,
            column: t.column,
            message: `Unexpected '{' - ignoring`,
          });
        }
        i++;
        continue;
      }
      if (isClose(t)) {
        const open = stack.pop();
        if (!open) {
          diags.push({ severity: 'error', category: 'syntax', file: t.file, line: t.line, column: t.column, message: `Extra '}' found` });
        } else {
          open.endLine = t.line;
          if (i === 0 && t.file === open.file && t.column < open.column) misfits.push({ node: open, close: t });
        }
        last = undefined;
        i++;
        continue;
      }
      // a statement: words up to '{', '}' or the end of the line
      // the words are counted first and the arrays made to size: pushing into [] reserves 17
      // slots each, two arrays per line (a 1,000-instance file: ~2 MB of garbage per reload)
      let end = i + 1;
      while (end < toks.length && !isOpen(toks[end]!) && !isClose(toks[end]!)) end++;
      const args = new Array<string>(end - i - 1);
      const argColumns = new Array<number>(end - i - 1);
      for (let k = i + 1; k < end; k++) {
        args[k - i - 1] = toks[k]!.text;
        argColumns[k - i - 1] = toks[k]!.column;
      }
      const node: MutableNode = { keyword: t.text, args, argColumns, file: t.file, line: t.line, column: t.column, endLine: t.line };
      i = end;
      if (stack.length === 0 && this.onTop) {
        if (this.pendingTop) this.onTop(this.pendingTop as ConfigNode);
        this.pendingTop = node;
      } else (stack.length > 0 ? stack[stack.length - 1]!.children! : this.root).push(node);
      if (i < toks.length && isOpen(toks[i]!)) {
        node.children = [];
        stack.push(node);
        i++;
        last = undefined;
      } else {
        last = node;
      }
    }
    this.last = last;
  }

  finish(): ConfigNode[] {
    const { stack, diags } = this;
    if (this.pendingTop && this.onTop) this.onTop(this.pendingTop as ConfigNode);
    this.pendingTop = undefined;
    for (const open of stack) {
      diags.push({
        severity: 'error',
        category: 'syntax',
        file: open.file,
        line: open.line,
        column: open.column,
        keyword: open.keyword,
        message: `There are ${stack.length} missing '}'s or extra '{'s: '{' opened here for '${open.keyword}' is never closed`,
      });
    }
    const misfit = stack.length > 0 ? this.misfits[0] : undefined;
    if (misfit) {
      // keepalived only counts the braces; name the inner block and where its contents stopped
      // making sense: the first line indented less than the block's first line
      const { node, close } = misfit;
      const kids = (node.children ?? []).filter((k) => k.file === node.file);
      const drop = kids.find((k) => k.column < kids[0]!.column);
      const stopped = drop
        ? `its contents stop making sense at line ${drop.line} ('${drop.keyword}' is indented as the enclosing block's), and `
        : '';
      diags.push({
        severity: 'error',
        category: 'syntax',
        file: node.file,
        line: node.line,
        column: node.column,
        keyword: node.keyword,
        message: `'{' opened here for '${node.keyword}' is probably never closed: ${stopped}the '}' at line ${close.line} closes it instead of the enclosing block`,
      });
      if (drop)
        diags.push({
          severity: 'error',
          category: 'syntax',
          file: drop.file,
          line: drop.line,
          column: drop.column,
          keyword: drop.keyword,
          message: `'${drop.keyword}' read inside '${node.keyword}' (opened at line ${node.line}, never closed?)`,
        });
    }
    return this.root as ConfigNode[];
  }
}
