// notify_fifo lines compared with keepalived 2.2.7's for the same transitions: the same
// configuration (a sync group of two instances, one tracking a file with weight 0) is run first
// under Debian's keepalived, then under keepalived-ts, in the same kind of lab namespace; the test
// drives the same events (start -> MASTER, file 1 -> FAULT, file 0 -> MASTER again, SIGTERM) and
// compares what a reader of each fifo saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, waitFor } from '../helpers/netns.js';
import { cli, cleanupDir, readOr, sleep, tempDir } from '../fixtures/seed/helpers.js';

function conf(dir: string, run: string): string {
  return `global_defs {
  router_id fifo_${run}
  notify_fifo ${dir}/${run}.fifo
}
track_file tz {
  file "${dir}/tz/v"
}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
}
vrrp_instance VI_1 {
  interface vnet0
  virtual_router_id 71
  priority 120
  advert_int 1
  virtual_ipaddress {
    192.0.2.171/24
  }
  track_file {
    tz weight 0
  }
}
vrrp_instance VI_2 {
  interface vnet0
  virtual_router_id 72
  priority 110
  advert_int 1
  virtual_ipaddress {
    192.0.2.172/24
  }
}
`;
}

async function scenario(lab: Lab, dir: string, run: 'keepalived' | 'kts'): Promise<{ lines: string[]; log: string }> {
  const ns = lab.host('n1').ns;
  const fifo = join(dir, `${run}.fifo`);
  const out = join(dir, `${run}.out`);
  writeFileSync(join(dir, 'tz', 'v'), '0\n');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(out, '');
  // the reader: a cat of the fifo, started by us, killed by PID
  const reader: ChildProcess = spawn('sh', ['-c', `exec cat "${fifo}" >> "${out}"`], { stdio: 'ignore' });
  const cfg = join(dir, `${run}.conf`);
  writeFileSync(cfg, conf(dir, run));
  const argv =
    run === 'keepalived'
      ? ['keepalived', '-n', '-l', '-D', '-f', cfg, '-p', join(dir, 'k1.pid'), '-r', join(dir, 'k2.pid'), '-c', join(dir, 'k3.pid')]
      : [process.execPath, cli, '-n', '-l', '-f', cfg, '-p', join(dir, 'kts.pid')];
  const proc = lab.spawn(ns, argv);
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const has = (a: string) => lab.addressesOf('n1').includes(a);
  const why = () => `\n--- ${run} log\n${log}\n--- fifo\n${readOr(out)}`;
  try {
    assert.ok(await waitFor(() => has('192.0.2.171') && has('192.0.2.172'), 20_000, 50), `${run}: both MASTER${why()}`);
    await sleep(1500);
    writeFileSync(join(dir, 'tz', 'v'), '1\n');
    assert.ok(await waitFor(() => !has('192.0.2.171') && !has('192.0.2.172'), 10_000, 50), `${run}: both leave MASTER${why()}`);
    await sleep(1500);
    writeFileSync(join(dir, 'tz', 'v'), '0\n');
    assert.ok(await waitFor(() => has('192.0.2.171') && has('192.0.2.172'), 20_000, 50), `${run}: both MASTER again${why()}`);
    await sleep(1500);
  } finally {
    try {
      proc.kill('SIGTERM');
    } catch {
      /* gone */
    }
    const t = setTimeout(() => {
      try {
        proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, 8000);
    await exited;
    clearTimeout(t);
    await sleep(300);
    try {
      reader.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  return { lines: readOr(out).split('\n').filter(Boolean), log };
}

test("notify_fifo: our lines equal keepalived 2.2.7's for the same transitions (sync group, FAULT by track_file, stop)", {
  timeout: 150_000,
}, async () => {
  const lab = Lab.create();
  const dir = tempDir('fifo');
  try {
    lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    mkdirSync(join(dir, 'tz'));
    const ka = await scenario(lab, dir, 'keepalived');
    const ours = await scenario(lab, dir, 'kts');
    console.log(`# keepalived 2.2.7 fifo:\n#   ${ka.lines.join('\n#   ')}`);
    console.log(`# keepalived-ts fifo:\n#   ${ours.lines.join('\n#   ')}`);
    assert.ok(ka.lines.length >= 8, `keepalived wrote its lines (${ka.lines.length})\n${ka.log}`);
    assert.deepEqual(ours.lines, ka.lines, 'the same lines in the same order');
  } finally {
    cleanupDir(dir);
    await lab.cleanup();
  }
});
