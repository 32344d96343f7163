// What a user sees when things go wrong around the command: a closed pipe (`| head -1`), files it
// cannot read, a status port that answers garbage, bad option values. Always one line, never a
// Node stack trace, and an exit code that means something. The real cli.js runs in a child.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { fsConfigFileProblem, fsDataDirProblem, runCli, type CliIo } from '../../src/cli/main.js';
import { fetchStatus } from '../../src/cli/status.js';

const cli = new URL('../../src/cli.js', import.meta.url).pathname;
const STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at node:|Error: write EPIPE|node:internal|Node\.js v\d/m;

const dir = mkdtempSync(join(tmpdir(), 'kts-cli-err-'));
chmodSync(dir, 0o755); // the unprivileged run below must reach the files
const okConf = join(dir, 'ok.conf');
writeFileSync(okConf, 'global_defs {\n    router_id lb01\n}\n');
const badConf = join(dir, 'bad.conf');
writeFileSync(badConf, 'global_defs {\n    router_id lb01\n}\nno_such_keyword 1\n');
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run cli.js with one of its output pipes closed by the reader before anything is written. */
function runClosed(args: string[], closed: 'stdout' | 'stderr'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    c[closed].destroy(); // `| head -0`: the reader is gone
    const open = closed === 'stdout' ? c.stderr : c.stdout;
    let text = '';
    open.setEncoding('utf8');
    open.on('data', (d: string) => (text += d));
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`cli ${args.join(' ')} hung`));
    }, 20_000);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: closed === 'stdout' ? '' : text, stderr: closed === 'stderr' ? '' : text });
    });
  });
}

test("closed stdout (`| head -1`): no EPIPE trace, the exit code stays the command's", async () => {
  for (const [args, code] of [
    [['-d', '-f', okConf], 0],
    [['-d', '-f', badConf], 5], // --dump-conf still gives the -t verdict
    [['-h'], 0],
    [['-v'], 0],
  ] as const) {
    const r = await runClosed([...args], 'stdout');
    assert.equal(r.signal, null, `${args.join(' ')}: killed by ${r.signal}`);
    assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, STACK, args.join(' '));
  }
});

test('closed stderr (`-t 2>&1 | head -1`): the -t verdict is still the exit code, nothing thrown', async () => {
  for (const [args, code] of [
    [['-t', '-f', badConf], 5],
    [['-t', '-f', okConf], 0],
    [['--bogus'], 1],
  ] as const) {
    const r = await runClosed([...args], 'stderr');
    assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}`);
    assert.doesNotMatch(r.stdout, STACK);
  }
});

/** A one-shot server on 127.0.0.1 answering every request with `answer`. */
async function withServer<T>(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  f: (spec: string) => Promise<T>,
): Promise<T> {
  const s = http.createServer(answer);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    return await f(`127.0.0.1:${(s.address() as AddressInfo).port}`);
  } finally {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

const snapshot = {
  pid: 4242,
  startedAtMs: Date.now() - 5000,
  reloads: { ok: 1, failed: 0, lastMs: 0, lastDurationMs: 0 },
  trackers: [],
  instances: Array.from({ length: 300 }, (_, i) => ({
    name: `VI_${i}`,
    state: 'MASTER',
    vrid: (i % 255) + 1,
    interface: 'eth0',
    priority: 100,
    effectivePriority: 100,
    addressesHeld: 1,
    virtualAddresses: ['192.0.2.100/24'],
    advertsSent: 1,
    advertsReceived: 0,
    drops: { auth: 0 },
    lastTransitionMs: Date.now(),
  })),
};

test('status | head -3: a closed stdout ends it quietly, exit 0', async () => {
  await withServer(
    (_q, res) => res.end(JSON.stringify(snapshot)),
    async (spec) => {
      // the child's event loop runs our server's answer: async spawn, not spawnSync
      const r = await runClosed(['status', '--status-listen', spec], 'stdout');
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, STACK);
    },
  );
});

/** Run the CLI in-process (status needs no child) and capture its output. */
async function inProcess(args: string[], patch: Partial<CliIo> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { defaultIo } = await import('../../src/cli/main.js');
  const code = await runCli(args, {
    ...defaultIo,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    runDaemon: async () => 99,
    ...patch,
  });
  return { code, out: out.join(''), err: err.join('') };
}

test('status against a server that answers garbage: one clear line, exit 2', async () => {
  const cases: Array<[string, (q: http.IncomingMessage, s: http.ServerResponse) => void, RegExp]> = [
    ['not JSON', (_q, s) => s.end('<html>hello</html>'), /did not answer with JSON/],
    ['JSON of another service', (_q, s) => s.end('{"status":"UP"}'), /not a keepalived-ts status/],
    ['a JSON array', (_q, s) => s.end('[1,2,3]'), /not a keepalived-ts status/],
    ['null', (_q, s) => s.end('null'), /not a keepalived-ts status/],
    ['instances not objects', (_q, s) => s.end('{"pid":1,"reloads":{},"instances":[1]}'), /not a keepalived-ts status/],
    [
      'HTTP 404',
      (_q, s) => {
        s.statusCode = 404;
        s.end('nope');
      },
      /HTTP 404/,
    ],
    [
      'reset mid-answer',
      (_q, s) => {
        s.writeHead(200);
        s.write('{"pid":');
        s.socket?.destroy();
      },
      /no usable answer|did not answer with JSON/,
    ],
  ];
  for (const [what, answer, re] of cases) {
    await withServer(answer, async (spec) => {
      const r = await inProcess(['status', '--status-listen', spec]);
      assert.equal(r.code, ExitCode.programError, `${what}: ${r.err}`);
      assert.match(r.err, re, what);
      assert.equal(r.err.trim().split('\n').length, 1, `${what}: one line: ${r.err}`);
      assert.doesNotMatch(r.err, STACK, what);
    });
  }
  // instances with fields missing (an older or newer daemon): the table still prints
  await withServer(
    (_q, s) =>
      s.end('{"pid":7,"startedAtMs":0,"reloads":{"ok":0,"failed":0},"instances":[{"name":"VI_1","state":"BACKUP"}],"trackers":[]}'),
    async (spec) => {
      const r = await inProcess(['status', '--status-listen', spec]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^VI_1\s+BACKUP/m);
    },
  );
});

test('status: a server that hangs, stops mid-answer, or sends without end: settled, one line', async () => {
  const cases: Array<[string, (q: http.IncomingMessage, s: http.ServerResponse) => void, RegExp]> = [
    ['silent', () => undefined, /no answer from .* within 300 ms/],
    [
      'stops mid-answer',
      (_q, s) => {
        s.writeHead(200);
        s.write('{"pid":');
      },
      /no answer from .* within 300 ms/,
    ],
    [
      'reset mid-answer',
      (_q, s) => {
        s.writeHead(200);
        s.write('{"pid":');
        setTimeout(() => s.socket?.destroy(), 20);
      },
      /broke off its answer/,
    ],
    [
      'endless',
      (_q, s) => {
        s.writeHead(200);
        const chunk = 'x'.repeat(1 << 20);
        const more = (): void => {
          while (!s.destroyed && s.write(chunk));
          if (!s.destroyed) s.once('drain', more);
        };
        s.on('close', () => undefined);
        more();
      },
      /answered more than \d+ bytes/,
    ],
  ];
  for (const [what, answer, re] of cases) {
    await withServer(answer, async (spec) => {
      await assert.rejects(fetchStatus({ listen: spec }, 300), re, what);
    });
  }
});

test('status against a port that speaks something else than HTTP: one line, exit 2', async () => {
  const s = net.createServer((c) => {
    c.on('error', () => undefined);
    c.end('SSH-2.0-OpenSSH_9.2\r\n');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const r = await inProcess(['status', '--status-listen', `127.0.0.1:${(s.address() as AddressInfo).port}`]);
    assert.equal(r.code, ExitCode.programError, r.err);
    assert.match(r.err, /^keepalived-ts status: no usable answer from 127\.0\.0\.1:\d+: /);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  } finally {
    s.close();
  }
});

test('-t on a file that exists but cannot be read: exit 4, as keepalived ("Unable to read configuration file")', async () => {
  // injected: the verdict itself
  const r = await inProcess(['-t', '-f', '/etc/k.conf'], { configFileProblem: () => ({ kind: 'unreadable', reason: 'EACCES' }) });
  assert.equal(r.code, ExitCode.configFatal);
  assert.equal(r.err, 'keepalived-ts: Unable to read configuration file /etc/k.conf (EACCES)\n');
  const d = await inProcess(['-d', '-f', '/etc/k.conf'], { configFileProblem: () => ({ kind: 'unreadable', reason: 'EACCES' }) });
  assert.equal(d.code, ExitCode.configFatal);
  assert.equal(d.out, '', 'no dump of a file that was not read');
  // what the real check says: readable, missing and directories are not its business
  assert.equal(fsConfigFileProblem(okConf), undefined);
  assert.equal(fsConfigFileProblem(join(dir, 'none.conf')), undefined);
  assert.equal(fsConfigFileProblem(dir), undefined);
  assert.deepEqual(fsConfigFileProblem('/dev/null'), { kind: 'not-regular', reason: 'not a regular file' });
});

test('-t as an unprivileged user on a chmod 000 file: exit 4 (root reads anything, so setpriv)', {
  skip: process.getuid?.() === 0 ? false : 'needs root to switch to nobody',
}, () => {
  const unreadable = join(dir, 'unreadable.conf');
  writeFileSync(unreadable, 'global_defs {\n}\n');
  chmodSync(unreadable, 0o000);
  const asNobody = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, cli];
  const r = spawnSync('setpriv', [...asNobody, '-t', '-f', unreadable], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 4, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /Unable to read configuration file .*unreadable\.conf \(EACCES\)/);
  // and the readable one still passes for that user (the 4 is about the file, not about nobody)
  const ok = spawnSync('setpriv', [...asNobody, '-t', '-f', okConf], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(ok.status, 0, ok.stderr);
});

test('a FIFO or a device as -f: skipped as keepalived does (exit 0), never a hang; the daemon refuses it', async () => {
  const fifo = join(dir, 'fifo.conf');
  spawnSync('mkfifo', [fifo]);
  for (const f of [fifo, '/dev/zero']) {
    const r = spawnSync(process.execPath, [cli, '-t', '-f', f], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `${f}: exit ${r.status} (null = hung): ${r.stderr}`);
    assert.match(r.stderr, /is not a regular file - skipping/);
  }
  const run = await inProcess(['-n', '-f', fifo]);
  assert.equal(run.code, 3, 'not handed to the daemon');
  assert.match(run.err, /is not a regular file; cannot run/);
});

test('--data-dir that cannot take the dump files: refused at start, exit 1', async () => {
  const file = join(dir, 'plain');
  writeFileSync(file, '');
  for (const [d, re] of [
    [join(dir, 'none'), /no such directory/],
    [file, /not a directory/],
  ] as const) {
    const r = await inProcess(['-n', '-f', okConf, '--data-dir', d]);
    assert.equal(r.code, ExitCode.usage, r.err);
    assert.match(r.err, re);
  }
  mkdirSync(join(dir, 'data'));
  assert.equal(fsDataDirProblem(join(dir, 'data')), undefined);
  assert.equal((await inProcess(['-n', '-f', okConf, '--data-dir', join(dir, 'data')])).code, 99, 'a good one reaches the daemon');
});

test('no stack trace on odd command lines', () => {
  for (const args of [
    ['--use-file='],
    ['-f'],
    ['--status-listen'],
    ['--notify-timeout', '-1'],
    ['-Z'],
    ['--release-vips'],
    ['status', '--status-listen', 'nonsense'],
    ['status', '--status-listen', '127.0.0.1:99999'],
    ['-t', '-f', '/proc/self/mem'],
    ['-t', '-f', dir],
    ['-t/nonexistent-dir/log', '-f', okConf],
  ]) {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, null, `${args.join(' ')} hung`);
    assert.doesNotMatch(r.stderr + r.stdout, STACK, args.join(' '));
  }
});
