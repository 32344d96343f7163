// bench/reload1000: in-process, no root, no sockets: the VRRP side of a SIGHUP that changes every
// priority of bench/scale1000's 1,000 instances, through InstanceRunner.reconfigure with stand-in
// netlink and sockets (every instance a Backup, as on the Backup node), log lines written to
// stderr by the daemon's own logger. Times parse+judge, the diff (sameConfig), the 1,000
// reconfigures with their log lines. First reload after start ("cold") and the median of --runs.
// Usage: node dist/bench/reload1000.js [--runs N] 2>/dev/null
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { judgeConfig, parseConfigText } from '../src/config/index.js';
import { InstanceRunner, type NetSnapshot, type RunnerDeps } from '../src/daemon/instance.js';
import { createLogger } from '../src/daemon/log.js';
import { sameConfig } from '../src/daemon/map.js';
import { scaleConfig } from './bench-common.js';

const argv = process.argv.slice(2);
const i = argv.indexOf('--runs');
const RUNS = i >= 0 ? Number(argv[i + 1]) : 20;

const conf1000 = (prio: number): string => scaleConfig(prio, 'n2');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = createLogger({ format: 'console', console: true, stream: process.stderr, ident: 'Keepalived_vrrp' });
const texts = [100, 101].map(conf1000);
const parse = (k: number) => parseConfigText(texts[k % 2]!, '/etc/keepalived/keepalived.conf', { configId: 'n2' });
const first = parse(0).config;

// stand-ins: four links with an address each, a socket that sends nothing, netlink that succeeds
const links = [0, 1, 2, 3].map((k) => ({ name: `vnet${k}`, index: k + 2, adminUp: true, carrier: true }));
const addresses = links.flatMap((l, k) => [
  { ifindex: l.index, family: 4, address: `192.0.2.${32 * k + 12}`, prefixLength: 27, scope: 'global', secondary: false },
  { ifindex: l.index, family: 6, address: `fe80::${k + 2}`, prefixLength: 64, scope: 'link', secondary: false },
]);
const net = { links: Promise.resolve(links), addresses: Promise.resolve(addresses) } as unknown as NetSnapshot;
const socket = { srcAddress: undefined, send: () => undefined, detach: () => undefined };
const deps = {
  log,
  rtnl: { ensureAddressAbsent: async () => false, ensureAddress: async () => true },
  hub: { attach: async () => socket },
  global: first.globalDefs,
  notifier: { enqueue: async () => undefined, notifyState: async () => undefined },
  now: () => performance.now(),
  garp: () => undefined,
  ndisc: async () => undefined,
  script: () => undefined,
} as unknown as RunnerDeps;
const runners = first.vrrpInstances.map((inst) => new InstanceRunner(inst, deps));
for (const r of runners) if (!(await r.start({ priority: r.inst.priority, fault: false }, undefined, net))) throw new Error('start');
await new Promise((r) => setTimeout(r, 50));

const parseMs: number[] = [];
const diffMs: number[] = [];
const applyMs: number[] = [];
for (let r = 1; r <= RUNS; r++) {
  const t0 = performance.now();
  const next = parse(r);
  if (!judgeConfig(next.diagnostics).run) throw new Error('refused');
  const t1 = performance.now();
  const changed: number[] = [];
  for (let k = 0; k < runners.length; k++) {
    const inst = next.config.vrrpInstances[k]!;
    if (!sameConfig(runners[k]!.inst, inst) && runners[k]!.inPlaceBlocker(inst, next.config.globalDefs) === undefined) changed.push(k);
  }
  const t2 = performance.now();
  if (changed.length !== runners.length) throw new Error(`${changed.length} changed`);
  await Promise.all(
    changed.map((k) =>
      runners[k]!.reconfigure(next.config.vrrpInstances[k]!, next.config.globalDefs, next.config.vrrpInstances[k]!.priority),
    ),
  );
  // the log lines go out after the poll phase (setImmediate): wait for them
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  const t3 = performance.now();
  parseMs.push(t1 - t0);
  diffMs.push(t2 - t1);
  applyMs.push(t3 - t2);
  await new Promise((res) => setTimeout(res, 20));
}
const fmt = (xs: number[]) => `first ${xs[0]!.toFixed(1)} / median ${median(xs).toFixed(1)} ms`;
console.log(
  `reload x1000 (${RUNS} runs, load ${loadavg()[0]!.toFixed(2)}): parse+judge ${fmt(parseMs)}; diff ${fmt(diffMs)}; reconfigure+log ${fmt(applyMs)}`,
);
for (const r of runners) await r.stop().catch(() => undefined);
process.exit(0);
