// The keepalived-ts command: option parsing, -t (config test), --dump-conf, and the run path.
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DaemonOptions } from '../daemon/index.js';
import { parseCliArgs, SIGNUM, usage } from './args.js';
import { loadConfigApi, type ConfigApi } from './config-api.js';
import {
  fsConfigFileProblem,
  parseWith,
  report,
  runConfigTest,
  shortHostname,
  sysInterfaceExists,
  type ConfigFileProblem,
} from './config-test.js';
import { configTestExitCode, ExitCode } from './exit-codes.js';
import { safeWrite } from './output.js';
import { fetchStatus, formatStatusTable } from './status.js';
import { forkDaemon, READY_FD_ENV, readyChannel, type ForkResult } from './daemonize.js';
import { checkNamespace, NETNS_ENV, runInNamespace } from './netns.js';

// (moved to config-test.ts with the -t path; kept exported here for existing callers)
export { fsConfigFileProblem, sysInterfaceExists, type ConfigFileProblem };

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** where the parser comes from (tests inject one) */
  loadConfigApi: () => Promise<ConfigApi>;
  interfaceExists: (ifname: string) => boolean;
  runDaemon: (o: DaemonOptions) => Promise<number>;
  /** without -n: start the daemon in the background and wait until it is ready (daemonize.ts) */
  forkDaemon?: (argv: readonly string[]) => Promise<ForkResult>;
  /** -s NAME: run argv again inside the network namespace (netns.ts) */
  runInNamespace?: (name: string, argv: readonly string[]) => Promise<number>;
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
  forkDaemon: (argv) => forkDaemon(process.argv[1]!, argv),
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
  // `genhash`: keepalived's separate tool, with its own options (src/cli/genhash.ts)
  if (argv[0] === 'genhash') return (await import('./genhash.js')).runGenhash(argv.slice(1), io);
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) {
    io.stderr(parsed.message + '\n');
    return parsed.exitCode;
  }
  const opts = parsed.options;
  // -s: the daemon (and -t, which looks at interfaces) run inside the namespace; this process
  // only waits for them there
  if (
    opts.namespace !== undefined &&
    (opts.action === 'run' || opts.action === 'config-test') &&
    process.env[NETNS_ENV] !== opts.namespace
  ) {
    const why = checkNamespace(opts.namespace);
    if (why) {
      io.stderr(`keepalived-ts: ${why}\n`);
      return ExitCode.usage;
    }
    return (io.runInNamespace ?? ((n, a) => runInNamespace(n, process.argv[1]!, a)))(opts.namespace, argv);
  }
  // the daemon logs its warnings where its log goes (syslog, journal); the other actions print them
  if (opts.action !== 'run') for (const w of opts.warnings) io.stderr(`keepalived-ts: ${w}\n`);
  switch (opts.action) {
    case 'help':
      io.stdout(usage() + '\n');
      return ExitCode.ok;
    case 'version':
      io.stdout(`keepalived-ts v${packageVersion()} (keepalived 2.2.7 configuration compatible)\n`);
      return ExitCode.ok;
    case 'signum': {
      const n = SIGNUM[opts.signum ?? ''];
      if (n === undefined) {
        io.stderr(
          opts.signum && opts.signum in SIGNUM ? `${opts.signum} is not supported by keepalived-ts\n` : `Unknown sigfunc ${opts.signum}\n`,
        );
        return ExitCode.usage;
      }
      io.stdout(`${n}\n`);
      return ExitCode.ok;
    }
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
      // keepalived forks unless -n; the child (READY_FD_ENV set) is the daemon itself
      if (!opts.dontFork && process.env[READY_FD_ENV] === undefined && io.forkDaemon) {
        const r = await io.forkDaemon(argv);
        if (r.message) io.stderr(`keepalived-ts: ${r.message}\n`);
        return r.code;
      }
      const parent = readyChannel();
      return io.runDaemon({
        configFile: file,
        configId: opts.configId ?? shortHostname(),
        dontFork: opts.dontFork,
        logConsole: opts.logConsole,
        logDetail: opts.logDetail,
        pidFile: opts.pidFile,
        vrrpOnly: opts.vrrpOnly,
        checkOnly: opts.checkOnly,
        singleProcess: opts.singleProcess,
        dontReleaseIpvs: opts.dontReleaseIpvs,
        logJson: opts.json,
        statusListen: opts.statusListen,
        statusSocket: opts.statusSocket,
        logFacility: opts.logFacility,
        noSyslog: opts.noSyslog,
        logFile: opts.logFile,
        umask: opts.umask,
        startWarnings: opts.warnings,
        dataDir: opts.dataDir,
        watchConfig: opts.watchConfig,
        notifyTimeoutS: opts.notifyTimeoutS,
        ...(parent ? { onReady: parent.ready, onFatal: parent.fatal } : {}),
      });
    }
    case 'status': {
      try {
        const snap = await fetchStatus({ listen: opts.statusListen, socket: opts.statusSocket });
        io.stdout(opts.json ? JSON.stringify(snap, null, 2) + '\n' : formatStatusTable(snap));
        return ExitCode.ok;
      } catch (err) {
        io.stderr(`keepalived-ts status: ${(err as Error).message}\n`);
        return ExitCode.programError;
      }
    }
  }
}
