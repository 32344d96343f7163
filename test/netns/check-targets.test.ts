// Health checkers against real targets in a network-namespace lab: every checker type sees its
// real server healthy, then failing the way it detects (refused, HTTP 500, garbage, an endless
// body, a changed digest, a TLS handshake that never ends, a bad SMTP banner, a DNS reply with a
// wrong id, ICMP port unreachable, a wrong UDP reply, no echo reply, a MISC script that forks and
// hangs, a FILE_CHECK file holding text then deleted), then healthy again. The sink must see one
// dead and one alive per real server with keepalived's timing (delay_loop 1, retry 1, dbr 1 s;
// HTTP dbr 3 s and two successes to come back; MISC no retry), the reasons must be logged, and
// after stop() no socket or child may be left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Lab, waitFor } from '../helpers/netns.js';

const HERE = new URL('.', import.meta.url).pathname;
const TARGETS = join(HERE, '../helpers/check-targets.js');
const RUNNER = join(HERE, '../helpers/check-runner.js');
const BODY = 'hello from the real server\n';
const SRV = '192.0.2.20';
const PING_RS = '192.0.2.21';

interface Ev {
  ev: string;
  t: number;
  at: number;
  rs?: string;
  alive?: boolean;
  msg?: string;
  line?: string;
  resources?: string[];
}

function lines(child: ChildProcess, sink: (l: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', sink);
}

test('every checker: healthy, failing the way it detects, healthy again; reasons logged; nothing leaked', {
  timeout: 150_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-check-'));
  chmodSync(dir, 0o755);
  const lab = Lab.create();
  let stopRunner: () => Promise<void> = async () => undefined;
  t.after(async () => {
    // a graceful stop first: a SIGKILLed runner would leave a hung MISC script's group behind
    await stopRunner();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  // a certificate for the HTTPS target and one for the checker (the SSL block's client cert)
  for (const who of ['server', 'client']) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${who}.example.test`,
        '-keyout',
        join(dir, `${who}.key`),
        '-out',
        join(dir, `${who}.crt`),
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
  }
  lab.addHost({ name: 'lb', addresses: ['192.0.2.10/24'] });
  lab.addHost({ name: 'srv', addresses: [`${SRV}/24`, `${PING_RS}/24`] });
  const srv = lab.host('srv');
  const lb = lab.host('lb');

  const modeFile = join(dir, 'misc-mode');
  writeFileSync(modeFile, 'ok\n');
  const script = join(dir, 'misc.sh');
  // forks a child and hangs in "hang" mode: the whole process group must be killed
  writeFileSync(script, `#!/bin/sh\nif [ "$(cat ${modeFile})" = hang ]; then sleep 3017 & sleep 3017; fi\nexit 0\n`, { mode: 0o755 });
  const tracked = join(dir, 'tracked');
  writeFileSync(tracked, '0\n');
  chmodSync(modeFile, 0o644);
  const digest = createHash('md5').update(BODY).digest('hex');
  const conf = join(dir, 'keepalived.conf');
  const ct = 'connect_timeout 1';
  writeFileSync(
    conf,
    `
SSL {
  certificate ${join(dir, 'client.crt')}
  key ${join(dir, 'client.key')}
}
track_file tf {
  file ${tracked}
}
virtual_server 203.0.113.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server ${SRV} 8001 { TCP_CHECK { ${ct} } }
  real_server ${SRV} 8002 { HTTP_GET { url { path / } ${ct} } }
  real_server ${SRV} 8003 { HTTP_GET { url { path / } ${ct} } }
  real_server ${SRV} 8004 { HTTP_GET { url { path /big } ${ct} } }
  real_server ${SRV} 8005 { HTTP_GET { url { path /
        digest ${digest}
        regex "^hello" } ${ct} } }
  real_server ${SRV} 8443 { SSL_GET { url { path / } ${ct}
        enable_sni
        virtualhost www.example.test } }
  real_server ${SRV} 8025 { SMTP_CHECK { ${ct} } }
  real_server ${SRV} 8053 { DNS_CHECK { ${ct}
        type A
        name example.test } }
  real_server ${SRV} 8007 { UDP_CHECK { ${ct}
        require_reply } }
  real_server ${SRV} 8008 { UDP_CHECK { ${ct}
        payload 50494e47
        require_reply 504f4XX7 } }
  real_server ${PING_RS} 80 { PING_CHECK { ${ct} } }
  real_server ${SRV} 9001 { MISC_CHECK {
        misc_path "${script}"
        misc_timeout 1 } }
  real_server ${SRV} 9002 { FILE_CHECK {
        track_file tf
        weight 0 } }
}
`,
  );

  // the targets
  const targets = lab.spawn(srv.ns, ['node', TARGETS, SRV, join(dir, 'server.crt'), join(dir, 'server.key')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let tOut = '';
  lines(targets, (l) => {
    tOut += `${l}\n`;
  });
  assert.ok(await waitFor(() => tOut.includes('ready'), 10_000), 'targets ready');
  const set = async (port: number, mode: string) => {
    const before = (tOut.match(/^ok$/gm) ?? []).length;
    targets.stdin!.write(`set ${port} ${mode}\n`);
    assert.ok(await waitFor(() => (tOut.match(/^ok$/gm) ?? []).length > before, 5000), `target ${port} ${mode}`);
  };

  // the checkers
  const runner = lab.spawn(lb.ns, ['node', RUNNER, conf], { stdio: ['pipe', 'pipe', 'pipe'] });
  const evs: Ev[] = [];
  let stderr = '';
  runner.stderr!.on('data', (c) => {
    stderr += String(c);
  });
  // arrival time (wall clock): the test's own marks use the same clock
  lines(runner, (l) => {
    try {
      evs.push({ ...(JSON.parse(l) as Ev), at: Date.now() });
    } catch {
      /* not ours */
    }
  });
  stopRunner = async () => {
    if (evs.some((e) => e.ev === 'stopped') || runner.exitCode !== null) return;
    runner.stdin!.write('stop\n');
    await waitFor(() => evs.some((e) => e.ev === 'stopped'), 5000);
  };
  const rsNames = [8001, 8002, 8003, 8004, 8005, 8443, 8025, 8053, 8007, 8008]
    .map((p) => `[${SRV}]:tcp:${p}`)
    .concat([`[${PING_RS}]:tcp:80`, `[${SRV}]:tcp:9001`, `[${SRV}]:tcp:9002`]);
  const transitions = (rs: string) => evs.filter((e) => e.ev === 'alive' && e.rs === rs);

  // 1. healthy: first checks within 1 s + warmup (1 s); no transition
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(
    evs.filter((e) => e.ev === 'alive'),
    [],
    `healthy start: ${JSON.stringify(evs.filter((e) => e.ev !== 'log').slice(0, 5))} ${stderr}`,
  );
  assert.ok(
    !evs.some((e) => /ERROR|config:/.test(e.msg ?? '')),
    evs
      .filter((e) => /ERROR|config:/.test(e.msg ?? ''))
      .map((e) => e.msg)
      .join('\n'),
  );

  // 2. every target fails its own way
  const marks: Record<string, number> = {};
  const fail = async (rs: string, f: () => Promise<void> | void) => {
    await f();
    marks[rs] = Date.now();
  };
  await fail(rsNames[0]!, () => set(8001, 'down'));
  await fail(rsNames[1]!, () => set(8002, '500'));
  await fail(rsNames[2]!, () => set(8003, 'garbage'));
  await fail(rsNames[3]!, () => set(8004, 'endless'));
  await fail(rsNames[4]!, () => set(8005, 'changed'));
  await fail(rsNames[5]!, () => set(8443, 'hang'));
  await fail(rsNames[6]!, () => set(8025, 'garbage'));
  await fail(rsNames[7]!, () => set(8053, 'wrongid'));
  await fail(rsNames[8]!, () => set(8007, 'down'));
  await fail(rsNames[9]!, () => set(8008, 'garbage'));
  await fail(rsNames[10]!, () => {
    lab.exec(srv.ns, ['ip', 'addr', 'del', `${PING_RS}/24`, 'dev', srv.ifname]);
  });
  await fail(rsNames[11]!, () => writeFileSync(modeFile, 'hang\n'));
  await fail(rsNames[12]!, () => writeFileSync(tracked, 'not a number\n'));
  const allDead = await waitFor(() => rsNames.every((rs) => transitions(rs).length >= 1), 30_000, 50);
  const missing = rsNames.filter((rs) => transitions(rs).length < 1);
  assert.ok(
    allDead,
    `not reported dead: ${missing.join(' ')}\n${evs
      .filter((e) => e.ev === 'log')
      .map((e) => e.msg)
      .join('\n')}`,
  );
  for (const rs of rsNames) {
    const [d] = transitions(rs);
    assert.equal(d!.alive, false, rs);
    const after = d!.at - marks[rs]!;
    // keepalived's bounds with delay_loop 1, connect_timeout 1: the next attempt within 1 s (+ its
    // connect/read timeouts), then retry after dbr (1 s, HTTP 3 s); MISC and FILE do not retry
    const http = /:800[2-5]$|:8443$/.test(rs);
    const dns = /:8053$/.test(rs);
    // DNS: a reply with a wrong id is ignored (as keepalived): each of the 4 attempts waits out
    // its connect_timeout, with delay_before_retry = delay_loop between them
    const max = http
      ? 1000 + 3000 + 3 * 3000 + 1500
      : /:900[12]$/.test(rs)
        ? 3500
        : dns
          ? 1000 + 4 * 1000 + 3 * 1000 + 1500
          : 1000 + 1000 + 2 * 1000 + 1500;
    // DNS_CHECK: retry 3 with dbr = delay_loop: four failures
    const min = http ? 3000 : /:900[12]$/.test(rs) ? 0 : dns ? 4 * 1000 + 3 * 1000 - 1000 : 900;
    assert.ok(after >= min - 150 && after <= max, `${rs} dead ${after} ms after its failure began (keepalived: ${min}..${max})`);
  }
  const logs = evs
    .filter((e) => e.ev === 'log')
    .map((e) => e.msg!)
    .join('\n');
  for (const re of [
    /TCP_CHECK on service \[192\.0\.2\.20\]:tcp:8001 failed after 1 retries\./,
    /HTTP status code error to server \[192\.0\.2\.20\]:tcp:8002\. \(url \/, status_code 500\)/,
    /Read failure from server \[192\.0\.2\.20\]:tcp:8003\. \(not an HTTP response/,
    /Read timeout from server \[192\.0\.2\.20\]:tcp:8004\./,
    /MD5 digest error to server \[192\.0\.2\.20\]:tcp:8005\. \(url \/, MD5SUM [0-9a-f]{32}\)/,
    /SSL handshake\/communication error connecting to server \[192\.0\.2\.20\]:tcp:8443\. \(SSL handshake timeout\)/,
    /SMTP_CHECK Bad greeting banner from server \[192\.0\.2\.20\]:tcp:8025\. \("554 no service here"\)/,
    /DNS_CHECK \(\[192\.0\.2\.20\]:tcp:8053\) read timeout from socket \(ignored a reply with id \d+, not the query's \d+\) after 3 retries/,
    /UDP connection to \[192\.0\.2\.20\]:tcp:8007 failed\. \(ICMP port unreachable\)/,
    /UDP check to \[192\.0\.2\.20\]:tcp:8008 reply data mismatch\./,
    /ICMP CHECK on service \[192\.0\.2\.21\]:tcp:80 of \[203\.0\.113\.1\]:tcp:80 failed after 1 retries\./,
    /HTTP_CHECK on service \[192\.0\.2\.20\]:tcp:8443 failed after 1 retries\./,
    /Misc check for \[\[192\.0\.2\.20\]:tcp:9001 VS \[203\.0\.113\.1\]:tcp:80\] by \[.*misc\.sh\] timed out\./,
    /FILE_CHECK tf on \[192\.0\.2\.20\]:tcp:9002 down: .*holds no number/,
  ])
    assert.match(logs, re);
  // the MISC script forks and hangs on every run: each run's process group is killed at
  // misc_timeout (SIGTERM, SIGKILL 2 s later), so they never pile up: at most two runs' sleeps
  // (one being killed as the next starts); without the group kill there would be 2 more a second
  const sleeps = () => {
    try {
      return execFileSync('pgrep', ['-f', '-c', 'sleep 3017'], { encoding: 'utf8' }).trim();
    } catch {
      return '0';
    }
  };
  for (let i = 0; i < 10; i++) {
    assert.ok(Number(sleeps()) <= 4, `${sleeps()} hung MISC children at once`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // 3. healthy again
  const t1 = Date.now();
  for (const p of [8001, 8002, 8003, 8004, 8005, 8443, 8025, 8053, 8007, 8008]) await set(p, 'ok');
  lab.exec(srv.ns, ['ip', 'addr', 'add', `${PING_RS}/24`, 'dev', srv.ifname]);
  writeFileSync(modeFile, 'ok\n');
  writeFileSync(tracked, '0\n');
  const allUp = await waitFor(() => rsNames.every((rs) => transitions(rs).length >= 2), 30_000, 50);
  assert.ok(allUp, `not back: ${rsNames.filter((rs) => transitions(rs).length < 2).join(' ')}\n${logs}`);
  for (const rs of rsNames) {
    const u = transitions(rs)[1]!;
    assert.equal(u.alive, true, rs);
    assert.equal(transitions(rs).length, 2, `${rs}: one dead, one alive`);
    const http = /:800[2-5]$|:8443$/.test(rs);
    const took = u.at - t1;
    // HTTP: the failing url re-checked every max(dbr, delay_loop) = 3 s, then a full pass one
    // delay_loop later (two successes); the others come back at their next attempt
    if (http) assert.ok(took >= 900 && took <= 3000 + 1000 + 3000 + 2500, `${rs} back after ${took} ms`);
    else assert.ok(took <= 1000 + 1000 + 3000, `${rs} back after ${took} ms`);
  }
  assert.ok(evs.some((e) => e.line === `RS [${SRV}]:tcp:8001 [203.0.113.1]:tcp:80 DOWN`));
  assert.ok(evs.some((e) => e.line === `RS [${SRV}]:tcp:8001 [203.0.113.1]:tcp:80 UP`));
  assert.match(evs.map((e) => e.msg ?? '').join('\n'), /Remote Web server \[192\.0\.2\.20\]:tcp:8002 succeed on service\./);

  assert.ok(await waitFor(() => sleeps() === '0', 5000), 'no sleep 3017 left behind by the MISC script');

  // the FILE_CHECK file deleted: down with the reason, back when it holds a number again
  const fileRs = `[${SRV}]:tcp:9002`;
  unlinkSync(tracked);
  assert.ok(await waitFor(() => transitions(fileRs).length === 3, 5000), 'FILE_CHECK down when its file is deleted');
  assert.equal(transitions(fileRs)[2]!.alive, false);
  assert.match(
    evs.map((e) => e.msg ?? '').join('\n'),
    /FILE_CHECK tf on \[192\.0\.2\.20\]:tcp:9002 down: cannot read .*tracked \(ENOENT\)/,
  );
  writeFileSync(tracked, '0\n');
  assert.ok(await waitFor(() => transitions(fileRs).length === 4, 5000), 'FILE_CHECK up again');

  // 4. stop: no socket, no child left (the runner's own stdio pipes are not ours to count)
  runner.stdin!.write('stop\n');
  assert.ok(await waitFor(() => evs.some((e) => e.ev === 'stopped'), 10_000), 'stopped');
  const st = evs.find((e) => e.ev === 'stopped')!;
  assert.deepEqual(
    st.resources!.filter((r) => /TCP|UDP|TLS|Process/.test(r)),
    [],
    `left after stop: ${st.resources!.join(',')}`,
  );
  targets.stdin!.end();
});
