// bench/lvs-split (root): does the VRRP advert schedule hold while 1,000 real servers are checked?
// keepalived-ts as a VRRPv3 Master (advert_int 0.01: one advert every 10 ms) with one
// virtual_server of 1,000 real servers under TCP_CHECK (delay_loop 1: 1,000 connects a second),
// a tenth of them flapping (their ports closed and reopened every second, so checkers go down and
// up and log), run in turn as two processes (the default: a checker child) and as one
// (--single-process). A bystander's tcpdump stamps each advert on the bridge; the slip is the gap
// between two adverts minus 10 ms. This host has no IPVS: the table manager is off in both modes,
// the load is the checkers' (the UML tier has the table). Usage: node dist/bench/lvs-split.js
// [--rounds N (default 2)] [--seconds S (default 20)] [--modes two,one,nice10,rt10,...]
// (default two,one; MODES below: the process model and global_defs' scheduling keywords; the
// order rotates each round)
import { execFileSync } from 'node:child_process';
import { Cluster, sleep } from '../test/helpers/daemon-cluster.js';

const argv = process.argv.slice(2);
const arg = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const rounds = arg('--rounds', 2);
const seconds = arg('--seconds', 20);
const N = 1000;
const BASE = 10000;

/** mode -> [its name in the table, the daemon's extra arguments, extra global_defs] */
const MODES: Record<string, [string, string[], string]> = {
  two: ['two processes', [], ''],
  one: ['one process', ['--single-process'], ''],
  nice10: ['two, checker_priority 10', [], 'checker_priority 10'],
  nice19: ['two, checker_priority 19', [], 'checker_priority 19'],
  rt10: ['two, vrrp_rt_priority 10', [], 'vrrp_rt_priority 10'],
  nice10rt10: ['two, checker_priority 10 + vrrp_rt_priority 10', [], 'checker_priority 10\n  vrrp_rt_priority 10'],
  onert10: ['one, vrrp_rt_priority 10', ['--single-process'], 'vrrp_rt_priority 10'],
};
const modes = (argv.includes('--modes') ? argv[argv.indexOf('--modes') + 1]! : 'two,one').split(',');
for (const m of modes) if (!MODES[m]) throw new Error(`unknown mode ${m}: ${Object.keys(MODES).join(', ')}`);

const rs = Array.from({ length: N }, (_, i) => `  real_server 192.0.2.21 ${BASE + i} {\n    TCP_CHECK { connect_timeout 1 }\n  }`).join(
  '\n',
);
const conf = (globals: string) => `
global_defs {
  vrrp_garp_master_repeat 1
  ${globals}
}
vrrp_instance VI_1 {
  state MASTER
  interface vnet0
  version 3
  virtual_router_id 61
  priority 200
  advert_int 0.01
  virtual_ipaddress { 192.0.2.100/24 }
}
virtual_server 192.0.2.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${rs}
}
`;

// the real servers: one process, 1,000 ports; every second a tenth of them close, and reopen the next
const TARGETS = `
const net = require('node:net');
const servers = new Map();
const open = (p) => { const s = net.createServer((c) => { c.on('error', () => {}); c.end(); }); s.on('error', () => {}); s.listen(p, '192.0.2.21', 64); servers.set(p, s); };
for (let i = 0; i < ${N}; i++) open(${BASE} + i);
let k = 0;
setInterval(() => {
  for (let i = 0; i < ${N / 10}; i++) {
    const p = ${BASE} + ((k * ${N / 10} + i) % ${N});
    const s = servers.get(p);
    if (s && s.listening) { s.close(); servers.delete(p); } else open(p);
  }
  if (++k % 2 === 0) k++;
}, 1000);
setTimeout(() => process.exit(0), ${(rounds * modes.length * (seconds + 15) + 60) * 1000}).unref();
`;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]!;

async function measure(c: Cluster, mode: string): Promise<{ slips: number[]; checks: number }> {
  const [, args, globals] = MODES[mode]!;
  const d = c.start('d1', conf(globals), { args: ['--status-socket', 'none', ...args] });
  try {
    if (!(await d.waitState('VI_1', 'MASTER', 20_000))) throw new Error(`no MASTER:\n${d.log()}`);
    await sleep(5000); // the checkers' first round is spread over 1 s + warmup (1 s)
    const lines = await c.capture('obs', seconds, 'ip proto 112', undefined, ['-tt', '--time-stamp-precision=micro']);
    const t = lines.map((l) => Number(l.split(' ')[0]) * 1000).filter((x) => Number.isFinite(x));
    const slips: number[] = [];
    for (let i = 1; i < t.length; i++) slips.push(t[i]! - t[i - 1]! - 10);
    const checks = d.count(/TCP connection to|TCP_CHECK on service/);
    return { slips, checks };
  } finally {
    await d.stop(10_000);
  }
}

const c = Cluster.create([
  { name: 'd1', addresses: ['192.0.2.11/24'] },
  { name: 'rs1', addresses: ['192.0.2.21/24'] },
  { name: 'obs', addresses: ['192.0.2.31/24'] },
]);
const targets = c.lab.spawn(c.lab.host('rs1').ns, [process.execPath, '-e', TARGETS]);
process.on('SIGINT', () => {
  targets.kill('SIGKILL');
  void c.cleanup().then(() => process.exit(130));
});
try {
  await sleep(1000);
  const res: Record<string, number[]> = Object.fromEntries(modes.map((m) => [MODES[m]![0], []]));
  for (let r = 0; r < rounds; r++) {
    for (const mode of [...modes.slice(r % modes.length), ...modes.slice(0, r % modes.length)]) {
      const load = execFileSync('uptime', { encoding: 'utf8' })
        .trim()
        .replace(/.*load average: /, '');
      const m = await measure(c, mode);
      res[MODES[mode]![0]]!.push(...m.slips);
      const s = m.slips;
      console.log(
        `round ${r + 1} ${MODES[mode]![0]}: ${s.length} adverts, slip p50 ${pct(s, 0.5).toFixed(2)} / p99 ${pct(s, 0.99).toFixed(2)} / max ${Math.max(...s).toFixed(2)} ms; ${m.checks} checker log lines (load ${load})`,
      );
    }
  }
  console.log(`\n| mode | adverts | slip p50 | p99 | p99.9 | max |\n| --- | --- | --- | --- | --- | --- |`);
  for (const [mode, s] of Object.entries(res))
    console.log(
      `| ${mode} | ${s.length} | ${pct(s, 0.5).toFixed(2)} | ${pct(s, 0.99).toFixed(2)} | ${pct(s, 0.999).toFixed(2)} | ${Math.max(...s).toFixed(2)} ms |`,
    );
} finally {
  targets.kill('SIGKILL');
  await c.cleanup();
}
