// Logging: pino underneath (structured, fast), with two outputs:
// - console (human): "2026-11-28 04:50:00.123 Keepalived_vrrp: (VI_1) Entering MASTER STATE",
//   the wording operators grep for in keepalived's logs;
// - json: pino's own lines, for journald/ELK.
import { pino, type Logger, type DestinationStream } from 'pino';
import { Writable } from 'node:stream';

export type LogFormat = 'console' | 'json';

export interface LogOptions {
  format: LogFormat;
  /** -D/--log-detail: debug level */
  detail?: boolean;
  /** where console lines go (default process.stderr) */
  stream?: NodeJS.WritableStream;
  /** syslog-style identifier printed on console lines */
  ident?: string;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A destination turning pino's JSON lines into one human line each. */
function consoleDestination(out: NodeJS.WritableStream, ident: string): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const o = JSON.parse(line) as { level: number; time: number; msg?: string; err?: { message?: string } };
          const lvl = o.level >= 40 ? ` ${LEVEL_NAMES[o.level] ?? o.level}:` : '';
          const err = o.err?.message ? ` (${o.err.message})` : '';
          out.write(`${formatTime(o.time)} ${ident}:${lvl} ${o.msg ?? ''}${err}\n`);
        } catch {
          out.write(line + '\n');
        }
      }
      cb();
    },
  }) as unknown as DestinationStream;
}

export function createLogger(opts: LogOptions): Logger {
  const level = opts.detail ? 'debug' : 'info';
  const out = opts.stream ?? process.stderr;
  if (opts.format === 'json') {
    return pino({ level, base: { ident: opts.ident ?? 'keepalived-ts' } }, out as DestinationStream);
  }
  return pino({ level, base: undefined }, consoleDestination(out, opts.ident ?? 'Keepalived_vrrp'));
}
