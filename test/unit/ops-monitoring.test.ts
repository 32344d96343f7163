// monitoring/: the alerting rules pass `promtool check rules` and their own `promtool test rules`
// cases, and the rules and the Grafana dashboard name only metrics and labels /metrics serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/daemon/metrics.js';
import type { DaemonSnapshot } from '../../src/daemon/daemon.js';

const dir = fileURLToPath(new URL('../../../monitoring/', import.meta.url));
const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const needPromtool = promtool ? false : process.env.CI ? false : 'promtool not installed (.ci/run installs it)';

const snap: DaemonSnapshot = {
  pid: 1,
  startedAtMs: Date.now(),
  instances: [
    {
      name: 'VI_1',
      state: 'MASTER',
      vrid: 51,
      version: 2,
      family: 4,
      interface: 'eth0',
      priority: 100,
      effectivePriority: 100,
      advertIntervalCs: 100,
      virtualAddresses: ['192.0.2.100/24'],
      addressesHeld: 1,
      advertsSent: 1,
      advertsReceived: 1,
      priorityZeroSent: 0,
      priorityZeroReceived: 0,
      becameMaster: 1,
      releasedMaster: 0,
      transitions: 2,
      lastTransitionMs: Date.now(),
      drops: { 'auth-mismatch': 1 },
    },
  ],
  trackers: [
    { kind: 'script', name: 'chk', status: 'ok', runs: 1, failures: 0, timeouts: 0 },
    { kind: 'file', name: 'f', status: 'ok', value: 3, runs: 0, failures: 0, timeouts: 0 },
  ],
  notify: { queued: 1, ran: 1, succeeded: 1, failed: 0, timedOut: 0, dropped: 0, spawnErrors: 0 },
  reloads: { ok: 0, failed: 0, lastMs: 0, lastDurationMs: 0 },
  unknownVridPackets: 0,
};

/** metric name -> its label names, as served at /metrics */
async function served(): Promise<Map<string, Set<string>>> {
  const text = await createMetrics(() => snap).metrics();
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const kv of (m[2] ?? '').split(',').filter(Boolean)) labels.add(kv.split('=')[0]!);
    out.set(m[1]!, labels);
  }
  return out;
}

// labels Prometheus adds (target, job) or the operator may (cluster: see the rules file)
const TARGET_LABELS = ['instance', 'job', 'cluster'];

function checkExpr(metrics: Map<string, Set<string>>, expr: string, extraLabels: string[], where: string): void {
  const names = expr.match(/\bkeepalived_ts_\w+/g) ?? [];
  assert.ok(names.length > 0, `${where}: names a keepalived_ts metric: ${expr}`);
  const labels = new Set(TARGET_LABELS);
  for (const n of names) {
    assert.ok(metrics.has(n), `${where}: ${n} is served at /metrics`);
    for (const l of metrics.get(n)!) labels.add(l);
  }
  const used = [...expr.matchAll(/\bby \(([^)]*)\)/g)]
    .flatMap((m) => m[1]!.split(',').map((s) => s.trim()))
    .concat(
      [...expr.matchAll(/[{,]\s*(\w+)\s*[=!]~?"/g)].map((m) => m[1]!),
      extraLabels,
    );
  for (const l of used) assert.ok(labels.has(l), `${where}: label ${l} exists on ${names.join(', ')}`);
}

test('alerting rules: promtool check rules and promtool test rules', { skip: needPromtool }, () => {
  assert.ok(promtool, 'promtool is missing (.ci/run installs it)');
  const check = spawnSync('promtool', ['check', 'rules', 'keepalived-ts.rules.yml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 6 rules found/);
  const t = spawnSync('promtool', ['test', 'rules', 'keepalived-ts.rules.test.yml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /SUCCESS/);
});

test('alerting rules name only served metrics and labels; every alert has a promtool test case', async () => {
  const metrics = await served();
  const rules = readFileSync(join(dir, 'keepalived-ts.rules.yml'), 'utf8');
  const tests = readFileSync(join(dir, 'keepalived-ts.rules.test.yml'), 'utf8');
  const alerts = [...rules.matchAll(/- alert: (\w+)\n(?:\s+#.*\n)*\s+expr: (\|\n(?:\s{10}.*\n)+|.*\n)/g)];
  assert.deepEqual(
    alerts.map((a) => a[1]),
    [
      'KeepalivedTsNoMaster',
      'KeepalivedTsTwoMasters',
      'KeepalivedTsFlapping',
      'KeepalivedTsTrackerDown',
      'KeepalivedTsNotifyFailing',
      'KeepalivedTsReloadFailed',
    ],
  );
  for (const [, name, expr] of alerts) {
    checkExpr(metrics, expr!, [], name!);
    assert.match(tests, new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${name} has a firing test case`);
  }
  // the test series use the served names too
  for (const s of tests.matchAll(/series: '(\w+)\{/g)) assert.ok(metrics.has(s[1]!), `test series ${s[1]} is served`);
});

test('Grafana dashboard: valid JSON, every panel queries served metrics with existing labels', async () => {
  const metrics = await served();
  const dash = JSON.parse(readFileSync(join(dir, 'keepalived-ts.grafana.json'), 'utf8')) as {
    title: string;
    uid: string;
    panels: Array<{ id: number; title: string; type: string; targets: Array<{ expr: string; legendFormat?: string; refId: string }> }>;
    templating: { list: Array<{ query: { query: string } }> };
  };
  assert.equal(dash.uid, 'keepalived-ts');
  const titles = dash.panels.map((p) => p.title);
  for (const t of ['VRRP state per instance and node', 'State transitions', 'Dropped adverts by reason', 'Notify script outcomes'])
    assert.ok(titles.includes(t), t);
  assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'panel ids are unique');
  for (const p of dash.panels) {
    assert.ok(p.targets.length > 0, p.title);
    assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, `${p.title}: refIds unique`);
    for (const t of p.targets) {
      const legend = [...(t.legendFormat ?? '').matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!);
      checkExpr(metrics, t.expr, legend, `${p.title}`);
    }
  }
  for (const v of dash.templating.list)
    checkExpr(metrics, v.query.query.replace(/label_values\((\w+), (\w+)\)/, '$1{$2=""}'), [], 'variable');
});
