// Scale benchmark (root): 200 vrrp_instances per node, 2 nodes (n1 priority 150 Master, n2
// priority 100 Backup), VRRPv2 advert_int 1, one VIP per instance. For keepalived-ts and for
// Debian's keepalived 2.2.7, side by side:
//   - time from starting both daemons to all 200 VIPs present on n1 (RFC floor: n1's
//     Master_Down_Interval, since every instance starts as Backup), and what it is made of: the
//     daemon's first log line (Node and our modules loaded), its first and last "Entering MASTER
//     STATE" line;
//   - steady state over --window s (default 30), from --settle s (20) after all VIPs are up: CPU%
//     from /proc/PID/task/*/schedstat (ns on CPU, summed over threads; /proc/PID/stat's 10 ms
//     ticks are too coarse for 0.1-0.3 % over a few seconds), the main thread's share, the number
//     of threads, and RSS (/proc/PID/status) of each node; keepalived's figures are its parent
//     and VRRP child added up.
// Figures are printed; no pass/fail. Usage: node dist/bench/scale.js [--instances N] [--window S]
//   [--settle S] [--rounds R] [--cli OTHER/dist/src/cli.js] [--node-flags "FLAGS"]... [--no-ka] [--no-kts]
//   --cli adds a run of another build (before/after in one run), each --node-flags a run of this
//   build with these Node/V8 flags instead of those of cli.js's #! line ("": none); --rounds repeats every variant, interleaved.
import { readdirSync, readFileSync } from 'node:fs';
import { InteropLab, KTS_CLI, configText, instanceBlock, sleep, type Impl } from '../test/helpers/interop-lab.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) || dflt : dflt;
};
const strOpts = (name: string) => argv.flatMap((a, i) => (a === name && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const N = Math.min(250, opt('--instances', 200));
const WINDOW_S = opt('--window', 30);
// steady state means after V8 has finished optimizing the hot paths: measured, its compiler
// threads were still busy 8-16 s after start (a third of the CPU of that window)
const SETTLE_S = opt('--settle', 20);
const ROUNDS = opt('--rounds', 1);

const vip = (i: number) => `198.51.100.${i + 1}`;

function confFor(prio: number, name: string): string {
  const blocks: string[] = [];
  for (let i = 0; i < N; i++) {
    blocks.push(instanceBlock({ name: `VI_${i + 1}`, vrid: i + 1, version: 2, priority: prio, advertInt: 1, vips: [`${vip(i)}/24`] }));
  }
  return configText(`scale_${name}`, blocks);
}

/** ns on CPU of each thread of a PID (schedstat's first field), keyed by tid. */
function threadNs(pid: number): Map<number, number> {
  const m = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        m.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        /* exited */
      }
    }
  } catch {
    /* gone */
  }
  return m;
}

/** VmRSS and its anonymous part (heaps, stacks; the rest is mapped files: the node binary, libraries) in kB. */
function rssKb(pid: number): { rss: number; anon: number } {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => {
      const m = new RegExp(`${k}:\\s+(\\d+) kB`).exec(st);
      return m ? Number(m[1]) : NaN;
    };
    return { rss: kb('VmRSS'), anon: kb('RssAnon') };
  } catch {
    return { rss: NaN, anon: NaN };
  }
}

/** Context switches of the process's main thread (its wake-ups, mostly). */
function ctxSwitches(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
    return Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1]) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1]);
  } catch {
    return NaN;
  }
}

interface Variant {
  label: string;
  impl: Impl;
  cli?: string;
  nodeArgs?: string[];
}
interface NodeFigures {
  cpu: number;
  mainCpu: number;
  threads: number;
  rssMb: number;
  anonMb: number;
  switchesPerS: number;
}
interface Result {
  startToAllVips: number;
  firstLog: number;
  firstMaster: number;
  lastMaster: number;
  vipsOnMaster: number;
  vipsOnBackup: number;
  n1: NodeFigures;
  n2: NodeFigures;
}

async function measure(v: Variant): Promise<Result> {
  const il = InteropLab.create();
  if (v.cli) il.ktsCli = v.cli;
  if (v.nodeArgs) il.ktsNodeArgs = v.nodeArgs;
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    il.addNode('n2', ['192.0.2.12/24']);
    const t0 = Date.now();
    il.start('n2', v.impl, confFor(100, 'n2'));
    const master = il.start('n1', v.impl, confFor(150, 'n1'));
    const count = (n: string) => {
      try {
        return il.lab.addressesOf(n).filter((a) => a.startsWith('198.51.100.')).length;
      } catch {
        return 0;
      }
    };
    let startToAllVips = NaN;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (count('n1') >= N) {
        startToAllVips = Date.now() - t0;
        break;
      }
      await sleep(50);
    }
    await il.ready('n1');
    await il.ready('n2');
    // the start-up's parts, from the Master's log lines (time they reached us through the pipe)
    const entering = master.log.filter((l) => l.line.includes('Entering MASTER STATE')).map((l) => l.t - t0);
    const firstLog = (master.log[0]?.t ?? NaN) - t0;
    if (process.env.KTS_SCALE_LOG)
      for (const l of master.log.slice(0, Number(process.env.KTS_SCALE_LOG) || 8)) console.log(`    +${l.t - t0} ms ${l.line}`);
    await sleep(SETTLE_S * 1000); // start-up GARP bursts, the Backup's settling, V8's optimizing
    const pids = { n1: il.nodes.get('n1')!.pids(), n2: il.nodes.get('n2')!.pids() };
    const before = new Map<number, Map<number, number>>();
    const beforeSwitches = new Map<number, number>();
    for (const p of [...pids.n1, ...pids.n2]) {
      before.set(p, threadNs(p));
      beforeSwitches.set(p, ctxSwitches(p));
    }
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const secs = (performance.now() - w0) / 1000;
    const fig = (list: number[]): NodeFigures => {
      let ns = 0,
        mainNs = 0,
        threads = 0,
        rss = 0,
        anon = 0,
        switches = 0;
      for (const p of list) {
        const b = before.get(p) ?? new Map<number, number>();
        for (const [tid, t] of threadNs(p)) {
          const d = t - (b.get(tid) ?? t); // a thread born in the window: counted from its birth on the next run only
          ns += d;
          if (tid === p) mainNs += d;
          threads++;
        }
        const r = rssKb(p);
        rss += r.rss;
        anon += r.anon;
        switches += ctxSwitches(p) - (beforeSwitches.get(p) ?? 0);
      }
      return {
        cpu: (100 * ns) / 1e9 / secs,
        mainCpu: (100 * mainNs) / 1e9 / secs,
        threads,
        rssMb: rss / 1024,
        anonMb: anon / 1024,
        switchesPerS: switches / secs,
      };
    };
    return {
      startToAllVips,
      firstLog,
      firstMaster: entering[0] ?? NaN,
      lastMaster: entering.at(-1) ?? NaN,
      vipsOnMaster: count('n1'),
      vipsOnBackup: count('n2'),
      n1: fig(pids.n1),
      n2: fig(pids.n2),
    };
  } finally {
    // ours stop gracefully (SIGTERM), so that a --cpu-prof flag gets its profile written
    if (v.impl === 'kts') for (const n of ['n1', 'n2']) await il.kill(n, 'SIGTERM', 5000);
    await il.cleanup();
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench/scale needs root (network namespaces)');
    return 2;
  }
  const floor = 3 * 1000 + ((256 - 150) * 1000) / 256;
  const variants: Variant[] = argv.includes('--no-kts') ? [] : [{ label: 'kts', impl: 'kts' }];
  for (const c of strOpts('--cli')) variants.push({ label: `kts(${c})`, impl: 'kts', cli: c });
  // "" runs this build with no flags at all (the #! line's flags are the default)
  for (const f of strOpts('--node-flags'))
    variants.push({ label: `kts[${f}]`, impl: 'kts', cli: KTS_CLI, nodeArgs: f.split(/\s+/).filter(Boolean) });
  if (!argv.includes('--no-ka')) variants.push({ label: 'keepalived', impl: 'ka' });
  console.log(
    `scale benchmark: ${N} instances per node, 2 nodes, VRRPv2 advert_int 1; steady-state window ${WINDOW_S} s, ${SETTLE_S} s after all VIPs; ${ROUNDS} round(s); RFC floor ${(floor / 1000).toFixed(3)} s`,
  );
  const res = new Map<string, Result[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of variants) {
      const x = await measure(v);
      if (!res.has(v.label)) res.set(v.label, []);
      res.get(v.label)!.push(x);
      console.log(
        `  [${v.label} #${r + 1}] ${JSON.stringify(x, (_k, val) => (typeof val === 'number' ? Math.round(val * 1000) / 1000 : val))}`,
      );
    }
  }
  const f2 = (x: number) => x.toFixed(2);
  const span = (xs: number[], f: (x: number) => string) => {
    const a = Math.min(...xs),
      b = Math.max(...xs);
    return a === b ? f(a) : `${f(a)}-${f(b)}`;
  };
  console.log(
    '\n  variant: start->all VIPs s (first log / first / last MASTER) | CPU % Master (main thread) / Backup (main) | threads | RSS MB Master / Backup (anonymous) | main thread wakes/s',
  );
  for (const [label, rs] of res) {
    const g = (f: (r: Result) => number, fmt = f2) => span(rs.map(f), fmt);
    console.log(
      `  ${label}: ${g((r) => r.startToAllVips / 1000)} s (${g((r) => r.firstLog / 1000)} / ${g((r) => r.firstMaster / 1000)} / ${g((r) => r.lastMaster / 1000)})` +
        ` | ${g(
          (r) => r.n1.cpu,
          (x) => x.toFixed(3),
        )} (${g(
          (r) => r.n1.mainCpu,
          (x) => x.toFixed(3),
        )}) / ${g(
          (r) => r.n2.cpu,
          (x) => x.toFixed(3),
        )} (${g(
          (r) => r.n2.mainCpu,
          (x) => x.toFixed(3),
        )})` +
        ` | ${g((r) => r.n1.threads, String)}/${g((r) => r.n2.threads, String)} | ${g(
          (r) => r.n1.rssMb,
          (x) => x.toFixed(1),
        )} / ${g(
          (r) => r.n2.rssMb,
          (x) => x.toFixed(1),
        )}` +
        ` (anon ${g(
          (r) => r.n1.anonMb,
          (x) => x.toFixed(1),
        )} / ${g(
          (r) => r.n2.anonMb,
          (x) => x.toFixed(1),
        )}) | wakes/s ${g(
          (r) => r.n1.switchesPerS,
          (x) => x.toFixed(0),
        )} / ${g(
          (r) => r.n2.switchesPerS,
          (x) => x.toFixed(0),
        )}` +
        `  VIPs ${g((r) => r.vipsOnMaster, String)}/${g((r) => r.vipsOnBackup, String)}`,
    );
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
