// `keepalived-ts status [--json] [--status-socket PATH | --status-listen HOST:PORT]`: asks a running
// daemon for its state (by default over its root-only Unix socket) and prints a table of
// instances, or the JSON itself.
import http from 'node:http';
import type { DaemonSnapshot } from '../daemon/daemon.js';
import { DEFAULT_STATUS_SOCKET, parseListen } from '../daemon/status.js';

/** Where to ask: the TCP listener when one is named, the Unix socket otherwise. */
export interface StatusTarget {
  listen?: string;
  socket?: string;
}

const MAX_STATUS_BYTES = 64 * 1024 * 1024;

/** Enough of a DaemonSnapshot's shape for the table not to trip on another service's JSON. */
function isSnapshot(x: unknown): x is DaemonSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<Record<keyof DaemonSnapshot, unknown>>;
  const objects = (v: unknown) => Array.isArray(v) && v.every((i) => typeof i === 'object' && i !== null);
  return (
    typeof o.pid === 'number' &&
    typeof o.reloads === 'object' &&
    o.reloads !== null &&
    objects(o.instances) &&
    (o.trackers === undefined || objects(o.trackers))
  );
}

export function fetchStatus(target: StatusTarget, timeoutMs = 3000): Promise<DaemonSnapshot> {
  let where: http.RequestOptions;
  let spec: string;
  let hint: string;
  if (target.listen !== undefined) {
    const tcp = parseListen(target.listen);
    if (!tcp) return Promise.reject(new Error(`bad address ${target.listen}: expected HOST:PORT`));
    where = { host: tcp.host, port: tcp.port };
    spec = target.listen;
    hint = `is it running with --status-listen ${target.listen}?`;
  } else {
    const socketPath = target.socket ?? DEFAULT_STATUS_SOCKET;
    where = { socketPath };
    spec = socketPath;
    hint = process.getuid?.() !== 0 ? 'the socket is root-only: run as root' : 'is keepalived-ts running (with this --status-socket)?';
  }
  return new Promise((resolve, reject) => {
    const req = http.get({ ...where, path: '/status', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        // a daemon's status is a few kB per instance: whatever answers with more is not ours
        if (body.length > MAX_STATUS_BYTES) {
          reject(new Error(`${spec} answered more than ${MAX_STATUS_BYTES} bytes: not a keepalived-ts status`));
          req.destroy();
        }
      });
      // cut off in the middle of the body (reset, timeout): settle, never leave the command hanging
      res.on('error', () => reject(new Error(timedOut ? `no answer from ${spec} within ${timeoutMs} ms` : `${spec} broke off its answer`)));
      res.on('close', () => {
        if (!res.complete) reject(new Error(timedOut ? `no answer from ${spec} within ${timeoutMs} ms` : `${spec} broke off its answer`));
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${spec}`));
        let snap: unknown;
        try {
          snap = JSON.parse(body);
        } catch {
          return reject(new Error(`${spec} did not answer with JSON`));
        }
        if (!isSnapshot(snap))
          return reject(new Error(`${spec} answered JSON that is not a keepalived-ts status (is it another service?)`));
        resolve(snap);
      });
    });
    let timedOut = false;
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (timedOut) {
        reject(new Error(`no answer from ${spec} within ${timeoutMs} ms`));
      } else if (
        e.code === 'ECONNREFUSED' ||
        e.code === 'ENOENT' ||
        e.code === 'EACCES' ||
        e.code === 'EHOSTUNREACH' ||
        e.code === 'ENETUNREACH' ||
        e.code === 'EADDRNOTAVAIL'
      ) {
        reject(new Error(`cannot reach keepalived-ts at ${spec} (${e.message}); ${hint}`));
      } else {
        // it answered, but not as HTTP (another service on that port), or reset us, or timed out
        reject(new Error(`no usable answer from ${spec}: ${e.message}`));
      }
    });
  });
}

function ago(ms: number, now: number): string {
  if (!ms) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** A fixed-width table, one line per instance. */
export function formatStatusTable(s: DaemonSnapshot, now = Date.now()): string {
  const head = ['INSTANCE', 'STATE', 'VRID', 'IFACE', 'PRIO', 'EFFECTIVE', 'VIPS', 'SENT', 'RECEIVED', 'DROPS', 'LAST CHANGE'];
  // a field missing (a daemon of another version) prints '-', it does not end the command
  const rows = s.instances.map((i) =>
    [
      i.name,
      i.state,
      i.vrid,
      i.interface,
      i.priority,
      i.effectivePriority,
      `${i.addressesHeld ?? '-'}/${i.virtualAddresses?.length ?? '-'}`,
      i.advertsSent,
      i.advertsReceived,
      i.drops ? Object.values(i.drops).reduce((a, b) => a + b, 0) : undefined,
      ago(i.lastTransitionMs, now),
    ].map((v) => String(v ?? '-')),
  );
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => v.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  let out = `keepalived-ts pid ${s.pid}, up ${ago(s.startedAtMs, now).replace(' ago', '')}, reloads ${s.reloads.ok} ok / ${s.reloads.failed} refused\n`;
  out += line(head) + '\n' + rows.map(line).join('\n') + (rows.length ? '\n' : '');
  if (s.trackers.length) {
    out += '\nTRACKER  KIND  STATUS\n';
    for (const t of s.trackers) out += `${t.name}  ${t.kind}  ${t.status}${t.value !== undefined ? ` (${t.value})` : ''}\n`;
  }
  const lvs = s.lvs;
  if (lvs && lvs.state !== 'off') {
    out += `\nLVS: ${lvs.state === 'running' ? `IPVS ${lvs.version ?? ''}`.trim() : `unavailable (${lvs.reason ?? 'no IPVS'})`}\n`;
    for (const v of lvs.virtualServers) {
      out += `${v.name}  quorum ${v.quorumUp ? 'up' : 'DOWN'} (${v.aliveWeight}/${v.quorum}${v.hysteresis ? `±${v.hysteresis}` : ''})${v.sorryActive ? '  SORRY SERVER ACTIVE' : ''}\n`;
      for (const r of v.realServers)
        out += `  ${r.name}  ${r.alive ? 'up' : 'down'}  weight ${r.weight}  ${r.inTable ? 'in table' : 'not in table'}\n`;
    }
  }
  return out;
}
