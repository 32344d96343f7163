// Status and metrics, which keepalived's users keep asking for:
// - GET /metrics: Prometheus text (metrics.ts, with prom-client);
// - GET /status: the daemon snapshot as JSON (what `keepalived-ts status` prints);
// - the USR1 / USR2 files, keepalived-style: a data dump and statistics, plus the JSON.
// Everything is read from a snapshot at scrape time: nothing is added to the packet path.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonSnapshot } from './daemon.js';


export interface StatusServer {
  address: string;
  close(): Promise<void>;
}

/** Parse "HOST:PORT", "[v6]:PORT" or ":PORT" (loopback). */
export function parseListen(spec: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startStatusServer(spec: string, snapshot: () => DaemonSnapshot): Promise<StatusServer> {
  const where = parseListen(spec);
  if (!where) throw new Error(`--status-listen ${spec}: expected HOST:PORT`);
  // prom-client (~60 ms to load) only when metrics are served
  const { createMetrics } = await import('./metrics.js');
  const registry = createMetrics(snapshot);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') { res.writeHead(405).end(); return; }
    if (url === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      }, (err: Error) => { res.writeHead(500).end(err.message); });
    } else if (url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(snapshot(), null, 2) + '\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /status\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => resolve());
  });
  return {
    address: `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`,
    close: () => new Promise((r) => server.close(() => r())),
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
  if (s.lvs && s.lvs.state !== 'off') {
    // keepalived's check process dumps its virtual servers the same way
    out += `------< LVS Topology >------\n IPVS = ${s.lvs.state === 'running' ? `running, version ${s.lvs.version ?? '?'}` : `unavailable (${s.lvs.reason ?? ''})`}\n`;
    for (const v of s.lvs.virtualServers) {
      const c = s.lvs.counters?.[v.name];
      out += ` VS = ${v.name}\n   Services = ${v.services.join(', ')}\n   Quorum = ${v.quorum}, hysteresis = ${v.hysteresis}, ${v.quorumUp ? 'up' : 'DOWN'}, alive weight ${v.aliveWeight}\n`;
      out += `   Sorry server active = ${v.sorryActive ? 'yes' : 'no'}\n`;
      if (c) out += `   Connections = ${c.conns}, packets in/out = ${c.inPkts}/${c.outPkts}, bytes in/out = ${c.inBytes}/${c.outBytes}\n`;
      for (const r of v.realServers) out += `   RS = ${r.name}, ${r.alive ? 'up' : 'down'}, weight ${r.weight}, ${r.inTable ? 'in table' : 'not in table'}\n`;
    }
  }
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

/** SIGUSR1 writes the data dump and the JSON (Node cannot catch keepalived's SIGRTMIN+2 JSON signal). */
export function writeDataFiles(files: DumpFiles, s: DaemonSnapshot): void {
  writeFileSync(files.data, formatData(s));
  writeFileSync(files.json, JSON.stringify(s, null, 2) + '\n');
}

export function writeStatsFile(files: DumpFiles, s: DaemonSnapshot): void {
  writeFileSync(files.stats, formatStats(s));
}
