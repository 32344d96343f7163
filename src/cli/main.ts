// The keepalived-ts command: option parsing, -t (config test), --dump-conf, and the run path.
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DaemonOptions } from '../daemon/index.js';
import { parseCliArgs, usage } from './args.js';
import { loadConfigApi, type ConfigApi } from './config-api.js';
import {
  fsConfigFileProblem, parseWith, report, runConfigTest, shortHostname, sysInterfaceExists, type ConfigFileProblem,
} from './config-test.js';
import { configTestExitCode, ExitCode } from './exit-codes.js';
import { safeWrite } from './output.js';
import { DEFAULT_STATUS_LISTEN, fetchStatus, formatStatusTable } from './status.js';

// (moved to config-test.ts with the -t path; kept exported here for existing callers)
export { fsConfigFileProblem, sysInterfaceExists, type ConfigFileProblem };

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** where the parser comes from (tests inject one) */
  loadConfigApi: () => Promise<ConfigApi>;
  interfaceExists: (ifname: string) => boolean;
  runDaemon: (o: DaemonOptions) => Promise<number>;
  writeFile: (path: string, data: string) => void;
  /** see fsConfigFileProblem (config-test.ts) */
  configFileProblem?: (path: string) => ConfigFileProblem | undefined;
  /** why --data-dir cannot take the SIGUSR1/SIGUSR2 files; undefined if it can */
  dataDirProblem?: (dir: string) => string | undefined;
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

/** the daemon's exit code for a configuration it cannot run (DaemonExit.badConfig: not imported,
 *  the daemon's modules load only to run it) */
const DAEMON_BAD_CONFIG = 3;

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
    case 'config-test':
      return runConfigTest(io, opts);
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
