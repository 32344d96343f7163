// bench/parse1000: in-process, no root, no sockets: the time to read and judge bench/scale1000's
// 1,000-instance file (what a SIGHUP pays before Daemon.reload), median of many runs in one
// process, plus sameConfig over the two models (the reload's diff when every priority changes).
// Usage: node dist/bench/parse1000.js [--runs N] [--cold]   (--cold: one run per process)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { judgeConfig, parseConfigFile } from '../src/config/index.js';
import { sameConfig, toCoreConfig } from '../src/daemon/map.js';
import { VrrpCore } from '../src/vrrp/core.js';
import { scaleConfig } from './bench-common.js';

const argv = process.argv.slice(2);
const i = argv.indexOf('--runs');
const RUNS = i >= 0 ? Number(argv[i + 1]) : 40;

const conf1000 = (prio: number): string => scaleConfig(prio, 'n1');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'kts-parse1000-'));
try {
  const files = [150, 151].map((p) => {
    const f = join(dir, `k${p}.conf`);
    writeFileSync(f, conf1000(p));
    return f;
  });
  const parseMs: number[] = [];
  const diffMs: number[] = [];
  let prev = parseConfigFile(files[0]!, { configId: 'n1' }).config;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const next = parseConfigFile(files[(r + 1) % 2]!, { configId: 'n1' });
    const v = judgeConfig(next.diagnostics);
    const t1 = performance.now();
    if (!v.run || next.config.vrrpInstances.length !== 1000) throw new Error('bad parse');
    let same = 0;
    for (let k = 0; k < 1000; k++) if (sameConfig(prev.vrrpInstances[k], next.config.vrrpInstances[k])) same++;
    if (same !== 0) throw new Error('diff: every priority changed');
    diffMs.push(performance.now() - t1);
    parseMs.push(t1 - t0);
    prev = next.config;
  }
  // an unchanged file: every instance compared to the end (the reload's "unchanged" path)
  const again = parseConfigFile(files[RUNS % 2]!, { configId: 'n1' }).config;
  const equalMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    let same = 0;
    for (let k = 0; k < 1000; k++) if (sameConfig(prev.vrrpInstances[k], again.vrrpInstances[k])) same++;
    equalMs.push(performance.now() - t0);
    if (same !== 1000) throw new Error('diff: nothing changed');
  }
  console.log(`unchanged file: sameConfig x1000 median ${median(equalMs).toFixed(2)} ms`);
  // the core's side of an in-place reload (InstanceRunner.reconfigure without its socket):
  // the core configuration of the new model and the core's 'reconfigure' event, 1,000 Backups
  const models = [150, 151].map((p) => parseConfigFile(files[p - 150]!, { configId: 'n1' }).config);
  const primary = (fam: string) => (fam === 'inet6' ? 'fe80::1' : '192.0.2.11');
  const cores = models[0]!.vrrpInstances.map((inst) => {
    const core = new VrrpCore(toCoreConfig(inst, models[0]!.globalDefs, primary(inst.family)));
    core.handle({ type: 'startup', nowMs: 0 });
    return core;
  });
  const coreMs: number[] = [];
  let logs = 0;
  for (let r = 0; r < RUNS; r++) {
    const m = models[(r + 1) % 2]!;
    const t0 = performance.now();
    for (let k = 0; k < 1000; k++) {
      const inst = m.vrrpInstances[k]!;
      const d = cores[k]!.handle({ type: 'reconfigure', nowMs: 1000 + r, config: toCoreConfig(inst, m.globalDefs, primary(inst.family)) });
      for (const x of d) if (x.kind === 'log') logs++;
    }
    coreMs.push(performance.now() - t0);
  }
  if (logs !== RUNS * 1000) throw new Error(`core: ${logs} log lines, expected one per instance per reload`);
  console.log(`core reconfigure x1000 (toCoreConfig + event): median ${median(coreMs).toFixed(2)} ms`);
  console.log(
    `parse+judge 1,000 instances: median ${median(parseMs).toFixed(2)} ms, first ${parseMs[0]!.toFixed(2)} ms; sameConfig x1000: median ${median(diffMs).toFixed(2)} ms (${RUNS} runs, load ${loadavg()[0]!.toFixed(2)})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
