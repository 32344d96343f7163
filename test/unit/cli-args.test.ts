import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG_FILE, DEFAULT_PID_FILE, parseCliArgs, type CliOptions } from '../../src/cli/args.js';

function ok(argv: string[]): CliOptions {
  const r = parseCliArgs(argv);
  if (!r.ok) assert.fail(`expected ${JSON.stringify(argv)} to parse: ${r.message}`);
  return r.options;
}
function bad(argv: string[]): { exitCode: number; message: string } {
  const r = parseCliArgs(argv);
  if (r.ok) assert.fail(`expected ${JSON.stringify(argv)} to be refused`);
  return r;
}

test('defaults: run the daemon with the default file', () => {
  const o = ok([]);
  assert.equal(o.action, 'run');
  assert.equal(o.configFile, DEFAULT_CONFIG_FILE);
  assert.equal(o.pidFile, DEFAULT_PID_FILE);
  assert.equal(o.dontFork, false);
  assert.equal(o.logConsole, false);
  assert.equal(o.logDetail, false);
  assert.equal(o.vrrpOnly, false);
  assert.equal(o.checkOnly, false);
  assert.equal(o.configId, undefined);
  assert.equal(o.configTestLog, undefined);
  assert.deepEqual(o.warnings, []);
});

test('-f / --use-file in every getopt spelling', () => {
  assert.equal(ok(['-f', '/a.conf']).configFile, '/a.conf');
  assert.equal(ok(['-f/b.conf']).configFile, '/b.conf');
  assert.equal(ok(['--use-file', '/c.conf']).configFile, '/c.conf');
  assert.equal(ok(['--use-file=/d.conf']).configFile, '/d.conf');
  assert.equal(ok(['-f', '/e.conf', '-f', '/g.conf']).configFile, '/g.conf', 'last one wins');
  assert.equal(bad(['-f']).exitCode, 1);
  assert.equal(bad(['--use-file']).exitCode, 1);
});

test('-t takes an optional attached log file only, like getopt', () => {
  const t = ok(['-t', '-f', 'x.conf']);
  assert.equal(t.action, 'config-test');
  assert.equal(t.configTestLog, undefined);
  assert.equal(t.configFile, 'x.conf');
  assert.equal(ok(['-t/tmp/log']).configTestLog, '/tmp/log');
  assert.equal(ok(['--config-test=/tmp/log2']).configTestLog, '/tmp/log2');
  assert.equal(ok(['--config-test']).configTestLog, undefined);
  // "-t FILE": FILE is a stray argument (keepalived: "Unexpected argument(s)") and -t has no log
  const s = ok(['-t', 'stray.log']);
  assert.equal(s.action, 'config-test');
  assert.equal(s.configTestLog, undefined);
  assert.deepEqual(s.warnings, ['Unexpected argument(s): stray.log']);
});

test('boolean flags, short clusters and long forms', () => {
  const o = ok(['-nlD', '-P', '--check']);
  assert.equal(o.dontFork, true);
  assert.equal(o.logConsole, true);
  assert.equal(o.logDetail, true);
  assert.equal(o.vrrpOnly, true);
  assert.equal(o.checkOnly, true);
  const l = ok(['--dont-fork', '--log-console', '--log-detail', '--vrrp']);
  assert.equal(l.dontFork && l.logConsole && l.logDetail && l.vrrpOnly, true);
  assert.equal(l.checkOnly, false);
  // a cluster ending in a value-taking letter: -nf FILE, -nfFILE
  assert.equal(ok(['-nf', 'k.conf']).configFile, 'k.conf');
  assert.equal(ok(['-nfk2.conf']).configFile, 'k2.conf');
  assert.equal(bad(['--dont-fork=yes']).exitCode, 1);
});

test('-i, -p, --dump-conf, -v, -h', () => {
  assert.equal(ok(['-i', 'lb01']).configId, 'lb01');
  assert.equal(ok(['--config-id=lb02']).configId, 'lb02');
  assert.equal(ok(['-p', '/run/x.pid']).pidFile, '/run/x.pid');
  assert.equal(ok(['--pid=/run/y.pid']).pidFile, '/run/y.pid');
  assert.equal(ok(['--dump-conf']).action, 'dump-conf');
  assert.equal(ok(['-d']).action, 'dump-conf');
  assert.equal(ok(['-v']).action, 'version');
  assert.equal(ok(['--version']).action, 'version');
  assert.equal(ok(['-h']).action, 'help');
  assert.equal(ok(['-t', '-h']).action, 'help', 'help wins');
  assert.equal(ok(['-t', '--dump-conf']).action, 'config-test', '-t wins over --dump-conf');
});

test('keepalived options refused: -T (genhash mode: `keepalived-ts genhash` instead): clear message, exit 1; -I accepted', () => {
  assert.equal(ok(['-nI']).dontReleaseIpvs, true);
  assert.equal(ok(['--dont-release-ipvs']).dontReleaseIpvs, true);
  for (const [argv, flag] of [
    [['-T'], '-T'],
    [['--genhash'], '--genhash'],
  ] as const) {
    const r = bad([...argv]);
    assert.equal(r.exitCode, 1);
    assert.match(r.message, new RegExp(`${flag}.*keepalived option that keepalived-ts does not support`));
  }
  assert.equal(ok(['-s', 'ns1']).namespace, 'ns1');
  assert.equal(ok(['--namespace=ns2', '-n']).namespace, 'ns2');
});

test('keepalived 2.2.7 flags from old DAEMON_ARGS lines: accepted, honoured or said once', () => {
  // Debian's /etc/default/keepalived: DAEMON_ARGS="-D -S 1 -G ..." and the like
  const o = ok(['-D', '-S', '1', '-G', '-X', '-R', '-r', '/run/vrrp.pid', '-c', '/run/checkers.pid', '-x', '-B', '--all', '-u', '027']);
  assert.equal(o.action, 'run');
  assert.equal(o.logDetail, true);
  assert.equal(o.logFacility, 17, '-S 1 is LOG_LOCAL1');
  assert.equal(o.noSyslog, true);
  assert.equal(o.umask, 0o027);
  assert.deepEqual(
    o.warnings.map((w) => /option (\S+)/.exec(w)?.[1]),
    ['-X', '-r', '-c', '-x'],
    'one warning each for -X -r -c -x',
  );
  assert.match(o.warnings.find((w) => w.includes('-x'))!, /no SNMP agent: use the Prometheus metrics/);
  assert.equal(ok([]).logFacility, 3, 'default facility: daemon');
  assert.equal(ok(['-S', 'local7']).logFacility, 23);
  assert.equal(ok(['--log-facility=user']).logFacility, 1);
  assert.deepEqual(ok(['-S', 'mail']).warnings, ["Invalid log facility 'mail': using daemon"]);
  assert.equal(ok(['-gx.log']).logFile, 'x.log');
  assert.equal(ok(['--log-file']).logFile, '/tmp/keepalived-ts.log');
  assert.equal(ok(['-u', '0x12']).umask, 0x12);
  assert.equal(ok(['-u', '18']).umask, 18);
  assert.match(ok(['-u', 'abc']).warnings[0]!, /Invalid --umask option abc/);
  for (const f of ['-V', '-a', '-m', '-e', '--perf', '--debug=x', '--no-mem-check', '-A/s', '-M', '-bFILE', '--flush-log-file']) {
    const r = ok([f]);
    assert.equal(r.action, 'run', f);
    assert.equal(r.warnings.length, f === '--flush-log-file' ? 0 : 1, f);
  }
  assert.equal(ok(['--signum=DATA']).action, 'signum');
});

test('options unknown to keepalived too: "unknown option", exit 1 (keepalived: 1)', () => {
  const r = bad(['--bogus']);
  assert.equal(r.exitCode, 1);
  assert.match(r.message, /unknown option --bogus/);
  assert.match(bad(['-Z']).message, /unknown option -Z/);
  assert.match(bad(['-nZ']).message, /unknown option -Z/);
});

test('--status-listen: a malformed value is refused before the daemon starts (exit 1, one line)', () => {
  for (const v of ['9650', 'host:0', 'host:70000', 'x:y', '']) {
    const r = bad(['--status-listen', v]);
    assert.equal(r.exitCode, 1);
    assert.match(r.message, /^keepalived-ts: --status-listen ".*": expected HOST:PORT/);
    assert.equal(r.message.split('\n').length, 1);
  }
  assert.equal(ok(['--status-listen', ':9650']).statusListen, ':9650');
  assert.equal(ok(['--status-listen=[::1]:9650']).statusListen, '[::1]:9650');
  assert.equal(ok(['status', '--status-socket', '/tmp/s.sock']).statusSocket, '/tmp/s.sock');
  assert.equal(ok([]).statusSocket, undefined, 'default: the daemon picks /run/keepalived-ts/status.sock');
  assert.equal(bad(['--status-socket=']).exitCode, 1);
});
