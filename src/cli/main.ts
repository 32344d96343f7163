// The keepalived-ts command: option parsing, -t (config test), --dump-conf, and the run path.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { DaemonOptions } from '../daemon/index.js';
import { parseCliArgs, usage, type CliOptions } from './args.js';
import { loadConfigApi, type ConfigApi, type ParseResult } from './config-api.js';
import { configTestExitCode, ExitCode } from './exit-codes.js';
import { DEFAULT_STATUS_LISTEN, fetchStatus, formatStatusTable } from './status.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** where the parser comes from (tests inject one) */
  loadConfigApi: () => Promise<ConfigApi>;
  interfaceExists: (ifname: string) => boolean;
  runDaemon: (o: DaemonOptions) => Promise<number>;
  writeFile: (path: string, data: string) => void;
}

/** An interface exists if the kernel lists it in /sys/class/net (of the current namespace). */
export function sysInterfaceExists(ifname: string): boolean {
  // interface names are at most 15 bytes and never contain '/' (nor are "." / "..")
  if (!ifname || ifname.length > 15 || ifname.includes('/') || ifname === '.' || ifname === '..') return false;
  return existsSync(`/sys/class/net/${ifname}`);
}

export const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  loadConfigApi,
  interfaceExists: sysInterfaceExists,
  // loaded only to run the daemon: its modules (netlink, raw sockets, pino) cost ~200 ms of
  // start-up that -t, --version and `status` do not need
  runDaemon: async (o) => (await import('../daemon/index.js')).runDaemon(o),
  writeFile: (p, d) => writeFileSync(p, d),
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
  try {
    return api.parseConfigFile(file, {
      configId: opts.configId ?? shortHostname(),
      interfaceExists: io.interfaceExists,
    });
  } catch (err) {
    // The parser must turn bad input into diagnostics; an exception here is our bug, not the user's.
    io.stderr(`keepalived-ts: internal error while reading ${file}: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.programError;
  }
}

function report(diags: readonly Diagnostic[]): string {
  return diags.map((d) => formatDiagnostic(d) + '\n').join('');
}

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
    case 'run':
      return io.runDaemon({
        configFile: resolve(opts.configFile),
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
