// bench/lvs, the part that runs INSIDE the UML guest (bench/lvs.ts boots it): keepalived 2.2.7 (-C)
// and keepalived-ts, same file, same boot: start to full table (100 virtual servers x 10 real
// servers), a reload that changes one weight, stop to empty table. Polls the table over netlink;
// prints one "RESULT {json}" line per daemon and run.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ipvs } from '../src/lvs/ipvs-netlink.js';
import { AF_INET, PROTO, type IpvsService } from '../src/lvs/ipvs-schema.js';

const VS = 100, RS = 10;
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
const svc = (v: number): IpvsService => ({ af: AF_INET, protocol: PROTO.TCP, address: `192.0.2.${v}`, port: 80, schedName: 'wrr', flags: 0, timeout: 0, netmask: 32 });
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
    ['keepalived', () => spawn('/usr/sbin/keepalived', ['-n', '-l', '-C', '-G', '-f', CONF, '-p', '/run/ka.pid', '-c', '/run/ka_c.pid'], quiet)],
    ['keepalived-ts', () => spawn(process.execPath, [CLI, '-n', '-l', '-f', CONF, '-p', '/run/kts.pid'], quiet)],
  ] as const) {
    console.log(`RESULT ${JSON.stringify(await one(ipvs, name, start))}`);
  }
}
await ipvs.flush();
ipvs.close();
