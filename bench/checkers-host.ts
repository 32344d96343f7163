// Health checkers' cost on the host, in-process (no keepalived beside it: this kernel has no IPVS, so
// keepalived's checker cannot run here; bench/checkers.ts gives the side-by-side figure in UML):
// 1,000 real servers with TCP_CHECK and 200 with HTTP_GET, delay_loop 1, against targets on the
// loopback (served by a child process, so that their CPU is not counted). Prints our CPU (share of
// one core), attempts per second and the event loop's delay (p50/p99/max). Quick to profile with
// --cpu-prof. Run: npm run build && node dist/bench/checkers-host.js [seconds] [tcp] [http]
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startCheckers } from '../src/check/index.js';
import type { Checker, RealServer, VirtualServer } from '../src/config/model.js';

const seconds = Number(process.argv[2] ?? 10);
const nTcp = Number(process.argv[3] ?? 1000);
const nHttp = Number(process.argv[4] ?? 200);
const TCP_PORT = 20080;
const HTTP_PORT = 20081;

const TARGETS = `
const net = require('node:net');
net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(${TCP_PORT}, '127.0.0.1', 4096);
net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n'));
}).listen(${HTTP_PORT}, '127.0.0.1', 4096, () => console.log('ready'));
setTimeout(() => process.exit(0), ${(seconds + 30) * 1000}).unref();
`;

const ip = (a: string) => ({ family: 'inet' as const, address: a, prefixLength: 32 });
function checker(type: string, port: number): Checker {
  return {
    type,
    file: 'bench',
    line: 1,
    connectTimeoutMs: 3000,
    retry: 1,
    delayBeforeRetryMs: 1000,
    miscDynamic: false,
    connectIp: ip('127.0.0.1'),
    connectPort: port,
    options: {},
    urls: type === 'HTTP_GET' ? [{ path: '/', status_code: '200' }] : [],
  } as Checker;
}
function realServers(n: number, type: string, port: number, base: number): RealServer[] {
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        address: ip(`192.0.2.${1 + (i % 250)}`),
        port: base + Math.floor(i / 250) * 1000 + (i % 250),
        file: 'bench',
        line: 1,
        weight: 1,
        inhibitOnFailure: false,
        trackFiles: [],
        checkers: [checker(type, port)],
      }) as RealServer,
  );
}
const vs: VirtualServer = {
  kind: 'address',
  address: ip('203.0.113.1'),
  port: 80,
  file: 'bench',
  line: 1,
  delayLoopMs: 1000,
  lvsSched: 'wlc',
  lvsMethod: 'NAT',
  protocol: 'TCP',
  quorum: 1,
  hysteresis: 0,
  haSuspend: false,
  options: {},
  realServers: [...realServers(nTcp, 'TCP_CHECK', TCP_PORT, 10000), ...realServers(nHttp, 'HTTP_GET', HTTP_PORT, 30000)],
} as VirtualServer;

async function main() {
  const targets = spawn(process.execPath, ['-e', TARGETS], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('targets did not start')), 10_000);
      createInterface({ input: targets.stdout! }).on('line', (l) => {
        if (l === 'ready') {
          clearTimeout(t);
          res();
        }
      });
    });
    let dead = 0;
    const ctl = startCheckers(
      [vs],
      {
        setAlive: (_v, _r, alive) => {
          if (!alive) dead++;
        },
        setWeight: () => undefined,
      },
      {
        log: { info: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) },
      },
    );
    // the first attempts are spread over 1 s + warmup (1 s): measure after they settled
    await new Promise((r) => setTimeout(r, 3000));
    const attempts0 = ctl.snapshot().reduce((s, e) => s + e.checkers[0]!.attempts, 0);
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    h.disable();
    const attempts = ctl.snapshot().reduce((s, e) => s + e.checkers[0]!.attempts, 0) - attempts0;
    await ctl.stop();
    const share = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    console.log(`checkers: ${nTcp} TCP_CHECK + ${nHttp} HTTP_GET, delay_loop 1 s, ${(wall / 1000).toFixed(1)} s measured`);
    console.log(
      `  CPU            ${share.toFixed(1)} % of one core (user ${((cpu.user / 1000 / wall) * 100).toFixed(1)} %, system ${((cpu.system / 1000 / wall) * 100).toFixed(1)} %)`,
    );
    console.log(`  attempts       ${(attempts / (wall / 1000)).toFixed(0)} /s (expected about ${nTcp + nHttp} /s)`);
    console.log(
      `  loop delay     p50 ${(h.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(2)} ms`,
    );
    console.log(`  real servers reported dead: ${dead} (targets healthy: expected 0)`);
  } finally {
    targets.kill('SIGKILL');
  }
}
main().catch((e: unknown) => {
  console.error(`bench/checkers: ${(e as Error).message}`);
  process.exitCode = 1;
});
