// `keepalived-ts status [--json] [--status-socket PATH | --status-listen HOST:PORT]`: asks a running
// daemon for its state (by default over its root-only Unix socket) and prints a table of
// instances, or the JSON itself.
import http from 'node:http';
import type { DaemonSnapshot } from '../daemon/daemon.js';
import { DEFAULT_STATUS_SOCKET, parseListen } from '../daemon/status.js';

/** Where to ask: the TCP listener when one is named, the Unix socket otherwise. */
export interface StatusTarget { listen?: string; socket?: string }

export function fetchStatus(target: StatusTarget, timeoutMs = 3000): Promise<DaemonSnapshot> {
  let where: http.RequestOptions;
  let name: string;
  let hint: string;
  if (target.listen !== undefined) {
    const tcp = parseListen(target.listen);
    if (!tcp) return Promise.reject(new Error(`bad address ${target.listen}: expected HOST:PORT`));
    where = { host: tcp.host, port: tcp.port };
    name = target.listen;
    hint = `is it running with --status-listen ${target.listen}?`;
  } else {
    const socketPath = target.socket ?? DEFAULT_STATUS_SOCKET;
    where = { socketPath };
    name = socketPath;
    hint = process.getuid?.() !== 0 ? 'the socket is root-only: run as root' : 'is keepalived-ts running (with this --status-socket)?';
  }
  return new Promise((resolve, reject) => {
    const req = http.get({ ...where, path: '/status', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${name}`));
        try { resolve(JSON.parse(body) as DaemonSnapshot); } catch { reject(new Error(`${name} did not answer with JSON`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${name} within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error(`cannot reach keepalived-ts at ${name} (${e.message}); ${hint}`)));
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
  const rows = s.instances.map((i) => [
    i.name, i.state, String(i.vrid), i.interface, String(i.priority), String(i.effectivePriority),
    `${i.addressesHeld}/${i.virtualAddresses.length}`, String(i.advertsSent), String(i.advertsReceived),
    String(Object.values(i.drops).reduce((a, b) => a + b, 0)), ago(i.lastTransitionMs, now),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd();
  let out = `keepalived-ts pid ${s.pid}, up ${ago(s.startedAtMs, now).replace(' ago', '')}, reloads ${s.reloads.ok} ok / ${s.reloads.failed} refused\n`;
  out += line(head) + '\n' + rows.map(line).join('\n') + (rows.length ? '\n' : '');
  if (s.trackers.length) {
    out += '\nTRACKER  KIND  STATUS\n';
    for (const t of s.trackers) out += `${t.name}  ${t.kind}  ${t.status}${t.value !== undefined ? ` (${t.value})` : ''}\n`;
  }
  return out;
}
