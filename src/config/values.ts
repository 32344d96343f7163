// Argument parsers shared by the block families (blocks/*.ts): numbers, timers, booleans, addresses, scripts.
// Each reports problems with keepalived's wording and returns undefined on bad input.

import { commandArgv } from '../util/command-line.js';
import { canonicalAddress, ipFamilyOf } from '../util/ip.js';
import type { Diagnostic, DiagnosticCategory, Severity } from './diagnostics.js';
import type { AddressFamily, IpAddress, ScriptCommand } from './model.js';
import type { ConfigNode } from './tree.js';

export class Ctx {
  readonly diags: Diagnostic[] = [];
  /** global_defs dynamic_interfaces: a missing interface is not an error */
  dynamicInterfaces = false;
  /** true once any script is configured (for the SECURITY VIOLATION check) */
  scriptsConfigured = false;
  /** preference given to virtual/static rules configured without one */
  nextRulePreference = 16384;
  /**
   * argv[0] of every script that will run as root, with where it was configured (the security
   * check needs to know which exist, and names the first one's line)
   */
  readonly scriptFiles: { path: string; file: string; line: number; checker: boolean }[] = [];

  /**
   * scripts configured without their own user (they run as the default script user); misc: a
   * MISC_CHECK's script, named at the block's closing line and refused with its checker
   */
  readonly defaultUserScripts: { file: string; line: number; misc?: { command: string; checker: object } }[] = [];

  /** record a script that will be executed (user: its own username, if any) */
  scriptRuns(
    command: string,
    user?: string,
    where?: { file: string; line: number; keyword?: string },
    misc?: { endLine: number; checker: object },
  ): void {
    if (user === undefined && where) {
      this.defaultUserScripts.push(
        misc ? { file: where.file, line: misc.endLine, misc: { command, checker: misc.checker } } : { file: where.file, line: where.line },
      );
    }
    if (user !== undefined && user !== 'root') return;
    this.scriptsConfigured = true;
    const f = commandArgv(command)[0];
    // scripts the checker process runs (keepalived's checker reports them as "check scripts")
    const checker = where?.keyword !== undefined && CHECKER_SCRIPT_KEYWORDS.has(where.keyword);
    if (f !== undefined) this.scriptFiles.push({ path: f, file: where?.file ?? '', line: where?.line ?? 0, checker });
  }

  report(
    node: ConfigNode,
    message: string,
    category: DiagnosticCategory = 'invalid-value',
    severity: Severity = 'error',
    argIndex = -1,
  ): void {
    const column = argIndex >= 0 && argIndex < node.argColumns.length ? node.argColumns[argIndex]! : node.column;
    this.diags.push({ severity, category, file: node.file, line: node.line, column, keyword: node.keyword, message });
  }

  global(
    message: string,
    category: DiagnosticCategory,
    severity: Severity,
    where?: { file: string; line: number },
    keyword?: string,
  ): void {
    const d: Diagnostic = { severity, category, file: where?.file ?? '', line: where?.line ?? 0, column: 0, message };
    this.diags.push(keyword ? { ...d, keyword } : d);
  }

  /**
   * Mark the last diagnostic as one that makes keepalived 2.2.7 stop at start ("permanent error
   * CONFIG", exit 2): the daemon refuses such a file at start and on reload (see verdict.ts).
   */
  permanent(): void {
    const d = this.diags.pop();
    if (d) this.diags.push({ ...d, permanent: true });
  }

  /** argument idx is required */
  need(node: ConfigNode, idx: number): string | undefined {
    const v = node.args[idx];
    if (v === undefined) {
      this.report(
        node,
        `*** Configuration line starting \`${node.keyword}\` is missing a parameter after keyword \`${idx === 0 ? node.keyword : node.args[idx - 1]}\` at word position ${idx + 2}`,
        'missing-parameter',
      );
    }
    return v;
  }

  /** integer in [min, max] ("number 'X' outside range [min, max]", as keepalived) */
  int(node: ConfigNode, idx: number, min: number, max: number): number | undefined {
    const s = this.need(node, idx);
    if (s === undefined) return undefined;
    return this.intText(node, s, min, max, idx);
  }

  intText(node: ConfigNode, s: string, min: number, max: number, idx = -1): number | undefined {
    if (!/^[-+]?(\d+|0[xX][0-9a-fA-F]+)$/.test(s)) {
      this.report(node, `invalid number '${s}'`, 'invalid-value', 'error', idx);
      return undefined;
    }
    const neg = s.startsWith('-');
    const body = s.replace(/^[-+]/, '');
    let v = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : parseInt(body, 10);
    if (neg) v = -v;
    if (!Number.isFinite(v) || v < min || v > max) {
      this.report(node, `number '${s}' outside range [${min}, ${max}]`, 'invalid-value', 'error', idx);
      return undefined;
    }
    return v;
  }

  /**
   * unsigned integer in [min, max], keepalived's read_unsigned wording: "negative number '-1'",
   * "number 'X' outside unsigned integer range" (max 2^32-1) or "... outside range [min, max]"
   */
  uint(node: ConfigNode, idx: number, min: number, max: number): number | undefined {
    const s = this.need(node, idx);
    if (s === undefined) return undefined;
    if (/^-\d/.test(s)) {
      this.report(node, `negative number '${s}'`, 'invalid-value', 'error', idx);
      return undefined;
    }
    if (max === 0xffffffff && /^\+?\d+$/.test(s) && Number(s) > max) {
      this.report(node, `number '${s}' outside unsigned integer range`, 'invalid-value', 'error', idx);
      return undefined;
    }
    return this.intText(node, s, min, max, idx);
  }

  /** <TIMER>: seconds with fractions, microsecond resolution; returns microseconds */
  timerUs(node: ConfigNode, idx: number, minS: number, maxS: number): number | undefined {
    const s = this.need(node, idx);
    if (s === undefined) return undefined;
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(s)) {
      this.report(node, `invalid number '${s}'`, 'invalid-value', 'error', idx);
      return undefined;
    }
    const v = Number(s);
    if (!Number.isFinite(v) || v < minS || v > maxS) {
      this.report(node, `number '${s}' outside range [${minS.toFixed(6)}, ${maxS.toFixed(6)}]`, 'invalid-value', 'error', idx);
      return undefined;
    }
    return Math.round(v * 1_000_000);
  }

  timerMs(node: ConfigNode, idx: number, minS = 0, maxS = 4_294_967): number | undefined {
    const us = this.timerUs(node, idx, minS, maxS);
    return us === undefined ? undefined : us / 1000;
  }

  /** <BOOL>; no argument means true */
  bool(node: ConfigNode, idx = 0): boolean | undefined {
    const s = node.args[idx];
    if (s === undefined) return true;
    const v = parseBool(s);
    if (v === undefined) this.report(node, `invalid boolean '${s}' (on|off|true|false|yes|no)`, 'invalid-value', 'error', idx);
    return v;
  }

  addr(node: ConfigNode, idx: number, allowPrefix = true): IpAddress | undefined {
    const s = this.need(node, idx);
    if (s === undefined) return undefined;
    const a = parseIpAddress(s, allowPrefix);
    if (!a) this.report(node, `invalid address '${s}'`, 'invalid-value', 'error', idx);
    return a;
  }

  /** `SCRIPT [username [groupname]]` */
  script(node: ConfigNode, idx = 0, runs = true): ScriptCommand | undefined {
    const s = this.need(node, idx);
    if (s === undefined) return undefined;
    const user = node.args[idx + 1];
    if (runs) this.scriptRuns(s, user, node);
    const group = node.args[idx + 2];
    return makeScript(s, user, group);
  }
}

const CHECKER_SCRIPT_KEYWORDS = new Set(['misc_path', 'notify_up', 'notify_down', 'quorum_up', 'quorum_down']);

export function makeScript(command: string, user?: string, group?: string): ScriptCommand {
  const sc: { command: string; argv: string[]; user?: string; group?: string } = { command, argv: commandArgv(command) };
  if (user !== undefined) sc.user = user;
  if (group !== undefined) sc.group = group;
  return sc;
}

export function parseBool(s: string): boolean | undefined {
  switch (s.toLowerCase()) {
    case 'on':
    case 'true':
    case 'yes':
      return true;
    case 'off':
    case 'false':
    case 'no':
      return false;
  }
  return undefined;
}

/** "192.0.2.1", "192.0.2.1/24", "2001:db8::1/64" -> IpAddress; undefined when invalid */
export function parseIpAddress(s: string, allowPrefix = true): IpAddress | undefined {
  const slash = s.indexOf('/');
  const a = slash >= 0 ? s.slice(0, slash) : s;
  const fam = ipFamilyOf(a);
  if (fam === undefined) return undefined;
  const family: AddressFamily = fam === 4 ? 'inet' : 'inet6';
  const max = fam === 4 ? 32 : 128;
  let prefixLength = max;
  if (slash >= 0) {
    if (!allowPrefix) return undefined;
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefixLength = Number(p);
    if (prefixLength > max) return undefined;
  }
  return { family, address: fam === 6 ? canonicalIpv6(a) : a, prefixLength };
}

/** RFC 5952 text of an IPv6 address (src/util/ip.ts); one with a zone is only lower-cased */
export function canonicalIpv6(a: string): string {
  return canonicalAddress(a, 6) ?? a.toLowerCase();
}

export const familyName = (f: AddressFamily): string => (f === 'inet' ? 'IPv4' : 'IPv6');

/** Append without spreading (a spread of a huge array overflows the stack). */
export function pushAll<T>(to: T[], from: readonly T[]): void {
  for (const x of from) to.push(x);
}
