// The Prometheus metrics served at GET /metrics (status.ts): prom-client, a well-kept library for
// the exposition format. Filled from the daemon snapshot at scrape time: nothing is added to the
// packet path. A module of its own so that prom-client is loaded only when metrics are served.
// Per-instance metrics are labelled vrrp_instance, not "instance": Prometheus gives every target
// an "instance" label, and a clash would rename ours to exported_instance.
import { Registry, Gauge, Counter, collectDefaultMetrics } from 'prom-client';
import type { DaemonSnapshot } from './daemon.js';

const STATE_CODE: Record<string, number> = { WAITING: -1, INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

/** A prom-client registry whose metrics are filled from `snapshot()` at each scrape. */
export function createMetrics(snapshot: () => DaemonSnapshot): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keepalived_ts_' });
  // prom-client also serves three gauges named "_total", which Prometheus reserves for counters
  // (promtool check metrics flags them); their per-type gauges (nodejs_active_handles{type}...)
  // stay, and sum() gives the totals
  for (const name of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`keepalived_ts_nodejs_active_${name}_total`);
  let cached: DaemonSnapshot | undefined;
  // one snapshot per scrape, shared by every metric's collect()
  const snap = (): DaemonSnapshot => (cached ??= snapshot());
  const perInstance = (g: Gauge<string>, value: (i: DaemonSnapshot['instances'][number]) => number) => {
    g.reset();
    for (const i of snap().instances) g.set({ vrrp_instance: i.name }, value(i));
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge<string>) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        collect(this);
      },
    });

  // vrid and family label the state so that rules can see a virtual router across nodes (no
  // Master, two Masters: monitoring/keepalived-ts.rules.yml)
  gauge(
    'keepalived_ts_vrrp_state',
    'VRRP state: -1 waiting, 0 init, 1 backup, 2 master, 3 fault, 4 stop',
    ['vrrp_instance', 'vrid', 'family'],
    (g) => {
      cached = undefined; // first metric of a scrape: take a fresh snapshot
      g.reset();
      for (const i of snap().instances)
        g.set({ vrrp_instance: i.name, vrid: String(i.vrid), family: `ipv${i.family}` }, STATE_CODE[i.state] ?? -1);
    },
  );
  gauge('keepalived_ts_vrrp_priority', 'configured priority', ['vrrp_instance'], (g) => perInstance(g, (i) => i.priority));
  gauge('keepalived_ts_vrrp_effective_priority', 'priority after tracking weights (carried in adverts)', ['vrrp_instance'], (g) =>
    perInstance(g, (i) => i.effectivePriority),
  );
  gauge('keepalived_ts_vrrp_addresses_held', 'virtual addresses held on this node', ['vrrp_instance'], (g) =>
    perInstance(g, (i) => i.addressesHeld),
  );
  gauge('keepalived_ts_vrrp_last_transition_timestamp_seconds', 'time of the last state change', ['vrrp_instance'], (g) =>
    perInstance(g, (i) => i.lastTransitionMs / 1000),
  );
  const counter = (name: string, help: string, labelNames: string[], collect: (c: Counter<string>) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        collect(this);
      },
    });
  const perInstanceCounter = (c: Counter<string>, value: (i: DaemonSnapshot['instances'][number]) => number) => {
    c.reset();
    for (const i of snap().instances) c.inc({ vrrp_instance: i.name }, value(i));
  };
  counter('keepalived_ts_vrrp_adverts_sent_total', 'advertisements sent', ['vrrp_instance'], (c) =>
    perInstanceCounter(c, (i) => i.advertsSent),
  );
  counter('keepalived_ts_vrrp_adverts_received_total', 'advertisements received and accepted', ['vrrp_instance'], (c) =>
    perInstanceCounter(c, (i) => i.advertsReceived),
  );
  counter('keepalived_ts_vrrp_priority_zero_sent_total', 'priority 0 advertisements sent', ['vrrp_instance'], (c) =>
    perInstanceCounter(c, (i) => i.priorityZeroSent),
  );
  counter('keepalived_ts_vrrp_transitions_total', 'state changes', ['vrrp_instance'], (c) => perInstanceCounter(c, (i) => i.transitions));
  counter('keepalived_ts_vrrp_became_master_total', 'transitions to MASTER', ['vrrp_instance'], (c) =>
    perInstanceCounter(c, (i) => i.becameMaster),
  );
  counter('keepalived_ts_vrrp_drops_total', 'received packets dropped, by reason', ['vrrp_instance', 'reason'], (c) => {
    c.reset();
    for (const i of snap().instances) for (const [reason, n] of Object.entries(i.drops)) c.inc({ vrrp_instance: i.name, reason }, n);
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
  // LVS (src/lvs/): table state per virtual / real server, and the kernel's IPVS counters
  const lvs = () => snap().lvs;
  gauge('keepalived_ts_lvs_up', 'IPVS: 1 programmed, 0 unavailable (kernel without IPVS), -1 no virtual_server', [], (g) => {
    const l = lvs();
    g.set(!l || l.state === 'off' ? -1 : l.state === 'running' ? 1 : 0);
  });
  const perVs = (g: Gauge<string>, value: (v: NonNullable<DaemonSnapshot['lvs']>['virtualServers'][number]) => number) => {
    g.reset();
    for (const v of lvs()?.virtualServers ?? []) g.set({ vs: v.name }, value(v));
  };
  gauge('keepalived_ts_lvs_quorum_up', 'virtual server has quorum (1) or not (0)', ['vs'], (g) => perVs(g, (v) => (v.quorumUp ? 1 : 0)));
  gauge('keepalived_ts_lvs_sorry_server_active', 'the sorry server stands in for the pool', ['vs'], (g) =>
    perVs(g, (v) => (v.sorryActive ? 1 : 0)),
  );
  gauge('keepalived_ts_lvs_alive_weight', 'sum of the weights of alive real servers', ['vs'], (g) => perVs(g, (v) => v.aliveWeight));
  const perRs = (
    g: Gauge<string>,
    value: (r: NonNullable<DaemonSnapshot['lvs']>['virtualServers'][number]['realServers'][number]) => number,
  ) => {
    g.reset();
    for (const v of lvs()?.virtualServers ?? []) for (const r of v.realServers) g.set({ vs: v.name, rs: r.name }, value(r));
  };
  gauge('keepalived_ts_lvs_rs_up', 'real server alive (1) or down (0)', ['vs', 'rs'], (g) => perRs(g, (r) => (r.alive ? 1 : 0)));
  gauge('keepalived_ts_lvs_rs_weight', 'real server weight (configured + dynamic)', ['vs', 'rs'], (g) => perRs(g, (r) => r.weight));
  gauge('keepalived_ts_lvs_rs_in_table', 'real server present in the IPVS table', ['vs', 'rs'], (g) =>
    perRs(g, (r) => (r.inTable ? 1 : 0)),
  );
  counter('keepalived_ts_lvs_connections_total', 'IPVS connections scheduled, per virtual server', ['vs'], (c) => {
    c.reset();
    for (const [vs, n] of Object.entries(lvs()?.counters ?? {})) c.inc({ vs }, n.conns);
  });
  counter('keepalived_ts_lvs_packets_total', 'IPVS packets, per virtual server and direction', ['vs', 'direction'], (c) => {
    c.reset();
    for (const [vs, n] of Object.entries(lvs()?.counters ?? {})) {
      c.inc({ vs, direction: 'in' }, n.inPkts);
      c.inc({ vs, direction: 'out' }, n.outPkts);
    }
  });
  counter('keepalived_ts_lvs_bytes_total', 'IPVS bytes, per virtual server and direction', ['vs', 'direction'], (c) => {
    c.reset();
    for (const [vs, n] of Object.entries(lvs()?.counters ?? {})) {
      c.inc({ vs, direction: 'in' }, n.inBytes);
      c.inc({ vs, direction: 'out' }, n.outBytes);
    }
  });
  return registry;
}
