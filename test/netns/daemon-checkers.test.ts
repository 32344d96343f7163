// The health checkers inside the daemon on a kernel without IPVS (this host's): keepalived's
// checker process dies there; keepalived-ts says once that the table cannot be programmed and the
// checkers still run, log, run notify_up / notify_down and show in status (monitoring only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { fetchStatus } from '../../src/cli/status.js';
import { Cluster, sleep, waitFor } from '../helpers/daemon-cluster.js';
import { isRoot } from '../helpers/netns.js';

const RS = '192.0.2.21';

test('checkers without IPVS: a real server killed and restarted is seen down and up (log, notify, status)', {
  skip: !isRoot() && 'needs root',
}, async () => {
  const c = Cluster.create([
    { name: 'd1', addresses: ['192.0.2.11/24'] },
    { name: 'rs1', addresses: [`${RS}/24`] },
  ]);
  let server: ChildProcess | undefined;
  const serve = (): ChildProcess =>
    c.lab.spawn(c.lab.host('rs1').ns, [process.execPath, '-e', `require('node:net').createServer((s) => s.end()).listen(8080, '${RS}')`]);
  try {
    server = serve();
    const marks = join(c.dir, 'marks');
    const socket = join(c.dir, 'status.sock');
    const conf = `
vrrp_instance VI_1 {
  state BACKUP
  interface vnet0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress { 192.0.2.100/24 }
}
virtual_server 192.0.2.100 8080 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server ${RS} 8080 {
    weight 1
    notify_up "/bin/sh -c 'echo up >> ${marks}'"
    notify_down "/bin/sh -c 'echo down >> ${marks}'"
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;
    const d1 = c.start('d1', conf, { args: ['--status-socket', socket] });
    const svc = `\\[${RS.replace(/\./g, '\\.')}\\]:tcp:8080`;
    // one clear line: the table cannot be programmed here; VRRP and the checkers go on
    assert.ok(await d1.waitLine(/IPVS|ip_vs/i, 10_000), d1.log());
    assert.ok(await d1.waitLine(new RegExp(`TCP connection to ${svc} success`), 10_000), d1.log());
    assert.equal(d1.running, true);
    const rsOf = async () => (await fetchStatus({ socket })).lvs?.checkers?.find((r) => r.rs.includes(RS));
    assert.equal((await rsOf())?.alive, true);

    const killedAt = d1.mark();
    server.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    // retry 1, delay_before_retry 1 s: down after two failed attempts (1-3 s)
    const down = await d1.waitLine(new RegExp(`TCP_CHECK on service ${svc} failed after 1 retries`), 10_000, killedAt);
    assert.ok(down, d1.log());
    assert.ok(await waitFor(() => existsSync(marks) && readFileSync(marks, 'utf8').includes('down'), 5_000), 'notify_down ran');
    assert.equal((await rsOf())?.alive, false);

    const restoredAt = d1.mark();
    server = serve();
    assert.ok(await d1.waitLine(new RegExp(`TCP connection to ${svc} success`), 10_000, restoredAt), d1.log());
    assert.ok(await waitFor(() => readFileSync(marks, 'utf8').split('\n').includes('up'), 5_000), 'notify_up ran');
    assert.equal((await rsOf())?.alive, true);
    assert.equal(readFileSync(marks, 'utf8'), 'down\nup\n', 'one notify per transition, in order');

    const stopped = await d1.stop();
    assert.equal(stopped.code, 0, d1.log());
    await sleep(50);
  } finally {
    server?.kill('SIGKILL');
    await c.cleanup();
  }
});
