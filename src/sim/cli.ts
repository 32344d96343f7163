#!/usr/bin/env node
// Simulator command line.
//   node dist/src/sim/cli.js --seed 1234 --trace     replay one seed with a readable trace
//   node dist/src/sim/cli.js --from 0 --count 100000  run a range of seeds, report figures
// Exit code 0 when every seed passed, 1 when one failed, 2 on bad usage.
import { runSeed } from './sim.js';

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: cli.js --seed N [--trace] | [--from N] --count M [--max-failures K]');
  process.exit(2);
}

const args = process.argv.slice(2);
const opts: Record<string, string | true> = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (!a.startsWith('--')) usage(`unexpected argument ${a}`);
  const key = a.slice(2);
  if (key === 'trace' || key === 'help') opts[key] = true;
  else {
    const v = args[++i];
    if (v === undefined) usage(`--${key} needs a value`);
    opts[key] = v;
  }
}
if (opts.help) usage();
const num = (k: string, dflt: number): number => {
  const v = opts[k];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) usage(`--${k} must be a non-negative integer`);
  return n;
};

if (opts.seed !== undefined) {
  const seed = num('seed', 0);
  const r = runSeed(seed, { trace: opts.trace === true, onTrace: (l) => console.log(l) });
  console.log(`seed ${seed}: ${r.summary}`);
  console.log(`${r.ok ? 'PASS' : 'FAIL'} after ${r.steps} steps, ${(r.simulatedMs / 1000).toFixed(1)} s simulated`);
  if (r.error) console.log(r.error.message);
  process.exit(r.ok ? 0 : 1);
}

const from = num('from', 0);
const count = num('count', 10000);
const maxFailures = num('max-failures', 20);
const t0 = process.hrtime.bigint();
let failures = 0;
let steps = 0;
let simMs = 0;
let ran = 0;
for (let s = from; s < from + count; s++) {
  const r = runSeed(s);
  ran++;
  steps += r.steps;
  simMs += r.simulatedMs;
  if (!r.ok) {
    failures++;
    console.log(r.error!.message);
    if (failures >= maxFailures) break;
  }
  if ((s - from + 1) % 100000 === 0) {
    const el = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`# ${s - from + 1} seeds, ${failures} failures, ${((s - from + 1) / el).toFixed(0)} seeds/s`);
  }
}
const el = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `seeds ${from}..${from + ran - 1} (${ran} run): ${failures} failures; ${el.toFixed(1)} s, ${(ran / el).toFixed(0)} seeds/s, ` +
    `${(steps / el / 1e6).toFixed(2)} M steps/s, ${(simMs / 3.6e6).toFixed(0)} h simulated`,
);
process.exit(failures ? 1 : 0);
