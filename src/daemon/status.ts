// Status and metrics, which keepalived's users keep asking for:
// - GET /metrics: Prometheus text (prom-client: a well-kept library for the exposition format);
// - GET /status: the daemon snapshot as JSON (what `keepalived-ts status` prints);
// - the USR1 / USR2 files, keepalived-style: a data dump and statistics, plus the JSON.
// Everything is read from a snapshot at scrape time: nothing is added to the packet path.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, Gauge, Counter, collectDefaultMetrics } from 'prom-client';
import type { DaemonSnapshot } from './daemon.js';

const STATE_CODE: Record<string, number> = { WAITING: -1, INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

/** A prom-client registry whose metrics are filled from `snapshot()` at each scrape. */
export function createMetrics(snapshot: () => DaemonSnapshot): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keepalived_ts_' });
  let cached: DaemonSnapshot | undefined;
  // one snapshot per scrape, shared by every metric's collect()
  const snap = (): DaemonSnapshot => (cached ??= snapshot());
  const perInstance = (g: Gauge<string>, value: (i: DaemonSnapshot['instances'][number]) => number) => {
    g.reset();
    for (const i of snap().instances) g.set({ instance: i.name }, value(i));
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge<string>) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { collect(this); } });

  gauge('keepalived_ts_vrrp_state', 'VRRP state: -1 waiting, 0 init, 1 backup, 2 master, 3 fault, 4 stop', ['instance'], (g) => {
    cached = undefined; // first metric of a scrape: take a fresh snapshot
    perInstance(g, (i) => STATE_CODE[i.state] ?? -1);
  });
  gauge('keepalived_ts_vrrp_priority', 'configured priority', ['instance'], (g) => perInstance(g, (i) => i.priority));
  gauge('keepalived_ts_vrrp_effective_priority', 'priority after tracking weights (carried in adverts)', ['instance'], (g) => perInstance(g, (i) => i.effectivePriority));
  gauge('keepalived_ts_vrrp_addresses_held', 'virtual addresses held on this node', ['instance'], (g) => perInstance(g, (i) => i.addressesHeld));
  gauge('keepalived_ts_vrrp_last_transition_timestamp_seconds', 'time of the last state change', ['instance'], (g) => perInstance(g, (i) => i.lastTransitionMs / 1000));
  const counter = (name: string, help: string, labelNames: string[], collect: (c: Counter<string>) => void) =>
    new Counter({ name, help, labelNames, registers: [registry], collect() { collect(this); } });
  const perInstanceCounter = (c: Counter<string>, value: (i: DaemonSnapshot['instances'][number]) => number) => {
    c.reset();
    for (const i of snap().instances) c.inc({ instance: i.name }, value(i));
  };
  counter('keepalived_ts_vrrp_adverts_sent_total', 'advertisements sent', ['instance'], (c) => perInstanceCounter(c, (i) => i.advertsSent));
  counter('keepalived_ts_vrrp_adverts_received_total', 'advertisements received and accepted', ['instance'], (c) => perInstanceCounter(c, (i) => i.advertsReceived));
  counter('keepalived_ts_vrrp_priority_zero_sent_total', 'priority 0 advertisements sent', ['instance'], (c) => perInstanceCounter(c, (i) => i.priorityZeroSent));
  counter('keepalived_ts_vrrp_transitions_total', 'state changes', ['instance'], (c) => perInstanceCounter(c, (i) => i.transitions));
  counter('keepalived_ts_vrrp_became_master_total', 'transitions to MASTER', ['instance'], (c) => perInstanceCounter(c, (i) => i.becameMaster));
  counter('keepalived_ts_vrrp_drops_total', 'received packets dropped, by reason', ['instance', 'reason'], (c) => {
    c.reset();
    for (const i of snap().instances) for (const [reason, n] of Object.entries(i.drops)) c.inc({ instance: i.name, reason }, n);
  });
  gauge('keepalived_ts_tracker_up', 'tracker result: 1 ok, 0 failed, -1 no result yet', ['kind', 'tracker'], (g) => {
    g.reset();
    for (const t of snap().trackers) g.set({ kind: t.kind, tracker: t.name }, t.status === 'ok' ? 1 : t.status === 'failed' ? 0 : -1);
  });
  gauge('keepalived_ts_track_file_value', 'value read from a track_file', ['tracker'], (g) => {
    g.reset();
    for (const t of snap().trackers) if (t.kind === 'file') g.set({ tracker: t.name }, t.value ?? 0);
  });
  counter('keepalived_ts_notify_runs_total', 'notify script runs by outcome', ['outcome'], (c) => {
    c.reset();
    const n = snap().notify;
    c.inc({ outcome: 'succeeded' }, n.succeeded);
    c.inc({ outcome: 'failed' }, n.failed);
    c.inc({ outcome: 'timed_out' }, n.timedOut);
    c.inc({ outcome: 'dropped' }, n.dropped);
    c.inc({ outcome: 'spawn_error' }, n.spawnErrors);
  });
  gauge('keepalived_ts_notify_queue_length', 'notify scripts queued and not yet run', [], (g) => {
    const n = snap().notify;
    g.set(Math.max(0, n.queued - n.ran - n.dropped));
  });
  counter('keepalived_ts_reloads_total', 'configuration reloads by outcome', ['outcome'], (c) => {
    c.reset();
    c.inc({ outcome: 'ok' }, snap().reloads.ok);
    c.inc({ outcome: 'refused' }, snap().reloads.failed);
  });
  return registry;
}

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
