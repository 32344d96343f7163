// Status and metrics, which keepalived's users keep asking for:
// - GET /metrics: Prometheus text (metrics.ts, with prom-client);
// - GET /status: the daemon snapshot as JSON (what `keepalived-ts status` prints);
// served on a root-only Unix socket by default, and over TCP with --status-listen;
// - the USR1 / USR2 files, keepalived-style: a data dump and statistics, plus the JSON.
// Everything is read from a snapshot at scrape time: nothing is added to the packet path.
import http from 'node:http';
import net from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DaemonSnapshot } from './daemon.js';
import type { KeepalivedConfig } from '../config/model.js';
import { formatKeepalivedData, formatLvsTopology } from './data-dump.js';

export interface StatusServer {
  address: string;
  close(): Promise<void>;
}

/** Where the status socket lives by default: root-only (the directory is 0700, the socket 0600). */
export const DEFAULT_STATUS_SOCKET = '/run/keepalived-ts/status.sock';

/** Parse "HOST:PORT", "[v6]:PORT" or ":PORT" (loopback). */
export function parseListen(spec: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** The one-line reason a --status-listen value is refused, or undefined when it is usable. */
export function checkListen(spec: string): string | undefined {
  return parseListen(spec)
    ? undefined
    : `--status-listen ${JSON.stringify(spec)}: expected HOST:PORT, [IPv6]:PORT or :PORT with a port from 1 to 65535`;
}

/** GET /metrics, GET /status; the same handler serves the Unix socket and TCP. */
async function statusHandler(snapshot: () => DaemonSnapshot, refresh?: () => Promise<void>): Promise<http.RequestListener> {
  // prom-client (~60 ms to load on a host, ~0.3 s in UML) at the first scrape, not at start: the
  // default socket is always open, and a checker child's /metrics is never asked for
  let registry: Promise<ReturnType<typeof import('./metrics.js').createMetrics>> | undefined;
  const metrics = () => (registry ??= import('./metrics.js').then(({ createMetrics }) => createMetrics(snapshot)));
  return (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    // refresh: the checker child's part, asked for first (checker-child.ts)
    if (refresh && (url === '/metrics' || url === '/status')) {
      void refresh().then(() => answer(url, res));
      return;
    }
    answer(url, res);
  };
  function answer(url: string | undefined, res: http.ServerResponse): void {
    if (url === '/metrics') {
      metrics()
        .then(async (r) => {
          const text = await r.metrics();
          res.writeHead(200, { 'content-type': r.contentType });
          res.end(text);
        })
        .catch((err: Error) => {
          res.writeHead(500).end(err.message);
        });
    } else if (url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(snapshot(), null, 2) + '\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /status\n');
    }
  }
}

function listen(server: http.Server, ...args: unknown[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => void)(...args, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** TCP listener for Prometheus (--status-listen). Rejects with a one-line reason (port in use...). */
export async function startStatusServer(
  spec: string,
  snapshot: () => DaemonSnapshot,
  refresh?: () => Promise<void>,
): Promise<StatusServer> {
  const where = parseListen(spec);
  if (!where) throw new Error(checkListen(spec));
  const server = http.createServer(await statusHandler(snapshot, refresh));
  const address = `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`;
  try {
    await listen(server, where.port, where.host);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE'
        ? 'address already in use (another daemon or program listens there)'
        : e.code === 'EADDRNOTAVAIL'
          ? 'no such local address'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
    throw new Error(`--status-listen ${address}: cannot listen: ${why}`);
  }
  return { address, close: () => new Promise((r) => server.close(() => r())) };
}

/** Is a daemon answering on this Unix socket? (a leftover file from a killed daemon does not) */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * The status socket: HTTP over a root-only Unix socket, what `keepalived-ts status` asks by
 * default. No TCP port is opened for it. A leftover socket of a dead daemon is replaced; one a
 * live daemon answers on is not taken over (rejects).
 */
export async function startStatusSocket(
  path: string,
  snapshot: () => DaemonSnapshot,
  refresh?: () => Promise<void>,
): Promise<StatusServer> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (dir === dirname(DEFAULT_STATUS_SOCKET)) chmodSync(dir, 0o700); // ours: root-only even if made by hand
  if (existsSync(path)) {
    if (await socketAnswers(path)) throw new Error(`status socket ${path}: another keepalived-ts answers there`);
    unlinkSync(path);
  }
  const server = http.createServer(await statusHandler(snapshot, refresh));
  // created 0600 (no window where others could connect), whatever the caller's umask
  const umask = process.umask(0o177);
  try {
    await listen(server, path);
  } catch (err) {
    throw new Error(`status socket ${path}: ${(err as Error).message}`);
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  return {
    address: path,
    close: () =>
      new Promise((r) =>
        server.close(() => {
          try {
            unlinkSync(path);
          } catch {
            /* gone */
          }
          r();
        }),
      ),
  };
}

// ---- the USR1 / USR2 files ---------------------------------------------------------------------

function when(ms: number): string {
  return ms ? new Date(ms).toISOString() : 'never';
}

/** SIGUSR1: keepalived's data dump (our layout), one block per instance. */
export function formatData(s: DaemonSnapshot): string {
  let out = `------< keepalived-ts data, ${new Date().toISOString()} >------\n pid = ${s.pid}\n started = ${when(s.startedAtMs)}\n`;
  out += '------< VRRP Topology >------\n';
  for (const i of s.instances) {
    out += ` VRRP Instance = ${i.name}\n   State = ${i.state}\n   Interface = ${i.interface}\n   Virtual Router ID = ${i.vrid}\n`;
    out += `   VRRP version = ${i.version}\n   Priority = ${i.priority}\n   Effective priority = ${i.effectivePriority}\n`;
    out += `   Advert interval = ${i.advertIntervalCs * 10} milli-sec\n   Last transition = ${when(i.lastTransitionMs)}\n`;
    out += `   Virtual IP (${i.virtualAddresses.length}):\n${i.virtualAddresses.map((a) => `     ${a}\n`).join('')}`;
  }
  if (s.trackers.length) {
    out += '------< Trackers >------\n';
    for (const t of s.trackers) out += ` ${t.kind} ${t.name}: ${t.status}${t.value !== undefined ? ` (value ${t.value})` : ''}\n`;
  }
  out += formatLvsTopology(s);
  return out;
}

/** SIGUSR2: keepalived's statistics file layout. */
export function formatStats(s: DaemonSnapshot): string {
  let out = '';
  for (const i of s.instances) {
    const d = i.drops;
    const n = (k: string) => d[k] ?? 0;
    out += `VRRP Instance: ${i.name}\n  Advertisements:\n    Received: ${i.advertsReceived}\n    Sent: ${i.advertsSent}\n`;
    out += `  Became master: ${i.becameMaster}\n  Released master: ${i.releasedMaster}\n  Packet Errors:\n`;
    out += `    Length: ${n('too-short') + n('length-mismatch')}\n    TTL: ${n('ttl-not-255') + n('ttl-out-of-range')}\n`;
    out += `    Invalid Type: ${n('bad-type')}\n    Advertisement Interval: ${n('interval-mismatch')}\n`;
    out += `    Address List: ${n('addr-count-mismatch') + n('addr-list-mismatch')}\n  Authentication Errors:\n`;
    out += `    Invalid Type: ${n('auth-type-mismatch')}\n    Type Mismatch: ${n('ah-unexpected') + n('ah-missing')}\n    Failure: ${n('auth-mismatch')}\n`;
    out += `  Priority Zero:\n    Received: ${i.priorityZeroReceived}\n    Sent: ${i.priorityZeroSent}\n`;
  }
  return out;
}

export interface DumpFiles {
  data: string;
  stats: string;
  json: string;
}

export function dumpFiles(dir: string): DumpFiles {
  return { data: join(dir, 'keepalived-ts.data'), stats: join(dir, 'keepalived-ts.stats'), json: join(dir, 'keepalived-ts.json') };
}

/**
 * SIGUSR1 writes the data dump (keepalived's layout when the configuration is given, data-dump.ts)
 * and the JSON (Node cannot catch keepalived's SIGRTMIN+2 JSON signal).
 */
export function writeDataFiles(files: DumpFiles, s: DaemonSnapshot, cfg?: KeepalivedConfig): void {
  writeFileSync(files.data, cfg ? formatKeepalivedData(s, cfg) : formatData(s));
  writeFileSync(files.json, JSON.stringify(s, null, 2) + '\n');
}

export function writeStatsFile(files: DumpFiles, s: DaemonSnapshot): void {
  writeFileSync(files.stats, formatStats(s));
}
