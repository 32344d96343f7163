// Scale benchmark (root): 200 vrrp_instances per node, 2 nodes (n1 priority 150 Master, n2
// priority 100 Backup), VRRPv2 advert_int 1, one VIP per instance. For keepalived-ts and for
// Debian's keepalived 2.2.7, side by side:
//   - time from starting both daemons to all 200 VIPs present on n1 (RFC floor: n1's
//     Master_Down_Interval, since every instance starts as Backup);
//   - steady state over ~10 s, from 20 s after all VIPs are up (--settle): CPU% (utime+stime from /proc/PID/stat) and RSS (/proc/PID/status)
//     of each node; keepalived's figures are its parent and VRRP child added up.
// Figures are printed; no pass/fail. Usage: node dist/bench/scale.js [--instances N] [--window S] [--settle S]
import { readFileSync } from 'node:fs';
import { InteropLab, configText, instanceBlock, sleep, type Impl } from '../test/helpers/interop-lab.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) || dflt : dflt; };
const N = Math.min(250, opt('--instances', 200));
const WINDOW_S = opt('--window', 10);
// steady state means after V8 has finished optimizing the hot paths: measured, its compiler
// threads were still busy 8-16 s after start (a third of the CPU of that window)
const SETTLE_S = opt('--settle', 20);
const CLK_TCK = 100; // Linux USER_HZ

const vip = (i: number) => `198.51.100.${i + 1}`;

function confFor(prio: number, name: string): string {
  const blocks: string[] = [];
  for (let i = 0; i < N; i++) {
    blocks.push(instanceBlock({ name: `VI_${i + 1}`, vrid: i + 1, version: 2, priority: prio, advertInt: 1, vips: [`${vip(i)}/24`] }));
  }
  return configText(`scale_${name}`, blocks);
}

/** utime + stime in clock ticks, and VmRSS in kB, of a PID (undefined if gone). */
function procSample(pid: number): { ticks: number; rssKb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" of comm: state is field 3; utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return { ticks, rssKb: m ? Number(m[1]) : NaN };
  } catch {
    return undefined;
  }
}

interface Result { startToAllVips: number; vipsOnMaster: number; vipsOnBackup: number; cpu: Record<string, number>; rssMb: Record<string, number> }

async function measure(impl: Impl): Promise<Result> {
  const il = InteropLab.create();
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    il.addNode('n2', ['192.0.2.12/24']);
    const t0 = Date.now();
    il.start('n2', impl, confFor(100, 'n2'));
    il.start('n1', impl, confFor(150, 'n1'));
    const count = (n: string) => { try { return il.lab.addressesOf(n).filter((a) => a.startsWith('198.51.100.')).length; } catch { return 0; } };
    let startToAllVips = NaN;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (count('n1') >= N) { startToAllVips = Date.now() - t0; break; }
      await sleep(50);
    }
    await il.ready('n1');
    await il.ready('n2');
    await sleep(SETTLE_S * 1000); // start-up GARP bursts, the Backup's settling, V8's optimizing
    const pids = { n1: il.nodes.get('n1')!.pids(), n2: il.nodes.get('n2')!.pids() };
    const before = new Map<number, number>();
    for (const p of [...pids.n1, ...pids.n2]) before.set(p, procSample(p)?.ticks ?? NaN);
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const secs = (performance.now() - w0) / 1000;
    const cpu: Record<string, number> = {}, rssMb: Record<string, number> = {};
    for (const [n, list] of Object.entries(pids)) {
      let ticks = 0, rss = 0;
      for (const p of list) {
        const s = procSample(p);
        if (!s) continue;
        ticks += s.ticks - (before.get(p) ?? s.ticks);
        rss += s.rssKb;
      }
      cpu[n] = (100 * ticks) / CLK_TCK / secs;
      rssMb[n] = rss / 1024;
    }
    return { startToAllVips, vipsOnMaster: count('n1'), vipsOnBackup: count('n2'), cpu, rssMb };
  } finally {
    await il.cleanup();
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) { console.error('bench/scale needs root (network namespaces)'); return 2; }
  const floor = 3 * 1000 + ((256 - 150) * 1000) / 256;
  console.log(`scale benchmark: ${N} instances per node, 2 nodes, VRRPv2 advert_int 1; steady-state window ${WINDOW_S} s, ${SETTLE_S} s after all VIPs`);
  const res = new Map<Impl, Result>();
  for (const impl of ['kts', 'ka'] as Impl[]) {
    const r = await measure(impl);
    res.set(impl, r);
    console.log(`  [${impl}] ${JSON.stringify(r)}`);
  }
  const o = res.get('kts')!, k = res.get('ka')!;
  const row = (label: string, a: number, b: number, unit: string) =>
    console.log(`  ${label.padEnd(34)} ${a.toFixed(2).padStart(9)} ${b.toFixed(2).padStart(11)} ${unit.padEnd(3)} ${(a / b).toFixed(2).padStart(8)}`);
  console.log(`\n  figure                                  ours   keepalived      ours/ka   (RFC floor ${(floor / 1000).toFixed(3)} s)`);
  row('start -> all VIPs on Master', o.startToAllVips / 1000, k.startToAllVips / 1000, 's');
  row('CPU% Master (steady)', o.cpu.n1!, k.cpu.n1!, '%');
  row('CPU% Backup (steady)', o.cpu.n2!, k.cpu.n2!, '%');
  row('RSS Master', o.rssMb.n1!, k.rssMb.n1!, 'MB');
  row('RSS Backup', o.rssMb.n2!, k.rssMb.n2!, 'MB');
  console.log(`  VIPs at the end: ours ${o.vipsOnMaster} on Master / ${o.vipsOnBackup} on Backup; keepalived ${k.vipsOnMaster} / ${k.vipsOnBackup}`);
  return 0;
}

main().then((c) => process.exit(c), (e: unknown) => { console.error(e); process.exit(1); });
