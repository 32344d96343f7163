// Runs INSIDE the UML guest: the health checkers driving the IPVS table, keepalived 2.2.7 against
// keepalived-ts in the same boot, from the same file: one real server per checker type (TCP_CHECK,
// HTTP_GET, SSL_GET with a certificate made at test time, SMTP_CHECK, DNS_CHECK, UDP_CHECK,
// PING_CHECK, MISC_CHECK, FILE_CHECK), all in one virtual server, delay_loop 1 and connect_timeout
// 1, every other timing keyword at its default. Each daemon in turn: every real server healthy,
// then failing the way its checker detects, then healthy again; then a reload with the same file
// and, 0.3 s later, failing again. The times at which each leaves and re-enters the table are
// recorded for both implementations (test/uml/checkers-lab.ts watches the table; the targets are
// test/helpers/check-targets.ts).
//
// Timer rules (keepalived 2.2.7, ../shared/notes/lvs.md 4-5; src/check/scheduler.ts), with the
// failure at a random phase of the checker's period (D = delay_loop 1 s, C = connect_timeout 1 s):
// - TCP, SMTP, UDP (retry 1, delay_before_retry 1 s): out D..2D after the failure (next attempt,
//   one retry), back 0..D (TCP and SMTP retry while down, UDP tries every D);
// - HTTP_GET, SSL_GET (retry 1, delay_before_retry 3 s): out 3-4 s; back 1-4 s (re-checked every
//   max(3 s, D) while down, and a second success one D later);
// - DNS_CHECK (retry 3, delay_before_retry D; the reply says SERVFAIL): out 3-4 s, back 0..D;
// - PING_CHECK (the address removed: no echo reply, each attempt waits C): out 3-4 s (attempt, C,
//   1 s, retry, C), back 0..C+D;
// - MISC_CHECK (retry 0, period from the start of a run; misc_timeout 3 s, so that a slow fork in
//   UML is no failure): out and back 0..D;
// - FILE_CHECK (inotify, no timer): out and back at once (0..1 s here).
// After a reload keepalived schedules every checker again at 1 s + random(0..warmup = D) (states
// kept), so from the SIGHUP: out after 1-2 s plus what going down takes from the first failing
// attempt (TCP/SMTP/UDP 1 s, HTTP/SSL/DNS/PING 3 s, MISC 0; FILE: at once after the failure).
// keepalived's figures must fall in these windows (else the model is wrong) and ours too, within
// TOLERANCE_MS past the upper end. Lower ends are hard: a timer never fires early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { CheckerSnapshot } from '../../src/check/index.js';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const LAB = join(import.meta.dirname, 'checkers-lab.js');
const TARGETS = join(import.meta.dirname, '..', 'helpers', 'check-targets.js');
const NS = 'kts-cc';
const DIR = '/run/cc';
const CONF = `${DIR}/cc.conf`;
const SOCK = '/run/kts-cc.sock';
const RS = '198.51.100.11',
  PING_RS = '198.51.100.12';
const MISC_OK = `${DIR}/misc-ok`,
  TRACKED = `${DIR}/tracked`;
/**
 * Past the upper end of a window. What a transition costs besides its timers: each attempt's own
 * duration delays the next one (keepalived and we both count delay_loop from an attempt's end), a
 * leave takes two attempts; a table write (~2.4 ms netlink round trip in UML); the lab's 20 ms poll;
 * after a reload, reading the file (~0.1 s for us in UML); and the scheduling of one UML CPU (the
 * lab, the targets, the daemon, its probes) on a 2-core host that may run another suite. UML
 * system calls are ~30x slower than the host's. 400 ms is 10-40 % of a window's width and well
 * under the delay_loop, so a wrong retry count or period (>= 1 s off) still fails.
 */
const TOLERANCE_MS = 400;

type Window = readonly [number, number];
interface Kind {
  name: string;
  /** the real server as the lab reports it (ip:port) */
  rs: string;
  out: Window;
  back: Window;
  /** from the SIGHUP */
  reloadOut: Window;
  /** FILE_CHECK: the reload window counts from the failure, not the SIGHUP */
  reloadFromFail?: boolean;
}
const K = (name: string, rs: string, out: Window, back: Window, reloadOut: Window, reloadFromFail = false): Kind => ({
  name,
  rs,
  out,
  back,
  reloadOut,
  reloadFromFail,
});
const KINDS: Kind[] = [
  K('TCP_CHECK', `${RS}:8001`, [1000, 2000], [0, 1000], [2000, 3000]),
  K('HTTP_GET', `${RS}:8002`, [3000, 4000], [1000, 4000], [4000, 5000]),
  K('SSL_GET', `${RS}:8443`, [3000, 4000], [1000, 4000], [4000, 5000]),
  K('SMTP_CHECK', `${RS}:8025`, [1000, 2000], [0, 1000], [2000, 3000]),
  K('DNS_CHECK', `${RS}:8053`, [3000, 4000], [0, 1000], [4000, 5000]),
  K('UDP_CHECK', `${RS}:8007`, [1000, 2000], [0, 1000], [2000, 3000]),
  K('PING_CHECK', `${PING_RS}:80`, [3000, 4000], [0, 2000], [4000, 5000]),
  K('MISC_CHECK', `${RS}:9001`, [0, 1000], [0, 1000], [1000, 2000]),
  K('FILE_CHECK', `${RS}:9002`, [0, 1000], [0, 1000], [0, 1000], true),
];

const CONFIG = `
global_defs {
  router_id uml-checkers
}
SSL {
  certificate ${DIR}/client.crt
  key ${DIR}/client.key
}
track_file tf {
  file ${TRACKED}
}
virtual_server 192.0.2.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server ${RS} 8001 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server ${RS} 8002 {
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout 1
    }
  }
  real_server ${RS} 8443 {
    SSL_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout 1
      enable_sni
      virtualhost www.example.test
    }
  }
  real_server ${RS} 8025 {
    SMTP_CHECK {
      connect_timeout 1
    }
  }
  real_server ${RS} 8053 {
    DNS_CHECK {
      connect_timeout 1
      type A
      name example.test
    }
  }
  real_server ${RS} 8007 {
    UDP_CHECK {
      connect_timeout 1
      require_reply
    }
  }
  real_server ${PING_RS} 80 {
    PING_CHECK {
      connect_timeout 1
    }
  }
  real_server ${RS} 9001 {
    MISC_CHECK {
      misc_path "/usr/bin/test -f ${MISC_OK}"
      misc_timeout 3
    }
  }
  real_server ${RS} 9002 {
    FILE_CHECK {
      track_file tf
      weight 0
    }
  }
}
`;

const sh = (...a: string[]) => execFileSync('/usr/sbin/ip', a, { encoding: 'utf8' });
const inNs = (...a: string[]) => sh('netns', 'exec', NS, ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LabLine {
  ready?: boolean;
  rs?: string[];
  t: number;
}
class Lab {
  readonly lines: LabLine[] = [];
  private waiters: (() => void)[] = [];
  readonly child: ChildProcess;
  constructor() {
    this.child = spawn('/usr/sbin/ip', ['netns', 'exec', NS, process.execPath, LAB], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    this.child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
        this.lines.push(JSON.parse(buf.slice(0, i)) as LabLine);
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }
  /** Wait (bounded) for a line after index `from` that satisfies `pred`. */
  async wait(pred: (l: LabLine) => boolean, limitMs: number, what: string, from = 0): Promise<LabLine> {
    const end = Date.now() + limitMs;
    for (;;) {
      const hit = this.lines.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() >= end) throw new Error(`lab: no ${what} within ${limitMs} ms; lines: ${JSON.stringify(this.lines.slice(from))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }
}

/** A daemon; its output, and each chunk's arrival time (for the timeline printed on a failure). */
function run(args: string[]): { child: ChildProcess; out: () => string; chunks: { t: number; s: string }[] } {
  const child = spawn('/usr/sbin/ip', ['netns', 'exec', NS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const chunks: { t: number; s: string }[] = [];
  const on = (b: Buffer) => {
    out += b.toString();
    chunks.push({ t: Date.now(), s: b.toString() });
  };
  child.stdout!.on('data', on);
  child.stderr!.on('data', on);
  return { child, out: () => out, chunks };
}
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // 'close': its output is read to the end (the log lines are compared)
  const done = new Promise<void>((r) => child.once('close', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}

/** The targets (check-targets.js in the namespace), switched by `set PORT MODE` lines. */
class Targets {
  private out = '';
  readonly child: ChildProcess;
  /** `ip -batch -` in the namespace: one command a line, run as it arrives */
  readonly ipBatch = spawn('/usr/sbin/ip', ['netns', 'exec', NS, '/usr/sbin/ip', '-force', '-batch', '-'], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  ip(cmd: string): void {
    this.ipBatch.stdin!.write(`${cmd}\n`);
  }
  constructor() {
    this.child = spawn('/usr/sbin/ip', ['netns', 'exec', NS, process.execPath, TARGETS, RS, `${DIR}/server.crt`, `${DIR}/server.key`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout!.on('data', (b: Buffer) => (this.out += b.toString()));
  }
  async ready(): Promise<void> {
    for (let i = 0; i < 200 && !this.out.includes('ready'); i++) await sleep(50);
    assert.ok(this.out.includes('ready'), 'targets did not start');
  }
  async set(port: number, mode: string): Promise<void> {
    const n = (this.out.match(/^ok$/gm) ?? []).length;
    this.child.stdin!.write(`set ${port} ${mode}\n`);
    for (let i = 0; i < 200 && (this.out.match(/^ok$/gm) ?? []).length <= n; i++) await sleep(10);
  }
}

/** Each checker's way to fail and to heal. */
function actions(t: Targets): Record<string, { fail: () => Promise<void> | void; heal: () => Promise<void> | void }> {
  return {
    TCP_CHECK: { fail: () => t.set(8001, 'down'), heal: () => t.set(8001, 'ok') },
    HTTP_GET: { fail: () => t.set(8002, '500'), heal: () => t.set(8002, 'ok') },
    SSL_GET: { fail: () => t.set(8443, '500'), heal: () => t.set(8443, 'ok') },
    SMTP_CHECK: { fail: () => t.set(8025, 'garbage'), heal: () => t.set(8025, 'single') },
    DNS_CHECK: { fail: () => t.set(8053, 'servfail'), heal: () => t.set(8053, 'ok') },
    UDP_CHECK: { fail: () => t.set(8007, 'down'), heal: () => t.set(8007, 'ok') },
    // through an `ip -batch` already running in the namespace: `ip netns exec` takes 0.3-1.6 s in UML
    PING_CHECK: { fail: () => t.ip(`addr del ${PING_RS}/32 dev kts0`), heal: () => t.ip(`addr add ${PING_RS}/32 dev kts0`) },
    MISC_CHECK: { fail: () => rmSync(MISC_OK, { force: true }), heal: () => writeFileSync(MISC_OK, 'ok\n') },
    FILE_CHECK: { fail: () => writeFileSync(TRACKED, '1\n'), heal: () => writeFileSync(TRACKED, '0\n') },
  };
}

interface Story {
  /** per real server: in / out, each change of the table from the full table to the end */
  seq: Record<string, string[]>;
  /** per checker type, ms: from its failure / restore (reloadOut: from the SIGHUP) */
  out: Record<string, number>;
  back: Record<string, number>;
  reloadOut: Record<string, number>;
  /** the table-change lines of the log, per real server, in order */
  logLines: Record<string, string[]>;
  /** the marks and the daemon's lines with their arrival times, printed when a window fails */
  timeline: string[];
}

const ALL = KINDS.map((k) => k.rs).sort();
const has = (rs: string) => (l: LabLine) => l.rs !== undefined && l.rs.includes(rs);
const lacks = (rs: string) => (l: LabLine) => l.rs !== undefined && !l.rs.includes(rs);

/** keepalived-ts's status (its Unix socket: reachable from outside the namespace). */
function checkersStatus(): Promise<CheckerSnapshot[]> {
  return new Promise((resolve, reject) => {
    get({ socketPath: SOCK, path: '/status', timeout: 5000 }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => {
        try {
          resolve((JSON.parse(b) as { lvs: { checkers: CheckerSnapshot[] } }).lvs.checkers);
        } catch (e) {
          reject(new Error(`status: ${(e as Error).message}: ${b.slice(0, 500)}`));
        }
      });
    }).on('error', reject);
  });
}
const brief = (c: CheckerSnapshot[]) => c.map((x) => `${x.rs} ${x.alive} ${x.checkers.map((k) => `${k.type}:${k.up}`).join()}`);

async function story(
  lab: Lab,
  targets: Targets,
  name: string,
  args: string[],
  status?: (phase: 'down' | 'up') => Promise<void>,
): Promise<Story> {
  const act = actions(targets);
  const events: { t: number; s: string }[] = [];
  const from = lab.lines.length;
  const d = run(args);
  const dump = () => `${name}'s log:\n${d.out().slice(-6000)}`;
  const wait = (pred: (l: LabLine) => boolean, ms: number, what: string, i: number) =>
    lab.wait(pred, ms, `${name}: ${what}`, i).catch((e: Error) => {
      throw new Error(`${e.message}\n${dump()}`);
    });
  /** fail (or heal) every real server, each with its own mark; the leave (or return) times */
  const each = async (
    how: 'fail' | 'heal',
    seen: (rs: string) => (l: LabLine) => boolean,
    from0?: number,
  ): Promise<Record<string, number>> => {
    const i = lab.lines.length;
    const marks: Record<string, number> = {};
    for (const k of KINDS) {
      marks[k.name] = Date.now(); // before the change: a measured time is never shorter than the true one
      await act[k.name]![how]();
      events.push({ t: marks[k.name]!, s: `${how} ${k.name} (${Date.now() - marks[k.name]!} ms)` });
    }
    const r: Record<string, number> = {};
    for (const k of KINDS)
      r[k.name] = (await wait(seen(k.rs), 15_000, `${k.name} ${how === 'fail' ? 'out' : 'back'}`, i)).t - (from0 ?? marks[k.name]!);
    if (from0 !== undefined) r.FILE_CHECK = r.FILE_CHECK! + from0 - marks.FILE_CHECK!;
    return r;
  };
  try {
    const full = (l: LabLine) => l.rs !== undefined && l.rs.length === ALL.length;
    const ready = await wait(full, 20_000, 'every real server in the table', from);
    // the sequence starts at the programmed table (the service is created before its destinations)
    const seqFrom = lab.lines.indexOf(ready);
    // the first attempts (1 s + up to warmup = delay_loop after start) are over, all succeeded
    await sleep(3500);
    assert.deepEqual(lab.lines.at(-1)!.rs, ALL, `${name}: a healthy real server left the table\n${dump()}`);
    const out = await each('fail', lacks);
    await status?.('down');
    const back = await each('heal', has);
    await wait(full, 10_000, 'every real server back', lab.lines.length - 1);
    await sleep(300); // nothing else moves
    await status?.('up');
    // a reload with the same file, nothing moves; 0.3 s later every real server fails again
    const before = d.out().length;
    const tHup = Date.now();
    d.child.kill('SIGHUP');
    events.push({ t: tHup, s: 'SIGHUP' });
    await sleep(300);
    const reloadOut = await each('fail', lacks, tHup);
    assert.match(d.out().slice(before), /Reload (done|complete)/, `${name}: no reload\n${dump()}`);
    await sleep(300);
    const end = lab.lines.length;
    const seq: Record<string, string[]> = {};
    for (const rs of ALL) {
      seq[rs] = [];
      for (const l of lab.lines.slice(seqFrom, end)) {
        if (!l.rs) continue;
        const s = l.rs.includes(rs) ? 'in' : 'out';
        if (seq[rs]!.at(-1) !== s) seq[rs]!.push(s);
      }
    }
    await stop(d.child);
    for (const k of KINDS) await act[k.name]!.heal();
    const logLines: Record<string, string[]> = {};
    for (const rs of ALL) {
      const [ip, port] = rs.split(':');
      const re = new RegExp(
        `(Removing|Adding) service \\[${ip!.replace(/\./g, '\\.')}\\]:tcp:${port} (from|to) VS \\[192\\.0\\.2\\.100\\]:tcp:80`,
        'g',
      );
      logLines[rs] = [...d.out().matchAll(re)].map((m) => m[0]);
    }
    for (const c of d.chunks) for (const s of c.s.split('\n')) if (s.trim()) events.push({ t: c.t, s: `  ${s.trim()}` });
    for (const l of lab.lines.slice(seqFrom))
      if (l.rs)
        events.push({
          t: l.t,
          s: `table: ${l.rs.length} ${ALL.filter((r) => !l.rs!.includes(r))
            .map((r) => KINDS.find((k) => k.rs === r)!.name)
            .join(' ')} out`,
        });
    events.sort((a, b) => a.t - b.t);
    const t0 = events[0]?.t ?? 0;
    const timeline = events.map((e) => `${String(e.t - t0).padStart(6)} ${e.s}`);
    return { seq, logLines, out, back, reloadOut, timeline };
  } finally {
    await stop(d.child);
  }
}

function inWindows(name: string, s: Story): string[] {
  const bad: string[] = [];
  for (const k of KINDS) {
    for (const [what, [lo, hi]] of [
      ['out', k.out],
      ['back', k.back],
      ['reloadOut', k.reloadOut],
    ] as const) {
      const v = s[what][k.name]!;
      if (!(v >= lo && v <= hi + TOLERANCE_MS)) bad.push(`${name}: ${k.name} ${what} ${v} ms, outside ${lo}-${hi} ms (+${TOLERANCE_MS})`);
    }
  }
  return bad;
}

test('every checker type: keepalived-ts takes real servers out and back as keepalived 2.2.7 does, reload included', {
  timeout: 200_000,
}, async () => {
  sh('netns', 'add', NS);
  const lab: { l?: Lab; t?: Targets } = {};
  try {
    inNs('/usr/sbin/ip', 'link', 'set', 'lo', 'up');
    inNs('/usr/sbin/ip', 'link', 'add', 'kts0', 'type', 'dummy');
    inNs('/usr/sbin/ip', 'link', 'set', 'kts0', 'up');
    for (const a of ['192.0.2.1/24', '198.51.100.1/24', `${RS}/32`, `${PING_RS}/32`]) inNs('/usr/sbin/ip', 'addr', 'add', a, 'dev', 'kts0');
    execFileSync('/usr/bin/mkdir', ['-p', DIR]);
    // the HTTPS target's certificate and the checkers' client certificate (the SSL block)
    for (const who of ['server', 'client']) {
      execFileSync(
        '/usr/bin/openssl',
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
          `${DIR}/${who}.key`,
          '-out',
          `${DIR}/${who}.crt`,
        ],
        { stdio: 'ignore', timeout: 60_000 },
      );
    }
    writeFileSync(MISC_OK, 'ok\n');
    writeFileSync(TRACKED, '0\n');
    writeFileSync(CONF, CONFIG);
    const t = (lab.t = new Targets());
    await t.ready();
    await t.set(8025, 'single'); // keepalived 2.2.7 fails a multi-line greeting (README)
    const l = (lab.l = new Lab());
    await l.wait((x) => x.ready === true, 20_000, 'ready');
    const theirs = await story(l, t, 'keepalived', [
      '/usr/sbin/keepalived',
      '-n',
      '-l',
      '-C',
      '-G',
      '-f',
      CONF,
      '-p',
      '/run/ka.pid',
      '-c',
      '/run/ka_c.pid',
    ]);
    // ours: the whole daemon (VRRP side idle), as it runs by default
    const ours = await story(
      l,
      t,
      'keepalived-ts',
      [process.execPath, CLI, '-n', '-l', '-f', CONF, '-p', '/run/kts.pid', '--status-socket', SOCK],
      async (phase) => {
        // the status shows the checkers' view of the table (lvs.checkers)
        const up = phase === 'up';
        const want = KINDS.map((k) => `[${k.rs.replace(':', ']:tcp:')} ${up} ${k.name}:${up}`);
        assert.deepEqual(brief(await checkersStatus()), want, `status while ${phase}`);
      },
    );
    console.log(`# ms from the failure / restore (after a reload: from the SIGHUP); windows +${TOLERANCE_MS} ms at the top`);
    console.log(`# ${'checker'.padEnd(11)} ${'out: keepalived / ours (window)'.padEnd(36)} ${'back'.padEnd(30)} after a reload, out`);
    const w = ([a, b]: Window) => `${a}-${b}`;
    for (const k of KINDS) {
      console.log(
        `# ${k.name.padEnd(11)} ${`${theirs.out[k.name]} / ${ours.out[k.name]} (${w(k.out)})`.padEnd(36)} ${`${theirs.back[k.name]} / ${ours.back[k.name]} (${w(k.back)})`.padEnd(30)} ${theirs.reloadOut[k.name]} / ${ours.reloadOut[k.name]} (${w(k.reloadOut)}${k.reloadFromFail ? ' from the failure' : ''})`,
      );
    }
    try {
      const four = Object.fromEntries(ALL.map((rs) => [rs, ['in', 'out', 'in', 'out']]));
      assert.deepEqual(theirs.seq, four, 'keepalived: the lab did not see out, back, out');
      assert.deepEqual(ours.seq, theirs.seq);
      assert.deepEqual(ours.logLines, theirs.logLines);
      assert.equal(theirs.logLines[`${RS}:8001`]!.length, 3);
      assert.deepEqual([...inWindows('keepalived', theirs), ...inWindows('keepalived-ts', ours)], []);
    } catch (e) {
      for (const [n, s] of [
        ['keepalived', theirs],
        ['keepalived-ts', ours],
      ] as const)
        console.log(`# ${n}'s timeline:\n${s.timeline.map((l) => `#   ${l}`).join('\n')}`);
      throw e;
    }
  } finally {
    lab.l?.send('quit');
    if (lab.l) await Promise.race([new Promise((r) => lab.l!.child.once('exit', r)), sleep(3000)]);
    lab.l?.child.kill('SIGKILL');
    lab.t?.child.stdin?.end();
    if (lab.t) await Promise.race([new Promise((r) => lab.t!.child.once('exit', r)), sleep(3000)]);
    lab.t?.child.kill('SIGKILL');
    lab.t?.ipBatch.stdin?.end();
    lab.t?.ipBatch.kill('SIGKILL');
    sh('netns', 'del', NS);
  }
});
