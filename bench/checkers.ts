// bench/checkers: the health checkers' CPU, keepalived 2.2.7 (-C) and keepalived-ts side by side in
// the same UML boot (this host's kernel has no IPVS; test/helpers/uml.ts fetches Debian's
// user-mode-linux): 1,000 real servers with TCP_CHECK and 200 with HTTP_GET at delay_loop 1, all
// healthy (bench/checkers-guest.ts runs inside). Goal: no more than 1.5x keepalived's CPU. UML
// system calls are about 30x slower than the host's: compare the two columns (the ratio), not with
// figures from a real machine. bench/checkers-host.ts measures ours alone on the host.
// Usage: node dist/bench/checkers.js   (BENCH_RUNS=N, default 2; BENCH_SECONDS, BENCH_TCP,
// BENCH_HTTP; BENCH_PROF=DIR: --cpu-prof of ours into DIR, a writable host folder)
import { join } from 'node:path';
import { bootGuest, ensureUmlKit } from '../test/helpers/uml.js';

const kit = ensureUmlKit();
const guest = join(import.meta.dirname, 'checkers-guest.js');
const env: Record<string, string> = { BENCH_RUNS: process.env.BENCH_RUNS ?? '2' };
for (const k of ['BENCH_SECONDS', 'BENCH_WARMUP', 'BENCH_TCP', 'BENCH_HTTP']) if (process.env[k]) env[k] = process.env[k]!;
let cmd = `cd /tmp && ${process.execPath} ${guest}`;
if (process.env.BENCH_PROF) {
  // the guest's root is read-only: a hostfs mount of the host folder for the profiles
  env.BENCH_PROF = '/run/prof';
  cmd = `/usr/bin/mkdir -p /run/prof && /usr/bin/mount -t hostfs none /run/prof -o ${process.env.BENCH_PROF} && ${cmd}`;
}
const r = await bootGuest(kit, cmd, { timeoutMs: 900_000, env });
const results = [...r.console.matchAll(/^RESULT (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, number | string>);
if (r.status !== 0 || results.length === 0) {
  console.error(r.console.slice(-4000));
  process.exit(1);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const col = (d: string, k: string) => results.filter((x) => x.daemon === d).map((x) => x[k] as number);
const f = (xs: number[], digits = 1) =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`;
const ours = col('keepalived-ts', 'cpuPct'),
  theirs = col('keepalived', 'cpuPct');
// CPU per attempt: in UML the guest's one CPU saturates below the nominal 1,200 attempts a second
// (each checker waits delay_loop after its attempt ends, so slower attempts mean fewer), and the two
// daemons then make different numbers of attempts; the cost of one attempt compares them fairly
const perAttempt = (d: string) =>
  results.filter((x) => x.daemon === d).map((x) => ((x.cpuPct as number) * 10) / (x.attemptsPerS as number));
const po = perAttempt('keepalived-ts'),
  pt = perAttempt('keepalived');
console.log(
  `bench/checkers in UML: ${env.BENCH_TCP ?? 1000} TCP_CHECK + ${env.BENCH_HTTP ?? 200} HTTP_GET, delay_loop 1 (${ours.length} runs each, median [min-max])`,
);
console.log('| | keepalived-ts | keepalived | ratio |\n| --- | --- | --- | --- |');
console.log(`| CPU, % of the guest's one CPU | ${f(ours)} | ${f(theirs)} | x${(median(ours) / median(theirs)).toFixed(2)} |`);
console.log(
  `| attempts / s (targets' count) | ${f(col('keepalived-ts', 'attemptsPerS'), 0)} | ${f(col('keepalived', 'attemptsPerS'), 0)} | |`,
);
console.log(`| CPU per attempt, ms | ${f(po, 3)} | ${f(pt, 3)} | x${(median(po) / median(pt)).toFixed(2)} |`);
console.log(`| guest CPU left idle, % | ${f(col('keepalived-ts', 'idlePct'))} | ${f(col('keepalived', 'idlePct'))} | |`);
console.log(
  `| failure lines in the log | ${col('keepalived-ts', 'failures').join(', ')} | ${col('keepalived', 'failures').join(', ')} | |`,
);
