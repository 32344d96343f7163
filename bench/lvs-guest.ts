// bench/lvs, the part that runs INSIDE the UML guest (bench/lvs.ts boots it): keepalived 2.2.7 (-C)
// and keepalived-ts, same file, same boot: start to full table (100 virtual servers x 10 real
// servers), a reload that changes one weight, stop to empty table. Polls the table over netlink;
// prints one "RESULT {json}" line per daemon and run.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ipvs } from '../src/lvs/ipvs-netlink.js';
import { LvsManager } from '../src/lvs/table.js';
import { parseConfigText } from '../src/config/index.js';
import { AF_INET, PROTO, type IpvsService } from '../src/lvs/ipvs-schema.js';

const VS = 100,
  RS = 10;
const CONF = '/run/bench-lvs.conf';
const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const runs = Number(process.env.BENCH_RUNS ?? 2);

function config(changedWeight: number): string {
  let s = 'global_defs {\n  router_id bench_lvs\n}\n';
  for (let v = 1; v <= VS; v++) {
    s += `virtual_server 192.0.2.${v} 80 {\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n`;
    for (let r = 1; r <= RS; r++) s += `  real_server 198.51.100.${r} 8080 { weight ${v === 50 && r === 5 ? changedWeight : 1} }\n`;
    s += '}\n';
  }
  return s;
}
const svc = (v: number): IpvsService => ({
  af: AF_INET,
  protocol: PROTO.TCP,
  address: `192.0.2.${v}`,
  port: 80,
  schedName: 'wrr',
  flags: 0,
  timeout: 0,
  netmask: 32,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean>, limitMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (await cond()) return performance.now() - t0;
    await sleep(2);
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

async function one(ipvs: Ipvs, name: string, start: () => ChildProcess): Promise<Record<string, number | string>> {
  writeFileSync(CONF, config(1));
  await ipvs.flush();
  const t0 = performance.now();
  const child = start();
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  try {
    // full: every service, and the last one holds all its destinations
    await until(async () => (await ipvs.listServices()).length === VS && (await ipvs.listDests(svc(VS))).length === RS, 60_000);
    const startMs = performance.now() - t0;
    await sleep(500);
    writeFileSync(CONF, config(7));
    const t1 = performance.now();
    child.kill('SIGHUP');
    await until(async () => (await ipvs.listDests(svc(50))).some((d) => d.address === '198.51.100.5' && d.weight === 7), 30_000);
    const reloadMs = performance.now() - t1;
    await sleep(300);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const t2 = performance.now();
    child.kill('SIGTERM');
    await until(async () => (await ipvs.listServices()).length === 0, 30_000);
    const stopMs = performance.now() - t2;
    await exited;
    const exitMs = performance.now() - t2;
    return { daemon: name, startMs, reloadMs, stopMs, exitMs };
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${name}: ${(e as Error).message}\n${log.slice(-2000)}`);
  }
}

const ipvs = await Ipvs.open({ modprobe: false, timeoutMs: 5000 });
// the floor under "start": Node itself starting and exiting in this guest
{
  const t0 = performance.now();
  await new Promise<void>((r) => spawn(process.execPath, ['-e', '0']).once('exit', () => r()));
  console.log(`RESULT ${JSON.stringify({ daemon: 'node -e 0', startMs: performance.now() - t0 })}`);
}
const quiet: { stdio: ['ignore', 'pipe', 'pipe'] } = { stdio: ['ignore', 'pipe', 'pipe'] };
for (let i = 0; i < runs; i++) {
  for (const [name, start] of [
    [
      'keepalived',
      () => spawn('/usr/sbin/keepalived', ['-n', '-l', '-C', '-G', '-f', CONF, '-p', '/run/ka.pid', '-c', '/run/ka_c.pid'], quiet),
    ],
    ['keepalived-ts', () => spawn(process.execPath, [CLI, '-n', '-l', '-f', CONF, '-p', '/run/kts.pid'], quiet)],
    // BENCH_BASE_CLI: another build's cli.js (before / after in the same boot)
    ...(process.env.BENCH_BASE_CLI
      ? [
          [
            'keepalived-ts (base)',
            () => spawn(process.execPath, [process.env.BENCH_BASE_CLI!, '-n', '-l', '-f', CONF, '-p', '/run/kts.pid'], quiet),
          ] as const,
        ]
      : []),
  ] as const) {
    console.log(`RESULT ${JSON.stringify(await one(ipvs, name, start))}`);
  }
}
// One event loop for VRRP and LVS? A 10 ms timer (an advert schedule) runs in the process while
// the table manager programs 100 x 10, flips 500 real servers down and up, reloads and stops; the
// timer's lateness is what VRRP adverts would suffer. Baseline: the same timer, idle.
async function lateness(work: () => Promise<void>): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const late: number[] = [];
  let next = performance.now() + 10;
  let on = true;
  const tick = () => {
    const now = performance.now();
    late.push(now - next);
    next += 10;
    if (on) setTimeout(tick, Math.max(0, next - performance.now()));
  };
  setTimeout(tick, 10);
  await work();
  await sleep(50);
  on = false;
  const s = [...late].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!;
  return { p50: q(0.5), p99: q(0.99), max: s[s.length - 1]!, n: s.length };
}
{
  await ipvs.flush();
  const idle = await lateness(async () => {
    await sleep(3000);
  });
  const cfg = parseConfigText(config(1), CONF, { configId: 'x', fileExists: () => false }).config;
  // parsed outside the measure: parsing blocks the loop the same for VRRP reloads (config side)
  const cfg2 = parseConfigText(config(7), CONF, { configId: 'x', fileExists: () => false }).config;
  const m = new LvsManager(ipvs, { info: () => {}, warn: () => {}, error: (x) => console.error(x), debug: () => {} });
  const t0 = performance.now();
  if (process.env.BENCH_WINDOW) LvsManager.window = Number(process.env.BENCH_WINDOW);
  const busy = await lateness(async () => {
    await m.start(cfg);
    for (let round = 0; round < 2; round++) {
      for (const alive of [false, true]) {
        for (const vs of cfg.virtualServers.slice(0, 50)) for (const rs of vs.realServers) m.setAlive(vs, rs, alive, 'bench');
        await m.idle();
      }
    }
    await m.reload(cfg2);
    await m.stop();
  });
  const writes = ipvs.writes;
  console.log(`RESULT ${JSON.stringify({ daemon: 'event-loop', idle, busy, busyMs: performance.now() - t0, writes })}`);
}
await ipvs.flush();
ipvs.close();
