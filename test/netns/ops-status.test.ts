// Status out of the box: the root-only Unix socket served by default and read by `keepalived-ts
// status` with no flag; --status-listen refused at start (port in use) with one line and exit 1.
// The default socket lives in /run: each daemon here runs in a mount namespace of its own with a
// tmpfs on /run, so the test never touches the host's /run/keepalived-ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function conf(prio: number): string {
  return (
    `vrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 62\n  priority ${prio}\n  advert_int 1\n` +
    `  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n`
  );
}

function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

test('status: default root-only Unix socket, `status` without flags, /metrics clean for promtool', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-status-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    writeFileSync(join(dir, 'a.conf'), conf(150));
    // a private /run: the defaults (/run/keepalived-ts/status.sock, /run/keepalived-ts.pid) are ours
    const d = lab.spawn(a.ns, [
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs tmpfs /run && exec "$0" "$@"`,
      process.execPath,
      cli,
      '-f',
      join(dir, 'a.conf'),
      '-n',
      '-l',
    ]);
    let log = '';
    d.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    d.stdout!.resume();
    // ip netns exec, unshare and sh all exec: the child's pid is the daemon's
    const inDaemonNs = (argv: string[], uid?: number) =>
      spawnSync(
        'nsenter',
        [
          '-t',
          String(d.pid),
          '-m',
          '-n',
          ...(uid !== undefined ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : []),
          ...argv,
        ],
        { encoding: 'utf8', timeout: 10_000 },
      );
    assert.ok(await waitFor(() => lab.addressesOf('a').includes('192.0.2.100'), 15_000, 100), `a becomes Master:\n${log}`);
    assert.match(log, /status and metrics on unix:\/run\/keepalived-ts\/status\.sock/);

    const modes = inDaemonNs(['stat', '-c', '%a %U %F', '/run/keepalived-ts', '/run/keepalived-ts/status.sock']);
    assert.equal(modes.stdout, '700 root directory\n600 root socket\n', modes.stderr);

    const table = inDaemonNs([process.execPath, cli, 'status']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^VI_1\s+MASTER\s+62\s+vnet0\s+150\s+150\s+1\/1/m);
    const json = JSON.parse(inDaemonNs([process.execPath, cli, 'status', '--json']).stdout) as { pid: number };
    assert.equal(json.pid, d.pid);

    // not root: refused by the file mode, and told why
    const nobody = inDaemonNs([process.execPath, cli, 'status'], 65534);
    assert.equal(nobody.status, 2);
    assert.match(nobody.stderr, /cannot reach keepalived-ts at \/run\/keepalived-ts\/status\.sock \(.*EACCES.*\); the socket is root-only/);

    // /metrics over the socket: no gauge named _total (promtool check metrics)
    const metrics = inDaemonNs(['curl', '-sf', '--unix-socket', '/run/keepalived-ts/status.sock', 'http://localhost/metrics']);
    const text =
      metrics.status === 0
        ? metrics.stdout
        : inDaemonNs([
            process.execPath,
            '-e',
            `require('http').get({socketPath:'/run/keepalived-ts/status.sock',path:'/metrics'},r=>{r.pipe(process.stdout)})`,
          ]).stdout;
    assert.match(text, /^keepalived_ts_vrrp_state\{vrrp_instance="VI_1",vrid="62",family="ipv4"\} 2$/m);
    assert.doesNotMatch(text, /^# TYPE \S+_total gauge$/m);
    if (hasPromtool()) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
      assert.equal((check.stdout + check.stderr).trim(), '');
    } else if (process.env.CI) {
      assert.fail('promtool is missing (.ci/run installs it)');
    }

    process.kill(d.pid!, 'SIGTERM');
    assert.ok(await waitFor(() => d.exitCode !== null, 10_000));
    assert.equal(d.exitCode, 0, log);
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status: --status-listen on a port in use, or malformed, refuses the start (one line, exit 1, no VIP)', {
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-status-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    writeFileSync(join(dir, 'a.conf'), conf(150));
    // something already listens on 127.0.0.1:9650 inside the namespace
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
    const pidFile = join(dir, 'a.pid');
    const run = (listen: string) =>
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          a.ns,
          process.execPath,
          cli,
          '-f',
          join(dir, 'a.conf'),
          '-n',
          '-l',
          '-p',
          pidFile,
          '--status-socket',
          join(dir, 'status.sock'),
          '--status-listen',
          listen,
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
    const busy = run('127.0.0.1:9650');
    assert.equal(busy.status, 1, busy.stderr);
    const fatal = busy.stderr.split('\n').filter((l) => /FATAL/.test(l));
    assert.equal(fatal.length, 1, busy.stderr);
    assert.match(fatal[0]!, /cannot start: --status-listen 127\.0\.0\.1:9650: cannot listen: address already in use/);
    assert.equal(existsSync(pidFile), false, 'no pid file left behind');
    assert.equal(existsSync(join(dir, 'status.sock')), false, 'no socket left behind');
    assert.ok(!lab.addressesOf('a').includes('192.0.2.100'), 'no VIP taken');

    // the same from global_defs' keepalived_ts_status_listen
    writeFileSync(join(dir, 'g.conf'), `global_defs {\n  keepalived_ts_status_listen 127.0.0.1:9650\n}\n${conf(150)}`);
    const fromConf = spawnSync(
      'ip',
      ['netns', 'exec', a.ns, process.execPath, cli, '-f', join(dir, 'g.conf'), '-n', '-l', '-p', pidFile, '--status-socket', 'none'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(fromConf.status, 1, fromConf.stderr);
    assert.match(fromConf.stderr, /FATAL: cannot start: --status-listen 127\.0\.0\.1:9650: cannot listen: address already in use/);
    assert.equal(existsSync(pidFile), false);

    for (const bad of ['9650', 'localhost:99999', 'x:y']) {
      const r = run(bad);
      assert.equal(r.status, 1, `${bad}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /--status-listen ".*": expected HOST:PORT/);
    }
    // a free port works, and the socket named by --status-socket is served too
    const d = lab.spawn(a.ns, [
      process.execPath,
      cli,
      '-f',
      join(dir, 'a.conf'),
      '-n',
      '-l',
      '-p',
      pidFile,
      '--status-socket',
      join(dir, 'status.sock'),
      '--status-listen',
      '127.0.0.1:9651',
    ]);
    let log = '';
    d.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    d.stdout!.resume();
    assert.ok(await waitFor(() => lab.addressesOf('a').includes('192.0.2.100'), 15_000, 100), `a becomes Master:\n${log}`);
    assert.match(lab.exec(a.ns, [process.execPath, cli, 'status', '--status-listen', '127.0.0.1:9651']), /^VI_1\s+MASTER/m);
    assert.match(
      execFileSync(process.execPath, [cli, 'status', '--status-socket', join(dir, 'status.sock')], { encoding: 'utf8' }),
      /^VI_1\s+MASTER/m,
    );
    process.kill(d.pid!, 'SIGTERM');
    assert.ok(await waitFor(() => d.exitCode !== null, 10_000));
    assert.equal(d.exitCode, 0, log);
    assert.equal(existsSync(join(dir, 'status.sock')), false, 'the socket is removed at stop');
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
