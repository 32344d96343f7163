// Logging: pino underneath (structured, fast), written where operators look, as keepalived does:
// - syslog (the default outside systemd; -G: none), facility from -S (default daemon), tag
//   "Keepalived_vrrp" so existing rsyslog filters keep matching;
// - the console with -l: "2026-11-28 04:50:00.123 Keepalived_vrrp: (VI_1) Entering MASTER STATE";
// - under systemd (stderr is the journal stream): stderr lines prefixed with their syslog
//   priority, "<6>(VI_1) Entering MASTER STATE" (sd-daemon(3)), so `journalctl -p err` works;
// - a file with -g, one write per line;
// - --log-json: pino's JSON lines instead of the human text, on each of those.
import { pino, type Logger, type DestinationStream } from 'pino';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

export type LogFormat = 'console' | 'json';

export interface LogOptions {
  format: LogFormat;
  /** -D/--log-detail: debug level */
  detail?: boolean;
  /** where console (or journal) lines go (default process.stderr) */
  stream?: NodeJS.WritableStream;
  /** syslog-style identifier printed on console lines and used as the syslog tag */
  ident?: string;
  /** human lines on `stream` (default true when neither syslog nor journal is asked for) */
  console?: boolean;
  /** stderr is the journal: `<N>` priority prefixes, no timestamp (journald adds its own) */
  journal?: boolean;
  /** syslog: facility number (3 daemon, 16-23 local0-7) and the socket (default /dev/log) */
  syslog?: { facility: number; socket?: string };
  /** -g: append lines to this file */
  file?: string;
  /** called with each FATAL message (the forking parent reports it); `onStderr`: already written there */
  onFatal?: (msg: string, onStderr: boolean) => void;
}

/** The daemon's logger and what it holds open (the syslog writer, the log file). */
export type DaemonLogger = Logger & { closeSinks?: () => void };

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** pino level -> syslog severity (RFC 5424): fatal crit, error err, warn warning, info, debug. */
export function syslogSeverity(level: number): number {
  return level >= 60 ? 2 : level >= 50 ? 3 : level >= 40 ? 4 : level >= 30 ? 6 : 7;
}

/** The socket syslog(3) writes to; tests point the daemon at their own. */
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

/**
 * Is stderr the journal? systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected;
 * sd-daemon(3) says to compare it with stderr's, so a shell started from a unit (which inherits
 * the variable, not the stream) is not mistaken for the journal.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  try {
    const st = fstatSync(2);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * A syslog writer: util-linux's logger(1), started once, reading "<PRI>message" lines on its
 * stdin and sending each as one datagram with the RFC 3164 header syslog(3) would write
 * ("<30>Dec  3 12:35:20 Keepalived_vrrp[PID]: ..."). Node has no AF_UNIX datagram socket; this
 * needs no native module and no install script (logger is in bsdutils, Essential in Debian).
 */
class SyslogWriter {
  private child: ChildProcess | undefined;
  private dead = false;

  constructor(
    socket: string,
    tag: string,
    private readonly fallback: (line: string) => void,
  ) {
    this.child = spawn('logger', ['--prio-prefix', '--socket-errors=off', '-u', socket, '-t', tag, `--id=${process.pid}`], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const gone = () => {
      this.dead = true;
    };
    this.child.on('error', gone);
    this.child.on('exit', gone);
    // a logger that died must not take the daemon with it (EPIPE)
    this.child.stdin!.on('error', gone);
    // the writer never keeps a stopping daemon alive
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  private pending = '';

  write(pri: number, msg: string): void {
    if (this.dead || !this.child?.stdin?.writable) {
      this.fallback(msg);
      return;
    }
    // one line each: a message with newlines would become several syslog records
    this.pending += `<${pri}>${msg.replace(/\n/g, ' ')}\n`;
  }

  /** the lines of this turn of the event loop in one write (logger reads them line by line) */
  flush(): void {
    if (!this.pending) return;
    const lines = this.pending;
    this.pending = '';
    if (!this.dead && this.child?.stdin?.writable) this.child.stdin.write(lines);
  }

  close(): void {
    this.flush();
    this.child?.stdin?.end();
  }
}

/** the loggers' pending lines, written out when the process exits (one listener for all) */
const exitFlushers = new Set<() => void>();
process.on('exit', () => {
  for (const f of exitFlushers) f();
});

export function createLogger(opts: LogOptions): DaemonLogger {
  const level = opts.detail ? 'debug' : 'info';
  const out = opts.stream ?? process.stderr;
  const ident = opts.ident ?? 'Keepalived_vrrp';
  const json = opts.format === 'json';
  const toConsole = opts.console ?? (!opts.journal && !opts.syslog && !opts.file);
  let fileFd: number | undefined;
  if (opts.file) {
    try {
      fileFd = openSync(opts.file, 'a', 0o640);
    } catch (err) {
      out.write(`${ident}: cannot open log file ${opts.file}: ${(err as Error).message}\n`);
    }
  }
  let syslog: SyslogWriter | undefined;
  let syslogFallback = false;
  if (opts.syslog) {
    const socket = opts.syslog.socket ?? DEFAULT_SYSLOG_SOCKET;
    // no syslog daemon (a container): the lines would be lost; they go to stderr instead
    if (existsSync(socket)) syslog = new SyslogWriter(socket, ident, (l) => toOut(`${l}\n`));
    else syslogFallback = !toConsole && !opts.journal;
  }
  const facility = opts.syslog?.facility ?? 3;
  // Console (or journal) and syslog lines are gathered and written once per turn of the event
  // loop, at exit, before a FATAL's handler, or at 64 KB: a reload that changes 1,000
  // priorities logs 1,000 lines, and a write (a syscall, and a libuv request for the syslog
  // pipe) per line was a good part of its time. The order of the lines is kept.
  let outPending = '';
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (outPending) {
      const lines = outPending;
      outPending = '';
      out.write(lines);
    }
    syslog?.flush();
  };
  const toOut = (line: string): void => {
    outPending += line;
    if (outPending.length > 65_536) flush();
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };
  const queueSyslog = (pri: number, msg: string): void => {
    syslog?.write(pri, msg);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };
  exitFlushers.add(flush);
  const dest = new Writable({
    // pino writes strings: kept as they are, not made a Buffer to be decoded back (a reload that
    // changes 1,000 priorities logs 1,000 lines)
    decodeStrings: false,
    write(chunk: Buffer | string, _enc, cb) {
      for (const line of (typeof chunk === 'string' ? chunk : chunk.toString('utf8')).split('\n')) {
        if (!line) continue;
        let o: { level: number; time: number; msg?: string; err?: { message?: string } };
        try {
          o = JSON.parse(line) as typeof o;
        } catch {
          toOut(line + '\n');
          continue;
        }
        const msg = `${o.msg ?? ''}${o.err?.message ? ` (${o.err.message})` : ''}`;
        const lvl = o.level >= 40 ? `${LEVEL_NAMES[o.level] ?? o.level}: ` : '';
        const human = `${formatTime(o.time)} ${ident}: ${lvl}${msg}`;
        const sev = syslogSeverity(o.level);
        if (toConsole || syslogFallback) toOut(`${json ? line : human}\n`);
        // the priority says the level: no "WARN:" in the journal and syslog text, as keepalived
        if (opts.journal) toOut(`<${sev}>${json ? line : msg}\n`);
        if (syslog) queueSyslog(facility * 8 + sev, json ? line : msg);
        if (fileFd !== undefined) {
          try {
            writeSync(fileFd, `${json ? line : human}\n`);
          } catch {
            /* disk full: keep running */
          }
        }
        if (o.level >= 60) {
          flush();
          opts.onFatal?.(msg, (toConsole || syslogFallback || !!opts.journal) && out === process.stderr);
        }
      }
      cb();
    },
  }) as unknown as DestinationStream;
  const logger = pino(json ? { level, base: { ident: opts.ident ?? 'keepalived-ts' } } : { level, base: undefined }, dest) as DaemonLogger;
  if (syslogFallback) logger.warn(`no syslog socket at ${opts.syslog!.socket ?? DEFAULT_SYSLOG_SOCKET}: logging to stderr`);
  logger.closeSinks = () => {
    flush();
    exitFlushers.delete(flush);
    syslog?.close();
    if (fileFd !== undefined) {
      try {
        closeSync(fileFd);
      } catch {
        /* closed */
      }
      fileFd = undefined;
    }
  };
  return logger;
}
