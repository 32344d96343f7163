// One splitter for script lines: the config (which judges "script not found" and counts scripts
// for script security) and the runner (security check, spawn) now get the same argv. Before, the
// config split on spaces and single quotes only, the runner also honoured double quotes and
// backslashes: the lines below were judged with one argv and run with another.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import { isCommandLineError, prepareCommand } from '../../src/track/cmdline.js';
import { splitCommandLine } from '../../src/util/command-line.js';

const scriptArgv = (configLine: string): readonly string[] => {
  const text = `vrrp_script chk {\n script ${configLine}\n}\n`;
  const r = parseConfigText(text, 'k.conf', { configId: 'x', fileExists: () => true });
  return r.config.vrrpScripts[0]!.script.argv;
};

const runArgv = (command: string): string[] => {
  const p = prepareCommand(command);
  assert.ok(!isCommandLineError(p));
  return [p.file, ...p.args];
};

test('a double-quoted program path: judged and run as one argv', () => {
  // keepalived.conf: script "\"/opt/my checks/chk\" x"  -> command: "/opt/my checks/chk" x
  // before: config argv[0] = '"/opt/my' (not found), runner argv[0] = '/opt/my checks/chk'
  const line = String.raw`"\"/opt/my checks/chk\" x"`;
  assert.deepEqual(scriptArgv(line), ['/opt/my checks/chk', 'x']);
  assert.deepEqual(runArgv('"/opt/my checks/chk" x'), ['/opt/my checks/chk', 'x']);
});

test('a backslash-escaped space: judged and run as one argv', () => {
  // command: /opt/my\ checks/chk x ; before: config argv[0] = '/opt/my\', runner '/opt/my checks/chk'
  const line = String.raw`"/opt/my\\ checks/chk x"`;
  assert.deepEqual(scriptArgv(line), ['/opt/my checks/chk', 'x']);
  assert.deepEqual(runArgv(String.raw`/opt/my\ checks/chk x`), ['/opt/my checks/chk', 'x']);
});

test("keepalived's escapes apply inside single quotes too, and quotes join parts of a word", () => {
  assert.deepEqual(splitCommandLine(String.raw`/bin/x 'a\'b' "c"'d'e \x41\101\tz`), {
    argv: ['/bin/x', "a'b", 'cde', 'AA\tz'],
    needsShell: false,
  });
});

test('a line that cannot be split has no argv in the config and is not run', () => {
  assert.deepEqual(scriptArgv(String.raw`"/bin/x 'open"`), []);
  assert.ok(isCommandLineError(prepareCommand("/bin/x 'open")));
});
