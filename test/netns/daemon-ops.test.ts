// Operations: metrics and status scraped while traffic flows (counters move), `keepalived-ts
// status`, the USR1 / USR2 files, JSON logs, and the systemd unit verified by systemd-analyze.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

function conf(prio: number, pass: string): string {
  return (
    `global_defs {\n  router_id ops_${prio}\n}\nvrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 61\n  priority ${prio}\n  advert_int 1\n` +
    `  authentication {\n    auth_type PASS\n    auth_pass ${pass}\n  }\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n`
  );
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  assert.ok(line, `metric ${name}{${labels}} present`);
  return Number(line.split(' ').pop());
}

test('ops: /metrics and /status move with the traffic, status prints the table, USR1/USR2 write parseable files, JSON logs', {
  timeout: 90_000,
}, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-ops-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] });
    writeFileSync(join(dir, 'a.conf'), conf(150, 'secret1'));
    writeFileSync(join(dir, 'b.conf'), conf(100, 'wrongpw'));
    const da = lab.spawn(a.ns, [
      process.execPath,
      cli,
      '-f',
      join(dir, 'a.conf'),
      '-n',
      '-l',
      '-p',
      join(dir, 'a.pid'),
      '--status-listen',
      '127.0.0.1:9650',
      '--data-dir',
      dir,
      '--log-json',
    ]);
    let logA = '';
    da.stderr!.on('data', (c: Buffer) => {
      logA += c.toString();
    });
    da.stdout!.resume();
    // b has the wrong password: a counts its adverts as auth failures
    const db = lab.spawn(b.ns, [process.execPath, cli, '-f', join(dir, 'b.conf'), '-n', '-l', '-p', join(dir, 'b.pid')]);
    db.stderr!.resume();
    db.stdout!.resume();

    assert.ok(await waitFor(() => lab.addressesOf('a').includes('192.0.2.100'), 15_000, 100), `a becomes Master:\n${logA}`);
    const scrape = (path: string) =>
      lab.exec(a.ns, [process.execPath, '-e', `fetch('http://127.0.0.1:9650${path}').then(r=>r.text()).then(t=>process.stdout.write(t))`]);
    await new Promise((r) => setTimeout(r, 1500));
    const m1 = scrape('/metrics');
    await new Promise((r) => setTimeout(r, 2500));
    const m2 = scrape('/metrics');
    assert.equal(metric(m2, 'keepalived_ts_vrrp_state', 'vrrp_instance="VI_1",vrid="61",family="ipv4"'), 2, 'state gauge says MASTER');
    assert.equal(metric(m2, 'keepalived_ts_vrrp_effective_priority', 'vrrp_instance="VI_1"'), 150);
    const sent1 = metric(m1, 'keepalived_ts_vrrp_adverts_sent_total', 'vrrp_instance="VI_1"');
    const sent2 = metric(m2, 'keepalived_ts_vrrp_adverts_sent_total', 'vrrp_instance="VI_1"');
    assert.ok(sent2 >= sent1 + 2, `adverts sent move with time: ${sent1} -> ${sent2}`);
    const auth2 = metric(m2, 'keepalived_ts_vrrp_drops_total', 'vrrp_instance="VI_1",reason="auth-mismatch"');
    assert.ok(auth2 >= 1, `b's adverts (wrong password) are counted as drops: ${auth2}`);
    assert.ok(metric(m2, 'keepalived_ts_vrrp_transitions_total', 'vrrp_instance="VI_1"') >= 2, 'INIT->BACKUP->MASTER counted');
    assert.match(m2, /keepalived_ts_process_resident_memory_bytes \d+/);

    const status = JSON.parse(scrape('/status')) as { instances: Array<{ name: string; state: string; advertsSent: number }> };
    assert.equal(status.instances[0]!.name, 'VI_1');
    assert.equal(status.instances[0]!.state, 'MASTER');
    const table = lab.exec(a.ns, [process.execPath, cli, 'status', '--status-listen', '127.0.0.1:9650']);
    assert.match(table, /^INSTANCE\s+STATE\s+VRID/m);
    assert.match(table, /^VI_1\s+MASTER\s+61\s+vnet0\s+150\s+150\s+1\/1/m);
    const asJson = JSON.parse(lab.exec(a.ns, [process.execPath, cli, 'status', '--json', '--status-listen', '127.0.0.1:9650'])) as {
      pid: number;
    };
    assert.ok(asJson.pid > 0);
    assert.throws(() => lab.exec(a.ns, [process.execPath, cli, 'status', '--status-listen', '127.0.0.1:9651']), /cannot reach/);

    // USR1: data + JSON files; USR2: statistics
    const pid = Number(readFileSync(join(dir, 'a.pid'), 'utf8'));
    process.kill(pid, 'SIGUSR1');
    process.kill(pid, 'SIGUSR2');
    assert.ok(await waitFor(() => existsSync(join(dir, 'keepalived-ts.stats')) && existsSync(join(dir, 'keepalived-ts.json')), 5000));
    const data = readFileSync(join(dir, 'keepalived-ts.data'), 'utf8');
    assert.match(data, /^ VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER$/m);
    const json = JSON.parse(readFileSync(join(dir, 'keepalived-ts.json'), 'utf8')) as { instances: Array<{ state: string }> };
    assert.equal(json.instances[0]!.state, 'MASTER');
    const stats = readFileSync(join(dir, 'keepalived-ts.stats'), 'utf8');
    const failure = /Authentication Errors:\n\s+Invalid Type: \d+\n\s+Type Mismatch: \d+\n\s+Failure: (\d+)/.exec(stats);
    assert.ok(failure && Number(failure[1]) >= 1, `stats count the auth failures:\n${stats}`);

    // JSON logs: every line parses, and carries keepalived's wording
    const lines = logA.split('\n').filter(Boolean);
    for (const l of lines) JSON.parse(l);
    assert.ok(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === '(VI_1) Entering MASTER STATE'));

    process.kill(pid, 'SIGTERM');
    assert.ok(await waitFor(() => da.exitCode !== null, 10_000));
    assert.equal(da.exitCode, 0);
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ops: systemd-analyze verifies the unit and the hardening drop-in (ExecStart pointed at this checkout)', { timeout: 30_000 }, () => {
  const unit = readFileSync(join(root, 'systemd', 'keepalived-ts.service'), 'utf8');
  assert.match(unit, /^Type=notify$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  // as Debian's keepalived.service: DAEMON_ARGS from /etc/default, no sandbox for notify scripts
  assert.match(unit, /^EnvironmentFile=-\/etc\/default\/keepalived-ts$/m);
  assert.match(unit, /^ExecStart=\/usr\/sbin\/keepalived-ts --dont-fork \$DAEMON_ARGS$/m);
  assert.doesNotMatch(unit, /^(ProtectSystem|CapabilityBoundingSet|ProtectHome)=/m);
  const dropIn = readFileSync(join(root, 'systemd', 'hardening.conf'), 'utf8');
  assert.match(dropIn, /^AmbientCapabilities=.*CAP_NET_RAW.*CAP_NET_ADMIN/m);
  assert.match(dropIn, /^ProtectSystem=full$/m);
  const dir = mkdtempSync(join(tmpdir(), 'kts-unit-'));
  try {
    const file = join(dir, 'keepalived-ts.service');
    writeFileSync(file, unit.replace('/usr/sbin/keepalived-ts', `${process.execPath} ${cli}`));
    const verify = () =>
      execFileSync('systemd-analyze', ['verify', '--man=no', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      });
    assert.equal(verify().trim(), '');
    // the drop-in, where systemd looks for it: a bad key there would be reported
    execFileSync('mkdir', [join(dir, 'keepalived-ts.service.d')]);
    writeFileSync(join(dir, 'keepalived-ts.service.d', 'hardening.conf'), dropIn);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), '');
    writeFileSync(join(dir, 'keepalived-ts.service.d', 'bogus.conf'), '[Service]\nBogusKey=1\n');
    assert.match(
      spawnSync('systemd-analyze', ['verify', '--man=no', file], {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      }).stderr,
      /Unknown key 'BogusKey'/,
      'drop-ins are read',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
