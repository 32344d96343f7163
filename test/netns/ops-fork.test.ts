// Without -n the command forks the daemon into the background, as keepalived does: it returns once
// the daemon is ready (pid file written, sockets open), and a start failure is the command's exit
// code and message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const CONF =
  'vrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 67\n  priority 150\n  advert_int 1\n' +
  '  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n';

test('fork: without -n the command returns once the daemon runs; the pid file names it; SIGTERM stops it', {
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-fork-'));
  let daemonPid = 0;
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    writeFileSync(join(dir, 'k.conf'), CONF);
    const pidFile = join(dir, 'k.pid');
    const sock = join(dir, 'status.sock');
    const t0 = Date.now();
    const r = spawnSync(
      'ip',
      ['netns', 'exec', a.ns, process.execPath, cli, '-f', join(dir, 'k.conf'), '-l', '-p', pidFile, '--status-socket', sock],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const took = Date.now() - t0;
    assert.equal(r.status, 0, `the command returns 0: ${r.stderr}`);
    assert.equal(r.stdout + r.stderr, '', 'the parent says nothing (the daemon logs to syslog / its console is /dev/null)');
    assert.ok(took < 20_000, `returned in ${took} ms`);
    // ready means: pid file written and the status socket answering, before the command returned
    assert.ok(existsSync(pidFile), 'pid file written before the command returned');
    assert.ok(existsSync(sock), 'status socket open before the command returned');
    daemonPid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(daemonPid > 0 && alive(daemonPid), `pid file names a live daemon: ${daemonPid}`);
    assert.notEqual(daemonPid, r.pid);
    // a session of its own (setsid), no controlling terminal: /proc/PID/stat fields 6 (session) and 7 (tty)
    const stat = readFileSync(`/proc/${daemonPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(fields[3]), daemonPid, 'session leader');
    assert.equal(fields[4], '0', 'no controlling terminal');
    assert.ok(await waitFor(() => lab.addressesOf('a').includes('192.0.2.100'), 15_000, 100), 'the daemon runs VRRP and takes the VIP');
    assert.match(spawnSync(process.execPath, [cli, 'status', '--status-socket', sock], { encoding: 'utf8' }).stdout, /^VI_1\s+MASTER/m);

    process.kill(daemonPid, 'SIGTERM');
    assert.ok(await waitFor(() => !alive(daemonPid), 15_000, 50), 'SIGTERM stops it');
    assert.ok(!existsSync(pidFile), 'pid file removed at stop');
    assert.ok(!lab.addressesOf('a').includes('192.0.2.100'), 'VIP released');
  } finally {
    if (daemonPid && alive(daemonPid)) process.kill(daemonPid, 'SIGKILL');
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fork: a start failure is reported by the command (message, non-zero exit), nothing left running', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-fork-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    writeFileSync(join(dir, 'k.conf'), CONF);
    const pidFile = join(dir, 'k.pid');
    const holder = lab.spawn(a.ns, [
      process.execPath,
      '-e',
      `require('net').createServer().listen(9650,'127.0.0.1',()=>console.log('ok'))`,
    ]);
    let ready = '';
    holder.stdout!.on('data', (c: Buffer) => {
      ready += c.toString();
    });
    assert.ok(await waitFor(() => ready.includes('ok'), 10_000));
    const run = (...args: string[]) =>
      spawnSync('ip', ['netns', 'exec', a.ns, process.execPath, cli, '-p', pidFile, '--status-socket', join(dir, 'status.sock'), ...args], {
        encoding: 'utf8',
        timeout: 30_000,
      });

    const busy = run('-f', join(dir, 'k.conf'), '--status-listen', '127.0.0.1:9650');
    assert.equal(busy.status, 1);
    assert.equal(
      busy.stderr,
      'keepalived-ts: cannot start: --status-listen 127.0.0.1:9650: cannot listen: address already in use (another daemon or program listens there)\n',
    );
    assert.ok(!existsSync(pidFile));

    const missing = run('-f', join(dir, 'none.conf'));
    // keepalived 2.2.7 exits 6 without its main file (src/config/verdict.ts, judgeConfig)
    assert.equal(missing.status, 6, "keepalived's code for a missing main configuration file");
    assert.match(missing.stderr, /^keepalived-ts: configuration refused, keepalived would not run it: .*Config files missing/m);
    assert.ok(!existsSync(pidFile));
    assert.ok(!lab.addressesOf('a').includes('192.0.2.100'));
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
