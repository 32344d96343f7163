// Diagnostics: every problem found in a configuration names its file, line, column and keyword.
// This type is shared by the parser, the model building (build.ts, blocks/*.ts), the CLI (-t) and the daemon (reload).

/**
 * Categories follow keepalived's own classes of configuration problem, so that `-t` can return
 * the exit code keepalived 2.2.7 returns for the same file (the CLI owns that mapping).
 */
export type DiagnosticCategory =
  | 'file-not-found' // the main file or an include is missing
  | 'include-missing' // includem/includew/includeb/includea found no file (2.2.7 -t: exit 6)
  | 'unknown-keyword' // keyword not known in this block (warned and skipped, as keepalived does)
  | 'syntax' // unmatched braces or quotes, missing '{', stray '}'
  | 'missing-parameter' // keyword without its required argument(s)
  | 'invalid-value' // number out of range, bad address, bad enum value
  | 'bad-interface' // an interface named in the config does not exist on this host
  | 'semantic' // cross-checks: duplicate VRID, missing virtual_router_id, unknown tracked name...
  | 'security' // scripts without enable_script_security, insecure scripts
  | 'fatal' // keepalived would refuse to run at all
  | 'info'; // notes that are neither warnings nor errors

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  readonly severity: Severity;
  readonly category: DiagnosticCategory;
  readonly file: string;
  /** 1-based; 0 when the problem has no place in a file (e.g. a global cross-check) */
  readonly line: number;
  /** 1-based; 0 when unknown */
  readonly column: number;
  /** the keyword the problem is about, when there is one */
  readonly keyword?: string;
  readonly message: string;
  /**
   * keepalived 2.2.7 stops at start on this one (its VRRP process exits with a permanent
   * configuration error, exit 2), although `-t` counts it with the ordinary errors (exit 5)
   */
  readonly permanent?: true;
}

/** "file:line:column: severity: [keyword] message" (line/column left out when 0). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}${d.column > 0 ? `:${d.column}` : ''}` : d.file;
  const kw = d.keyword ? `${d.keyword}: ` : '';
  return `${where}: ${d.severity}: ${kw}${d.message}`;
}

/**
 * keepalived's own log form, "(FILE: Line N) message" (just the message when it has no line),
 * to compare with `keepalived -t -l` output line by line.
 */
export function formatKeepalivedStyle(d: Diagnostic): string {
  return d.line > 0 ? `(${d.file}: Line ${d.line}) ${d.message}` : d.message;
}
