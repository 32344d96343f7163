import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCommandLineError, prepareCommand, splitCommandLine } from '../../src/track/cmdline.js';

test('splits words, quotes and escapes like keepalived', () => {
  assert.deepEqual(splitCommandLine('/usr/bin/check  a\tb'), { argv: ['/usr/bin/check', 'a', 'b'], needsShell: false });
  assert.deepEqual(splitCommandLine(`"/tmp/a b" param1 'param 2'`), { argv: ['/tmp/a b', 'param1', 'param 2'], needsShell: false });
  assert.deepEqual(splitCommandLine(`x "say \\"hi\\"" a\\ b`), { argv: ['x', 'say "hi"', 'a b'], needsShell: false });
  assert.deepEqual(splitCommandLine(`x pre"mid"'post'`), { argv: ['x', 'premidpost'], needsShell: false });
  assert.deepEqual(splitCommandLine(`x ""`), { argv: ['x', ''], needsShell: false });
});

test('shell syntax is detected only outside quotes', () => {
  const a = splitCommandLine('killall -0 haproxy || exit 1');
  assert.ok(!isCommandLineError(a) && a.needsShell);
  const b = splitCommandLine(`grep "a|b" '$HOME' /etc/x`);
  assert.ok(!isCommandLineError(b) && !b.needsShell);
  const c = splitCommandLine('ls ~/x');
  assert.ok(!isCommandLineError(c) && c.needsShell);
});

test('bad lines give typed errors, never throw', () => {
  for (const [line, err] of [
    ['', 'empty'],
    ['   ', 'empty'],
    [`x "open`, 'unterminated-quote'],
    [`x 'open`, 'unterminated-quote'],
    ['x \\', 'trailing-backslash'],
  ] as const) {
    const r = splitCommandLine(line);
    assert.ok(isCommandLineError(r), line);
    assert.equal(r.error, err);
  }
});

test('prepareCommand appends extra args without a shell, or as "$@" with one', () => {
  const a = prepareCommand('/bin/notify "x y"', ['INSTANCE', 'VI_1', 'MASTER', '100']);
  assert.ok(!isCommandLineError(a));
  assert.deepEqual(a, { file: '/bin/notify', args: ['x y', 'INSTANCE', 'VI_1', 'MASTER', '100'], shell: false, line: '/bin/notify "x y"' });
  const b = prepareCommand('echo $1 > /dev/null', ['$(reboot)']);
  assert.ok(!isCommandLineError(b));
  assert.equal(b.file, '/bin/sh');
  // our argument is a positional parameter, never shell text
  assert.deepEqual(b.args, ['-c', 'echo $1 > /dev/null "$@"', 'sh', '$(reboot)']);
});
