// The keepalived-ts command: option parsing, -t (config test), --dump-conf, and the run path.
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { DaemonOptions } from '../daemon/index.js';
import { parseCliArgs, usage, type CliOptions } from './args.js';
import { loadConfigApi, type ConfigApi, type ParseResult } from './config-api.js';
import { configTestExitCode, ExitCode } from './exit-codes.js';
import { safeWrite } from './output.js';
import { DEFAULT_STATUS_LISTEN, fetchStatus, formatStatusTable } from './status.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** where the parser comes from (tests inject one) */
  loadConfigApi: () => Promise<ConfigApi>;
  interfaceExists: (ifname: string) => boolean;
  runDaemon: (o: DaemonOptions) => Promise<number>;
  writeFile: (path: string, data: string) => void;
  /** what keeps the main configuration file from being read although it exists (see
   *  fsConfigFileProblem); undefined if nothing does */
  configFileProblem?: (path: string) => ConfigFileProblem | undefined;
  /** why --data-dir cannot take the SIGUSR1/SIGUSR2 files; undefined if it can */
  dataDirProblem?: (dir: string) => string | undefined;
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

/** --data-dir must be a directory we can write into (checked at start, not at the first SIGUSR1). */
export function fsDataDirProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory';
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'not writable' : (e.code ?? e.message);
  }
}

/** An interface exists if the kernel lists it in /sys/class/net (of the current namespace). */
export function sysInterfaceExists(ifname: string): boolean {
  // interface names are at most 15 bytes and never contain '/' (nor are "." / "..")
  if (!ifname || ifname.length > 15 || ifname.includes('/') || ifname === '.' || ifname === '..') return false;
  return existsSync(`/sys/class/net/${ifname}`);
}

export const defaultIo: CliIo = {
  // nothing is written once the reader has gone (`| head -1`): see output.ts
  stdout: (s) => safeWrite(process.stdout, s),
  stderr: (s) => safeWrite(process.stderr, s),
  loadConfigApi,
  interfaceExists: sysInterfaceExists,
  // loaded only to run the daemon: its modules (netlink, raw sockets, pino) cost ~200 ms of
  // start-up that -t, --version and `status` do not need
  runDaemon: async (o) => (await import('../daemon/index.js')).runDaemon(o),
  writeFile: (p, d) => writeFileSync(p, d),
  configFileProblem: fsConfigFileProblem,
  dataDirProblem: fsDataDirProblem,
};

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function shortHostname(): string {
  return hostname().split('.')[0] ?? '';
}

/** JSON for the typed model: Maps/Sets become objects/arrays, bigints strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (v instanceof Map) return Object.fromEntries(v);
      if (v instanceof Set) return [...v];
      if (typeof v === 'bigint') return v.toString();
      return v;
    },
    2,
  );
}

async function parseWith(io: CliIo, opts: CliOptions): Promise<ParseResult | number> {
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

/** the daemon's exit code for a configuration it cannot run (DaemonExit.badConfig: not imported,
 *  the daemon's modules load only to run it) */
const DAEMON_BAD_CONFIG = 3;

function report(diags: readonly Diagnostic[]): string {
  return diags.map((d) => formatDiagnostic(d) + '\n').join('');
}

/** Run the command; returns the process exit code. Never throws for bad input. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) {
    io.stderr(parsed.message + '\n');
    return parsed.exitCode;
  }
  const opts = parsed.options;
  for (const w of opts.warnings) io.stderr(`keepalived-ts: ${w}\n`);
  switch (opts.action) {
    case 'help':
      io.stdout(usage() + '\n');
      return ExitCode.ok;
    case 'version':
      io.stdout(`keepalived-ts v${packageVersion()} (keepalived 2.2.7 configuration compatible)\n`);
      return ExitCode.ok;
    case 'config-test': {
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
    case 'dump-conf': {
      const r = await parseWith(io, opts);
      if (typeof r === 'number') return r;
      io.stderr(report(r.diagnostics));
      io.stdout(toJson(r.config) + '\n');
      return configTestExitCode(r.diagnostics);
    }
    case 'run': {
      const dirProblem = opts.dataDir !== undefined ? io.dataDirProblem?.(resolve(opts.dataDir)) : undefined;
      if (dirProblem) {
        io.stderr(`keepalived-ts: --data-dir ${opts.dataDir}: ${dirProblem}\n`);
        return ExitCode.usage;
      }
      const file = resolve(opts.configFile);
      const problem = io.configFileProblem?.(file);
      if (problem?.kind === 'not-regular') {
        // the daemon would block reading it; a daemon with no configuration is of no use either
        io.stderr(`keepalived-ts: configuration file ${file} is ${problem.reason}; cannot run\n`);
        return DAEMON_BAD_CONFIG;
      }
      return io.runDaemon({
        configFile: file,
        configId: opts.configId ?? shortHostname(),
        dontFork: opts.dontFork,
        logConsole: opts.logConsole,
        logDetail: opts.logDetail,
        pidFile: opts.pidFile,
        vrrpOnly: opts.vrrpOnly,
        checkOnly: opts.checkOnly,
        logJson: opts.json,
        statusListen: opts.statusListen,
        dataDir: opts.dataDir,
        watchConfig: opts.watchConfig,
        notifyTimeoutS: opts.notifyTimeoutS,
      });
    }
    case 'status': {
      const where = opts.statusListen ?? DEFAULT_STATUS_LISTEN;
      try {
        const snap = await fetchStatus(where);
        io.stdout(opts.json ? JSON.stringify(snap, null, 2) + '\n' : formatStatusTable(snap));
        return ExitCode.ok;
      } catch (err) {
        io.stderr(`keepalived-ts status: ${(err as Error).message}\n`);
        return ExitCode.programError;
      }
    }
  }
}
