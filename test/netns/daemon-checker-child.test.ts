// The checker child (src/daemon/checker-child.ts): with vrrp_instance and virtual_server blocks the
// daemon runs the LVS side in a `-n -C` child with its own pid file; the parent passes SIGHUP on,
// restarts a dead child, shows its LVS status, and stops it before exiting. --single-process: one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchStatus } from '../../src/cli/status.js';
import { Cluster, waitFor } from '../helpers/daemon-cluster.js';
import { isRoot } from '../helpers/netns.js';
import { SYSLOG_RECEIVER } from '../helpers/syslog-receiver.js';

const conf = `
vrrp_instance VI_1 {
  state MASTER
  interface vnet0
  virtual_router_id 52
  priority 150
  advert_int 1
  virtual_ipaddress { 192.0.2.100/24 }
}
virtual_server 192.0.2.100 8080 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 192.0.2.21 8080 {
    TCP_CHECK { connect_timeout 1 }
  }
}
`;

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidOf = (f: string): number => (existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : -1);

test('checker child: started, restarted when killed, reloaded with SIGHUP, stopped with the parent, or when it is gone; --single-process keeps one', {
  skip: !isRoot() && 'needs root',
  timeout: 120_000,
}, async () => {
  const c = Cluster.create([{ name: 'd1', addresses: ['192.0.2.11/24'] }]);
  try {
    const socket = join(c.dir, 'status.sock');
    const d1 = c.start('d1', conf, { args: ['--status-socket', socket] });
    const childPidFile = d1.pidFile.replace(/\.pid$/, '_checkers.pid');
    const started = await d1.waitLine(/checker child started \(pid (\d+)/, 20_000);
    assert.ok(started, d1.log());
    const pid1 = Number(/pid (\d+)/.exec(started.text)![1]);
    assert.ok(await waitFor(() => pidOf(childPidFile) === pid1, 5_000), `child pid file ${childPidFile}`);
    assert.notEqual(pid1, d1.pid);
    // the VRRP side is the parent's; the checkers run in the child, and the parent's status shows them
    assert.ok(await d1.waitState('VI_1', 'MASTER', 10_000), d1.log());
    const st = await fetchStatus({ socket });
    assert.equal(st.lvs?.childProcess?.pid, pid1);
    // this host has no IPVS: the child's own verdict, not the parent's placeholder
    assert.equal(st.lvs?.state, 'unavailable');
    assert.doesNotMatch(st.lvs?.reason ?? '', /checker child/);
    assert.ok(
      st.lvs?.checkers?.some((r) => r.rs.includes('192.0.2.21')),
      JSON.stringify(st.lvs),
    );
    assert.equal(st.instances.length, 1);

    // SIGHUP reaches the child: it logs its own reload
    const hup = d1.mark();
    d1.signal('SIGHUP');
    assert.ok(await waitFor(() => d1.count(/Reloading configuration \(SIGHUP\)/, hup) >= 2, 10_000), d1.log());

    // a child killed is restarted (backoff 1 s)
    const killed = d1.mark();
    process.kill(pid1, 'SIGKILL');
    assert.ok(await d1.waitLine(/checker child \(pid \d+\) exited \(signal SIGKILL\); restarting it in 1 s/, 5_000, killed), d1.log());
    const again = await d1.waitLine(/checker child started \(pid (\d+)/, 20_000, killed);
    assert.ok(again, d1.log());
    const pid2 = Number(/pid (\d+)/.exec(again.text)![1]);
    assert.notEqual(pid2, pid1);
    assert.equal((await fetchStatus({ socket })).lvs?.childProcess?.restarts, 1);

    // SIGTERM: the child stops first, both pid files go
    const stopped = await d1.stop();
    assert.equal(stopped.code, 0, d1.log());
    assert.equal(alive(pid2), false, 'the child is gone with its parent');
    assert.equal(existsSync(childPidFile), false);
    assert.equal(existsSync(d1.pidFile), false);

    // --single-process: no child; the LVS side in the parent's status as before
    const d2 = c.start('d1', conf, { args: ['--status-socket', socket, '--single-process'] });
    assert.ok(await d2.waitState('VI_1', 'MASTER', 15_000), d2.log());
    assert.ok(await d2.waitLine(/TCP connection to .* (failed|success)|IPVS|ip_vs/i, 10_000), d2.log());
    const s2 = await fetchStatus({ socket });
    assert.equal(s2.lvs?.childProcess, undefined);
    assert.equal(d2.count(/checker child/), 0);
    assert.equal((await d2.stop()).code, 0);

    // a parent killed with SIGKILL leaves no child behind (it looks for its parent every second)
    const d3 = c.start('d1', conf, { args: ['--status-socket', socket] });
    const s3 = await d3.waitLine(/checker child started \(pid (\d+)/, 20_000);
    assert.ok(s3, d3.log());
    const pid3 = Number(/pid (\d+)/.exec(s3.text)![1]);
    d3.signal('SIGKILL');
    assert.ok(await waitFor(() => !alive(pid3), 5_000), 'the orphaned child stopped');
  } finally {
    await c.cleanup();
  }
});

/** fields of /proc/PID/stat by proc(5)'s numbering (19 nice, 40 rt_priority, 41 policy) */
const statField = (f: string, n: number): number => Number(readFileSync(f, 'utf8').split(') ')[1]!.split(' ')[n - 3]);
/** nice of a process and of each of its threads */
const niceOf = (pid: number): { main: number; threads: number[] } => {
  const field = (f: string) => statField(f, 19);
  const threads: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.push(field(`/proc/${pid}/task/${t}/stat`));
    } catch {
      /* ended */
    }
  }
  return { main: field(`/proc/${pid}/stat`), threads };
};

test('checker child: vrrp_priority / checker_priority / vrrp_rt_priority applied to the parent and the child (every thread); the child logs as Keepalived_healthcheckers', {
  skip: !isRoot() && 'needs root',
  timeout: 60_000,
}, async () => {
  const c = Cluster.create([{ name: 'd1', addresses: ['192.0.2.11/24'] }]);
  try {
    const d1 = c.start('d1', `global_defs {\n  vrrp_priority -3\n  checker_priority 7\n  vrrp_rt_priority 10\n}\n${conf}`, {
      args: ['--status-socket', join(c.dir, 'status.sock')],
    });
    const started = await d1.waitLine(/checker child started \(pid (\d+)/, 20_000);
    assert.ok(started, d1.log());
    const child = Number(/pid (\d+)/.exec(started.text)![1]);
    assert.ok(await d1.waitState('VI_1', 'MASTER', 10_000), d1.log());
    const p = niceOf(d1.pid);
    const k = niceOf(child);
    assert.equal(p.main, -3, 'the VRRP process takes vrrp_priority');
    assert.equal(k.main, 7, 'the checker child takes checker_priority');
    assert.ok(k.threads.length > 1 && k.threads.every((n) => n === 7), `every thread of the child: ${k.threads}`);
    assert.ok(
      p.threads.every((n) => n === -3),
      `every thread of the parent: ${p.threads}`,
    );
    // SCHED_RR (policy 2) at 10 for the VRRP process; its child does not inherit it (SCHED_OTHER, 0)
    assert.deepEqual([statField(`/proc/${d1.pid}/stat`, 41), statField(`/proc/${d1.pid}/stat`, 40)], [2, 10], d1.log());
    assert.deepEqual([statField(`/proc/${child}/stat`, 41), statField(`/proc/${child}/stat`, 40)], [0, 0]);
    // the console (-l) prefix: the child's lines as keepalived's checker process, the parent's as its VRRP process
    assert.ok(await d1.waitLine(/Keepalived_healthcheckers: checker process priority \(nice\) set to 7/, 5_000), d1.log());
    assert.ok(await d1.waitLine(/Keepalived_vrrp: \(VI_1\) Entering MASTER STATE/, 5_000), d1.log());
    assert.equal(d1.count(/Keepalived_vrrp: .*checker process priority/), 0, d1.log());
    // a reload that drops checker_priority puts the child back where it started
    const hup = d1.mark();
    writeFileSync(d1.configFile, `global_defs {\n  vrrp_priority -3\n  vrrp_rt_priority 10\n}\n${conf}`);
    d1.signal('SIGHUP');
    assert.ok(await waitFor(() => d1.count(/Reload done/, hup) >= 1 && niceOf(child).main === 0, 10_000), d1.log());
    assert.equal(niceOf(d1.pid).main, -3);
    assert.equal((await d1.stop()).code, 0, d1.log());
  } finally {
    await c.cleanup();
  }
});

test('-C: syslog lines are tagged Keepalived_healthcheckers[PID], as keepalived 2.2.7 checker process; with nothing to hold it (no IPVS, no checker, no status socket) it runs until stopped', {
  skip: !isRoot() && 'needs root',
  timeout: 60_000,
}, async () => {
  const c = Cluster.create([{ name: 'd1', addresses: ['192.0.2.11/24'] }]);
  try {
    const sock = join(c.dir, 'log.sock');
    const recv = spawn('python3', ['-c', SYSLOG_RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    recv.stdout.on('data', (b: Buffer) => {
      got += b.toString();
    });
    try {
      assert.ok(await waitFor(() => got.startsWith('ready\n'), 10_000), 'the test syslog socket is bound');
      const file = join(c.dir, 'c.conf');
      // no health checker: nothing of the LVS side holds the event loop on this host without IPVS
      writeFileSync(file, 'virtual_server 192.0.2.100 8080 {\n  lb_kind DR\n  real_server 192.0.2.21 8080 {\n  }\n}\n');
      const d = c.lab.spawn(
        c.lab.host('d1').ns,
        [process.execPath, CLI, '-n', '-C', '-f', file, '-p', join(c.dir, 'c.pid'), '--status-socket', 'none'],
        { env: { ...process.env, KEEPALIVED_TS_SYSLOG_SOCKET: sock } },
      );
      d.stdout!.resume();
      d.stderr!.resume();
      assert.ok(await waitFor(() => /started 0 VRRP/.test(got), 20_000), got);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(d.exitCode, null, `still running: ${got}`);
      d.kill('SIGTERM');
      assert.ok(await waitFor(() => d.exitCode !== null, 10_000));
      assert.equal(d.exitCode, 0);
      const lines = got.split('\n').slice(1).filter(Boolean);
      assert.ok(lines.length >= 2, got);
      for (const l of lines)
        assert.match(l, new RegExp(`^<\\d+>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d Keepalived_healthcheckers\\[${d.pid}\\]: `), l);
    } finally {
      recv.kill();
    }
  } finally {
    await c.cleanup();
  }
});
