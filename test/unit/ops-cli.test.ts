// keepalived's command-line functions that answer without a daemon: --signum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });

test('--signum=SIGFUNC prints the signal keepalived-ts acts on (keepalived 2.2.7: same numbers)', () => {
  // `kill -s $(keepalived-ts --signum=RELOAD) $(cat /run/keepalived-ts.pid)` as scripts do
  for (const [f, n] of [
    ['STOP', 15],
    ['RELOAD', 1],
    ['DATA', 10],
    ['STATS', 12],
    ['JSON', 10],
  ] as const) {
    const r = run([`--signum=${f}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${n}\n`, f);
  }
  const clear = run(['--signum', 'STATS_CLEAR']);
  assert.equal(clear.status, 1);
  assert.equal(clear.stderr, 'STATS_CLEAR is not supported by keepalived-ts\n');
  const foo = run(['--signum=FOO']);
  assert.equal(foo.status, 1);
  assert.equal(foo.stderr, 'Unknown sigfunc FOO\n', "keepalived's wording");
});
