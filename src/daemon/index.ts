// The daemon's entry point: read the configuration, check what the process may do, run every
// vrrp_instance, stop gracefully on SIGTERM/SIGINT. The CLI (src/cli.ts) calls runDaemon().
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { Logger } from 'pino';
import { judgeConfig, parseConfigFile, REFUSED_EXIT_CODE } from '../config/index.js';
import { startOrphanReaper, type OrphanReaper } from '../track/reaper.js';
import { CAP_NET_ADMIN, CAP_NET_RAW, capabilityName, missingCapabilities } from '../net/capabilities.js';
import { Daemon } from './daemon.js';
import type { KeepalivedConfig } from '../config/model.js';
import { SyncDaemonDriver } from '../lvs/sync-daemon.js';
import { CHECKER_PARENT_ENV, CheckerChild, checkerChildArgs, checkerPidFile } from './checker-child.js';
import { createLogger, stderrIsJournal, type LogOptions } from './log.js';
import {
  checkListen,
  DEFAULT_STATUS_SOCKET,
  dumpFiles,
  startStatusServer,
  startStatusSocket,
  writeDataFiles,
  writeStatsFile,
  type StatusServer,
} from './status.js';

export interface DaemonOptions {
  /** configuration file (-f), already resolved to an absolute path */
  configFile: string;
  /** -i: configuration id for conditional (@id) lines; defaults to the short hostname */
  configId: string;
  /** -n: stay in the foreground (keepalived-ts always does: systemd runs it as Type=notify) */
  dontFork: boolean;
  /** -l: log to the console as well */
  logConsole: boolean;
  /** -D: detailed log messages */
  logDetail: boolean;
  /** -p: pid file of the main process */
  pidFile: string;
  /** -P / -C: run only the VRRP or only the checker subsystem (both false: run both) */
  vrrpOnly: boolean;
  checkOnly: boolean;
  /** --single-process: VRRP and LVS in this one process even when both are configured */
  singleProcess?: boolean;
  /** -I: leave the IPVS table as it is at stop */
  dontReleaseIpvs?: boolean;
  /** JSON log lines instead of human ones */
  logJson?: boolean;
  /** --status-listen HOST:PORT: serve /metrics and /status over TCP too */
  statusListen?: string;
  /** --status-socket PATH: the root-only Unix socket (default DEFAULT_STATUS_SOCKET; "none": none) */
  statusSocket?: string;
  /** where SIGUSR1 / SIGUSR2 write keepalived-ts.data / .json / .stats (default /tmp) */
  dataDir?: string;
  /** --watch-config: reload when the configuration files change (debounced, the SIGHUP path) */
  watchConfig?: boolean;
  /** --notify-timeout SECONDS: run limit of each notify script (default 30) */
  notifyTimeoutS?: number;
  /** -S: syslog facility number (default 3, daemon) */
  logFacility?: number;
  /** -G: no syslog */
  noSyslog?: boolean;
  /** -g: log file */
  logFile?: string;
  /** -u: umask for the files the daemon creates */
  umask?: number;
  /** what the command line had to say (stray words, keepalived flags without effect): logged once */
  startWarnings?: string[];
  /** called once the daemon is ready: its sockets open, its pid file written (the forking parent) */
  onReady?: () => void;
  /** called with each FATAL message (the forking parent reports it) */
  onFatal?: (msg: string) => void;
}

/** Exit codes of the running daemon (keepalived's: 0 ok, 1 could not start, 2 refused config). */
export const DaemonExit = { ok: 0, startFailed: 1, badConfig: REFUSED_EXIT_CODE } as const;

/**
 * One configuration diagnostic into the log. The parser's SECURITY VIOLATION warning is left to
 * the daemon, which checks the script files themselves and says it once (it was logged twice,
 * once as ": warning: ..." with no location); a message with no file is logged without one.
 */
function logDiagnostic(log: Logger, d: Diagnostic): void {
  if (d.category === 'security') return;
  const line = d.file ? formatDiagnostic(d) : `${d.keyword ? `${d.keyword}: ` : ''}${d.message}`;
  if (d.severity === 'error') log.error(line);
  else if (d.severity === 'warning') log.warn(line);
  else log.debug(line);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where the log goes, as keepalived decides it: syslog unless -G, the console with -l, a file
 * with -g. Under systemd, stderr is the journal: priority-prefixed lines there instead of syslog
 * (journald forwards to syslog itself; both would double every line).
 */
export function daemonLogOptions(options: DaemonOptions, env: NodeJS.ProcessEnv = process.env, journal = stderrIsJournal(env)): LogOptions {
  return {
    format: options.logJson ? 'json' : 'console',
    detail: options.logDetail,
    journal,
    console: !journal && options.logConsole,
    // KEEPALIVED_TS_SYSLOG_SOCKET: for the tests, which read the lines back from their own socket
    syslog: journal || options.noSyslog ? undefined : { facility: options.logFacility ?? 3, socket: env.KEEPALIVED_TS_SYSLOG_SOCKET },
    file: options.logFile,
    // the one line a caller must see even when the log goes to syslog only
    onFatal: (msg, onStderr) => {
      if (!onStderr) process.stderr.write(`keepalived-ts: ${msg}\n`);
      options.onFatal?.(msg);
    },
  };
}

/** Start the daemon; resolves with the exit code once it has stopped. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const log = createLogger(daemonLogOptions(options));
  log.info(`Starting keepalived-ts (pid ${process.pid}), configuration ${options.configFile}`);
  for (const w of options.startWarnings ?? []) log.warn(w);
  if (options.umask !== undefined) process.umask(options.umask);

  const missing = missingCapabilities([CAP_NET_RAW, CAP_NET_ADMIN]);
  if (missing.length) {
    log.fatal(
      `missing capabilit${missing.length > 1 ? 'ies' : 'y'} ${missing.map(capabilityName).join(', ')}: keepalived-ts needs CAP_NET_RAW (VRRP, ARP and ND sockets) and CAP_NET_ADMIN (addresses, routes, links). Run it as root, or grant them (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN; docker: --cap-add NET_RAW --cap-add NET_ADMIN).`,
    );
    return DaemonExit.startFailed;
  }

  if (options.pidFile && existsSync(options.pidFile)) {
    const old = Number(readFileSync(options.pidFile, 'utf8').trim());
    if (Number.isInteger(old) && old > 0 && old !== process.pid && pidAlive(old)) {
      log.fatal(`daemon is already running (pid ${old}, pid file ${options.pidFile})`);
      return DaemonExit.startFailed;
    }
  }

  const parsed = parseConfigFile(options.configFile, { configId: options.configId });
  for (const d of parsed.diagnostics) logDiagnostic(log, d);
  // the same judgement as a reload's (judgeConfig): what one refuses, the other refuses too
  const verdict = judgeConfig(parsed.diagnostics);
  if (!verdict.run) {
    log.fatal(`${verdict.message}; not starting`);
    return verdict.exitCode;
  }

  const split =
    !options.vrrpOnly &&
    !options.checkOnly &&
    !options.singleProcess &&
    parsed.config.vrrpInstances.length > 0 &&
    parsed.config.virtualServers.length > 0;
  const vrrpOnly = options.vrrpOnly || split;
  // The LVS side's modules (the table, the checkers; IPVS over generic netlink loads when the
  // table opens) only when that side runs in this process: a VRRP-only daemon never needs them.
  // Loaded here, before the pid file: from it to the signal handlers the start stays synchronous.
  const lvsSide = vrrpOnly && !options.checkOnly ? undefined : await Promise.all([import('../lvs/index.js'), import('./checkers.js')]);

  // Before any script runs: what notify/track scripts leave in the background is adopted by us
  // and reaped on SIGCHLD (keepalived does the same), not left a zombie to a slow PID 1.
  let reaper: OrphanReaper | undefined;
  try {
    reaper = startOrphanReaper({
      onReaped: (c) => log.debug(`reaped orphan pid ${c.pid} (${c.signal !== null ? `signal ${c.signal}` : `exit ${c.code}`})`),
    });
  } catch (err) {
    log.warn(`${(err as Error).message}; orphans of scripts are left to PID 1`);
  }

  if (options.pidFile) {
    try {
      writeFileSync(options.pidFile, `${process.pid}\n`);
    } catch (err) {
      log.warn(`cannot write pid file ${options.pidFile}: ${(err as Error).message}`);
    }
  }
  // a daemon that failed to start leaves no pid file behind
  const removePidFile = (): void => {
    if (options.pidFile) {
      try {
        unlinkSync(options.pidFile);
      } catch {
        /* gone */
      }
    }
  };

  // -C: the LVS side only (keepalived's checker process); -P: VRRP only. With both sides
  // configured, the LVS side runs in a checker child (`-n -C`, checker-child.ts) so that its work
  // cannot delay an advert (README: LVS, measured); --single-process keeps one event loop.
  const lvsLog = {
    info: (m: string) => log.info(m),
    warn: (m: string) => log.warn(m),
    error: (m: string) => log.error(m),
    debug: (m: string) => log.debug(m),
  };
  const childSocket = options.pidFile
    ? checkerPidFile(options.pidFile).replace(/\.pid$/, '.sock')
    : `/tmp/keepalived-ts-${process.pid}_checkers.sock`;
  const child = split
    ? new CheckerChild({
        command: [...process.execArgv, process.argv[1]!],
        args: checkerChildArgs({ ...options, pidFile: options.pidFile ? checkerPidFile(options.pidFile) : '', statusSocket: childSocket }),
        statusSocket: childSocket,
        pidFile: options.pidFile ? checkerPidFile(options.pidFile) : '',
        log: lvsLog,
      })
    : undefined;
  const vrrpPart = (c: KeepalivedConfig): KeepalivedConfig =>
    options.checkOnly && !options.vrrpOnly
      ? { ...c, vrrpInstances: [], vrrpSyncGroups: [], staticIpAddresses: [], staticRoutes: [], staticRules: [] }
      : c;
  const lvs = lvsSide ? new lvsSide[0].LvsRunner(lvsLog, { dontRelease: options.dontReleaseIpvs }) : undefined;
  // lvs_sync_daemon: with `inst` the VRRP side drives it (keepalived's VRRP process does), else the
  // LVS side; its own IPVS socket, opened only when the keyword is there
  const syncDaemon = new SyncDaemonDriver(
    async () => (await import('../lvs/ipvs-netlink.js')).Ipvs.open(),
    lvsLog,
    vrrpOnly && !options.checkOnly ? 'vrrp' : options.checkOnly && !options.vrrpOnly ? 'lvs' : 'both',
  );
  const notifyTimeoutMs = options.notifyTimeoutS !== undefined ? options.notifyTimeoutS * 1000 : undefined;
  // the health checkers drive the table through lvs.sink (a no-op while IPVS is unavailable: they
  // still run, log, notify and show in status)
  const checkers = lvs && lvsSide ? new lvsSide[1].CheckerSide(lvsLog, lvs.sink, notifyTimeoutMs) : undefined;
  const daemon = new Daemon(vrrpPart(parsed.config), {
    log,
    notifyTimeoutMs,
    onInstanceState: (name, _from, to) => {
      void syncDaemon.vrrpState(name, to);
      checkers?.vrrpChanged(); // ha_suspend follows the VIPs
    },
  });
  const snapshot = () => ({
    ...daemon.snapshot(),
    ...(lvs ? { lvs: { ...lvs.status(), checkers: checkers?.snapshot() ?? [] } } : child ? { lvs: child.status() } : {}),
  });
  // the checker child's part is asked for at each /status, scrape and SIGUSR1
  const refresh = child ? () => child.refresh() : undefined;
  let closeExtras: () => Promise<void> = async () => undefined;
  let stopping: Promise<number> | undefined;
  const stop = (signal: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`Stopping (${signal})`);
      if (reloading) await reloading; // never stop half-way through a reload
      // bounded: a hung notify_stop script must not keep the daemon alive forever
      await closeExtras().catch(() => undefined);
      // the checker child stops beside the VRRP side (its priority-0 adverts are not delayed)
      const childStopped = child?.stop();
      await checkers?.stop().catch((err: Error) => log.error(`checkers stop: ${err.message}`));
      await lvs?.stop().catch((err: Error) => log.error(`LVS stop: ${err.message}`));
      await syncDaemon.stop();
      const done = daemon.stop().then(
        () => true,
        (err: Error) => {
          log.error(`stop: ${err.message}`);
          return true;
        },
      );
      const finished = await Promise.race([done, new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
      if (!finished) log.warn('stop took longer than 10 s; exiting anyway');
      await childStopped;
      removePidFile();
      reaper?.stop();
      log.info('Stopped');
      log.closeSinks?.();
      // a handle left open by a library must not keep a stopped daemon alive
      setTimeout(() => process.exit(DaemonExit.ok), 200).unref();
      return DaemonExit.ok;
    })();
    return stopping;
  };

  const exitCode = new Promise<number>((resolve) => {
    process.on('SIGTERM', () => void stop('SIGTERM').then(resolve));
    process.on('SIGINT', () => void stop('SIGINT').then(resolve));
  });
  // SIGHUP: reload. One at a time; signals during a reload coalesce into one more reload.
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  const reload = (why: string): void => {
    if (stopping) return;
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = (async () => {
      do {
        reloadAgain = false;
        child?.reload(); // it reads and judges the file itself
        const t0 = performance.now();
        log.info(`Reloading configuration (${why})`);
        const next = parseConfigFile(options.configFile, { configId: options.configId });
        for (const d of next.diagnostics) if (d.severity !== 'info') logDiagnostic(log, d);
        const verdict = judgeConfig(next.diagnostics);
        if (!verdict.run) {
          log.error(`Reload aborted: ${verdict.message}; still running the previous one, unchanged`);
          daemon.reloads.failed++;
          continue;
        }
        // the two sides share nothing: reloaded side by side
        const [sum] = await Promise.all([
          daemon.reload(vrrpPart(next.config)),
          lvs
            ?.reload(next.config)
            .then(() => checkers?.reload(next.config))
            .catch((err: Error) => log.error(`LVS reload: ${err.message}`)),
          syncDaemon.reload(next.config),
        ]);
        daemon.reloads.lastMs = Date.now();
        daemon.reloads.lastDurationMs = performance.now() - t0;
        log.info(
          `Reload done in ${(performance.now() - t0).toFixed(1)} ms: ${sum.unchanged.length} unchanged, ${sum.changed.length} changed${sum.changed.length ? ` (${sum.changed.join(', ')})` : ''}, ${sum.added.length} added${sum.added.length ? ` (${sum.added.join(', ')})` : ''}, ${sum.removed.length} removed${sum.removed.length ? ` (${sum.removed.join(', ')})` : ''}`,
        );
      } while (reloadAgain && !stopping);
    })()
      .catch((err: Error) => log.error(`reload failed: ${err.message}`))
      .finally(() => {
        reloading = undefined;
      });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));

  // SIGUSR1: data dump + JSON; SIGUSR2: statistics (keepalived's signals, files in --data-dir)
  const files = dumpFiles(options.dataDir ?? '/tmp');
  process.on(
    'SIGUSR1',
    () =>
      void (refresh?.() ?? Promise.resolve()).then(() => {
        try {
          writeDataFiles(files, snapshot(), daemon.config);
          log.info(`data written to ${files.data} and ${files.json}`);
        } catch (err) {
          log.error(`SIGUSR1: ${(err as Error).message}`);
        }
      }),
  );
  process.on(
    'SIGUSR2',
    () =>
      void (refresh?.() ?? Promise.resolve()).then(() => {
        try {
          writeStatsFile(files, snapshot());
          log.info(`statistics written to ${files.stats}`);
        } catch (err) {
          log.error(`SIGUSR2: ${(err as Error).message}`);
        }
      }),
  );

  // The listeners open before any instance starts: a port in use or a bad address refuses the start
  // (exit 1, one line) before a VIP is taken, rather than a daemon running without its metrics.
  const listeners: StatusServer[] = [];
  closeExtras = async () => {
    await Promise.all(listeners.map((l) => l.close().catch(() => undefined)));
  };
  const socketPath = options.statusSocket ?? DEFAULT_STATUS_SOCKET;
  if (socketPath !== 'none') {
    try {
      listeners.push(await startStatusSocket(socketPath, () => snapshot(), refresh));
      log.info(`status and metrics on unix:${socketPath} (keepalived-ts status)`);
    } catch (err) {
      // the default socket is a convenience: a second daemon (another -p, another namespace) runs
      // without it; a socket asked for by name must work
      if (options.statusSocket !== undefined) {
        log.fatal(`cannot start: ${(err as Error).message}`);
        removePidFile();
        return DaemonExit.startFailed;
      }
      log.warn(`${(err as Error).message}: running without the status socket (use --status-socket PATH)`);
    }
  }
  // the flag wins; global_defs' keepalived_ts_status_listen otherwise
  const statusListen = options.statusListen ?? parsed.config.globalDefs.statusListen;
  if (statusListen) {
    try {
      const why = checkListen(statusListen);
      if (why) throw new Error(why);
      const tcp = await startStatusServer(statusListen, () => snapshot(), refresh);
      listeners.push(tcp);
      log.info(`status and metrics on http://${tcp.address}/status and /metrics`);
    } catch (err) {
      log.fatal(`cannot start: ${(err as Error).message}`);
      await closeExtras();
      removePidFile();
      return DaemonExit.startFailed;
    }
  }

  // the LVS side starts beside VRRP (keepalived runs them in two processes)
  // the checkers start once the table holds every real server alive per initialAlive (their first
  // checks run 1 s + warmup later, as keepalived's)
  const lvsStarted = lvs
    ?.start(parsed.config)
    .catch((err: Error) => log.error(`LVS start: ${err.message}`))
    .then(() => checkers?.start(parsed.config))
    .catch((err: Error) => log.error(`checkers start: ${err.message}`));
  const syncStarted = syncDaemon.start(parsed.config);
  const childStarted = child?.start();
  try {
    await daemon.start();
  } catch (err) {
    log.fatal(`cannot start: ${(err as Error).message}`);
    await lvsStarted;
    await childStarted;
    await child?.stop();
    await checkers?.stop().catch(() => undefined);
    await lvs?.stop().catch(() => undefined);
    await syncStarted;
    await syncDaemon.stop();
    await daemon.stop().catch(() => undefined);
    await closeExtras();
    removePidFile();
    return DaemonExit.startFailed;
  }
  log.info(`started ${daemon.runners.length} VRRP instance(s)`);
  await lvsStarted;
  await syncStarted;
  await childStarted;
  // a checker child whose parent is gone (killed with SIGKILL) stops: Node has no PR_SET_PDEATHSIG
  const parentPid = Number(process.env[CHECKER_PARENT_ENV]);
  if (options.checkOnly && parentPid > 0) {
    delete process.env[CHECKER_PARENT_ENV]; // not for notify scripts
    setInterval(() => {
      if (process.ppid !== parentPid) void stop('parent gone');
    }, 1000).unref();
  }
  // the flag wins; global_defs' keepalived_ts_watch_config otherwise
  let watcher: { close(): Promise<void> } | undefined;
  if (options.watchConfig || parsed.config.globalDefs.watchConfig) {
    // chokidar: a well-kept watcher (atomic saves by editors, renames); debounced into the SIGHUP path
    const { watch } = await import('chokidar');
    let timer: NodeJS.Timeout | undefined;
    const w = watch(parsed.files, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 20 } });
    w.on('all', () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => reload('configuration file changed'), 200);
    });
    watcher = w;
    log.info(`watching ${parsed.files.length} configuration file(s) for changes`);
  }
  const closeListeners = closeExtras;
  closeExtras = async () => {
    await closeListeners();
    await watcher?.close();
  };
  if (process.env.NOTIFY_SOCKET) {
    // systemd Type=notify: READY once every socket is open (systemd-notify handles abstract sockets)
    spawn('systemd-notify', ['--ready', `--pid=${process.pid}`], { stdio: 'ignore' }).on('error', () => undefined);
  }
  options.onReady?.();
  return exitCode;
}
