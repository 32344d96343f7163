// The checker child: with both vrrp_instance and virtual_server blocks (and neither -P, -C nor
// --single-process) the daemon runs the VRRP side itself and the LVS side (IPVS table, health
// checkers) in a second process, `keepalived-ts -n -C` on the same file with the same flags, as
// keepalived's parent forks its checker child. Why: the checkers' work (1,000 real servers, a mass
// change, a start of 100 x 10) then cannot delay an advert (README "LVS (IPVS)", measured).
//
// This side: start the child and wait for its "ready" (the -n fork protocol of
// src/cli/daemonize.ts), pass SIGHUP on, restart it when it dies (backoff 1 s doubling to 30 s,
// back to 1 s after a minute of running), stop it (SIGTERM, then SIGKILL after 10 s) before the
// parent exits, and ask its status socket for the `lvs` part of /status, /metrics and SIGUSR1.
// The child stops by itself when its parent is gone (CHECKER_PARENT_ENV, watched in index.ts):
// Node has no PR_SET_PDEATHSIG.
import { spawn, type ChildProcess } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import type { DaemonSnapshot } from './daemon.js';

/** Set in the checker child: the parent's pid; the child stops when its parent is gone. */
export const CHECKER_PARENT_ENV = 'KEEPALIVED_TS_CHECKER_PARENT';
/** The fork protocol's pipe (src/cli/daemonize.ts READY_FD_ENV; not imported: the CLI's module). */
const READY_FD_ENV = 'KEEPALIVED_TS_READY_FD';

export interface CheckerChildLog {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

export interface CheckerChildOptions {
  /** node's arguments to run the CLI: [...execArgv, script] */
  command: readonly string[];
  /** the CLI arguments of the child (with -n -C) */
  args: readonly string[];
  /** its status socket, asked for the LVS part of the status */
  statusSocket: string;
  /** its pid file (removed if a dead child left it) */
  pidFile: string;
  log: CheckerChildLog;
  /** how long to wait for "ready" (default 60 s) */
  readyTimeoutMs?: number;
  /** more environment for the child */
  env?: Record<string, string>;
}

type Lvs = DaemonSnapshot['lvs'];

export class CheckerChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;
  private lvs: Lvs;
  /** restarts so far (status: `lvs.childRestarts`) */
  restarts = 0;

  constructor(private readonly o: CheckerChildOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the child; resolves when it is ready, or has failed (then it is restarted later). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      const startedAt = Date.now();
      const child = spawn(process.execPath, [...this.o.command, ...this.o.args], {
        stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
        // NOTIFY_SOCKET: systemd hears READY from the main process only (NotifyAccess=main)
        env: { ...process.env, ...this.o.env, NOTIFY_SOCKET: undefined, [READY_FD_ENV]: '3', [CHECKER_PARENT_ENV]: String(process.pid) },
      });
      this.child = child;
      let said = '';
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.o.log.warn(`checker child (pid ${child.pid}) did not say it was ready within ${(this.o.readyTimeoutMs ?? 60_000) / 1000} s`);
        settle();
      }, this.o.readyTimeoutMs ?? 60_000);
      timer.unref();
      const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
      pipe?.on('data', (c: Buffer) => {
        said += c.toString('utf8');
        if (/^ready$/m.test(said)) {
          this.o.log.info(`checker child started (pid ${child.pid}, ${Date.now() - startedAt} ms)`);
          settle();
        }
      });
      pipe?.on('error', () => undefined);
      child.on('error', (err) => {
        this.o.log.error(`cannot start the checker child: ${err.message}`);
      });
      child.on('exit', (code, signal) => {
        settle();
        if (this.child === child) this.child = undefined;
        if (this.stopping) return;
        const ran = Date.now() - startedAt;
        if (ran > 60_000) this.backoffMs = 1000;
        const fatal = said
          .split('\n')
          .filter((l) => l.startsWith('fatal '))
          .map((l) => l.slice(6))
          .join('; ');
        this.o.log.error(
          `checker child (pid ${child.pid}) exited (${signal ? `signal ${signal}` : `exit code ${code}`})${fatal ? `: ${fatal}` : ''}; restarting it in ${this.backoffMs / 1000} s`,
        );
        try {
          unlinkSync(this.o.pidFile);
        } catch {
          /* it removed it */
        }
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          this.restarts++;
          void this.start();
        }, this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      });
    });
  }

  /** SIGHUP (and --watch-config's reload): the child reloads its own copy of the file. */
  reload(): void {
    this.child?.kill('SIGHUP');
  }

  /** Stop the child and wait for it (SIGKILL after timeoutMs). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      this.o.log.warn(`checker child (pid ${child.pid}) still running ${timeoutMs / 1000} s after SIGTERM: killed`);
      child.kill('SIGKILL');
    }, timeoutMs);
    await exited;
    clearTimeout(t);
  }

  /** The child's last `lvs` status (refresh() fetches it). */
  status(): Lvs {
    const childProcess = { ...(this.child?.pid !== undefined ? { pid: this.child.pid } : {}), restarts: this.restarts };
    if (!this.lvs)
      return {
        state: 'unavailable',
        reason: this.child ? 'checker child starting' : 'checker child not running',
        virtualServers: [],
        childProcess,
      };
    return { ...this.lvs, childProcess };
  }

  /** Ask the child's status socket (bounded); keeps the last answer when it does not answer. */
  async refresh(timeoutMs = 2000): Promise<void> {
    if (!this.child) {
      this.lvs = undefined;
      return;
    }
    try {
      const { fetchStatus } = await import('../cli/status.js');
      this.lvs = (await fetchStatus({ socket: this.o.statusSocket }, timeoutMs)).lvs;
    } catch {
      /* starting, stopping or busy: the last answer stands */
    }
  }
}

/**
 * The child's command line: the parent's options that concern the LVS side, -n -C, its own pid
 * file and status socket (never --status-listen: one listener, the parent's).
 */
export function checkerChildArgs(o: {
  configFile: string;
  configId: string;
  pidFile: string;
  statusSocket: string;
  logConsole: boolean;
  logDetail: boolean;
  dontReleaseIpvs?: boolean;
  logJson?: boolean;
  logFacility?: number;
  noSyslog?: boolean;
  logFile?: string;
  umask?: number;
  dataDir?: string;
  notifyTimeoutS?: number;
}): string[] {
  const a = ['-n', '-C', '-f', o.configFile, '-i', o.configId, '-p', o.pidFile, '--status-socket', o.statusSocket];
  if (o.logConsole) a.push('-l');
  if (o.logDetail) a.push('-D');
  if (o.dontReleaseIpvs) a.push('-I');
  if (o.logJson) a.push('--log-json');
  // -S takes a name (0-7 are local0-7): back from the facility number
  const f = o.logFacility;
  if (f !== undefined) a.push('-S', f >= 16 && f <= 23 ? `local${f - 16}` : f === 1 ? 'user' : 'daemon');
  if (o.noSyslog) a.push('-G');
  if (o.logFile !== undefined) a.push(`--log-file=${o.logFile}`);
  if (o.umask !== undefined) a.push('-u', `0${o.umask.toString(8)}`);
  if (o.dataDir !== undefined) a.push('--data-dir', o.dataDir);
  if (o.notifyTimeoutS !== undefined) a.push('--notify-timeout', String(o.notifyTimeoutS));
  return a;
}

/** keepalived's checkers.pid beside the main pid file: /run/keepalived-ts.pid -> /run/keepalived-ts_checkers.pid */
export function checkerPidFile(pidFile: string): string {
  return pidFile.endsWith('.pid') ? `${pidFile.slice(0, -4)}_checkers.pid` : `${pidFile}_checkers`;
}
