// -s/--namespace NAME, as keepalived: started from the host's namespace, the daemon runs its VRRP
// instances inside NAME; signals reach it; a namespace that does not exist is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
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

test('-s NAME: the daemon runs inside the namespace, SIGTERM to the command stops it', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-ns-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    writeFileSync(
      join(dir, 'k.conf'),
      'vrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 69\n  priority 150\n  advert_int 1\n' +
        '  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n',
    );
    // -t inside the namespace: vnet0 exists there, not here
    const t = spawnSync(process.execPath, [cli, '-t', '-s', a.ns, '-f', join(dir, 'k.conf')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(t.status, 0, t.stderr);
    // started here, in the host's namespace (not through ip netns exec)
    const d = spawn(
      process.execPath,
      [cli, '-s', a.ns, '-f', join(dir, 'k.conf'), '-n', '-l', '-p', join(dir, 'k.pid'), '--status-socket', 'none'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    let inner = 0;
    d.stderr.on('data', (c: Buffer) => {
      log += c.toString();
    });
    try {
      assert.ok(await waitFor(() => lab.addressesOf('a').includes('192.0.2.100'), 15_000, 100), `VIP in the namespace:\n${log}`);
      inner = Number(readFileSync(join(dir, 'k.pid'), 'utf8'));
      assert.notEqual(inner, d.pid, 'the daemon is the process inside the namespace');
      assert.notEqual(readlinkSync(`/proc/${inner}/ns/net`), readlinkSync('/proc/self/ns/net'), "not in the host's namespace");
      d.kill('SIGTERM');
      assert.ok(await waitFor(() => d.exitCode !== null, 15_000), log);
      assert.equal(d.exitCode, 0, log);
      assert.match(log, /Stopped/);
      assert.ok(!lab.addressesOf('a').includes('192.0.2.100'), 'VIP released');
      assert.ok(!existsSync(join(dir, 'k.pid')));
    } finally {
      // the daemon inside is the wrapper's child: stop it by its own pid when the test failed half-way
      if (inner && alive(inner)) process.kill(inner, 'SIGKILL');
      if (d.exitCode === null) d.kill('SIGKILL');
    }
    const none = spawnSync(process.execPath, [cli, '-s', 'kts-nosuch-ns', '-f', join(dir, 'k.conf'), '-n'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(none.status, 1);
    assert.equal(
      none.stderr,
      'keepalived-ts: network namespace kts-nosuch-ns does not exist (create it with: ip netns add kts-nosuch-ns)\n',
    );
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
