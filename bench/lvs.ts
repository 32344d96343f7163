// bench/lvs: keepalived 2.2.7 and keepalived-ts programming IPVS, side by side in the same UML
// boot (this host's kernel has no IPVS; test/helpers/uml.ts fetches Debian's user-mode-linux).
// 100 virtual servers x 10 real servers: start (spawn) to full table, a reload changing one weight
// (SIGHUP to the new weight in the table), stop (SIGTERM) to empty table. UML system calls are about
// 30x slower than the host's: compare the two columns, not with figures from a real machine.
// Usage: node dist/bench/lvs.js   (BENCH_RUNS=N, default 2; BENCH_BASE_CLI=path/to/dist/src/cli.js
// adds another build as a third column, e.g. the one before a change)
import { join } from 'node:path';
import { bootGuest, ensureUmlKit } from '../test/helpers/uml.js';

const kit = ensureUmlKit();
const guest = join(import.meta.dirname, 'lvs-guest.js');
const r = await bootGuest(kit, `cd /tmp && ${process.execPath} ${guest}`, {
  timeoutMs: 600_000,
  env: {
    BENCH_RUNS: process.env.BENCH_RUNS ?? '2',
    BENCH_WINDOW: process.env.BENCH_WINDOW ?? '',
    BENCH_BASE_CLI: process.env.BENCH_BASE_CLI ?? '',
  },
});
const results = [...r.console.matchAll(/^RESULT (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, number | string>);
if (r.status !== 0 || results.length === 0) {
  console.error(r.console.slice(-4000));
  process.exit(1);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const col = (d: string, k: string) => results.filter((x) => x.daemon === d).map((x) => x[k] as number);
const nodeFloor = col('node -e 0', 'startMs')[0];
console.log(
  `bench/lvs in UML (${col('keepalived', 'startMs').length} runs each, median [min-max], ms; \`node -e 0\` takes ${nodeFloor?.toFixed(0)} ms here)`,
);
const base = col('keepalived-ts (base)', 'startMs').length > 0;
console.log(
  `| step | keepalived-ts |${base ? ' base build |' : ''} keepalived | ratio |\n| --- | --- |${base ? ' --- |' : ''} --- | --- |`,
);
for (const [k, label] of [
  ['startMs', 'start to full table (100 x 10)'],
  ['reloadMs', 'reload: one weight changed'],
  ['stopMs', 'stop to empty table'],
  ['exitMs', 'stop to process exit'],
]) {
  const a = col('keepalived-ts', k!),
    b = col('keepalived', k!);
  const f = (xs: number[]) => `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`;
  const c = base ? ` ${f(col('keepalived-ts (base)', k!))} |` : '';
  console.log(`| ${label} | ${f(a)} |${c} ${f(b)} | x${(median(a) / median(b)).toFixed(2)} |`);
}
const el = results.find((x) => x.daemon === 'event-loop') as unknown as
  | { idle: Record<string, number>; busy: Record<string, number>; busyMs: number; writes: number }
  | undefined;
if (el) {
  const f = (o: Record<string, number>) =>
    `p50 ${o.p50!.toFixed(2)} / p99 ${o.p99!.toFixed(2)} / max ${o.max!.toFixed(2)} ms (${o.n} ticks)`;
  console.log(`\nlateness of a 10 ms timer in the table manager's process (UML):`);
  console.log(`  idle:                                              ${f(el.idle)}`);
  console.log(
    `  start 100 x 10, 2 x 500 RS down+up, reload, stop: ${f(el.busy)}, ${el.busyMs.toFixed(0)} ms, ${el.writes} netlink writes in the bench`,
  );
}
