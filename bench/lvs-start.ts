// bench/lvs-start: an LVS-only start on the host, `keepalived-ts -n -C` on 100 virtual servers x
// 10 real servers, from spawn to its "started" line: wall time and the process's CPU (utime +
// stime of every thread, /proc/PID/stat) at that line, and the `.js` files it read (strace, if
// installed, in a separate round). This host has no IPVS: the table is not written (one error
// line), so this is Node, our modules, the parse and the checkers' set-up. Root (a kts- network
// namespace of its own, removed at the end).
// Usage: node dist/bench/lvs-start.js [--runs N] [--cli A/dist/src/cli.js --cli B/...] (builds
// alternate run by run; default: this build)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opt } from './bench-common.js';

const argv = process.argv.slice(2);
const clis = argv.flatMap((a, i) => (a === '--cli' && argv[i + 1] ? [argv[i + 1]!] : []));
if (clis.length === 0) clis.push(join(import.meta.dirname, '..', 'src', 'cli.js'));
const runs = opt('--runs', 10);
const ns = `kts-lvsstart-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'kts-lvsstart-'));
const conf = join(dir, 'lvs.conf');
let s = 'global_defs {\n  router_id bench_lvs\n}\n';
for (let v = 1; v <= 100; v++) {
  s += `virtual_server 192.0.2.${v} 80 {\n  delay_loop 60\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n`;
  for (let r = 1; r <= 10; r++) s += `  real_server 198.51.100.${r} 8080 {\n    weight 1\n    TCP_CHECK { connect_timeout 3 }\n  }\n`;
  s += '}\n';
}
writeFileSync(conf, s);
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
};

async function one(cli: string, strace: boolean): Promise<{ wallMs: number; cpuMs: number; files?: number }> {
  const trace = join(dir, 'trace');
  const cmd = [
    ...(strace ? ['strace', '-f', '-e', 'trace=openat', '-o', trace] : []),
    process.execPath,
    cli,
    '-n',
    '-l',
    '-G',
    '-C',
    '-f',
    conf,
    '-p',
    join(dir, 'k.pid'),
    '--status-socket',
    'none',
  ];
  const t0 = performance.now();
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  const r = await new Promise<{ wallMs: number; cpuMs: number }>((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`no "started" line within 30 s:\n${out}`)), 30_000);
    child.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/started \d+ VRRP instance/.test(out)) {
        const wallMs = performance.now() - t0;
        clearTimeout(limit);
        // the daemon's pid: the "Starting keepalived-ts (pid N)" line (strace and ip netns exec between)
        const pid = Number(/\(pid (\d+)\)/.exec(out)![1]);
        resolve({ wallMs, cpuMs: cpuMs(pid) });
      }
    });
  });
  const pid = Number(/\(pid (\d+)\)/.exec(out)![1]);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  process.kill(pid, 'SIGTERM');
  await exited;
  if (!strace) return r;
  const files = new Set(
    readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /\.js"/.test(l) && !l.includes('ENOENT'))
      .map((l) => /"([^"]+)"/.exec(l)![1]),
  );
  return { ...r, files: files.size };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
execFileSync('ip', ['netns', 'add', ns]);
try {
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const got = clis.map(() => ({ wall: [] as number[], cpu: [] as number[], files: 0 }));
  // warm the page cache for every build once
  for (const cli of clis) await one(cli, false);
  for (let i = 0; i < runs; i++)
    for (const [k, cli] of clis.entries()) {
      const r = await one(cli, false);
      got[k]!.wall.push(r.wallMs);
      got[k]!.cpu.push(r.cpuMs);
    }
  let hasStrace = true;
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch {
    hasStrace = false;
  }
  if (hasStrace) for (const [k, cli] of clis.entries()) got[k]!.files = (await one(cli, true)).files ?? 0;
  console.log(
    `bench/lvs-start: -C on 100 x 10, spawn to "started", ${runs} runs each, median [min-max] (load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
  );
  for (const [k, cli] of clis.entries()) {
    const g = got[k]!;
    const f = (xs: number[]) => `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`;
    console.log(`${cli}: wall ${f(g.wall)} ms, CPU ${f(g.cpu)} ms${hasStrace ? `, .js files read ${g.files}` : ''}`);
  }
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
