// `keepalived-ts status [--json] [--status-listen HOST:PORT]`: asks a running daemon (started with
// --status-listen) for its state and prints a table of instances, or the JSON itself.
import http from 'node:http';
import type { DaemonSnapshot } from '../daemon/daemon.js';
import { parseListen } from '../daemon/status.js';

export const DEFAULT_STATUS_LISTEN = '127.0.0.1:9650';

export function fetchStatus(spec: string, timeoutMs = 3000): Promise<DaemonSnapshot> {
  const where = parseListen(spec);
  if (!where) return Promise.reject(new Error(`bad address ${spec}: expected HOST:PORT`));
  return new Promise((resolve, reject) => {
    const req = http.get({ host: where.host, port: where.port, path: '/status', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${spec}`));
        try { resolve(JSON.parse(body) as DaemonSnapshot); } catch { reject(new Error(`${spec} did not answer with JSON`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${spec} within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error(`cannot reach keepalived-ts at ${spec} (${e.message}); is it running with --status-listen ${spec}?`)));
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
  const lvs = s.lvs;
  if (lvs && lvs.state !== 'off') {
    out += `\nLVS: ${lvs.state === 'running' ? `IPVS ${lvs.version ?? ''}`.trim() : `unavailable (${lvs.reason ?? 'no IPVS'})`}\n`;
    for (const v of lvs.virtualServers) {
      out += `${v.name}  quorum ${v.quorumUp ? 'up' : 'DOWN'} (${v.aliveWeight}/${v.quorum}${v.hysteresis ? `±${v.hysteresis}` : ''})${v.sorryActive ? '  SORRY SERVER ACTIVE' : ''}\n`;
      for (const r of v.realServers) out += `  ${r.name}  ${r.alive ? 'up' : 'down'}  weight ${r.weight}  ${r.inTable ? 'in table' : 'not in table'}\n`;
    }
  }
  return out;
}
