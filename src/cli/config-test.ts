// `-t` (config test) and `--dump-conf`'s parse, kept apart from the option parser and the
// daemon: `keepalived-ts -t -f FILE` loads only this module and the parser (src/cli.ts takes that
// path), which halves its start-up; runCli (main.ts) uses the same functions for every other form.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { ConfigApi, ParseResult } from './config-api.js';
import { configTestExitCode, ExitCode } from './exit-codes.js';

/** What the config test needs from the outside world (tests inject their own). */
export interface ConfigTestIo {
  stderr: (s: string) => void;
  /** where the parser comes from (tests inject one) */
  loadConfigApi: () => Promise<ConfigApi>;
  interfaceExists: (ifname: string) => boolean;
  writeFile: (path: string, data: string) => void;
  /** what keeps the main configuration file from being read although it exists (see
   *  fsConfigFileProblem); undefined if nothing does */
  configFileProblem?: (path: string) => ConfigFileProblem | undefined;
}

export interface ConfigFileProblem {
  /** 'unreadable': exists, access(R_OK) fails; 'not-regular': a FIFO, a device, a socket */
  kind: 'unreadable' | 'not-regular';
  reason: string;
}

/**
 * The main file as keepalived 2.2.7 judges it before parsing (measured under -t, as an
 * unprivileged user): a file that exists but cannot be read is "Unable to read configuration
 * file" and exit 4; a FIFO or a device is "not a regular non-executable file - skipping" (exit 0;
 * reading one would block or never end); a missing file or a directory is left to the parser
 * ("Config files missing", "is a directory": exit 0).
 */
export function fsConfigFileProblem(path: string): ConfigFileProblem | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined; // missing (or its directory unreadable): the parser says "Config files missing"
  }
  if (st.isDirectory()) return undefined;
  if (!st.isFile()) return { kind: 'not-regular', reason: 'not a regular file' };
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return { kind: 'unreadable', reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

export interface ConfigTestOptions {
  configFile: string;
  configId?: string;
  /** -t=LOG: diagnostics into this file instead of stderr */
  configTestLog?: string;
}

/** An interface exists if the kernel lists it in /sys/class/net (of the current namespace). */
export function sysInterfaceExists(ifname: string): boolean {
  // interface names are at most 15 bytes and never contain '/' (nor are "." / "..")
  if (!ifname || ifname.length > 15 || ifname.includes('/') || ifname === '.' || ifname === '..') return false;
  return existsSync(`/sys/class/net/${ifname}`);
}

export function shortHostname(): string {
  return hostname().split('.')[0] ?? '';
}

/** Parse the file as the daemon would; a number is the exit code when the parser is unavailable. */
export async function parseWith(io: ConfigTestIo, opts: ConfigTestOptions): Promise<ParseResult | number> {
  let api: ConfigApi;
  try {
    api = await io.loadConfigApi();
  } catch (err) {
    io.stderr(`keepalived-ts: ${(err as Error).message}\n`);
    return ExitCode.programError;
  }
  const file = resolve(opts.configFile);
  const problem = io.configFileProblem?.(file);
  if (problem?.kind === 'unreadable') {
    // keepalived's own words; it stops there, before parsing anything
    io.stderr(`keepalived-ts: Unable to read configuration file ${file} (${problem.reason})\n`);
    return ExitCode.configFatal;
  }
  if (problem) io.stderr(`keepalived-ts: Configuration file '${file}' is ${problem.reason} - skipping\n`);
  try {
    return api.parseConfigFile(file, {
      configId: opts.configId ?? shortHostname(),
      interfaceExists: io.interfaceExists,
      // skipped as keepalived does: parsed as empty instead of read (a FIFO would block for ever)
      ...(problem ? { readFile: (p: string) => (p === file ? '' : readFileSync(p, 'utf8')) } : {}),
    });
  } catch (err) {
    // The parser must turn bad input into diagnostics; an exception here is our bug, not the user's.
    io.stderr(`keepalived-ts: internal error while reading ${file}: ${(err as Error).message ?? String(err)}\n`);
    return ExitCode.programError;
  }
}

export function report(diags: readonly Diagnostic[]): string {
  return diags.map((d) => formatDiagnostic(d) + '\n').join('');
}

/** `-t`: diagnostics to stderr (or the -t=LOG file), exit code as keepalived 2.2.7's. */
export async function runConfigTest(io: ConfigTestIo, opts: ConfigTestOptions): Promise<number> {
  const r = await parseWith(io, opts);
  if (typeof r === 'number') return r;
  const text = report(r.diagnostics);
  if (opts.configTestLog) {
    try {
      io.writeFile(opts.configTestLog, text);
    } catch (err) {
      io.stderr(`keepalived-ts: cannot write ${opts.configTestLog}: ${(err as Error).message}\n${text}`);
    }
  } else {
    io.stderr(text);
  }
  return configTestExitCode(r.diagnostics);
}

// flags that change nothing under -t (keepalived accepts them there too)
const IGNORED_UNDER_TEST = new Set(['-l', '--log-console', '-n', '--dont-fork', '-D', '--log-detail']);

/**
 * The command line when it is a plain config test (`-t -f FILE` in any order, with -i ID and the
 * flags above, each at most once, every value a separate word): what the fast path handles. Any
 * other form (undefined) goes through the full option parser.
 */
export function plainConfigTest(argv: readonly string[]): ConfigTestOptions | undefined {
  let test = false;
  let configFile: string | undefined;
  let configId: string | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (seen.has(a)) return undefined;
    seen.add(a);
    if (a === '-t' || a === '--config-test') {
      if (test) return undefined; // both spellings: left to the option parser
      test = true;
    } else if (IGNORED_UNDER_TEST.has(a)) continue;
    else if (a === '-f' || a === '--use-file' || a === '-i' || a === '--config-id') {
      const v = argv[++i];
      if (v === undefined || v === '' || v.startsWith('-')) return undefined;
      if (a === '-f' || a === '--use-file') {
        if (configFile !== undefined) return undefined;
        configFile = v;
      } else {
        if (configId !== undefined) return undefined;
        configId = v;
      }
    } else return undefined;
  }
  if (!test || configFile === undefined) return undefined;
  return configId !== undefined ? { configFile, configId } : { configFile };
}
