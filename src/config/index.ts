// Public API of the config package: read keepalived.conf as keepalived 2.2.7 does and return a
// typed model with defaults applied, plus diagnostics in file order. Never throws on bad input.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildConfig, ConfigBuilder } from './build.js';
import type { Diagnostic } from './diagnostics.js';
import type { KeepalivedConfig } from './model.js';
import { preprocess } from './preprocess.js';
import { TreeBuilder } from './tree.js';
import { Ctx, pushAll } from './values.js';

export interface ParseOptions {
  /** @ID conditionals and ${_INSTANCE}; default os.hostname() up to the first '.' */
  configId?: string;
  /** undefined: no interface checks */
  interfaceExists?: (ifname: string) => boolean;
  /** tests; default fs.readFileSync utf8 */
  readFile?: (path: string) => string;
  /** tests; default real filesystem (brace expansion is done before calling it) */
  glob?: (pattern: string) => string[];
  /** tests; does a script file exist (scripts that do not exist are not security-checked); default fs */
  fileExists?: (path: string) => boolean;
  /** tests; where bare command names in scripts are looked up (PATH syntax); default process.env.PATH */
  searchPath?: string;
  /** tests; does a system user exist (the default script user keepalived_script); default /etc/passwd */
  userExists?: (name: string) => boolean;
}

export interface ParseResult {
  /** always present: best effort, invalid parts dropped as keepalived does */
  config: KeepalivedConfig;
  /** in file order */
  diagnostics: Diagnostic[];
  /** every file read (main + includes) */
  files: string[];
}

export function parseConfigFile(file: string, opts: ParseOptions = {}): ParseResult {
  return parse(path.resolve(file), undefined, opts);
}

export function parseConfigText(text: string, fileName: string, opts: ParseOptions = {}): ParseResult {
  return parse(fileName, text, opts);
}

export function defaultConfigId(): string {
  const h = os.hostname();
  const dot = h.indexOf('.');
  return dot >= 0 ? h.slice(0, dot) : h;
}

function parse(file: string, text: string | undefined, opts: ParseOptions): ParseResult {
  const ctx = new Ctx();
  const diagnostics: Diagnostic[] = [];
  let files: string[] = [];
  let config: KeepalivedConfig;
  try {
    // the tree grows as lines are read and each complete top-level block goes straight into the
    // model: a large file's tokens and block tree are never all held at once
    const treeDiags: Diagnostic[] = [];
    const model = new ConfigBuilder(ctx, {
      ...(opts.interfaceExists ? { interfaceExists: opts.interfaceExists } : {}),
      ...(opts.fileExists ? { fileExists: opts.fileExists } : {}),
      ...(opts.searchPath !== undefined ? { searchPath: opts.searchPath } : {}),
      ...(opts.userExists ? { userExists: opts.userExists } : {}),
    });
    const builder = new TreeBuilder(treeDiags, (n) => model.take(n));
    const pre = preprocess(file, text, {
      configId: opts.configId ?? defaultConfigId(),
      readFile: opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8')),
      ...(opts.glob ? { glob: opts.glob } : {}),
      onLine: (l) => builder.push(l),
    });
    files = pre.files;
    pushAll(diagnostics, pre.diagnostics);
    builder.finish();
    pushAll(diagnostics, treeDiags);
    config = model.finish();
  } catch (e) {
    // defensive: the parser is written not to throw; if it does, report rather than crash
    diagnostics.push({
      severity: 'error',
      category: 'fatal',
      file,
      line: 0,
      column: 0,
      message: `internal parser error: ${
        e instanceof Error
          ? `${e.message} ${(e.stack ?? '')
              .split('\n')
              .slice(1, 4)
              .map((l) => l.trim())
              .join(' < ')}`
          : String(e)
      }`,
    });
    config = buildConfig([], new Ctx(), {});
  }
  pushAll(diagnostics, ctx.diags);
  return { config, diagnostics: sortDiagnostics(diagnostics, files), files };
}

/** File order: by the order files were read, then line, then discovery order; global checks last. */
function sortDiagnostics(ds: Diagnostic[], files: string[]): Diagnostic[] {
  const rank = new Map<string, number>();
  files.forEach((f, i) => {
    if (!rank.has(f)) rank.set(f, i);
  });
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const la = a.d.line === 0 ? 1 : 0;
      const lb = b.d.line === 0 ? 1 : 0;
      if (la !== lb) return la - lb;
      if (la === 1) return a.i - b.i;
      const fa = rank.get(a.d.file) ?? files.length;
      const fb = rank.get(b.d.file) ?? files.length;
      if (fa !== fb) return fa - fb;
      if (a.d.line !== b.d.line) return a.d.line - b.d.line;
      // same line: the order they were found in (keepalived's order), not by column
      return a.i - b.i;
    })
    .map((x) => x.d);
}

export * from './model.js';
export * from './diagnostics.js';
export * from './verdict.js';
export type { ConfigNode } from './tree.js';
