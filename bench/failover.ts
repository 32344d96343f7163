// Failover benchmark (root): keepalived-ts and Debian's keepalived 2.2.7 measured side by side on
// the same kind of lab: 2 nodes of one implementation (n1 priority 150 Master, n2 priority 100
// Backup), n1 killed with SIGKILL (no goodbye advert), several runs each, at advert_int 1 (v2)
// and 0.01 (v3). Timestamps come from a bystander's tcpdump on the bridge (adverts, gratuitous
// ARP) and from `ip -ts monitor address` in n2's namespace (VIP present), all on the host clock:
//   takeover  = n2's first advert - n1's last advert - RFC Master_Down_Interval (n2's)
//   garp      = n2's first gratuitous ARP for the VIP - n2's first advert
//   vip       = VIP present on n2 - n2's first advert
// Printed as min/median/max per implementation and as ratios ours/keepalived of the medians.
// No pass/fail on timing. Usage: node dist/bench/failover.js [--runs N] [--only v2|v3]
//   [--cli OTHER/dist/src/cli.js] [--rounds R]
// --cli adds another build of keepalived-ts (before/after in one run); --rounds R measures every
// variant R times, alternating (ours, the other build, keepalived, ours...). Each variant's
// takeover samples are printed too, with the load: a figure off by a constant for ours alone
// points at this machine's scheduling (load, nice, timer slack: printed) rather than the code.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InteropLab, configText, instanceBlock, sleep, type Impl, type CaptureRow } from '../test/helpers/interop-lab.js';

interface Setting {
  label: string;
  version: 2 | 3;
  advertInt: number;
}
interface Sample {
  takeover: number;
  garp: number;
  vip: number;
}

const VIP = '192.0.2.100';
const VIP_CIDR = `${VIP}/24`;
const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 0) || 5;
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
const otherCli = argv.includes('--cli') ? argv[argv.indexOf('--cli') + 1] : undefined;
const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 0) || 1;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** ours, another build of ours (--cli), keepalived */
interface Variant {
  label: string;
  impl: Impl;
  cli?: string;
}
const variants: Variant[] = [
  { label: 'ours', impl: 'kts' },
  ...(otherCli ? [{ label: 'cli2', impl: 'kts' as Impl, cli: otherCli }] : []),
  { label: 'ka', impl: 'ka' },
];
const settings: Setting[] = (
  [
    { label: 'v2 advert_int 1', version: 2, advertInt: 1 },
    { label: 'v3 advert_int 0.01', version: 3, advertInt: 0.01 },
  ] as Setting[]
).filter((s) => !only || s.label.startsWith(only));

/** RFC 5798 / 3768 Master_Down_Interval of a Backup of this priority, ms. */
function masterDownMs(s: Setting, priority: number): number {
  const adv = s.advertInt * 1000;
  return 3 * adv + ((256 - priority) * adv) / 256;
}

/** `ip -ts monitor` stamps are local wall-clock time with microseconds. */
function parseMonitorStamp(line: string): number | undefined {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\]/.exec(line);
  if (!m) return undefined;
  return new Date(m[1]!).getTime() + Number(`0.${m[2]}`) * 1000;
}

async function measure(impl: Impl, s: Setting, nRuns: number, cli?: string): Promise<{ samples: Sample[]; notes: string[] }> {
  const il = InteropLab.create();
  if (cli) il.ktsCli = cli;
  const samples: Sample[] = [];
  const notes: string[] = [];
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    il.addNode('n2', ['192.0.2.12/24']);
    const conf = (prio: number, name: string) =>
      configText(`bench_${name}`, [instanceBlock({ version: s.version, priority: prio, advertInt: s.advertInt, vips: [VIP_CIDR] })]);
    const vipAdds: number[] = [];
    const mon = il.lab.spawn(il.ns('n2'), ['ip', '-ts', 'monitor', 'address']);
    createInterface({ input: mon.stdout! }).on('line', (l) => {
      if (l.includes(` inet ${VIP}/`) && !l.includes('Deleted')) {
        const t = parseMonitorStamp(l);
        if (t) vipAdds.push(t);
      }
    });
    await il.startCapture();
    il.start('n2', impl, conf(100, 'n2'));
    il.start('n1', impl, conf(150, 'n1'));
    if (!(await il.ready('n1')) || !(await il.ready('n2'))) throw new Error('nodes did not start');
    const kills: number[] = [];
    for (let k = 0; k < nRuns; k++) {
      if (!(await il.waitHolder(VIP, 'n1', ['n1', 'n2'], 30_000))) {
        notes.push(`run ${k}: n1 never became the only Master`);
        break;
      }
      await sleep(1500 + s.advertInt * 2000); // steady state
      kills.push(await il.kill('n1', 'SIGKILL'));
      il.dropVips('n1', [VIP_CIDR]);
      if (!(await il.waitHolder(VIP, 'n2', ['n1', 'n2'], 15_000))) {
        notes.push(`run ${k}: n2 did not take over`);
        break;
      }
      await sleep(Math.max(300, s.advertInt * 3000)); // let the GARP burst reach the capture
      if (k + 1 < nRuns) {
        il.start('n1', impl, conf(150, 'n1'));
        if (!(await il.ready('n1'))) throw new Error('n1 did not restart');
      }
    }
    await il.stopCapture();
    const rows = il.dissect();
    const m1 = il.mac('n1'),
      m2 = il.mac('n2');
    const adverts = (mac: string) =>
      rows.filter((r: CaptureRow) => r.kind === 'vrrp' && r.ethSrc === mac && (r.prio ?? 0) > 0).map((r) => r.time * 1000);
    const a1 = adverts(m1),
      a2 = adverts(m2);
    const garps = rows.filter((r) => r.kind === 'arp' && r.garp && r.ethSrc === m2 && r.target === VIP).map((r) => r.time * 1000);
    for (const [k, kill] of kills.entries()) {
      const first = a2.find((t) => t > kill);
      const last = first === undefined ? undefined : [...a1].reverse().find((t) => t < first);
      if (first === undefined || last === undefined) {
        notes.push(`run ${k}: adverts not found in the capture`);
        continue;
      }
      const garp = garps.find((t) => t > kill - 1);
      const vip = vipAdds.find((t) => t > kill - 1);
      if (garp === undefined || vip === undefined) {
        notes.push(`run ${k}: ${garp === undefined ? 'no GARP' : 'no VIP event'} after the kill`);
        continue;
      }
      samples.push({ takeover: first - last - masterDownMs(s, 100), garp: garp - first, vip: vip - first });
    }
    // a Master that flaps in steady state spoils every figure: count n2 adverts outside takeovers
    const stray = a2.filter((t) => !kills.some((kill) => t > kill)).length;
    if (stray) notes.push(`${stray} advert(s) from n2 before the first kill (spurious takeover?)`);
  } finally {
    await il.cleanup();
  }
  return { samples, notes };
}

function stats(xs: number[]): { min: number; med: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: s[0] ?? NaN, med, max: s[s.length - 1] ?? NaN };
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1).padStart(8) : '     n/a');

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench/failover needs root (network namespaces)');
    return 2;
  }
  const slack = readFileSync('/proc/self/timerslack_ns', 'utf8').trim();
  const nice = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[16];
  console.log(
    `failover benchmark: ${runs} runs per implementation and setting, ${rounds} round(s); times in ms (host clock, tcpdump on a bystander); load ${loadavg()}, nice ${nice}, timer slack ${slack} ns`,
  );
  if (otherCli) console.log(`  cli2: ${otherCli}`);
  for (const s of settings) {
    const res = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const t0 = Date.now();
        const { samples, notes } = await measure(v.impl, s, runs, v.cli);
        res.get(v.label)!.push(...samples);
        for (const n of notes) console.log(`  [${v.label} ${s.label}] note: ${n}`);
        console.log(
          `  [${v.label} ${s.label}] ${samples.length} samples in ${((Date.now() - t0) / 1000).toFixed(1)} s, load ${loadavg()}; takeover: ${samples.map((x) => x.takeover.toFixed(1)).join(' ')}`,
        );
      }
    }
    console.log(`\n${s.label} (Master_Down_Interval of n2: ${masterDownMs(s, 100).toFixed(1)} ms)`);
    console.log('  figure                                   impl        min   median      max');
    const figs: Array<[keyof Sample, string]> = [
      ['takeover', 'first advert - last advert - MDI'],
      ['garp', 'first GARP - first advert'],
      ['vip', 'VIP present - first advert'],
    ];
    for (const [key, label] of figs) {
      for (const v of variants) {
        const st = stats(res.get(v.label)!.map((x) => x[key]));
        console.log(`  ${label.padEnd(40)} ${v.label.padEnd(4)}  ${f(st.min)} ${f(st.med)} ${f(st.max)}`);
      }
      // ratios of medians; with figures near 0 (or negative) a difference is more telling
      const k = stats(res.get('ka')!.map((x) => x[key])).med;
      for (const v of variants.filter((x) => x.impl === 'kts')) {
        const o = stats(res.get(v.label)!.map((x) => x[key])).med;
        console.log(
          `  ${''.padEnd(40)} ${v.label}/ka ratio ${Number.isFinite(o / k) ? (o / k).toFixed(2) : 'n/a'}, difference ${f(o - k)} ms`,
        );
      }
    }
    console.log('');
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
