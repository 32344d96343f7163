// Oracle test: for every configuration of the corpus, `keepalived -t` (Debian's 2.2.7) and
// `keepalived-ts -t` run in the same network namespace (which has the interfaces the files name)
// must return the same exit code; for the invalid corpus our diagnostics must name the line in
// the file's "# expect-line: N" header. The lines keepalived names are compared with ours and the
// differences reported (not asserted: keepalived also names lines of follow-on messages).
// Fixtures whose header says "keepalived-start: N|runs" are also started with keepalived -n:
// its outcome must match the header and our start verdict (judgeConfig) must match it too.
// Both run in a private mount namespace chrooted into a copy of / where /scripts holds
// conf/scripts/*.sh, so that the seed's scripts exist as on its nodes (keepalived -t disables a
// missing script instead of reporting the script-security violation, exit 5 instead of 6).
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, waitFor } from '../helpers/netns.js';
import { judgeConfig, parseConfigFile } from '../../src/config/index.js';

const root = new URL('../../..', import.meta.url).pathname;
const cli = join(root, 'dist', 'src', 'cli.js');
const samplesDir = '/usr/share/doc/keepalived/samples';
// Interfaces the corpus names; veth pairs (the dummy module may be missing on CI kernels).
const IFACES = ['ens33', 'eth0', 'eth1', 'eth2', 'eth3', 'bond0', 'eth0.1'];

function hasKeepalived(): boolean {
  try {
    execFileSync('keepalived', ['-v'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
const skip = !isRoot() ? 'needs root (network namespace)' : !hasKeepalived() ? 'needs Debian keepalived' : false;

// Builds, in a private mount namespace, a tmpfs root that bind-mounts every top-level directory
// of / (so nothing is created on the host) plus /scripts = a root-owned copy of conf/scripts,
// says "ready" and sleeps: the holder of that mount namespace. Commands enter it with nsenter
// and chroot into the root (setting it up per command cost ~1.6 s on a loaded machine).
const SCRIPTS_ROOT = `set -e
src="$1"; root="$2"
mount -t tmpfs -o mode=755 tmpfs "$root"
for e in /*; do
  n=\${e#/}
  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$root/$n"
  elif [ -d "$e" ] && [ "$n" != scripts ]; then mkdir "$root/$n"; mount --rbind "$e" "$root/$n"; fi
done
mkdir -m 755 "$root/scripts"; cp "$src"/*.sh "$root/scripts/"; chmod 755 "$root"/scripts/*.sh
echo ready
exec sleep 3600`;

interface RunResult {
  code: number;
  output: string;
}
function run(argv: string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = e == null ? 0 : typeof e.code === 'number' ? e.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Lines keepalived names for this file: "(FILE: Line N) ..." and "(Line N) ..." (main file). */
export function keepalivedLines(output: string, file: string): Set<number> {
  const lines = new Set<number>();
  for (const m of output.matchAll(/^\((?:(.*?): )?Line (\d+)\)/gm)) {
    if (m[1] === undefined || m[1] === file) lines.add(Number(m[2]));
  }
  return lines;
}

/** Lines our diagnostics name for this file ("file:line[:col]: severity: ..."). */
export function ourLines(output: string, file: string): Set<number> {
  const lines = new Set<number>();
  for (const m of output.matchAll(/^(.+?):(\d+)(?::\d+)?: (?:error|warning|info): /gm)) {
    if (m[1] === file) lines.add(Number(m[2]));
  }
  return lines;
}

function listConf(dir: string, filter: (f: string) => boolean = (f) => f.endsWith('.conf')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(filter)
    .sort()
    .map((f) => join(dir, f));
}

// Known differences, each with its reason: run as todo (reported, not failing the run).
const knownGaps = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'config', 'known-gaps.json'), 'utf8')) as Record<string, string>;

const corpus = {
  seed: listConf(join(root, 'conf', 'seed')),
  conf: listConf(join(root, 'conf')),
  samples: listConf(samplesDir, (f) => f.startsWith('keepalived.conf.')),
  valid: listConf(join(root, 'test', 'fixtures', 'config', 'valid')),
  invalid: listConf(join(root, 'test', 'fixtures', 'config', 'invalid')),
  // keepalived 2.2.7 -t exits 0 for a main file that is missing or is a directory
  special: [
    join(root, 'test', 'fixtures', 'config', 'kts-does-not-exist.conf'),
    join(root, 'test', 'fixtures', 'config', 'valid', 'parts'),
  ],
};

describe('config oracle: keepalived -t vs keepalived-ts -t', { skip }, () => {
  const ns = `kts-${randomBytes(3).toString('hex')}-orc`;
  const scriptsRoot = mkdtempSync(join(tmpdir(), 'kts-root-'));
  let holder: ChildProcess | undefined;
  const inNs = (argv: string[]): string[] => {
    if (!holder?.pid) throw new Error('the namespace holder is not running');
    return ['nsenter', '-t', String(holder.pid), '-m', '-n', 'chroot', scriptsRoot, ...argv];
  };
  let agreeLines = 0;
  let comparedLines = 0;

  before(async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    for (const [i, ifname] of IFACES.entries()) {
      execFileSync('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `kpeer${i}`]);
      execFileSync('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    }
    // ip netns exec, unshare and sh all exec: holder.pid ends up being the sleep in both namespaces
    const h = spawn(
      'ip',
      ['netns', 'exec', ns, 'unshare', '--mount', 'sh', '-c', SCRIPTS_ROOT, 'sh', join(root, 'conf', 'scripts'), scriptsRoot],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    holder = h;
    let out = '';
    h.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    h.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const ready = await waitFor(() => out.includes('ready') || h.exitCode !== null, 30_000, 50);
    assert.ok(ready && out.includes('ready'), `the scripts root did not come up: ${out}`);
  });
  after(async () => {
    if (holder && holder.exitCode === null) {
      const gone = new Promise((r) => holder!.once('exit', r));
      holder.kill('SIGKILL');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    }
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    // the mounts died with the private mount namespace; only the empty mount point remains
    try {
      rmdirSync(scriptsRoot);
    } catch {
      /* not empty or gone */
    }
    if (comparedLines > 0) console.log(`# keepalived-named lines also named by us: ${agreeLines}/${comparedLines}`);
  });

  test('the scripts environment: /scripts exists for the checked commands only', async () => {
    const r = await run(inNs(['sh', '-c', 'test -x /scripts/check_httpd.sh && test -x /scripts/notify.sh && echo present']));
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /present/);
    assert.equal(existsSync('/scripts/check_httpd.sh'), false, 'nothing may leak onto the host');
  });

  test('the corpus is there', () => {
    assert.equal(corpus.seed.length, 2);
    assert.ok(corpus.conf.length >= 2, 'conf/keepalived.conf and conf/keepalived-backup.conf');
    assert.ok(corpus.samples.length >= 20, `Debian samples in ${samplesDir}`);
    assert.ok(corpus.invalid.length >= 30);
  });

  for (const [kind, files] of Object.entries(corpus)) {
    for (const file of files) {
      const name = `${kind}/${file.split('/').pop()}`;
      const check = async (t: { diagnostic: (m: string) => void }): Promise<void> => {
        const [ka, ours] = await Promise.all([
          run(inNs(['keepalived', '-t', '-l', '-f', file])),
          run(inNs([process.execPath, cli, '-t', '-f', file])),
        ]);
        const kaLines = keepalivedLines(ka.output, file);
        const our = ourLines(ours.output, file);
        for (const l of kaLines) {
          comparedLines++;
          if (our.has(l)) agreeLines++;
        }
        const missing = [...kaLines].filter((l) => !our.has(l));
        const extra = [...our].filter((l) => !kaLines.has(l));
        const detail = `keepalived (exit ${ka.code}):\n${ka.output}\nkeepalived-ts (exit ${ours.code}):\n${ours.output}`;
        if (missing.length || extra.length) {
          t.diagnostic(`${name}: lines keepalived names but we do not: [${missing}]; we name but keepalived does not: [${extra}]`);
        }
        if (kind === 'invalid' || kind === 'valid') {
          // the recorded verdict that test/unit/cli-corpus.test.ts relies on must stay true
          const rec = /keepalived-exit: (\d+)/.exec(readFileSync(file, 'utf8').split('\n', 1)[0] ?? '');
          assert.ok(rec, `${name} lacks its keepalived-exit header`);
          assert.equal(ka.code, Number(rec[1]), `${name}: keepalived now says ${ka.code}, the header ${rec[1]}`);
        }
        assert.equal(ours.code, ka.code, `exit code differs for ${name}\n${detail}`);
        if (kind === 'invalid') {
          const m = /^# expect-line: (\d+)/m.exec(readFileSync(file, 'utf8'));
          assert.ok(m, `${name} lacks its "# expect-line: N" header`);
          const expected = Number(m[1]);
          assert.ok(our.has(expected), `${name}: no diagnostic names line ${expected}\n${detail}`);
        }
      };
      const gap = knownGaps[name];
      test(name, gap ? { todo: gap } : {}, async (t) => {
        await check(t);
        if (gap) t.diagnostic(`FIXED: ${name} now passes; remove it from test/fixtures/config/known-gaps.json`);
      });
      // "keepalived-start: N|runs" in the header: what keepalived does when started on the file
      // (N: it stops with exit N; runs: still running after 4 s), and our start verdict
      // (judgeConfig, the one the daemon uses at start and on reload) must be the same
      const start =
        kind === 'invalid' || kind === 'valid'
          ? /keepalived-start: (\d+|runs)/.exec(readFileSync(file, 'utf8').split('\n', 1)[0] ?? '')
          : null;
      if (start) {
        test(`${name}: at start`, async () => {
          const tmp = mkdtempSync(join(tmpdir(), 'kts-start-'));
          try {
            const t0 = Date.now();
            const ka = await run(
              inNs(['keepalived', '-n', '-l', '-f', file, '-p', join(tmp, 'k.pid'), '-r', join(tmp, 'v.pid'), '-c', join(tmp, 'c.pid')]),
              4000,
            );
            // stopped by the timeout's SIGTERM (keepalived then exits 0 or is reported as -1):
            // it was still running
            const kaVerdict = Date.now() - t0 >= 3900 ? 'runs' : String(ka.code);
            assert.equal(kaVerdict, start[1], `keepalived at start now says ${kaVerdict}, the header ${start[1]}\n${ka.output}`);
            const ours = judgeConfig(parseConfigFile(file, { interfaceExists: (n) => n === 'lo' || IFACES.includes(n) }).diagnostics);
            assert.equal(ours.run ? 'runs' : String(ours.exitCode), start[1], ours.message);
          } finally {
            rmSync(tmp, { recursive: true, force: true });
          }
        });
      }
    }
  }
});
