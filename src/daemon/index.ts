// The daemon's entry point: read the configuration, check what the process may do, run every
// vrrp_instance, stop gracefully on SIGTERM/SIGINT. The CLI (src/cli.ts) calls runDaemon().
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { Logger } from 'pino';
import { parseConfigFile } from '../config/index.js';
import { CAP_NET_ADMIN, CAP_NET_RAW, capabilityName, missingCapabilities } from '../net/capabilities.js';
import { Daemon } from './daemon.js';
import type { KeepalivedConfig } from '../config/model.js';
import { LvsRunner } from '../lvs/index.js';
import { Ipvs } from '../lvs/ipvs-netlink.js';
import { SyncDaemonDriver } from '../lvs/sync-daemon.js';
import { createLogger } from './log.js';
import { dumpFiles, startStatusServer, writeDataFiles, writeStatsFile, type StatusServer } from './status.js';

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
  /** -I: leave the IPVS table as it is at stop */
  dontReleaseIpvs?: boolean;
  /** JSON log lines instead of human ones */
  logJson?: boolean;
  /** --status-listen HOST:PORT: serve /metrics and /status */
  statusListen?: string;
  /** where SIGUSR1 / SIGUSR2 write keepalived-ts.data / .json / .stats (default /tmp) */
  dataDir?: string;
  /** --watch-config: reload when the configuration files change (debounced, the SIGHUP path) */
  watchConfig?: boolean;
  /** --notify-timeout SECONDS: run limit of each notify script (default 30) */
  notifyTimeoutS?: number;
}

/** Exit codes of the running daemon (keepalived's: 0 ok, 1 could not start, 3 bad config). */
export const DaemonExit = { ok: 0, startFailed: 1, badConfig: 3 } as const;

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
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Start the daemon; resolves with the exit code once it has stopped. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  const log = createLogger({ format: options.logJson ? 'json' : 'console', detail: options.logDetail });
  log.info(`Starting keepalived-ts (pid ${process.pid}), configuration ${options.configFile}`);

  const missing = missingCapabilities([CAP_NET_RAW, CAP_NET_ADMIN]);
  if (missing.length) {
    log.fatal(`missing capabilit${missing.length > 1 ? 'ies' : 'y'} ${missing.map(capabilityName).join(', ')}: keepalived-ts needs CAP_NET_RAW (VRRP, ARP and ND sockets) and CAP_NET_ADMIN (addresses, routes, links). Run it as root, or grant them (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN; docker: --cap-add NET_RAW --cap-add NET_ADMIN).`);
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
  if (parsed.diagnostics.some((d) => d.category === 'file-not-found' && d.line === 0) || parsed.diagnostics.some((d) => d.category === 'fatal')) {
    log.fatal('cannot run with this configuration');
    return DaemonExit.badConfig;
  }

  if (options.pidFile) {
    try { writeFileSync(options.pidFile, `${process.pid}\n`); } catch (err) { log.warn(`cannot write pid file ${options.pidFile}: ${(err as Error).message}`); }
  }

  // -C: the LVS side only (keepalived's checker process); -P: VRRP only. Both run in this one
  // event loop otherwise: IPVS writes are asynchronous netlink requests (README: LVS).
  const vrrpPart = (c: KeepalivedConfig): KeepalivedConfig => (options.checkOnly && !options.vrrpOnly
    ? { ...c, vrrpInstances: [], vrrpSyncGroups: [], staticIpAddresses: [], staticRoutes: [], staticRules: [] } : c);
  const lvsLog = { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m), debug: (m: string) => log.debug(m) };
  const lvs = options.vrrpOnly && !options.checkOnly ? undefined : new LvsRunner(lvsLog, { dontRelease: options.dontReleaseIpvs });
  // lvs_sync_daemon: with `inst` the VRRP side drives it (keepalived's VRRP process does), else the
  // LVS side; its own IPVS socket, opened only when the keyword is there
  const syncDaemon = new SyncDaemonDriver(() => Ipvs.open(), lvsLog,
    options.vrrpOnly && !options.checkOnly ? 'vrrp' : options.checkOnly && !options.vrrpOnly ? 'lvs' : 'both');
  const daemon = new Daemon(vrrpPart(parsed.config), {
    log, notifyTimeoutMs: options.notifyTimeoutS !== undefined ? options.notifyTimeoutS * 1000 : undefined,
    onInstanceState: (name, _from, to) => void syncDaemon.vrrpState(name, to),
  });
  const snapshot = () => ({ ...daemon.snapshot(), ...(lvs ? { lvs: lvs.status() } : {}) });
  let closeExtras: () => Promise<void> = async () => undefined;
  let stopping: Promise<number> | undefined;
  const stop = (signal: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`Stopping (${signal})`);
      if (reloading) await reloading; // never stop half-way through a reload
      // bounded: a hung notify_stop script must not keep the daemon alive forever
      await closeExtras().catch(() => undefined);
      await lvs?.stop().catch((err: Error) => log.error(`LVS stop: ${err.message}`));
      await syncDaemon.stop();
      const done = daemon.stop().then(() => true, (err: Error) => { log.error(`stop: ${err.message}`); return true; });
      const finished = await Promise.race([done, new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
      if (!finished) log.warn('stop took longer than 10 s; exiting anyway');
      if (options.pidFile) { try { unlinkSync(options.pidFile); } catch { /* gone */ } }
      log.info('Stopped');
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
    if (reloading) { reloadAgain = true; return; }
    reloading = (async () => {
      do {
        reloadAgain = false;
        const t0 = performance.now();
        log.info(`Reloading configuration (${why})`);
        const next = parseConfigFile(options.configFile, { configId: options.configId });
        const errors = next.diagnostics.filter((d) => d.severity === 'error');
        for (const d of next.diagnostics) if (d.severity !== 'info') logDiagnostic(log, d);
        if (errors.length > 0) {
          log.error(`Reload aborted: ${errors.length} error(s) in the configuration; still running the previous one, unchanged`);
          daemon.reloads.failed++;
          continue;
        }
        // the two sides share nothing: reloaded side by side
        const [sum] = await Promise.all([
          daemon.reload(vrrpPart(next.config)),
          lvs?.reload(next.config).catch((err: Error) => log.error(`LVS reload: ${err.message}`)),
          syncDaemon.reload(next.config),
        ]);
        daemon.reloads.lastMs = Date.now();
        daemon.reloads.lastDurationMs = performance.now() - t0;
        log.info(`Reload done in ${(performance.now() - t0).toFixed(1)} ms: ${sum.unchanged.length} unchanged, ${sum.changed.length} changed${sum.changed.length ? ` (${sum.changed.join(', ')})` : ''}, ${sum.added.length} added${sum.added.length ? ` (${sum.added.join(', ')})` : ''}, ${sum.removed.length} removed${sum.removed.length ? ` (${sum.removed.join(', ')})` : ''}`);
      } while (reloadAgain && !stopping);
    })().catch((err: Error) => log.error(`reload failed: ${err.message}`)).finally(() => { reloading = undefined; });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));

  // SIGUSR1: data dump + JSON; SIGUSR2: statistics (keepalived's signals, files in --data-dir)
  const files = dumpFiles(options.dataDir ?? '/tmp');
  process.on('SIGUSR1', () => {
    try { writeDataFiles(files, snapshot()); log.info(`data written to ${files.data} and ${files.json}`); } catch (err) { log.error(`SIGUSR1: ${(err as Error).message}`); }
  });
  process.on('SIGUSR2', () => {
    try { writeStatsFile(files, snapshot()); log.info(`statistics written to ${files.stats}`); } catch (err) { log.error(`SIGUSR2: ${(err as Error).message}`); }
  });

  // the LVS side starts beside VRRP (keepalived runs them in two processes)
  const lvsStarted = lvs?.start(parsed.config).catch((err: Error) => log.error(`LVS start: ${err.message}`));
  const syncStarted = syncDaemon.start(parsed.config);
  try {
    await daemon.start();
  } catch (err) {
    log.fatal(`cannot start: ${(err as Error).message}`);
    await lvs?.stop().catch(() => undefined);
    await syncStarted;
    await syncDaemon.stop();
    await daemon.stop().catch(() => undefined);
    return DaemonExit.startFailed;
  }
  log.info(`started ${daemon.runners.length} VRRP instance(s)`);
  await lvsStarted;
  await syncStarted;
  let statusServer: StatusServer | undefined;
  // the flags win; global_defs' keepalived_ts_status_listen / keepalived_ts_watch_config otherwise
  const statusListen = options.statusListen ?? parsed.config.globalDefs.statusListen;
  if (statusListen) {
    try {
      statusServer = await startStatusServer(statusListen, () => snapshot());
      log.info(`status and metrics on http://${statusServer.address}/status and /metrics`);
    } catch (err) {
      log.error(`status server: ${(err as Error).message}`);
    }
  }
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
  closeExtras = async () => { await statusServer?.close(); await watcher?.close(); };
  if (process.env.NOTIFY_SOCKET) {
    // systemd Type=notify: READY once every socket is open (systemd-notify handles abstract sockets)
    spawn('systemd-notify', ['--ready', `--pid=${process.pid}`], { stdio: 'ignore' }).on('error', () => undefined);
  }
  return exitCode;
}
