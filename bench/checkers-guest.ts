// bench/checkers, the part that runs INSIDE the UML guest (bench/checkers.ts boots it): the health
// checkers' CPU, keepalived 2.2.7 (-C) and keepalived-ts from the same file in the same boot, one
// after the other: 1,000 real servers with TCP_CHECK and 200 with HTTP_GET at delay_loop 1, all
// healthy (a TCP and an HTTP target on the loopback, served by a child process whose CPU is not
// counted). Each daemon: started, WARMUP_S seconds for the first attempts to settle and the table
// to be written, then CPU (utime + stime from /proc, every process of the daemon) over MEASURE_S
// seconds, and the attempts made in that time (from the targets' connection count). Prints one
// "RESULT {json}" line per daemon and run.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const N_TCP = Number(process.env.BENCH_TCP ?? 1000);
const N_HTTP = Number(process.env.BENCH_HTTP ?? 200);
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 8);
const runs = Number(process.env.BENCH_RUNS ?? 1);
const CONF = '/run/bench-checkers.conf';
const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const TCP_PORT = 20080,
  HTTP_PORT = 20081;
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU in 1/100 s

function config(): string {
  let s =
    'global_defs {\n  router_id bench_checkers\n}\nvirtual_server 203.0.113.1 80 {\n  delay_loop 1\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP\n';
  const rs = (i: number, base: number) => `198.51.100.${1 + (i % 250)} ${base + Math.floor(i / 250) * 1000 + (i % 250)}`;
  for (let i = 0; i < N_TCP; i++)
    s += `  real_server ${rs(i, 10000)} {\n    TCP_CHECK {\n      connect_ip 127.0.0.1\n      connect_port ${TCP_PORT}\n      connect_timeout 3\n    }\n  }\n`;
  for (let i = 0; i < N_HTTP; i++) {
    s += `  real_server ${rs(i, 30000)} {\n    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_ip 127.0.0.1\n      connect_port ${HTTP_PORT}\n      connect_timeout 3\n    }\n  }\n`;
  }
  return `${s}}\n`;
}

// the targets count connections: attempts per second for each daemon
const TARGETS = `
const net = require('node:net');
let n = 0;
net.createServer((s) => { n++; s.on('error', () => {}); s.end(); }).listen(${TCP_PORT}, '127.0.0.1', 4096);
net.createServer((s) => {
  n++;
  s.on('error', () => {});
  s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n'));
}).listen(${HTTP_PORT}, '127.0.0.1', 4096, () => console.log('ready'));
process.stdin.on('data', () => console.log('count ' + n));
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process in seconds (0 if it is gone). */
function cpuOf(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // fields 14 and 15 of stat
  } catch {
    return 0;
  }
}
/** the guest's idle time in seconds (/proc/stat: the cpu line's 4th field) */
function idleS(): number {
  return Number(readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)[4]) / TICK;
}
/** the process and its descendants (keepalived -C: the parent and its checker child), by ppid */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

async function main(): Promise<void> {
  writeFileSync(CONF, config());
  const targets = spawn(process.execPath, ['-e', TARGETS], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: targets.stdout! }).on('line', (l) => lines.push(l));
  for (let i = 0; i < 200 && !lines.includes('ready'); i++) await sleep(50);
  if (!lines.includes('ready')) throw new Error('targets did not start');
  const count = async (): Promise<number> => {
    const n = lines.length;
    targets.stdin!.write('\n');
    for (let i = 0; i < 200 && lines.length === n; i++) await sleep(10);
    return Number(lines.at(-1)!.split(' ')[1]);
  };

  const one = async (name: string, start: () => ChildProcess): Promise<Record<string, number | string>> => {
    const child = start();
    let log = '';
    child.stdout?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
    child.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
    try {
      await sleep(WARMUP_S * 1000);
      if (child.exitCode !== null) throw new Error(`exited (${child.exitCode})`);
      const pids = tree(child.pid!);
      const c0 = pids.reduce((s, p) => s + cpuOf(p), 0);
      const n0 = await count();
      const idle0 = idleS();
      const t0 = performance.now();
      await sleep(MEASURE_S * 1000);
      const pids2 = tree(child.pid!);
      const c1 = pids2.reduce((s, p) => s + cpuOf(p), 0);
      const n1 = await count();
      const wall = (performance.now() - t0) / 1000;
      const idlePct = ((idleS() - idle0) / wall) * 100;
      const failures = (log.match(/failed|Removing service/g) ?? []).length;
      return { daemon: name, cpuPct: ((c1 - c0) / wall) * 100, attemptsPerS: (n1 - n0) / wall, idlePct, processes: pids2.length, failures };
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}\n${log.slice(-2000)}`);
    } finally {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(t);
    }
  };

  const quiet: { stdio: ['ignore', 'pipe', 'pipe'] } = { stdio: ['ignore', 'pipe', 'pipe'] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const [name, start] of [
        [
          'keepalived',
          () => spawn('/usr/sbin/keepalived', ['-n', '-l', '-C', '-G', '-f', CONF, '-p', '/run/ka.pid', '-c', '/run/ka_c.pid'], quiet),
        ],
        [
          'keepalived-ts',
          () =>
            spawn(
              process.execPath,
              [
                ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []),
                CLI,
                '-n',
                '-l',
                '-G',
                '-f',
                CONF,
                '-p',
                '/run/kts.pid',
                '--status-socket',
                'none',
              ],
              quiet,
            ),
        ],
      ] as const) {
        console.log(`RESULT ${JSON.stringify(await one(name, start))}`);
      }
    }
  } finally {
    targets.kill('SIGKILL');
  }
}
main().catch((e: unknown) => {
  console.error(`bench/checkers-guest: ${(e as Error).message}`);
  process.exitCode = 1;
});
