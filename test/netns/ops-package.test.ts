// The Debian package: `npm run package` builds it, dpkg installs it on this machine, the installed
// binary runs a failover between two nodes of a namespace lab, and dpkg -P removes it leaving
// nothing behind. Refuses to touch a keepalived-ts package it did not install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = '/usr/sbin/keepalived-ts';

function installed(): boolean {
  return spawnSync('dpkg-query', ['-W', '-f', '${Status}', 'keepalived-ts'], { encoding: 'utf8' }).stdout.includes('installed');
}

/** dpkg, retried while another dpkg/apt holds its lock (bounded). */
async function dpkg(args: string[]): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = spawnSync('dpkg', args, { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return r.stdout + r.stderr;
    if (!/lock/i.test(r.stderr) || Date.now() > deadline) throw new Error(`dpkg ${args.join(' ')}: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

function conf(prio: number): string {
  return (
    `vrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 68\n  priority ${prio}\n  advert_int 1\n` +
    `  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n`
  );
}

const preinstalled = installed();

test('package: npm run package, dpkg -i, failover with the installed binary, dpkg -P leaves nothing', {
  timeout: 300_000,
  skip: preinstalled && !process.env.CI ? 'a keepalived-ts package is installed already: not touching it' : false,
}, async () => {
  assert.ok(!preinstalled, 'keepalived-ts must not be installed before this test (it installs and purges it)');
  const dir = mkdtempSync(join(tmpdir(), 'kts-pkg-'));
  const lab = Lab.create();
  let didInstall = false;
  try {
    const deb = execFileSync('bash', [join(root, 'scripts', 'package-deb.sh'), dir], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, KTS_PACKAGE_NO_BUILD: '1' },
    })
      .trim()
      .split('\n')
      .pop()!;
    assert.match(deb, /keepalived-ts_\d+\.\d+\.\d+_[a-z0-9]+\.deb$/);
    const info = execFileSync('dpkg-deb', ['-f', deb, 'Depends', 'Architecture'], { encoding: 'utf8' });
    assert.match(info, /nodejs \(>= 20\.19\)/);
    const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\n')
      .map((l) =>
        l
          .split(/\s+/)
          .slice(5)
          .join(' ')
          .replace(/^\.\//, '/')
          .replace(/ -> .*$/, ''),
      )
      .filter((p) => p.length > 1);
    for (const f of [
      '/usr/sbin/keepalived-ts',
      '/lib/systemd/system/keepalived-ts.service',
      '/etc/default/keepalived-ts',
      '/etc/keepalived-ts/keepalived.conf',
      '/usr/share/man/man8/keepalived-ts.8.gz',
      '/usr/share/man/man8/keepalived-ts-status.8.gz',
      '/usr/share/doc/keepalived-ts/examples/hardening.conf',
      '/usr/lib/keepalived-ts/node_modules/pino/package.json',
    ]) {
      assert.ok(files.includes(f), `${f} in the package`);
    }
    assert.ok(
      files.some((f) => /^\/usr\/lib\/keepalived-ts\/native\/build\/Release\/\w+\.node$/.test(f)),
      'the built addon',
    );
    assert.ok(!files.some((f) => f.includes('node_modules/typescript/')), 'no development dependencies');
    assert.ok(!files.some((f) => f.includes('/dist/test/')), 'no tests');
    assert.deepEqual(execFileSync('dpkg-deb', ['-I', deb, 'conffiles'], { encoding: 'utf8' }).trim().split('\n'), [
      '/etc/default/keepalived-ts',
      '/etc/keepalived-ts/keepalived.conf',
    ]);

    // Depends: nodejs (>= 20.19): Node must be a dpkg package here (NodeSource's, or a newer Debian's)
    const node = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'nodejs'], { encoding: 'utf8' });
    assert.equal(
      node.status,
      0,
      "nodejs is not a dpkg package on this machine: install Node from an apt repository (NodeSource) so that the package's Depends is met",
    );
    await dpkg(['-i', deb]);
    didInstall = true;
    assert.ok(installed());
    assert.match(execFileSync(BIN, ['--version'], { encoding: 'utf8' }), /^keepalived-ts v\d+\.\d+\.\d+ /);
    // the shipped example runs nothing and is valid
    assert.equal(spawnSync(BIN, ['-t', '-f', '/etc/keepalived-ts/keepalived.conf']).status, 0);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', '/lib/systemd/system/keepalived-ts.service'], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);

    // a failover between two nodes, both running the installed binary
    const hosts = [lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] }), lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] })];
    const procs = hosts.map((h, i) => {
      writeFileSync(join(dir, `${h.name}.conf`), conf(i === 0 ? 150 : 100));
      const p = lab.spawn(h.ns, [
        BIN,
        '-f',
        join(dir, `${h.name}.conf`),
        '-n',
        '-l',
        '-p',
        join(dir, `${h.name}.pid`),
        '--status-socket',
        'none',
      ]);
      p.stdout!.resume();
      let log = '';
      p.stderr!.on('data', (c: Buffer) => {
        log += c.toString();
      });
      return { p, log: () => log };
    });
    assert.ok(await waitFor(() => lab.addressesOf('a').includes('192.0.2.100'), 15_000, 100), procs[0]!.log());
    assert.ok(!lab.addressesOf('b').includes('192.0.2.100'));
    procs[0]!.p.kill('SIGTERM');
    const t0 = Date.now();
    assert.ok(await waitFor(() => lab.addressesOf('b').includes('192.0.2.100'), 10_000, 20), procs[1]!.log());
    assert.ok(Date.now() - t0 < 5000, `b took over in ${Date.now() - t0} ms`);
    assert.ok(await waitFor(() => procs[0]!.p.exitCode !== null, 10_000));
    assert.equal(procs[0]!.p.exitCode, 0);
    assert.ok(!lab.addressesOf('a').includes('192.0.2.100'));
    procs[1]!.p.kill('SIGTERM');
    assert.ok(await waitFor(() => procs[1]!.p.exitCode !== null, 10_000));

    await dpkg(['-P', 'keepalived-ts']);
    didInstall = false;
    assert.ok(!installed(), 'purged');
    const left = files.filter(
      (f) =>
        existsSync(f) &&
        ![
          '/etc',
          '/etc/default',
          '/lib',
          '/lib/systemd',
          '/lib/systemd/system',
          '/usr',
          '/usr/lib',
          '/usr/sbin',
          '/usr/share',
          '/usr/share/man',
          '/usr/share/man/man8',
          '/usr/share/doc',
        ].includes(f.replace(/\/$/, '')),
    );
    assert.deepEqual(left, [], 'nothing of the package is left');
    assert.ok(!existsSync('/etc/keepalived-ts') && !existsSync('/usr/lib/keepalived-ts'));
    assert.deepEqual(
      readdirSync('/var/lib/dpkg/info').filter((f) => f.startsWith('keepalived-ts.')),
      [],
    );
  } finally {
    if (didInstall && installed()) await dpkg(['-P', 'keepalived-ts']).catch(() => undefined);
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
