// What the model building asks of the host: do interfaces, script files, users and groups exist.
// Each question can be answered by the caller (tests, -t on another machine): BuildOptions.
import * as fs from 'node:fs';
import type { Ctx } from '../values.js';

export interface BuildOptions {
  interfaceExists?: (ifname: string) => boolean;
  /** does a script file exist (keepalived silently drops scripts it cannot find); default: fs */
  fileExists?: (path: string) => boolean;
  /** where bare command names in scripts are looked up (a PATH string); default process.env.PATH */
  searchPath?: string;
  /** does a system user exist (keepalived's default script user keepalived_script); default /etc/passwd */
  userExists?: (name: string) => boolean;
  /** does a system group exist; default /etc/group */
  groupExists?: (name: string) => boolean;
}

/** keepalived runs scripts as this user when it exists and no script_user is given */
export const DEFAULT_SCRIPT_USER = 'keepalived_script';

export function userExists(name: string, opts: BuildOptions): boolean {
  try {
    if (opts.userExists) return opts.userExists(name);
    // local users only (no NSS): getpwnam is not reachable from Node without a native module
    return fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

export function groupExists(name: string, opts: BuildOptions): boolean {
  try {
    if (opts.groupExists) return opts.groupExists(name);
    return fs
      .readFileSync('/etc/group', 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

function fileExists(f: string, opts: BuildOptions): boolean {
  try {
    return opts.fileExists ? opts.fileExists(f) : fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

/**
 * The file a script's argv[0] names, as keepalived finds it: a name without '/' is looked up in
 * PATH (keepalived's own environment; /usr/bin:/bin when PATH is unset), e.g. "killall -0 sshd"
 * runs /usr/bin/killall. undefined when it cannot be found (keepalived then disables the script).
 */
export function resolveScript(argv0: string, opts: BuildOptions): string | undefined {
  if (argv0.includes('/')) return fileExists(argv0, opts) ? argv0 : undefined;
  if (argv0 === '') return undefined;
  const search = opts.searchPath ?? process.env['PATH'] ?? '/usr/bin:/bin';
  for (const dir of search.split(':')) {
    // an empty PATH element means the current directory, as for execvp
    const candidate = dir === '' ? argv0 : `${dir.replace(/\/+$/, '')}/${argv0}`;
    if (fileExists(candidate, opts)) return candidate;
  }
  return undefined;
}

/** report each missing interface (unless dynamic_interfaces); false when one is missing */
export function checkInterfaces(
  names: readonly string[],
  where: { file: string; line: number },
  c: Ctx,
  opts: BuildOptions,
  msg: (i: string) => string,
): boolean {
  if (!opts.interfaceExists || c.dynamicInterfaces) return true;
  let ok = true;
  for (const i of names) {
    let exists = false;
    try {
      exists = opts.interfaceExists(i);
    } catch {
      exists = false;
    }
    if (!exists) {
      c.global(msg(i), 'bad-interface', 'error', where);
      ok = false;
    }
  }
  return ok;
}
