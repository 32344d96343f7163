// Scale benchmark at 1,000 instances per node (issue 14), root: two nodes (n1 priority 150, the
// Master; n2 priority 100, the Backup), each with four interfaces on four bridges, VRIDs 1-250 on
// each interface, one VIP per instance: vnet0 and vnet1 VRRPv2 with IPv4 VIPs (198.51.100.0/24,
// 203.0.113.0/24), vnet2 and vnet3 VRRPv3 with IPv6 VIPs (2001:db8:2::/64, 2001:db8:3::/64);
// advert_int 1. For keepalived-ts and Debian's keepalived 2.2.7, one after the other in one run:
//   - start to every VIP on n1 (RFC floor: n1's Master_Down_Interval, 3 + 106/256 s: every
//     instance starts as Backup); the goal is within 1 s of it;
//   - steady CPU over --window s, --settle s after that, from /proc/PID/task/*/schedstat (ns on
//     the CPU, every thread: V8's compiler and GC threads count), and RSS (VmRSS); keepalived's
//     figures are its parent and VRRP child added up;
//   - SIGHUP changing every priority (n1 150 <-> 151, n2 100 <-> 101, both nodes signalled at
//     once), from the signal to the daemon's own "done" line ("Reload done in" / "Reload
//     complete"), --reloads rounds; a flap is any "Entering ... STATE" line after the signal, or
//     a VIP missing on n1 / present on n2 afterwards;
//   - with --duration-min M: RSS of each node sampled every minute for M minutes after that,
//     and the least-squares slope (MB per hour) over all samples and over the second half.
// Figures are printed; no pass/fail.
// Usage: node dist/bench/scale1000.js [--impl kts|ka|both] [--per-if 250] [--ifaces 4]
//        [--settle 20] [--window 10] [--reloads 3] [--duration-min 0] [--cli OTHER/dist/src/cli.js]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuNs, rssKb, slope } from './proc-stats.js';
import { opt, scaleConfig, str } from './bench-common.js';
import { InteropLab, sleep, type Impl } from '../test/helpers/interop-lab.js';

const PER_IF = Math.min(250, opt('--per-if', 250));
const IFACES = Math.max(1, Math.min(4, opt('--ifaces', 4)));
const SETTLE_S = opt('--settle', 20);
const WINDOW_S = opt('--window', 10);
const RELOADS = opt('--reloads', 3);
const DURATION_MIN = opt('--duration-min', 0);
/** --cli OTHER/dist/src/cli.js: run that build's keepalived-ts instead (before/after comparisons) */
const CLI = str('--cli', '');
const IMPLS: Impl[] = str('--impl', 'both') === 'both' ? ['kts', 'ka'] : [str('--impl', 'kts') as Impl];
const N = PER_IF * IFACES;

const VIP_RE = /^(198\.51\.100|203\.0\.113)\.|^2001:db8:[23]::/;

/** Node n's own IPv4 address on interface k: 192.0.2.0/24 cut into four /27s, one per bridge. */
const nodeAddr = (k: number, node: 1 | 2) => `192.0.2.${32 * k + 10 + node}/27`;

const confFor = (prio: number, name: string): string => scaleConfig(prio, name, PER_IF, IFACES);

/** Four bridges in the lab's switch namespace, and interfaces vnet1..3 of each node on br1..3
 *  (vnet0 on br0 comes with the host): one VRID lives once per broadcast domain. */
function wireInterfaces(il: InteropLab, nodes: Array<[string, 1 | 2]>): void {
  const sw = il.lab.switchNs;
  for (let k = 1; k < IFACES; k++) {
    il.lab.exec(sw, ['ip', 'link', 'add', `br${k}`, 'type', 'bridge']);
    il.lab.exec(sw, ['ip', 'link', 'set', `br${k}`, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0', 'mcast_snooping', '0']);
    il.lab.exec(sw, ['ip', 'link', 'set', `br${k}`, 'up']);
    for (const [n, idx] of nodes) {
      const ns = il.ns(n);
      const port = `q${idx}x${k}`;
      // created directly inside the two namespaces: nothing touches the host's interfaces
      execFileSync('ip', ['link', 'add', 'name', port, 'netns', sw, 'type', 'veth', 'peer', 'name', `vnet${k}`, 'netns', ns]);
      il.lab.exec(sw, ['ip', 'link', 'set', port, 'master', `br${k}`]);
      il.lab.exec(sw, ['ip', 'link', 'set', port, 'up']);
      il.lab.exec(ns, ['sysctl', '-qw', `net.ipv6.conf.vnet${k}.accept_dad=0`]);
      il.lab.exec(ns, ['ip', 'link', 'set', `vnet${k}`, 'up']);
      il.lab.exec(ns, ['ip', 'addr', 'add', nodeAddr(k, idx), 'dev', `vnet${k}`]);
    }
  }
}

/** Virtual addresses on any interface of a node (one `ip` call for all four). */
function vipCount(il: InteropLab, node: string): number {
  try {
    const out = il.lab.exec(il.ns(node), ['ip', '-o', 'addr', 'show'], { timeoutMs: 5000 });
    let c = 0;
    for (const line of out.split('\n')) {
      const m = / inet6? ([0-9a-f.:]+)\//.exec(line);
      if (m && VIP_RE.test(m[1]!)) c++;
    }
    return c;
  } catch {
    return -1;
  }
}

const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Result {
  startToAllVips: number;
  cpu: Record<string, number>;
  rssMb: Record<string, number>;
  reloadMs: Record<string, number[]>;
  /** CPU the node spent from the SIGHUP to its "done" line (ms, every thread and process) */
  reloadCpuMs: Record<string, number[]>;
  flaps: number;
  vipsAfter: { n1: number; n2: number };
  rssSeries: Record<string, number[]>;
}

const STATE_RE = /Entering (MASTER|BACKUP|FAULT) STATE/;
const DONE_RE: Record<Impl, RegExp> = { kts: /Reload done in/, ka: /Reload complete/ };

async function measure(impl: Impl): Promise<Result> {
  const il = InteropLab.create();
  if (impl === 'kts' && CLI) il.ktsCli = CLI;
  try {
    il.addNode('n1', [nodeAddr(0, 1)]);
    il.addNode('n2', [nodeAddr(0, 2)]);
    wireInterfaces(il, [
      ['n1', 1],
      ['n2', 2],
    ]);
    const t0 = Date.now();
    il.start('n2', impl, confFor(100, 'n2'));
    const n1 = il.start('n1', impl, confFor(150, 'n1'));
    let startToAllVips = NaN;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (vipCount(il, 'n1') >= N) {
        startToAllVips = Date.now() - t0;
        break;
      }
      if (n1.exited)
        throw new Error(
          `[${impl}] n1 exited:\n${n1.log
            .slice(-20)
            .map((l) => l.line)
            .join('\n')}`,
        );
      await sleep(50);
    }
    await il.ready('n1');
    await il.ready('n2');
    console.log(`  [${impl}] all ${N} VIPs on n1 after ${(startToAllVips / 1000).toFixed(2)} s; settling ${SETTLE_S} s`);
    await sleep(SETTLE_S * 1000);
    const pids = { n1: il.nodes.get('n1')!.pids(), n2: il.nodes.get('n2')!.pids() };
    const before = new Map<number, number>();
    for (const p of [...pids.n1, ...pids.n2]) before.set(p, cpuNs(p) ?? NaN);
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const wallNs = (performance.now() - w0) * 1e6;
    const cpu: Record<string, number> = {},
      rssMb: Record<string, number> = {};
    for (const [n, list] of Object.entries(pids)) {
      let ns = 0,
        rss = 0;
      for (const p of list) {
        ns += (cpuNs(p) ?? NaN) - (before.get(p) ?? NaN);
        rss += rssKb(p);
      }
      cpu[n] = (100 * ns) / wallNs;
      rssMb[n] = rss / 1024;
    }

    // SIGHUP changing every priority, on both nodes at once
    const reloadMs: Record<string, number[]> = { n1: [], n2: [] };
    const reloadCpuMs: Record<string, number[]> = { n1: [], n2: [] };
    const nodeCpu = (n: string) =>
      il.nodes
        .get(n)!
        .pids()
        .reduce((a, p) => a + (cpuNs(p) ?? NaN), 0);
    let flaps = 0;
    for (let r = 0; r < RELOADS; r++) {
      const up = r % 2 === 0;
      const marks: Record<string, number> = {};
      const t: Record<string, number> = {};
      const cpuAt: Record<string, number> = {},
        cpuDone: Record<string, number> = {};
      for (const [n, prio] of [
        ['n1', 150],
        ['n2', 100],
      ] as const) {
        const node = il.nodes.get(n)!;
        // rewrite the file the node was started with (start() writes <dir>/<name>.conf)
        execFileSync('sh', ['-c', 'cat > "$1"', 'sh', `${il.dir}/${n}.conf`], { input: confFor(up ? prio + 1 : prio, n) });
        marks[n] = node.log.length;
      }
      for (const n of ['n1', 'n2']) {
        const node = il.nodes.get(n)!;
        t[n] = Date.now();
        cpuAt[n] = nodeCpu(n);
        process.kill(node.pids()[0]!, 'SIGHUP');
      }
      const end = Date.now() + 60_000;
      const doneAt: Record<string, number> = {};
      while (Date.now() < end && Object.keys(doneAt).length < 2) {
        for (const n of ['n1', 'n2']) {
          if (doneAt[n] !== undefined) continue;
          const node = il.nodes.get(n)!;
          // the line's arrival on our pipe (its Date.now()) against the signal's
          const hit = node.log.slice(marks[n]).find((l) => DONE_RE[impl].test(l.line));
          if (hit) {
            doneAt[n] = hit.t;
            cpuDone[n] = nodeCpu(n);
          }
        }
        await sleep(2);
      }
      for (const n of ['n1', 'n2']) {
        reloadMs[n]!.push(doneAt[n] !== undefined ? doneAt[n]! - t[n]! : NaN);
        reloadCpuMs[n]!.push(doneAt[n] !== undefined ? (cpuDone[n]! - cpuAt[n]!) / 1e6 : NaN);
      }
      await sleep(3000); // a flap would show within a Master_Down_Interval
      for (const n of ['n1', 'n2'])
        flaps += il.nodes
          .get(n)!
          .log.slice(marks[n])
          .filter((l) => STATE_RE.test(l.line)).length;
    }
    const vipsAfter = { n1: vipCount(il, 'n1'), n2: vipCount(il, 'n2') };

    const rssSeries: Record<string, number[]> = { n1: [], n2: [] };
    for (let m = 0; m <= DURATION_MIN && DURATION_MIN > 0; m++) {
      if (m > 0) await sleep(60_000);
      for (const n of ['n1', 'n2'])
        rssSeries[n]!.push(
          il.nodes
            .get(n)!
            .pids()
            .reduce((a, p) => a + rssKb(p), 0) / 1024,
        );
      console.log(
        `  [${impl}] minute ${m}: RSS n1 ${rssSeries.n1!.at(-1)!.toFixed(1)} MB, n2 ${rssSeries.n2!.at(-1)!.toFixed(1)} MB; VIPs n1 ${vipCount(il, 'n1')} n2 ${vipCount(il, 'n2')}`,
      );
    }
    if (DURATION_MIN > 0) {
      for (const n of ['n1', 'n2'])
        flaps += il.nodes.get(n)!.log.filter((l) => STATE_RE.test(l.line) && l.t > t0 + startToAllVips + 5000).length;
    }
    return { startToAllVips, cpu, rssMb, reloadMs, reloadCpuMs, flaps, vipsAfter, rssSeries };
  } finally {
    await il.cleanup();
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench/scale1000 needs root (network namespaces)');
    return 2;
  }
  const floor = 3 + (256 - 150) / 256;
  console.log(
    `scale1000: ${N} instances per node (${IFACES} interfaces x VRIDs 1-${PER_IF}), 2 nodes, advert_int 1; ` +
      `window ${WINDOW_S} s after ${SETTLE_S} s; ${RELOADS} reload(s)${DURATION_MIN ? `; RSS for ${DURATION_MIN} min` : ''}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  const res = new Map<Impl, Result>();
  for (const impl of IMPLS) {
    const r = await measure(impl);
    res.set(impl, r);
    console.log(`  [${impl}] ${JSON.stringify(r)}`);
  }
  const fmt = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  const o = res.get('kts'),
    k = res.get('ka');
  const row = (label: string, f: (r: Result) => number, unit: string) => {
    const a = o ? f(o) : undefined,
      b = k ? f(k) : undefined;
    console.log(
      `  ${label.padEnd(36)} ${fmt(a).padStart(9)} ${fmt(b).padStart(11)} ${unit.padEnd(5)} ${a !== undefined && b !== undefined ? fmt(a / b).padStart(7) : ''}`,
    );
  };
  console.log(`\n  figure                                    ours  keepalived  unit   ours/ka   (RFC floor ${floor.toFixed(3)} s)`);
  row('start -> all VIPs on Master', (r) => r.startToAllVips / 1000, 's');
  row('  ... minus the RFC floor', (r) => r.startToAllVips / 1000 - floor, 's');
  row('CPU Master (steady, schedstat)', (r) => r.cpu.n1!, '%');
  row('CPU Backup (steady, schedstat)', (r) => r.cpu.n2!, '%');
  row('RSS Master', (r) => r.rssMb.n1!, 'MB');
  row('RSS Backup', (r) => r.rssMb.n2!, 'MB');
  row('reload all priorities, Master (median)', (r) => median(r.reloadMs.n1!), 'ms');
  row('reload all priorities, Backup (median)', (r) => median(r.reloadMs.n2!), 'ms');
  row('  ... its CPU, Master (median)', (r) => median(r.reloadCpuMs.n1!), 'ms');
  row('  ... its CPU, Backup (median)', (r) => median(r.reloadCpuMs.n2!), 'ms');
  row('state changes after start (flaps)', (r) => r.flaps, '');
  for (const [impl, r] of res) {
    const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log(
      `  [${impl}] reloads (ms, wall / CPU) Master ${ms(r.reloadMs.n1!)} / ${ms(r.reloadCpuMs.n1!)}, Backup ${ms(r.reloadMs.n2!)} / ${ms(r.reloadCpuMs.n2!)}; VIPs after: n1 ${r.vipsAfter.n1}/${N}, n2 ${r.vipsAfter.n2}`,
    );
    if (DURATION_MIN > 0) {
      for (const n of ['n1', 'n2']) {
        const ys = r.rssSeries[n]!,
          xs = ys.map((_, i) => i / 60);
        const h = Math.floor(ys.length / 2);
        console.log(
          `  [${impl}] RSS ${n} over ${ys.length - 1} min: ${fmt(ys[0], 1)} -> ${fmt(ys.at(-1), 1)} MB, max ${fmt(Math.max(...ys), 1)}; slope ${fmt(slope(xs, ys))} MB/h (second half ${fmt(slope(xs.slice(h), ys.slice(h)))} MB/h)`,
        );
      }
    }
  }
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
