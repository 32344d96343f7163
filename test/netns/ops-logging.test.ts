// Logs where operators look: syslog lines read back from a test syslog socket and compared with
// keepalived 2.2.7's for the same configuration (fixture recorded from `keepalived -n -D -P` in a
// kts- namespace with /dev/log bound to a test socket), and journald priority prefixes when stderr
// is the journal stream (JOURNAL_STREAM naming stderr's dev:inode, as systemd sets it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';
import { SYSLOG_RECEIVER } from '../helpers/syslog-receiver.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../test/fixtures/keepalived-2.2.7/', import.meta.url));

/** keepalived's takeover and stop lines, by instance: the ones operators grep for. */
const TAKEOVER =
  /^(\(VI_\d\) (Receive advertisement timeout|Entering MASTER STATE|setting VIPs\.|Sending\/queueing .*|sent 0 priority|removing VIPs\.)|Sending (gratuitous ARP|unsolicited Neighbour Advert) on .*)$/;

test('syslog: RFC 3164 datagrams with -S facility, and the takeover lines keepalived 2.2.7 writes', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-log-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
    const sock = join(dir, 'log.sock');
    const recv = spawn('python3', ['-c', SYSLOG_RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    recv.stdout.on('data', (c: Buffer) => {
      got += c.toString();
    });
    try {
      assert.ok(await waitFor(() => got.startsWith('ready\n'), 10_000), 'the test syslog socket is bound');
      // no -l: keepalived's default, syslog only; -S 3 is LOG_LOCAL3 (facility 19); -D: detail
      const d = lab.spawn(
        a.ns,
        [
          process.execPath,
          cli,
          '-f',
          join(fixtures, 'takeover.conf'),
          '-n',
          '-D',
          '-S',
          '3',
          '-X',
          '-p',
          join(dir, 'a.pid'),
          '--status-socket',
          'none',
        ],
        { env: { ...process.env, KEEPALIVED_TS_SYSLOG_SOCKET: sock } },
      );
      let stderr = '';
      d.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      d.stdout!.resume();
      assert.ok(
        await waitFor(() => lab.addressesOf('a', 6).includes('2001:db8::100') && lab.addressesOf('a').includes('192.0.2.101'), 15_000, 100),
        got,
      );
      // the second burst (garp_master_delay 5 s) as in keepalived's recording, then stop
      assert.ok(
        await waitFor(() => (got.match(/Sending\/queueing gratuitous ARPs on vnet0 for 192\.0\.2\.100/g) ?? []).length >= 2, 10_000, 100),
        got,
      );
      await new Promise((r) => setTimeout(r, 300));
      d.kill('SIGTERM');
      assert.ok(await waitFor(() => d.exitCode !== null, 10_000));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(d.exitCode, 0);
      assert.equal(stderr, '', 'nothing on stderr: the log goes to syslog');

      const lines = got.split('\n').slice(1).filter(Boolean);
      const header = /^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) Keepalived_vrrp\[(\d+)\]: (.*)$/;
      const parsed = lines.map((l) => {
        const m = header.exec(l);
        assert.ok(m, `syslog(3) layout: ${l}`);
        return { pri: Number(m[1]), pid: Number(m[3]), msg: m[4]! };
      });
      assert.ok(
        parsed.every((p) => p.pid === d.pid),
        'the tag carries the daemon pid',
      );
      const pri = (re: RegExp) => parsed.find((p) => re.test(p.msg))?.pri;
      assert.equal(pri(/^\(VI_1\) Entering MASTER STATE$/), 19 * 8 + 6, 'local3.info');
      assert.equal(pri(/^option -X \(--release-vips\) of keepalived is accepted/), 19 * 8 + 4, 'local3.warning, said once');
      assert.equal(parsed.filter((p) => /option -X/.test(p.msg)).length, 1);
      assert.equal(pri(/^Sending gratuitous ARP on vnet0 for 192\.0\.2\.100$/), 19 * 8 + 7, 'per-frame lines are detail (debug)');

      // the same takeover lines as keepalived 2.2.7, same counts (2 bursts of 5 per address, both families)
      const ours = parsed.map((p) => p.msg).filter((m) => TAKEOVER.test(m));
      const ka = readFileSync(join(fixtures, 'takeover.syslog'), 'utf8')
        .split('\n')
        .map((l) => header.exec(l)?.[4])
        .filter((m): m is string => m !== undefined && TAKEOVER.test(m));
      // keepalived also says "removing VIPs." at start with nothing to remove; keepalived-ts only when it removes some
      const kaFromTakeover = ka.slice(ka.indexOf('(VI_1) Receive advertisement timeout'));
      assert.deepEqual([...ours].sort(), [...kaFromTakeover].sort());
      // and in keepalived's order within an instance: timeout, MASTER, VIPs, then the announcements
      const vi1 = ours.filter((m) => m.startsWith('(VI_1)'));
      assert.deepEqual(vi1.slice(0, 5), [
        '(VI_1) Receive advertisement timeout',
        '(VI_1) Entering MASTER STATE',
        '(VI_1) setting VIPs.',
        '(VI_1) Sending/queueing gratuitous ARPs on vnet0 for 192.0.2.100',
        '(VI_1) Sending/queueing gratuitous ARPs on vnet0 for 192.0.2.101',
      ]);
      assert.deepEqual(vi1.slice(-2), ['(VI_1) sent 0 priority', '(VI_1) removing VIPs.']);
    } finally {
      recv.kill('SIGKILL');
    }
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journald: stderr lines carry their priority prefix when stderr is the journal stream', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-log-'));
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    // VI_2's interface does not exist: an error line (the instance waits in FAULT)
    writeFileSync(
      join(dir, 'k.conf'),
      'vrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 65\n  priority 150\n  advert_int 1\n' +
        '  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\nvrrp_instance VI_2 {\n  interface nosuch0\n  virtual_router_id 66\n  priority 150\n' +
        '  advert_int 1\n  virtual_ipaddress {\n    192.0.2.101/24\n  }\n}\n',
    );
    const run = (journal: 'match' | 'other') => {
      // systemd sets JOURNAL_STREAM to the dev:inode of the stream it gave as stderr; "other": a
      // variable inherited by a process whose stderr is something else
      const set = journal === 'match' ? 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2)' : 'JOURNAL_STREAM=1:1';
      const p = lab.spawn(a.ns, [
        'sh',
        '-c',
        `export ${set}; exec "$0" "$@"`,
        process.execPath,
        cli,
        '-f',
        join(dir, 'k.conf'),
        '-n',
        '-l',
        '-X',
        '-p',
        join(dir, `${journal}.pid`),
        '--status-socket',
        'none',
      ]);
      let err = '';
      p.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
      });
      p.stdout!.resume();
      return { p, err: () => err };
    };
    const j = run('match');
    assert.ok(await waitFor(() => /Entering MASTER STATE/.test(j.err()), 15_000, 100), j.err());
    j.p.kill('SIGTERM');
    assert.ok(await waitFor(() => j.p.exitCode !== null, 10_000));
    const lines = j.err().split('\n').filter(Boolean);
    for (const l of lines) assert.match(l, /^<[0-7]>\S/, `every line has its priority: ${l}`);
    assert.ok(lines.includes('<6>(VI_1) Entering MASTER STATE'), j.err());
    assert.ok(
      lines.some((l) => /^<4>option -X \(--release-vips\)/.test(l)),
      'warning: <4>',
    );
    assert.ok(
      lines.some((l) => /^<3>\(VI_2\) interface nosuch0 does not exist/.test(l)),
      `error: <3>\n${j.err()}`,
    );
    assert.ok(!lines.some((l) => /\d\d:\d\d:\d\d/.test(l.slice(0, 30))), 'no timestamp of ours: journald adds it');

    const o = run('other');
    assert.ok(await waitFor(() => /Entering MASTER STATE/.test(o.err()), 15_000, 100), o.err());
    o.p.kill('SIGTERM');
    assert.ok(await waitFor(() => o.p.exitCode !== null, 10_000));
    assert.match(
      o.err(),
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} Keepalived_vrrp: \(VI_1\) Entering MASTER STATE$/m,
      'console lines, no prefix',
    );
    assert.doesNotMatch(o.err(), /^<\d>/m);
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
