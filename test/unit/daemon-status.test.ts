// Unit tests for the status/metrics formatting and the config-model mapping of the daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListen, formatStats, formatData } from '../../src/daemon/status.js';
import { createMetrics } from '../../src/daemon/metrics.js';
import { formatStatusTable } from '../../src/cli/status.js';
import { sameConfig, type DaemonSnapshot } from '../../src/daemon/daemon.js';
import { parseConfigText } from '../../src/config/index.js';
import { toCoreConfig, receiveOptions, addressSpec, advertisedAddresses } from '../../src/daemon/map.js';

const snap: DaemonSnapshot = {
  pid: 42,
  startedAtMs: Date.now() - 65_000,
  instances: [
    {
      name: 'VI_1',
      state: 'MASTER',
      vrid: 51,
      version: 2,
      family: 4,
      interface: 'eth0',
      priority: 100,
      effectivePriority: 80,
      advertIntervalCs: 100,
      virtualAddresses: ['192.0.2.100/24'],
      addressesHeld: 1,
      advertsSent: 12,
      advertsReceived: 3,
      priorityZeroSent: 0,
      priorityZeroReceived: 1,
      becameMaster: 1,
      releasedMaster: 0,
      transitions: 2,
      lastTransitionMs: Date.now() - 5000,
      drops: { 'auth-mismatch': 4, 'ttl-not-255': 2 },
    },
  ],
  trackers: [{ kind: 'script', name: 'chk', status: 'failed', runs: 9, failures: 3, timeouts: 1 }],
  notify: { queued: 3, ran: 2, succeeded: 2, failed: 0, timedOut: 0, dropped: 0, spawnErrors: 0 },
  reloads: { ok: 1, failed: 1, lastMs: 0, lastDurationMs: 0 },
  unknownVridPackets: 0,
};

test('status: --status-listen parsing', () => {
  assert.deepEqual(parseListen('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  assert.deepEqual(parseListen('[::1]:9650'), { host: '::1', port: 9650 });
  assert.deepEqual(parseListen(':9650'), { host: '127.0.0.1', port: 9650 });
  assert.equal(parseListen('9650'), undefined);
  assert.equal(parseListen('host:0'), undefined);
  assert.equal(parseListen('host:70000'), undefined);
});

test('status: USR2 statistics in keepalived layout, USR1 data dump, status table', () => {
  const st = formatStats(snap);
  assert.match(st, /^VRRP Instance: VI_1\n  Advertisements:\n    Received: 3\n    Sent: 12\n/);
  assert.match(st, /TTL: 2\n/);
  assert.match(st, /Failure: 4\n/);
  assert.match(st, /Priority Zero:\n    Received: 1\n    Sent: 0\n/);
  assert.match(formatData(snap), /VRRP Instance = VI_1\n   State = MASTER\n   Interface = eth0/);
  const table = formatStatusTable(snap);
  assert.match(table, /^keepalived-ts pid 42, up 65s, reloads 1 ok \/ 1 refused$/m);
  assert.match(table, /^VI_1\s+MASTER\s+51\s+eth0\s+100\s+80\s+1\/1\s+12\s+3\s+6\s+5s ago$/m);
  assert.match(table, /^chk\s+script\s+failed$/m);
});

test('metrics: the registry reads the snapshot at scrape time', async () => {
  let s = snap;
  const reg = createMetrics(() => s);
  const a = await reg.metrics();
  assert.match(a, /^keepalived_ts_vrrp_state\{vrrp_instance="VI_1",vrid="51",family="ipv4"\} 2$/m);
  assert.match(a, /^keepalived_ts_vrrp_drops_total\{vrrp_instance="VI_1",reason="auth-mismatch"\} 4$/m);
  assert.match(a, /^keepalived_ts_tracker_up\{kind="script",tracker="chk"\} 0$/m);
  assert.match(a, /^keepalived_ts_notify_queue_length 1$/m);
  s = { ...snap, instances: [{ ...snap.instances[0]!, state: 'BACKUP', advertsSent: 20 }] };
  const b = await reg.metrics();
  assert.match(b, /^keepalived_ts_vrrp_state\{vrrp_instance="VI_1",vrid="51",family="ipv4"\} 1$/m);
  assert.match(b, /^keepalived_ts_vrrp_adverts_sent_total\{vrrp_instance="VI_1"\} 20$/m);
});

const CONF = `global_defs {
  vrrp_garp_master_delay 2
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 120
  advert_int 2
  nopreempt
  authentication {
    auth_type PASS
    auth_pass secret123
  }
  virtual_ipaddress {
    192.0.2.100/24 dev eth0 label eth0:vip
    192.0.2.101
  }
  virtual_ipaddress_excluded {
    198.51.100.7/24
  }
}
`;

test('map: the typed model becomes the core config and the receive checks (keepalived defaults carried)', () => {
  const r = parseConfigText(CONF, 'map.conf');
  const inst = r.config.vrrpInstances[0]!;
  const core = toCoreConfig(inst, r.config.globalDefs, '192.0.2.11');
  assert.equal(core.vrid, 51);
  assert.equal(core.priority, 120);
  assert.equal(core.advertIntervalCs, 200);
  assert.equal(core.preempt, false);
  assert.equal(core.garpMasterDelayMs, 2000);
  assert.equal(core.virtualAddresses.length, 3, 'virtual_ipaddress and _excluded are owned');
  assert.deepEqual(advertisedAddresses(inst), ['192.0.2.100', '192.0.2.101'], 'only virtual_ipaddress goes in adverts');
  const rx = receiveOptions(inst);
  assert.equal(rx.vrids, 51);
  assert.equal(rx.advertIntervalCs, 200);
  assert.equal(Buffer.from(rx.authPass as Uint8Array).toString(), 'secret12', 'auth_pass: first 8 characters, as keepalived');
  const spec = addressSpec(inst.virtualIpAddresses[0]!, 'eth0');
  assert.equal(spec.label, 'eth0:vip');
  assert.equal(spec.prefixLength, 24);
});

test('reload: sameConfig ignores where things were written, not what they say', () => {
  const a = parseConfigText(CONF, 'a.conf').config.vrrpInstances[0]!;
  const b = parseConfigText('\n\n' + CONF, 'b.conf').config.vrrpInstances[0]!;
  assert.ok(sameConfig(a, b), 'moved lines, other file: same');
  const c = parseConfigText(CONF.replace('priority 120', 'priority 121'), 'a.conf').config.vrrpInstances[0]!;
  assert.ok(!sameConfig(a, c), 'another priority: changed');
});

test('reload: sameConfig compares structure, skipping only file and line', () => {
  assert.ok(sameConfig({ a: [1, { b: 'x', line: 3 }], file: 'f' }, { a: [1, { b: 'x', line: 9 }], file: 'g' }));
  assert.ok(sameConfig({ a: 1, u: undefined }, { a: 1 }), 'an undefined field is an absent one (as in JSON)');
  assert.ok(!sameConfig({ a: [1, 2] }, { a: [1, 2, 3] }), 'array length');
  assert.ok(!sameConfig({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] }), 'deep value');
  assert.ok(!sameConfig({ a: 1 }, { a: 1, b: 0 }), 'an extra key');
  assert.ok(!sameConfig({ a: [] }, { a: {} }), 'array against object');
  assert.ok(!sameConfig({ a: null }, { a: {} }));
  assert.ok(!sameConfig({ a: '1' }, { a: 1 }), 'types');
});

test('metrics: no gauge is named _total (promtool check metrics: reserved for counters)', async () => {
  const text = await createMetrics(() => snap).metrics();
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
  assert.ok(types.length > 20);
  for (const [name, type] of types) if (name.endsWith('_total')) assert.equal(type, 'counter', name);
  assert.match(text, /^# TYPE keepalived_ts_nodejs_active_handles gauge$/m);
});
