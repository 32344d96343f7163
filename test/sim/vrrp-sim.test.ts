import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed, type SimCoverage } from '../../src/sim/sim.js';
import { VrrpCore, type VrrpDecision, type VrrpEvent } from '../../src/vrrp/core.js';

// CI runs 10,000 seeds; SIM_SEEDS / SIM_SEED_FROM widen or move the window.
const COUNT = Number(process.env.SIM_SEEDS ?? 10000);
const FROM = Number(process.env.SIM_SEED_FROM ?? 0);

test(`simulator: ${COUNT} seeds from ${FROM} keep every invariant`, () => {
  const failures: string[] = [];
  const total: Partial<SimCoverage> = {};
  let steps = 0;
  const t0 = performance.now();
  for (let s = FROM; s < FROM + COUNT; s++) {
    const r = runSeed(s);
    steps += r.steps;
    for (const [k, v] of Object.entries(r.coverage)) total[k as keyof SimCoverage] = (total[k as keyof SimCoverage] ?? 0) + v;
    if (!r.ok) {
      failures.push(r.error!.message);
      if (failures.length >= 5) break;
    }
  }
  const ms = performance.now() - t0;
  console.log(`# sim: ${COUNT} seeds in ${(ms / 1000).toFixed(1)} s (${((COUNT / ms) * 1000).toFixed(0)} seeds/s, ${steps} steps)`);
  console.log(`# sim coverage: ${JSON.stringify(total)}`);
  assert.deepEqual(failures, [], failures.join('\n\n'));
  // A simulator that never exercises a rule proves nothing about it.
  if (COUNT >= 5000) {
    for (const [k, v] of Object.entries(total)) assert.ok(v > 0, `coverage: ${k} never happened in ${COUNT} seeds`);
  }
});

test('simulator: a seed replays exactly (same trace twice)', () => {
  for (const seed of [1, 42, 777]) {
    const a = runSeed(seed, { trace: true });
    const b = runSeed(seed, { trace: true });
    assert.ok(a.trace.length > 10, 'trace is not empty');
    assert.deepEqual(a.trace, b.trace);
    assert.equal(a.steps, b.steps);
  }
});

/** A core with one rule broken, to prove the invariants catch it. */
function brokenCore(filter: (ev: VrrpEvent, out: VrrpDecision[]) => VrrpDecision[]) {
  return (cfg: ConstructorParameters<typeof VrrpCore>[0]) => {
    const c = new VrrpCore(cfg);
    const handle = c.handle.bind(c);
    c.handle = (ev: VrrpEvent) => filter(ev, handle(ev));
    return c;
  };
}

function firstFailure(makeCore: ReturnType<typeof brokenCore>, seeds = 300): string | undefined {
  for (let s = 0; s < seeds; s++) {
    const r = runSeed(s, { makeCore });
    if (!r.ok) return r.error!.message;
  }
  return undefined;
}

test('simulator catches a Master that never sends priority 0 on shutdown (handover invariant)', () => {
  const msg = firstFailure(brokenCore((_ev, out) => out.filter((d) => !(d.kind === 'sendAdvert' && d.priority === 0))));
  assert.ok(msg, 'no seed failed');
  assert.match(msg, /graceful shutdown: no Backup took over/);
  assert.match(msg, /replay: node dist\/src\/sim\/cli\.js --seed \d+ --trace/);
});

test('simulator catches a core that forgets to release its virtual addresses', () => {
  const msg = firstFailure(brokenCore((_ev, out) => out.filter((d) => d.kind !== 'removeAddresses')));
  assert.ok(msg, 'no seed failed');
  assert.match(msg, /holds VIPs=true in state (BACKUP|FAULT|STOP)/);
});

test('simulator catches Backups that silently never preempt (highest-priority invariant)', () => {
  let msg: string | undefined;
  for (let s = 0; s < 300 && !msg; s++) {
    const r = runSeed(s, { makeCore: (cfg) => new VrrpCore({ ...cfg, preempt: false }) });
    if (!r.ok) msg = r.error!.message;
  }
  assert.ok(msg, 'no seed failed');
  assert.match(msg, /does not have the highest priority/);
});

test('control: a harmless change to the core (dropping a log line) fails no seed', () => {
  const msg = firstFailure(brokenCore((_ev, out) => out.filter((d) => !(d.kind === 'log' && d.message.includes('discarding')))));
  assert.equal(msg, undefined);
});

test('sim CLI: --seed N --trace replays one seed with a readable trace and a verdict', async () => {
  const { spawnSync } = await import('node:child_process');
  const cli = new URL('../../src/sim/cli.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [cli, '--seed', '42', '--trace'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\] r\d \(VI_\d\) Entering (BACKUP|MASTER) STATE/);
  assert.match(r.stdout, /^seed 42: v[23] IPv[46] \d routers/m);
  assert.match(r.stdout, /^PASS after \d+ steps/m);
  const bad = spawnSync(process.execPath, [cli, '--seed', 'x'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--seed must be a non-negative integer/);
});
