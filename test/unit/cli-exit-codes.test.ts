import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Diagnostic, DiagnosticCategory, Severity } from '../../src/config/diagnostics.js';
import type { DaemonOptions } from '../../src/daemon/index.js';
import type { ConfigApi, ParseOptions } from '../../src/cli/config-api.js';
import { configTestExitCode, ExitCode } from '../../src/cli/exit-codes.js';
import { runCli, sysInterfaceExists, toJson, type CliIo } from '../../src/cli/main.js';

function diag(category: DiagnosticCategory, severity: Severity = 'error', line = 3): Diagnostic {
  return { category, severity, file: '/etc/k.conf', line, column: 1, message: `a ${category} problem` };
}

test('exit code per category, as measured against keepalived 2.2.7', () => {
  assert.equal(configTestExitCode([]), 0);
  assert.equal(configTestExitCode([diag('unknown-keyword')]), 5);
  assert.equal(configTestExitCode([diag('syntax')]), 5);
  assert.equal(configTestExitCode([diag('invalid-value')]), 5);
  assert.equal(configTestExitCode([diag('semantic')]), 5);
  assert.equal(configTestExitCode([diag('bad-interface')]), 5);
  assert.equal(configTestExitCode([diag('security')]), 6);
  assert.equal(configTestExitCode([diag('missing-parameter')]), 2);
  assert.equal(configTestExitCode([diag('fatal')]), 4);
  assert.equal(configTestExitCode([diag('file-not-found')]), 0, 'keepalived 2.2.7 exits 0 for a missing file');
  assert.equal(configTestExitCode([diag('info', 'info')]), 0);
});

test('severity info never counts; warnings do (keepalived has one class of config error)', () => {
  assert.equal(configTestExitCode([diag('unknown-keyword', 'info')]), 0);
  assert.equal(configTestExitCode([diag('unknown-keyword', 'warning')]), 5);
});

test('precedence: missing parameter > fatal > security > errors > ok, whatever the order', () => {
  const all = [diag('unknown-keyword'), diag('security'), diag('file-not-found')];
  assert.equal(configTestExitCode(all), 6);
  assert.equal(configTestExitCode([...all].reverse()), 6);
  assert.equal(configTestExitCode([diag('file-not-found'), diag('syntax')]), 5);
  assert.equal(configTestExitCode([diag('security'), diag('fatal')]), 4);
  assert.equal(configTestExitCode([diag('fatal'), diag('missing-parameter'), diag('security')]), 2);
});

interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
  files: Map<string, string>;
  daemon: DaemonOptions[];
  seen: ParseOptions[];
}
function fakeIo(diagnostics: Diagnostic[], opts: { throws?: boolean; missing?: boolean } = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string>();
  const daemon: DaemonOptions[] = [];
  const seen: ParseOptions[] = [];
  const api: ConfigApi = {
    parseConfigFile(path, o) {
      seen.push(o ?? {});
      if (opts.throws) throw new Error('parser bug');
      return { config: { file: path, instances: new Map([['VI_1', { vrid: 51 }]]) }, diagnostics, files: [path] };
    },
  };
  const io: CliIo = {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    loadConfigApi: async () => {
      if (opts.missing) throw new Error('the configuration parser (src/config/index.ts) is not available');
      return api;
    },
    interfaceExists: (n) => n === 'eth0',
    runDaemon: async (o) => {
      daemon.push(o);
      return 1;
    },
    writeFile: (p, d) => files.set(p, d),
  };
  return { io, out, err, files, daemon, seen };
}

test('-t prints diagnostics to stderr and returns the keepalived exit code', async () => {
  const c = fakeIo([diag('unknown-keyword', 'warning', 6), diag('security', 'error', 0)]);
  const code = await runCli(['-t', '-f', '/etc/k.conf', '-i', 'lb01'], c.io);
  assert.equal(code, 6);
  const text = c.err.join('');
  assert.match(text, /^\/etc\/k\.conf:6:1: warning: a unknown-keyword problem$/m);
  assert.match(text, /^\/etc\/k\.conf: error: a security problem$/m);
  assert.equal(c.out.join(''), '');
  assert.equal(c.seen[0]?.configId, 'lb01');
  assert.equal(c.seen[0]?.interfaceExists?.('eth0'), true);
});

test('-tLOGFILE writes the diagnostics to that file instead', async () => {
  const c = fakeIo([diag('syntax', 'error', 9)]);
  assert.equal(await runCli(['-t/tmp/kts-log', '-f', '/etc/k.conf'], c.io), 5);
  assert.match(c.files.get('/tmp/kts-log') ?? '', /:9:1: error: a syntax problem/);
  assert.equal(c.err.join(''), '');
});

test('a clean file: exit 0, nothing printed', async () => {
  const c = fakeIo([]);
  assert.equal(await runCli(['-t', '-f', '/etc/k.conf'], c.io), 0);
  assert.equal(c.err.join(''), '');
});

test('a parser exception or a missing parser is a clear error, exit 2, never a crash', async () => {
  const t = fakeIo([], { throws: true });
  assert.equal(await runCli(['-t', '-f', '/etc/k.conf'], t.io), 2);
  assert.match(t.err.join(''), /internal error while reading \/etc\/k\.conf/);
  const m = fakeIo([], { missing: true });
  assert.equal(await runCli(['-t'], m.io), 2);
  assert.match(m.err.join(''), /parser .* is not available/);
});

test('--dump-conf prints the model as JSON (Maps as objects)', async () => {
  const c = fakeIo([]);
  assert.equal(await runCli(['--dump-conf', '-f', '/etc/k.conf'], c.io), 0);
  const j = JSON.parse(c.out.join('')) as { file: string; instances: Record<string, { vrid: number }> };
  assert.equal(j.file, '/etc/k.conf');
  assert.equal(j.instances.VI_1?.vrid, 51);
  assert.equal(toJson({ n: 5n, s: new Set([1, 2]) }).replace(/\s/g, ''), '{"n":"5","s":[1,2]}');
});

test('the run path hands the options to runDaemon and returns its code', async () => {
  const c = fakeIo([]);
  assert.equal(await runCli(['-n', '-l', '-D', '-P', '-f', '/etc/k.conf', '-p', '/run/k.pid', '-i', 'lb01'], c.io), 1);
  assert.deepEqual(c.daemon[0], {
    configFile: '/etc/k.conf',
    configId: 'lb01',
    dontFork: true,
    logConsole: true,
    logDetail: true,
    pidFile: '/run/k.pid',
    vrrpOnly: true,
    checkOnly: false,
    singleProcess: false,
    dontReleaseIpvs: false,
    logJson: false,
    statusListen: undefined,
    statusSocket: undefined,
    dataDir: undefined,
    watchConfig: false,
    notifyTimeoutS: undefined,
    logFacility: 3,
    noSyslog: false,
    logFile: undefined,
    umask: undefined,
    startWarnings: [],
  });
  const i = fakeIo([]);
  await runCli(['-n', '-C', '-I'], i.io);
  assert.equal(i.daemon[0]!.checkOnly, true);
  assert.equal(i.daemon[0]!.dontReleaseIpvs, true);
  const sp = fakeIo([]);
  await runCli(['-n', '--single-process'], sp.io);
  assert.equal(sp.daemon[0]!.singleProcess, true);
  const o = fakeIo([]);
  await runCli(['-n', '--status-listen', '127.0.0.1:9650', '--log-json', '--data-dir', '/var/tmp', '--watch-config'], o.io);
  assert.equal(o.daemon[0]!.statusListen, '127.0.0.1:9650');
  assert.equal(o.daemon[0]!.logJson, true);
  assert.equal(o.daemon[0]!.dataDir, '/var/tmp');
  assert.equal(o.daemon[0]!.watchConfig, true);
  const t = fakeIo([]);
  await runCli(['-n', '--notify-timeout', '2.5'], t.io);
  assert.equal(t.daemon[0]!.notifyTimeoutS, 2.5);
  assert.equal(await runCli(['--notify-timeout', 'soon'], fakeIo([]).io), ExitCode.usage);
});

test('status: a clear error when no daemon answers', async () => {
  const c = fakeIo([]);
  assert.equal(await runCli(['status', '--status-listen', '127.0.0.1:1'], c.io), ExitCode.programError);
  assert.match(c.err.join(''), /cannot reach keepalived-ts at 127\.0\.0\.1:1/);
});

test('usage errors, -h and -v', async () => {
  const c = fakeIo([]);
  assert.equal(await runCli(['--bogus'], c.io), ExitCode.usage);
  assert.match(c.err.join(''), /unknown option --bogus/);
  const h = fakeIo([]);
  assert.equal(await runCli(['-h'], h.io), 0);
  assert.match(h.out.join(''), /--config-test/);
  const v = fakeIo([]);
  assert.equal(await runCli(['-v'], v.io), 0);
  assert.match(v.out.join(''), /^keepalived-ts v\d+\.\d+\.\d+/);
});

test('interfaceExists looks in /sys/class/net and refuses names that are paths', () => {
  assert.equal(sysInterfaceExists('lo'), true);
  assert.equal(sysInterfaceExists('kts-no-such0'), false);
  assert.equal(sysInterfaceExists('../net'), false);
  assert.equal(sysInterfaceExists('..'), false);
  assert.equal(sysInterfaceExists(''), false);
});

test('the real cli.js: -t with the real parser on a fixture (when the parser is built)', async () => {
  // End to end through the built file; the parser may not be merged yet: then exit 2 and a message.
  const dir = mkdtempSync(join(tmpdir(), 'kts-cli-'));
  try {
    const { spawnSync } = await import('node:child_process');
    const cli = new URL('../../src/cli.js', import.meta.url).pathname;
    const log = join(dir, 'log');
    const r = spawnSync(process.execPath, [cli, `-t${log}`, '-f', join(dir, 'none.conf')], { encoding: 'utf8', timeout: 20_000 });
    assert.ok(r.status === 0 || r.status === 2, `exit ${r.status}: ${r.stderr}`);
    if (r.status === 2) assert.match(r.stderr, /parser/);
    else assert.match(readFileSync(log, 'utf8'), /none\.conf/);
    const u = spawnSync(process.execPath, [cli, '--genhash'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(u.status, 1);
    assert.match(u.stderr, /--genhash.*does not support/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
