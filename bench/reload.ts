// bench/reload: how long does applying a reload of 200 instances take, ours against keepalived?
// One node (a kts- namespace), 200 vrrp_instances all Master. Three reloads are timed, each from
// the SIGHUP to the daemon's "done" log line: an unchanged file, every instance's priority
// changed, and back. keepalived 2.2.7 (-P, VRRP only) gets the same file and signals; its end is
// "Reload complete". Printed side by side, as ratios. Usage (root): node dist/bench/reload.js [--runs N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Lab, waitFor, isRoot } from '../test/helpers/netns.js';

const N = 200;
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 3);

function config(prio: number): string {
  let s = 'global_defs {\n  router_id bench_reload\n}\n';
  for (let i = 1; i <= N; i++) {
    const vip = i <= 250 ? `203.0.113.${i}` : `198.51.100.${i - 250}`;
    s += `vrrp_instance VI_${i} {\n  interface vnet0\n  virtual_router_id ${i}\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n    ${vip}/24\n  }\n}\n`;
  }
  return s;
}

interface Runner {
  name: string;
  start(conf: string): ChildProcess;
  done: RegExp;
}

async function measure(lab: Lab, ns: string, r: Runner, dir: string): Promise<Record<string, number[]>> {
  const conf = join(dir, `${r.name}.conf`);
  writeFileSync(conf, config(150));
  const proc = r.start(conf);
  let log = '';
  const onData = (c: Buffer) => {
    log += c.toString();
  };
  proc.stderr?.on('data', onData);
  proc.stdout?.on('data', onData);
  const out: Record<string, number[]> = { unchanged: [], 'all changed': [] };
  try {
    const all = () =>
      lab
        .exec(ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'vnet0'])
        .split('\n')
        .filter((l) => / (203\.0\.113|198\.51\.100)\./.test(l)).length;
    if (!(await waitFor(() => all() === N, 60_000, 200)))
      throw new Error(`${r.name}: not all ${N} instances became Master:\n${log.slice(-2000)}`);
    const reload = async (prio: number, label: string) => {
      writeFileSync(conf, config(prio));
      const before = (log.match(r.done) ?? []).length;
      const t0 = performance.now();
      proc.kill('SIGHUP');
      if (!(await waitFor(() => (log.match(r.done) ?? []).length > before, 30_000, 2))) throw new Error(`${r.name}: reload did not finish`);
      out[label]!.push(performance.now() - t0);
      await new Promise((res) => setTimeout(res, 1500));
    };
    for (let i = 0; i < runs; i++) {
      await reload(150, 'unchanged');
      await reload(151, 'all changed');
      await reload(150, 'all changed');
    }
    if (all() !== N) throw new Error(`${r.name}: lost VIPs during reloads`);
  } finally {
    proc.kill('SIGTERM');
    await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, 15_000);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.error('bench/reload needs root (network namespaces)');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kts-bench-reload-'));
  const lab = Lab.create();
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const ours: Runner = {
      name: 'keepalived-ts',
      done: /Reload done in/g,
      start: (conf) => lab.spawn(h.ns, [process.execPath, cli, '-f', conf, '-n', '-l', '-p', join(dir, 'kts.pid')]),
    };
    const theirs: Runner = {
      name: 'keepalived',
      done: /Reload complete/g,
      start: (conf) =>
        lab.spawn(h.ns, [
          'keepalived',
          '-n',
          '-l',
          '-P',
          '-f',
          conf,
          '-p',
          join(dir, 'k.pid'),
          '-r',
          join(dir, 'v.pid'),
          '-c',
          join(dir, 'c.pid'),
        ]),
    };
    const a = await measure(lab, h.ns, ours, dir);
    const b = await measure(lab, h.ns, theirs, dir);
    console.log(`bench/reload: ${N} instances, all Master, ${runs} round(s); SIGHUP to "reload done" (ms)`);
    console.log('case          keepalived-ts (min/median/max)   keepalived (min/median/max)   ratio of medians');
    for (const k of Object.keys(a)) {
      const f = (x: number[]) => `${Math.min(...x).toFixed(1)}/${median(x).toFixed(1)}/${Math.max(...x).toFixed(1)}`;
      console.log(`${k.padEnd(13)} ${f(a[k]!).padEnd(32)} ${f(b[k]!).padEnd(29)} x${(median(a[k]!) / median(b[k]!)).toFixed(2)}`);
    }
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench/reload failed: ${(err as Error).message}`);
  process.exit(1);
});
