// Runs INSIDE the UML guest: the health checkers driving the IPVS table, keepalived 2.2.7 against
// keepalived-ts in the same boot, from the same file: one real server under TCP_CHECK, one under
// HTTP_GET (delay_loop 1, every other timing keyword at its default). Each daemon in turn: both
// real servers healthy, then failing (TCP: nothing listens; HTTP: 503), then healthy again. The
// times at which each one leaves and re-enters the table, from the failure / restore moment, are
// recorded for both implementations (test/uml/checkers-lab.ts serves and watches the table).
//
// Timer rules (keepalived 2.2.7; src/check/scheduler.ts), with the failure at a random phase of
// the checker's period: TCP_CHECK (retry 1, delay_before_retry 1) leaves 1-2 s after the failure
// (next attempt within delay_loop, one retry) and, trying every second while down, comes back
// 0-1 s after the restore. HTTP_GET (retry 1, delay_before_retry 3) leaves 3-4 s after; while down
// it re-checks every max(delay_before_retry, delay_loop) = 3 s and needs a second success one
// delay_loop later: back 1-4 s after the restore. keepalived's figures must fall in these windows
// (else the model is wrong) and ours too, within TOLERANCE_MS past the upper end. Lower ends are
// hard: a timer never fires early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import type { CheckerSnapshot } from '../../src/check/index.js';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const LAB = join(import.meta.dirname, 'checkers-lab.js');
const NS = 'kts-cc';
const CONF = '/run/cc.conf';
const SOCK = '/run/kts-cc.sock';
const TCP_RS = '198.51.100.11', HTTP_RS = '198.51.100.12';
/**
 * Past the upper end of a window. What a transition costs besides its timers: each attempt's own
 * duration delays the next one (keepalived and we both count delay_loop from an attempt's end), a
 * leave takes two attempts; a table write (~2.4 ms netlink round trip in UML); the lab's 20 ms poll;
 * and the scheduling of one UML CPU (the lab, the daemon, its probes) on a 2-core host that may
 * run another suite. UML system calls are ~30x slower than the host's: a refused connect or a
 * local HTTP GET costs tens of ms there. 400 ms is 10-40 % of a window's width and well under the
 * delay_loop, so a wrong retry count or period (>= 1 s off) still fails.
 */
const TOLERANCE_MS = 400;
const WINDOWS = {
  tcpLeave: [1000, 2000], tcpBack: [0, 1000], httpLeave: [3000, 4000], httpBack: [1000, 4000],
} as const;

const CONFIG = `
global_defs {
  router_id uml-checkers
}
virtual_server 192.0.2.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server ${TCP_RS} 80 {
    weight 1
    TCP_CHECK {
      connect_port 80
      connect_timeout 3
    }
  }
  real_server ${HTTP_RS} 80 {
    weight 1
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      connect_timeout 3
    }
  }
}
`;

const sh = (...a: string[]) => execFileSync('/usr/sbin/ip', a, { encoding: 'utf8' });
const inNs = (...a: string[]) => sh('netns', 'exec', NS, ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LabLine { ready?: boolean; ack?: string; rs?: string[]; t: number }
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
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }
  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }
}

function run(args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn('/usr/sbin/ip', ['netns', 'exec', NS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
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

interface Story {
  /** per real server: present / absent, each change of the table from the full table to stop */
  seq: Record<string, string[]>;
  tcpLeave: number; httpLeave: number; tcpBack: number; httpBack: number;
  /** after a reload with the same file */
  tcpLeave2: number; httpLeave2: number;
  /** the table-change lines of the log, per real server, in order */
  logLines: Record<string, string[]>;
}

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

async function story(lab: Lab, name: string, args: string[], healthy: RegExp[], status?: (phase: 'down' | 'up') => Promise<void>): Promise<Story> {
  const from = lab.lines.length;
  const d = run(args);
  const dump = () => `${name}'s log:\n${d.out().slice(-4000)}`;
  try {
    const both = (l: LabLine) => has(TCP_RS)(l) && has(HTTP_RS)(l);
    const ready = await lab.wait(both, 20_000, `${name}: both real servers in the table`, from).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    // the sequence starts at the programmed table (the service is created before its destinations)
    const seqFrom = lab.lines.indexOf(ready);
    // the first attempts (1 s + up to warmup = delay_loop after start) succeed
    for (let i = 0; i < 60 && !healthy.every((r) => r.test(d.out())); i++) await sleep(100);
    assert.ok(healthy.every((r) => r.test(d.out())), `${name}: no first successful checks\n${dump()}`);
    let i = lab.lines.length;
    lab.send('fail');
    const tFail = (await lab.wait((l) => l.ack === 'fail', 5000, 'fail ack', i)).t;
    const tcpOut = await lab.wait(lacks(TCP_RS), 12_000, `${name}: TCP real server out`, i).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    const httpOut = await lab.wait(lacks(HTTP_RS), 12_000, `${name}: HTTP real server out`, i).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    await lab.wait((l) => l.rs !== undefined && l.rs.length === 0, 12_000, `${name}: both out`, i);
    await status?.('down');
    i = lab.lines.length;
    lab.send('heal');
    const tHeal = (await lab.wait((l) => l.ack === 'heal', 5000, 'heal ack', i)).t;
    const tcpIn = await lab.wait(has(TCP_RS), 12_000, `${name}: TCP real server back`, i).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    const httpIn = await lab.wait(has(HTTP_RS), 12_000, `${name}: HTTP real server back`, i).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    await sleep(300); // nothing else moves
    await status?.('up');
    // a reload with the same file: nothing moves, and the reloaded checkers still drive the table
    // (they fail again: both leave). keepalived reschedules every checker at a reload, we keep their
    // timers (see the README): these leave times are printed, not compared.
    const before = d.out().length;
    d.child.kill('SIGHUP');
    for (let k = 0; k < 50 && !/Reload (done|complete)/.test(d.out().slice(before)); k++) await sleep(100);
    assert.match(d.out().slice(before), /Reload (done|complete)/, `${name}: no reload\n${dump()}`);
    await sleep(300);
    i = lab.lines.length;
    lab.send('fail');
    const tFail2 = (await lab.wait((l) => l.ack === 'fail', 5000, 'fail ack', i)).t;
    const tcpOut2 = await lab.wait(lacks(TCP_RS), 12_000, `${name}: TCP real server out after the reload`, i).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    const httpOut2 = await lab.wait(lacks(HTTP_RS), 12_000, `${name}: HTTP real server out after the reload`, i).catch((e: Error) => { throw new Error(`${e.message}\n${dump()}`); });
    await sleep(300);
    const end = lab.lines.length;
    const seq: Record<string, string[]> = {};
    for (const rs of [TCP_RS, HTTP_RS]) {
      seq[rs] = [];
      for (const l of lab.lines.slice(seqFrom, end)) {
        if (!l.rs) continue;
        const s = l.rs.includes(rs) ? 'in' : 'out';
        if (seq[rs]!.at(-1) !== s) seq[rs]!.push(s);
      }
    }
    await stop(d.child);
    i = lab.lines.length;
    lab.send('heal');
    await lab.wait((l) => l.ack === 'heal', 5000, 'heal ack', i);
    const logLines: Record<string, string[]> = {};
    for (const rs of [TCP_RS, HTTP_RS]) {
      const re = new RegExp(`(Removing|Adding) service \\[${rs.replace(/\./g, '\\.')}\\]:tcp:80 (from|to) VS \\[192\\.0\\.2\\.100\\]:tcp:80`, 'g');
      logLines[rs] = [...d.out().matchAll(re)].map((m) => m[0]);
    }
    return {
      seq, logLines,
      tcpLeave: tcpOut.t - tFail, httpLeave: httpOut.t - tFail, tcpBack: tcpIn.t - tHeal, httpBack: httpIn.t - tHeal,
      tcpLeave2: tcpOut2.t - tFail2, httpLeave2: httpOut2.t - tFail2,
    };
  } finally {
    await stop(d.child);
  }
}

function inWindow(name: string, s: Story): void {
  for (const [k, [lo, hi]] of Object.entries(WINDOWS)) {
    const v = s[k as keyof typeof WINDOWS];
    assert.ok(v >= lo && v <= hi + TOLERANCE_MS, `${name}: ${k} ${v} ms, outside ${lo}-${hi} ms (+${TOLERANCE_MS})`);
  }
}

test('TCP_CHECK and HTTP_GET: keepalived-ts takes real servers out and back as keepalived 2.2.7 does', { timeout: 120_000 }, async () => {
  sh('netns', 'add', NS);
  const lab: { l?: Lab } = {};
  try {
    inNs('/usr/sbin/ip', 'link', 'set', 'lo', 'up');
    inNs('/usr/sbin/ip', 'link', 'add', 'kts0', 'type', 'dummy');
    inNs('/usr/sbin/ip', 'link', 'set', 'kts0', 'up');
    for (const a of ['192.0.2.1/24', '198.51.100.1/24', `${TCP_RS}/32`, `${HTTP_RS}/32`]) inNs('/usr/sbin/ip', 'addr', 'add', a, 'dev', 'kts0');
    writeFileSync(CONF, CONFIG);
    const l = (lab.l = new Lab());
    await l.wait((x) => x.ready === true, 20_000, 'ready');
    const theirs = await story(l, 'keepalived', ['/usr/sbin/keepalived', '-n', '-l', '-C', '-G', '-f', CONF, '-p', '/run/ka.pid', '-c', '/run/ka_c.pid'],
      [new RegExp(`TCP connection to \\[${TCP_RS}\\]:tcp:80 success`), new RegExp(`Remote Web server \\[${HTTP_RS}\\]:tcp:80 succeed on service`)]);
    // ours: the whole daemon (VRRP side idle), as it runs by default
    const ours = await story(l, 'keepalived-ts', [process.execPath, CLI, '-n', '-l', '-f', CONF, '-p', '/run/kts.pid', '--status-socket', SOCK],
      [new RegExp(`TCP connection to \\[${TCP_RS}\\]:tcp:80 success`), new RegExp(`Remote Web server \\[${HTTP_RS}\\]:tcp:80 succeed on service`)],
      async (phase) => {
        // the status shows the checkers' view of the table (lvs.checkers)
        const up = phase === 'up';
        assert.deepEqual(brief(await checkersStatus()), [
          `[${TCP_RS}]:tcp:80 ${up} TCP_CHECK:${up}`, `[${HTTP_RS}]:tcp:80 ${up} HTTP_GET:${up}`,
        ], `status while ${phase}`);
      });
    const row = (n: string, s: Story) => `# ${n.padEnd(13)} TCP_CHECK out ${s.tcpLeave} ms, back ${s.tcpBack} ms; HTTP_GET out ${s.httpLeave} ms, back ${s.httpBack} ms; after a reload: out ${s.tcpLeave2} / ${s.httpLeave2} ms`;
    console.log(`# from the failure / restore moment (windows: TCP out 1000-2000, back 0-1000; HTTP out 3000-4000, back 1000-4000; +${TOLERANCE_MS} ms)`);
    console.log(row('keepalived', theirs));
    console.log(row('keepalived-ts', ours));
    assert.deepEqual(theirs.seq, { [TCP_RS]: ['in', 'out', 'in', 'out'], [HTTP_RS]: ['in', 'out', 'in', 'out'] }, 'keepalived: the lab did not see out and back');
    assert.deepEqual(ours.seq, theirs.seq);
    assert.deepEqual(ours.logLines, theirs.logLines);
    assert.equal(theirs.logLines[TCP_RS]!.length, 3);
    inWindow('keepalived', theirs);
    inWindow('keepalived-ts', ours);
  } finally {
    lab.l?.send('quit');
    if (lab.l) await Promise.race([new Promise((r) => lab.l!.child.once('exit', r)), sleep(3000)]);
    lab.l?.child.kill('SIGKILL');
    sh('netns', 'del', NS);
  }
});
