// SIGUSR1's keepalived-ts.data against keepalived 2.2.7's /tmp/keepalived.data for the same
// configuration (fixtures recorded with `keepalived -n -P`, USR1, in a kts- namespace): every line
// keepalived-ts writes is in keepalived's dump, in the same section and block, in the same order;
// only values that differ between two runs (times, link-local addresses, ifindex) are excused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../test/fixtures/keepalived-2.2.7/', import.meta.url));

/** "section/block" -> lines, from a keepalived .data file */
function blocks(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  let block = '';
  for (const line of text.split('\n')) {
    const s = /^------< (.*) >------$/.exec(line);
    if (s) {
      section = s[1]!;
      block = '';
      continue;
    }
    const b = /^ (VRRP Instance|VRRP Script|Track file|Name) = (.*)$/.exec(line);
    if (b) block = b[2]!;
    const key = `${section}/${block}`;
    if (!out.has(key)) out.set(key, []);
    if (line) out.get(key)!.push(line);
  }
  return out;
}

// values that are not the configuration's nor the protocol's: when, and what the kernel picked
const VOLATILE = /^\s+(Last transition = |Using src_ip = fe80:|Multicast address ff02::)/;

function compare(ours: string, theirs: string): void {
  const a = blocks(ours);
  const b = blocks(theirs);
  const sections = (m: Map<string, string[]>) => [...new Set([...m.keys()].map((k) => k.split('/')[0]))];
  const theirSections = sections(b);
  const ourSections = sections(a);
  assert.deepEqual(
    ourSections,
    theirSections.filter((s) => ourSections.includes(s)),
    "sections in keepalived's order",
  );
  for (const [key, lines] of a) {
    const their = b.get(key);
    assert.ok(their, `keepalived's dump has ${key}`);
    let at = 0;
    for (const line of lines) {
      if (VOLATILE.test(line)) {
        const k = line.split('=')[0]!.split(' ff02')[0]!;
        assert.ok(
          their.some((l) => l.startsWith(k)),
          `${key}: keepalived has "${k.trim()}"`,
        );
        continue;
      }
      const i = their.indexOf(line, at);
      assert.ok(i >= 0, `${key}: "${line}" is in keepalived's dump, after the previous line\n--- keepalived:\n${their.join('\n')}`);
      at = i + 1;
    }
  }
}

async function dump(lab: Lab, ns: string, conf: string, dir: string, ready: (log: string) => boolean): Promise<string> {
  const d = lab.spawn(ns, [
    process.execPath,
    cli,
    '-f',
    conf,
    '-n',
    '-l',
    '-p',
    join(dir, 'k.pid'),
    '--status-socket',
    'none',
    '--data-dir',
    dir,
  ]);
  let log = '';
  d.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  d.stdout!.resume();
  assert.ok(await waitFor(() => ready(log), 20_000, 100), log);
  process.kill(d.pid!, 'SIGUSR1');
  assert.ok(await waitFor(() => existsSync(join(dir, 'keepalived-ts.data')), 5000), log);
  await new Promise((r) => setTimeout(r, 200));
  const text = readFileSync(join(dir, 'keepalived-ts.data'), 'utf8');
  d.kill('SIGTERM');
  assert.ok(await waitFor(() => d.exitCode !== null, 10_000));
  rmSync(join(dir, 'keepalived-ts.data'));
  return text;
}

test("SIGUSR1 data: keepalived 2.2.7's layout and values (unicast, PASS auth, track_script, track_file, notify scripts)", {
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-data-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    // the recorded run's files, under this run's directory (the fixture says @DIR@)
    writeFileSync(join(dir, 'chk.sh'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'chk.sh'), 0o755);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'weight'), '5\n');
    writeFileSync(join(dir, 'k.conf'), readFileSync(join(fixtures, 'trackers.conf'), 'utf8').replaceAll('@DIR@', dir));
    const ours = await dump(
      lab,
      a.ns,
      join(dir, 'k.conf'),
      dir,
      (l) => /Entering MASTER STATE/.test(l) && /VRRP_Script\(chk_httpd\) succeeded/.test(l),
    );
    const theirs = readFileSync(join(fixtures, 'trackers.data'), 'utf8').replaceAll('/var/tmp/kts-ka-77O5', dir);
    compare(ours, theirs);
    // what operators read there is all in it
    for (const re of [
      /^   Effective priority = 155$/m,
      /^   Master down timer = 3394531 usecs$/m,
      /^   Password = secret$/m,
      /^     192\.0\.2\.12 min_ttl 0 max_ttl 255$/m,
      /^     chk_httpd weight -20$/m,
      /^     tf1, weight 1$/m,
      /^   Status = GOOD$/m,
      /^   Status = 5$/m,
      /^   Master state transition script = '.*\/chk\.sh' 'master', uid:gid 0:0$/m,
      /^     192\.0\.2\.100\/24 dev vnet0 scope global set$/m,
    ]) {
      assert.match(ours, re);
    }
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGUSR1 data: multicast IPv4 and native IPv6 instances as keepalived 2.2.7 dumps them', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-data-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
    const ours = await dump(
      lab,
      a.ns,
      join(fixtures, 'takeover.conf'),
      dir,
      (l) => /\(VI_1\) Entering MASTER STATE/.test(l) && /\(VI_6\) Entering MASTER STATE/.test(l),
    );
    compare(ours, readFileSync(join(fixtures, 'takeover.data'), 'utf8'));
    assert.match(ours, /^ VRRP Instance = VI_6\n   VRRP Version = 3\n   Using Native IPv6\n   State = MASTER$/m);
    assert.match(ours, /^     2001:db8::100\/64 dev vnet0 scope global preferred_lft forever set$/m);
    assert.match(ours, /^   Advert interval = 1000 milli-sec$/m);
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
