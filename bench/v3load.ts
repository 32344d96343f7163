// VRRPv3 at advert_int 0.01 under CPU load (issue 14), root: two nodes, 50 instances each (VRIDs
// 1-50 on vnet0, one IPv4 VIP each), n1 priority 150 (the Master), n2 priority 100 (the Backup).
// Once every VIP is on n1 and a warm-up has passed, --hogs busy loops (`sh -c 'while :; do :;
// done'`, started and killed by PID, at our own nice level, the daemons' too) keep the cores
// busy for --duration s. A bystander namespace captures every advert on the bridge (tcpdump,
// the pcap stream read here as it comes: kernel timestamps, no file), and per implementation
// this prints:
//   - false failovers: adverts with a priority above 0 from n2 (the Backup took over), its
//     "Entering MASTER STATE" lines, n1's "Entering BACKUP STATE" lines, and polls (every 2 s)
//     that found a VIP on n2;
//   - the gaps between two consecutive adverts of each of n1's instances: the longest (and which
//     instance), p99, p99.9, and how many exceed 3 x 10 ms (30 ms: a Backup's
//     Master_Down_Interval is 36 ms at priority 100);
//   - with --trace-gc (ours only): V8's pauses seen in the daemon's --trace-gc lines.
// keepalived-ts and keepalived 2.2.7 run one after the other in one run, with the same load.
// Usage: node dist/bench/v3load.js [--impl kts|ka|both] [--duration 600] [--warmup 10]
//        [--hogs 2] [--instances 50] [--trace-gc] [--node-flags '--single-threaded-gc']
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { InteropLab, configText, instanceBlock, sleep, type Impl } from '../test/helpers/interop-lab.js';
import { waitFor } from '../test/helpers/netns.js';
import { cpuNs } from './proc-stats.js';
import { opt, str } from './bench-common.js';

const argv = process.argv.slice(2);
const N = Math.min(250, opt('--instances', 50));
const DURATION_S = opt('--duration', 600);
const WARMUP_S = opt('--warmup', 10);
const HOGS = opt('--hogs', 2);
const TRACE_GC = argv.includes('--trace-gc');
// Node / V8 flags for keepalived-ts, to try a GC setting: --node-flags '--single-threaded-gc'
const NODE_FLAGS = str('--node-flags', '').split(' ').filter(Boolean);
const IMPLS: Impl[] = str('--impl', 'both') === 'both' ? ['kts', 'ka'] : [str('--impl', 'kts') as Impl];
const LATE_MS = 30;

const N1 = '192.0.2.11',
  N2 = '192.0.2.12';

function confFor(prio: number, name: string): string {
  const blocks: string[] = [];
  for (let i = 1; i <= N; i++)
    blocks.push(instanceBlock({ name: `VI_${i}`, vrid: i, version: 3, priority: prio, advertInt: 0.01, vips: [`198.51.100.${i}/24`] }));
  return configText(`v3load_${name}`, blocks);
}

/** Gaps in 10 us bins up to 2 s (the rest in the last bin), and the exact longest. */
export class GapHistogram {
  readonly bins = new Uint32Array(200_001);
  count = 0;
  over = 0;
  max = 0;
  maxAt = '';
  add(gapMs: number, where: string, lateMs: number): void {
    this.bins[Math.min(this.bins.length - 1, Math.floor(gapMs * 100))]!++;
    this.count++;
    if (gapMs > lateMs) this.over++;
    if (gapMs > this.max) {
      this.max = gapMs;
      this.maxAt = where;
    }
  }
  /** The q-quantile, to the bin's upper edge (ms). */
  quantile(q: number): number {
    const target = Math.ceil(q * this.count);
    let acc = 0;
    for (let i = 0; i < this.bins.length; i++) {
      acc += this.bins[i]!;
      if (acc >= target) return (i + 1) / 100;
    }
    return NaN;
  }
}

/**
 * Reads a pcap stream (tcpdump -w -, Ethernet, microsecond timestamps, host byte order) and calls
 * `onVrrp` for each IPv4 VRRP frame with its kernel timestamp (ms), source, VRID and priority.
 */
export class PcapVrrpReader {
  private buf: Buffer = Buffer.alloc(0);
  private header = false;
  constructor(private readonly onVrrp: (tMs: number, src: string, vrid: number, prio: number) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    if (!this.header) {
      if (this.buf.length < 24) return;
      if (this.buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('pcap: not a little-endian microsecond capture');
      this.header = true;
      off = 24;
    }
    while (this.buf.length - off >= 16) {
      const incl = this.buf.readUInt32LE(off + 8);
      if (this.buf.length - off < 16 + incl) break;
      const t = this.buf.readUInt32LE(off) * 1000 + this.buf.readUInt32LE(off + 4) / 1000;
      const p = off + 16;
      // Ethernet II, IPv4, protocol 112
      if (incl >= 34 && this.buf.readUInt16BE(p + 12) === 0x0800 && this.buf[p + 23] === 112) {
        const ihl = (this.buf[p + 14]! & 0x0f) * 4;
        const v = p + 14 + ihl;
        if (incl >= 14 + ihl + 3) {
          const src = `${this.buf[p + 26]}.${this.buf[p + 27]}.${this.buf[p + 28]}.${this.buf[p + 29]}`;
          this.onVrrp(t, src, this.buf[v + 1]!, this.buf[v + 2]!);
        }
      }
      off += 16 + incl;
    }
    this.buf = this.buf.subarray(off);
  }
}

interface Result {
  adverts: number;
  hist: GapHistogram;
  perInstanceMax: number[];
  backupAdverts: number;
  backupMasterLines: number;
  masterBackupLines: number;
  vipOnBackupPolls: number;
  polls: number;
  captureDropped: string;
  gcPauses: number[];
  load: string;
  cpuHogPct: number;
  /** the daemons' CPU over the window (all threads; keepalived: parent and VRRP child), % of one core */
  cpuPct: { n1: number; n2: number };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function vipCount(il: InteropLab, node: string): number {
  try {
    return il.lab.addressesOf(node).filter((a) => a.startsWith('198.51.100.')).length;
  } catch {
    return -1;
  }
}

async function measure(impl: Impl): Promise<Result> {
  const il = InteropLab.create();
  const hogs: ChildProcess[] = [];
  let capture: ChildProcess | undefined;
  try {
    il.addNode('n1', [`${N1}/24`]);
    il.addNode('n2', [`${N2}/24`]);
    const extra = impl === 'kts' ? [...(TRACE_GC ? ['--trace-gc'] : []), ...NODE_FLAGS] : [];
    il.start('n2', impl, confFor(100, 'n2'), [], extra);
    const n1 = il.start('n1', impl, confFor(150, 'n1'), [], extra);
    if (!(await waitFor(() => vipCount(il, 'n1') === N, 60_000, 200))) {
      throw new Error(
        `[${impl}] not every VIP on n1:\n${n1.log
          .slice(-20)
          .map((l) => l.line)
          .join('\n')}`,
      );
    }
    await il.ready('n1');
    await il.ready('n2');
    await sleep(WARMUP_S * 1000);

    // the capture: per (source, VRID) the last advert's time
    const last = new Map<number, number>();
    const hist = new GapHistogram();
    const perInstanceMax = new Array<number>(N + 1).fill(0);
    let adverts = 0,
      backupAdverts = 0,
      measuring = false;
    const reader = new PcapVrrpReader((t, src, vrid, prio) => {
      if (src === N2 && prio > 0 && measuring) backupAdverts++;
      if (src !== N1) return;
      const prev = last.get(vrid);
      last.set(vrid, t);
      if (!measuring) return;
      adverts++;
      if (prev !== undefined) {
        const g = t - prev;
        hist.add(g, `VRID ${vrid}`, LATE_MS);
        if (g > perInstanceMax[vrid]!) perInstanceMax[vrid] = g;
      }
    });
    const tap = il.lab.host('tap');
    // -B: a 16 MB capture buffer, so that the loaded machine does not drop frames before we read them
    capture = il.lab.spawn(tap.ns, ['tcpdump', '-i', tap.ifname, '-U', '-n', '-B', '16384', '-s', '64', '-w', '-', 'ip proto 112']);
    let capErr = '';
    capture.stderr?.on('data', (d: Buffer) => {
      capErr += d.toString();
    });
    capture.stdout?.on('data', (d: Buffer) => reader.push(d));
    if (!(await waitFor(() => /listening on/.test(capErr), 5000, 20))) throw new Error('tcpdump did not start');
    await sleep(500);

    for (let h = 0; h < HOGS; h++) {
      // the same nice level as the daemons (both inherit ours); killed by PID in finally
      const c = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
      hogs.push(c);
    }
    await sleep(1000);
    const marks = { n1: il.nodes.get('n1')!.log.length, n2: il.nodes.get('n2')!.log.length };
    const gcMark = n1.log.length;
    const hogCpu0 = hogs.reduce((a, c) => a + procCpuNs(c.pid!), 0);
    const pids = { n1: il.nodes.get('n1')!.pids(), n2: il.nodes.get('n2')!.pids() };
    const nodeCpu = (n: 'n1' | 'n2') => pids[n].reduce((a, p) => a + (cpuNs(p) ?? 0), 0);
    const cpu0 = { n1: nodeCpu('n1'), n2: nodeCpu('n2') };
    const t0 = performance.now();
    // the gaps start after the first advert of each instance seen while measuring
    last.clear();
    measuring = true;
    let polls = 0,
      vipOnBackupPolls = 0;
    const end = Date.now() + DURATION_S * 1000;
    let nextReport = Date.now() + 60_000;
    while (Date.now() < end) {
      await sleep(2000);
      polls++;
      if (vipCount(il, 'n2') > 0) vipOnBackupPolls++;
      if (Date.now() >= nextReport) {
        nextReport += 60_000;
        console.log(
          `  [${impl}] ${((performance.now() - t0) / 1000).toFixed(0)} s: ${adverts} adverts, longest gap ${hist.max.toFixed(2)} ms, > ${LATE_MS} ms: ${hist.over}, Backup adverts ${backupAdverts}; load ${loadavg()}`,
        );
      }
    }
    measuring = false;
    const secs = (performance.now() - t0) / 1000;
    const cpuHogPct = (100 * (hogs.reduce((a, c) => a + procCpuNs(c.pid!), 0) - hogCpu0)) / (secs * 1e9) / Math.max(1, HOGS);
    const cpuPct = { n1: (100 * (nodeCpu('n1') - cpu0.n1)) / (secs * 1e9), n2: (100 * (nodeCpu('n2') - cpu0.n2)) / (secs * 1e9) };
    const load = loadavg();
    for (const h of hogs) {
      try {
        h.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    // tcpdump's own drop count ends its stderr after SIGINT
    const exited = new Promise<void>((r) => capture!.once('exit', () => r()));
    capture.kill('SIGINT');
    await Promise.race([exited, sleep(3000)]);
    const dropped = /(\d+) packets? dropped by kernel/.exec(capErr)?.[1] ?? '?';
    const stateLines = (n: 'n1' | 'n2', re: RegExp) =>
      il.nodes
        .get(n)!
        .log.slice(marks[n])
        .filter((l) => re.test(l.line)).length;
    const gcPauses: number[] = [];
    for (const l of n1.log.slice(gcMark)) {
      // "[pid:0x..]   12345 ms: Scavenge 10.2 (12.3) -> 9.8 (12.3) MB, 0.45 / 0.00 ms ..."
      const m = /ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^,]*, ([\d.]+) \/ [\d.]+ ms/.exec(l.line);
      if (m) gcPauses.push(Number(m[2]));
    }
    return {
      adverts,
      hist,
      perInstanceMax,
      backupAdverts,
      backupMasterLines: stateLines('n2', /Entering MASTER STATE/),
      masterBackupLines: stateLines('n1', /Entering BACKUP STATE/),
      vipOnBackupPolls,
      polls,
      captureDropped: dropped,
      gcPauses,
      load,
      cpuHogPct,
      cpuPct,
    };
  } finally {
    for (const h of hogs) {
      try {
        h.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    await il.cleanup();
  }
}

function procCpuNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0;
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench/v3load needs root (network namespaces)');
    return 2;
  }
  console.log(
    `v3load: ${N} VRRPv3 instances at advert_int 0.01, Master + Backup, ${HOGS} busy loop(s) for ${DURATION_S} s; load ${loadavg()}`,
  );
  const res = new Map<Impl, Result>();
  for (const impl of IMPLS) {
    const r = await measure(impl);
    res.set(impl, r);
    const h = r.hist;
    console.log(
      `  [${impl}] adverts ${r.adverts} (${(r.adverts / DURATION_S / N).toFixed(1)}/s per instance), capture dropped ${r.captureDropped}; ` +
        `CPU Master ${r.cpuPct.n1.toFixed(1)} % Backup ${r.cpuPct.n2.toFixed(1)} %, each busy loop ${r.cpuHogPct.toFixed(0)} %; load at the end ${r.load}`,
    );
    console.log(
      `  [${impl}] gaps: p50 ${h.quantile(0.5).toFixed(2)} p99 ${h.quantile(0.99).toFixed(2)} p99.9 ${h.quantile(0.999).toFixed(2)} ms, longest ${h.max.toFixed(2)} ms (${h.maxAt}), > ${LATE_MS} ms: ${h.over}`,
    );
    const sorted = [...r.perInstanceMax.slice(1)].sort((a, b) => a - b);
    console.log(
      `  [${impl}] longest gap per instance: min ${sorted[0]!.toFixed(2)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)} ms`,
    );
    console.log(
      `  [${impl}] false failovers: Backup adverts ${r.backupAdverts}, Backup "Entering MASTER" ${r.backupMasterLines}, Master "Entering BACKUP" ${r.masterBackupLines}, VIP on the Backup in ${r.vipOnBackupPolls}/${r.polls} polls`,
    );
    if (r.gcPauses.length) {
      const g = [...r.gcPauses].sort((a, b) => a - b);
      console.log(
        `  [${impl}] GC pauses: ${g.length}, median ${g[Math.floor(g.length / 2)]!.toFixed(2)} ms, longest ${g.at(-1)!.toFixed(2)} ms, total ${g.reduce((a, b) => a + b, 0).toFixed(0)} ms`,
      );
    }
  }
  const o = res.get('kts'),
    k = res.get('ka');
  if (o && k) {
    console.log('\n  figure                         ours  keepalived');
    const row = (label: string, a: number, b: number, d = 2) =>
      console.log(`  ${label.padEnd(28)} ${a.toFixed(d).padStart(7)} ${b.toFixed(d).padStart(11)}`);
    row('false failovers (adverts)', o.backupAdverts, k.backupAdverts, 0);
    row('Backup "Entering MASTER"', o.backupMasterLines, k.backupMasterLines, 0);
    row('CPU Master (%)', o.cpuPct.n1, k.cpuPct.n1, 1);
    row('CPU Backup (%)', o.cpuPct.n2, k.cpuPct.n2, 1);
    row('longest advert gap (ms)', o.hist.max, k.hist.max);
    row('p99 gap (ms)', o.hist.quantile(0.99), k.hist.quantile(0.99));
    row('p99.9 gap (ms)', o.hist.quantile(0.999), k.hist.quantile(0.999));
    row(`gaps > ${LATE_MS} ms`, o.hist.over, k.hist.over, 0);
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
