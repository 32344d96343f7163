/**
 * enable_script_security and script_user.
 *
 * API:
 *   lookupUser(nameOrUid: string): PasswdEntry | undefined      (/etc/passwd; numeric ids accepted)
 *   lookupGroup(nameOrGid: string): number | undefined          (/etc/group)
 *   resolveScriptUser(opts?: { user?: string; group?: string }): ScriptUser
 *       script_user user [group]; default keepalived_script if it exists, else the uid/gid
 *       keepalived runs as (man 5 keepalived.conf, global_defs script_user). Unknown user ->
 *       `error`; missing default user with enable_script_security -> `error` (keepalived 2.2.7
 *       then removes such scripts: "Unable to set default user keepalived_script for script").
 *   checkScriptSecurity(line: string, runAs: { uid; gid }, opts?): ScriptCheck
 *       { ok: true, path } or { ok: false, path?, error: 'not-found'|'not-executable'|'insecure'|
 *       'bad-line', reason }
 *   evaluateScripts(scripts: ScriptToCheck[], enableScriptSecurity: boolean): SecurityReport
 *       { allowed: Set<string>, refused: Map<string, string>, messages: string[], insecureCount }
 *       With security enabled, insecure / missing / non-executable scripts are refused (keepalived
 *       disables them). Without it, scripts still run and, if any script runs as root, the
 *       "SECURITY VIOLATION" warning is produced, as keepalived logs it.
 *
 * The rule: a script run as root must not be modifiable by anyone but root. The file itself and
 * every directory above it, both along the configured path (so the directory holding a symlink is
 * covered) and along its fully resolved path (symlinks followed), must be: owned by root (or by
 * the run user), not group-writable unless the group is root's (or the run group for a non-root
 * run user), and not world-writable; a world-writable directory with the sticky bit (/tmp) is
 * accepted because its entries can then only be replaced by their owner, which is checked next.
 */
import { accessSync, constants as C, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { isCommandLineError, splitCommandLine } from '../track/cmdline.js';

/** sticky bit (not in fs.constants) */
const S_ISVTX = 0o1000;

export const DEFAULT_SCRIPT_USER = 'keepalived_script';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function readDb(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function lookupUser(nameOrUid: string, passwdPath = '/etc/passwd'): PasswdEntry | undefined {
  const rows = readDb(passwdPath);
  const numeric = /^\d+$/.test(nameOrUid);
  for (const r of rows) {
    if (r.length < 4) continue;
    if ((numeric && r[2] === nameOrUid) || r[0] === nameOrUid) {
      return { name: r[0]!, uid: Number(r[2]), gid: Number(r[3]), home: r[5] ?? '/' };
    }
  }
  if (numeric) return { name: nameOrUid, uid: Number(nameOrUid), gid: Number(nameOrUid), home: '/' };
  return undefined;
}

export function lookupGroup(nameOrGid: string, groupPath = '/etc/group'): number | undefined {
  if (/^\d+$/.test(nameOrGid)) return Number(nameOrGid);
  for (const r of readDb(groupPath)) if (r[0] === nameOrGid && r.length >= 3) return Number(r[2]);
  return undefined;
}

export interface ScriptUser {
  uid: number;
  gid: number;
  user: string;
  /** a configured user/group does not exist, or (with enable_script_security) the default
   *  user keepalived_script does not exist: scripts without an explicit user are then removed */
  error?: string;
}

export function resolveScriptUser(
  opts: { user?: string; group?: string; enableScriptSecurity?: boolean; passwdPath?: string; groupPath?: string } = {},
): ScriptUser {
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const selfName = lookupUser(String(self.uid), opts.passwdPath)?.name ?? String(self.uid);
  if (!opts.user) {
    const def = lookupUser(DEFAULT_SCRIPT_USER, opts.passwdPath);
    if (def) return { uid: def.uid, gid: def.gid, user: def.name };
    // Measured with keepalived 2.2.7 -t: without script security the scripts silently run as
    // keepalived's own user; with it, scripts lacking a user are removed.
    if (opts.enableScriptSecurity) {
      return { ...self, user: selfName, error: `Unable to set default user ${DEFAULT_SCRIPT_USER} for script` };
    }
    return { ...self, user: selfName };
  }
  const u = lookupUser(opts.user, opts.passwdPath);
  if (!u) return { ...self, user: selfName, error: `Unable to resolve script username '${opts.user}' - ignoring` };
  let gid = u.gid;
  if (opts.group) {
    const g = lookupGroup(opts.group, opts.groupPath);
    if (g === undefined) return { uid: u.uid, gid, user: u.name, error: `Unable to resolve script group name '${opts.group}' - ignoring` };
    gid = g;
  }
  return { uid: u.uid, gid, user: u.name };
}

export type ScriptCheck =
  | { ok: true; path: string }
  | { ok: false; path?: string; error: 'not-found' | 'not-executable' | 'insecure' | 'bad-line'; reason: string };

export interface CheckOptions {
  /** PATH used for a script given without a directory (default: process PATH) */
  pathEnv?: string;
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  let cur = p;
  for (;;) {
    out.push(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return out;
}

function writableByOthers(st: Stats, runAs: { uid: number; gid: number }, isDir: boolean): string | undefined {
  if (st.uid !== 0 && st.uid !== runAs.uid) return `owned by uid ${st.uid}`;
  const groupOk = st.gid === 0 || (runAs.uid !== 0 && st.gid === runAs.gid);
  if (st.mode & C.S_IWGRP && !groupOk) return `writable by group ${st.gid}`;
  if (st.mode & C.S_IWOTH && !(isDir && st.mode & S_ISVTX)) return 'world-writable';
  return undefined;
}

function executableFor(st: Stats, runAs: { uid: number; gid: number }): boolean {
  if (runAs.uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === runAs.uid) return (st.mode & C.S_IXUSR) !== 0;
  if (st.gid === runAs.gid) return (st.mode & C.S_IXGRP) !== 0;
  return (st.mode & C.S_IXOTH) !== 0;
}

function findInPath(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(':')) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, C.F_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function checkScriptSecurity(line: string, runAs: { uid: number; gid: number }, opts: CheckOptions = {}): ScriptCheck {
  const split = splitCommandLine(line);
  if (isCommandLineError(split)) return { ok: false, error: 'bad-line', reason: split.message };
  const prog = split.argv[0]!;
  const path = prog.includes('/')
    ? prog
    : findInPath(prog, opts.pathEnv ?? process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (!path) return { ok: false, error: 'not-found', reason: `Cannot find script '${prog}' in path` };
  let real: string;
  let st: Stats;
  try {
    real = realpathSync(path);
    st = statSync(real);
  } catch {
    return { ok: false, path, error: 'not-found', reason: `Cannot find script '${path}'` };
  }
  if (!st.isFile() || !executableFor(st, runAs)) {
    return { ok: false, path, error: 'not-executable', reason: `script '${path}' is not executable for uid:gid ${runAs.uid}:${runAs.gid}` };
  }
  // Only a script run by root (or as a user other than its owner) can be used to escalate; we
  // check against "anyone but root and the run user" in every case.
  const abs = isAbsolute(path) ? path : join(process.cwd(), path);
  const toCheck = new Set<string>([...ancestors(abs), ...ancestors(real)]);
  for (const p of toCheck) {
    let s: Stats;
    try {
      s = statSync(p);
    } catch {
      continue;
    }
    const why = writableByOthers(s, runAs, s.isDirectory());
    if (why) return { ok: false, path, error: 'insecure', reason: `Unsafe permissions found for script '${path}': ${p} is ${why}` };
  }
  return { ok: true, path };
}

export interface ScriptToCheck {
  /** a label for messages, e.g. "vrrp_script chk_haproxy" or "notify_master VI_1" */
  name: string;
  /** set for a vrrp_script: its name, for keepalived's exact "Disabling track script" message */
  vrrpScript?: string;
  line: string;
  uid: number;
  gid: number;
}

export interface SecurityReport {
  allowed: Set<string>;
  /** name -> keepalived-style reason */
  refused: Map<string, string>;
  messages: string[];
  insecureCount: number;
}

export function evaluateScripts(scripts: readonly ScriptToCheck[], enableScriptSecurity: boolean, opts: CheckOptions = {}): SecurityReport {
  const allowed = new Set<string>();
  const refused = new Map<string, string>();
  const messages: string[] = [];
  let insecureCount = 0;
  let anyRoot = false;
  for (const s of scripts) {
    if (s.uid === 0) anyRoot = true;
    const r = checkScriptSecurity(s.line, { uid: s.uid, gid: s.gid }, opts);
    if (r.ok) {
      allowed.add(s.name);
      continue;
    }
    if (r.error === 'insecure') {
      insecureCount++;
      if (enableScriptSecurity) {
        // keepalived 2.2.7 prints exactly this for a vrrp_script; we add the detail after it
        messages.push(
          s.vrrpScript !== undefined
            ? `Disabling track script ${s.vrrpScript} due to insecure (${r.reason})`
            : `${r.reason} - disabling ${s.name}.`,
        );
        refused.set(s.name, r.reason);
      } else {
        messages.push(`${r.reason}.`);
        allowed.add(s.name);
      }
    } else {
      // keepalived disables a script it cannot find or execute, security or not
      messages.push(`WARNING - ${r.reason} - disabling ${s.name}.`);
      refused.set(s.name, r.reason);
    }
  }
  if (!enableScriptSecurity && anyRoot && scripts.length > 0) {
    messages.push(
      `SECURITY VIOLATION - scripts are being executed but script_security not enabled.${insecureCount > 0 ? ' There are insecure scripts.' : ''}`,
    );
  }
  return { allowed, refused, messages, insecureCount };
}
