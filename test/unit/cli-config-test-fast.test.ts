// The -t fast path (src/cli.ts: a plain `-t -f FILE` skips the option parser and the daemon's
// modules) must say and return exactly what the full command line does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { plainConfigTest } from '../../src/cli/config-test.js';

const root = new URL('../../..', import.meta.url).pathname;
const cli = join(root, 'dist', 'src', 'cli.js');
const fixtures = join(root, 'test', 'fixtures', 'config');

test('plainConfigTest: which command lines take the fast path', () => {
  assert.deepEqual(plainConfigTest(['-t', '-f', 'a.conf']), { configFile: 'a.conf' });
  assert.deepEqual(plainConfigTest(['--use-file', 'a.conf', '-l', '--config-test', '-i', 'lb1']), {
    configFile: 'a.conf',
    configId: 'lb1',
  });
  // anything else goes through the full option parser
  for (const argv of [
    ['-f', 'a.conf'], // no -t: run the daemon
    ['-t'], // default file
    ['-t', '-f', 'a.conf', '-f', 'b.conf'],
    ['-t', '-t', '-f', 'a.conf'],
    ['-t', '--config-test', '-f', 'a.conf'],
    ['-t', '-f', 'a.conf', '--use-file', 'b.conf'],
    ['-t', '-f'],
    ['-t', '-f', '-l'],
    ['-tlog', '-f', 'a.conf'],
    ['--config-test=log', '-f', 'a.conf'],
    ['-t', '--use-file=a.conf'],
    ['-t', '-f', 'a.conf', 'stray'],
    ['-t', '-f', 'a.conf', '-P'],
    ['-t', '-f', 'a.conf', '--bogus'],
  ]) {
    assert.equal(plainConfigTest(argv), undefined, argv.join(' '));
  }
});

test('fast and full paths give the same diagnostics and exit code', () => {
  const files = [
    'valid/03-accepted-oddities.conf',
    'invalid/15-duplicate-vrid.conf',
    'invalid/31-missing-parameter.conf',
    'invalid/41-script-without-security.conf',
    'invalid/62-includea-missing.conf',
    'kts-no-such-file.conf',
  ];
  for (const f of files) {
    const file = join(fixtures, f);
    const fast = spawnSync(process.execPath, [cli, '-t', '-f', file, '-i', 'lb01'], { encoding: 'utf8', timeout: 30_000 });
    // -D is ignored under -t; given twice it leaves the fast path (a flag at most once there)
    const full = spawnSync(process.execPath, [cli, '-t', '-f', file, '-i', 'lb01', '-D', '-D'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(fast.status, full.status, `${f}: exit\nfast: ${fast.stderr}\nfull: ${full.stderr}`);
    assert.equal(fast.stderr, full.stderr, f);
    assert.equal(fast.stdout, full.stdout, f);
  }
});
