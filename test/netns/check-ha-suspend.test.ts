// ha_suspend end to end: a virtual server's checkers run only while its address is on a local
// interface (keepalived 2.2.7, ../shared/notes/lvs.md 3.2: "While suspended, state and table are
// frozen"). The VIP comes and goes with VRRP: d1 alone becomes Master (checkers resume), d2 with a
// higher priority takes over (d1's checkers pause: a real server killed meanwhile stays alive),
// d2 stops (d1 Master again: the checkers resume and see the dead real server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { fetchStatus } from '../../src/cli/status.js';
import { Cluster, sleep, waitFor } from '../helpers/daemon-cluster.js';
import { isRoot } from '../helpers/netns.js';

const RS = '192.0.2.21';
const VIP = '192.0.2.100';

const conf = (priority: number) => `
vrrp_instance VI_1 {
  state BACKUP
  interface vnet0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress { ${VIP}/24 }
}
virtual_server ${VIP} 8080 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
  ha_suspend
  real_server ${RS} 8080 {
    weight 1
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

test('ha_suspend: checkers pause while the VIP is away (state frozen) and resume when it is back', {
  skip: !isRoot() && 'needs root',
  timeout: 90_000,
}, async () => {
  const c = Cluster.create([
    { name: 'd1', addresses: ['192.0.2.11/24'] },
    { name: 'd2', addresses: ['192.0.2.12/24'] },
    { name: 'rs1', addresses: [`${RS}/24`] },
  ]);
  let server: ChildProcess | undefined;
  try {
    server = c.lab.spawn(c.lab.host('rs1').ns, [
      process.execPath,
      '-e',
      `require('node:net').createServer((s) => s.end()).listen(8080, '${RS}')`,
    ]);
    const socket = join(c.dir, 'd1.sock');
    const d1 = c.start('d1', conf(100), { args: ['--status-socket', socket] });
    const rs = async () => (await fetchStatus({ socket }).catch(() => undefined))?.lvs?.checkers?.find((r) => r.rs.includes(RS));
    const ck = async () => (await rs())?.checkers[0];

    // Backup for Master_Down_Interval (~3.6 s): no VIP, the checker is suspended and makes no attempt
    assert.ok(await waitFor(async () => (await ck()) !== undefined, 10_000), d1.log());
    await sleep(2500); // past the first attempt's time (1 s + up to warmup 1 s)
    assert.equal(d1.lastState(), 'BACKUP', d1.log());
    assert.deepEqual(await ck(), { type: 'TCP_CHECK', up: true, attempts: 0, suspended: true });

    // Master: the VIP is local, the checker resumes
    assert.ok(await d1.waitState('VI_1', 'MASTER', 10_000), d1.log());
    assert.ok(await waitFor(async () => (await ck())?.suspended === false, 5_000), 'resumed with the VIP');
    assert.ok(await waitFor(async () => ((await ck())?.attempts ?? 0) >= 2, 5_000), `attempts while Master: ${JSON.stringify(await ck())}`);

    // d2 preempts: d1's VIP leaves, its checker pauses; a real server dying meanwhile is not seen
    const d2 = c.start('d2', conf(200));
    assert.ok(await d1.waitState('VI_1', 'BACKUP', 10_000, d1.mark()), d1.log());
    assert.ok(await waitFor(async () => (await ck())?.suspended === true, 5_000), 'suspended without the VIP');
    await sleep(1500); // an attempt under way when the VIP left settles
    const frozen = (await ck())!.attempts;
    server.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    await sleep(3500); // a running checker would have failed twice (retry 1, 1 s apart)
    assert.equal((await ck())!.attempts, frozen, 'no attempt while suspended');
    assert.equal((await rs())?.alive, true, 'state frozen while suspended');
    assert.equal(d1.count(/TCP_CHECK on service .* failed/), 0, d1.log());

    // d2 stops: d1 Master again, the checker resumes and takes the dead real server down
    const back = d1.mark();
    await d2.stop();
    assert.ok(await d1.waitState('VI_1', 'MASTER', 10_000, back), d1.log());
    assert.ok(await d1.waitLine(/TCP_CHECK on service \[192\.0\.2\.21\]:tcp:8080 failed after 1 retries/, 10_000, back), d1.log());
    assert.equal((await rs())?.alive, false);
    assert.equal((await d1.stop()).code, 0, d1.log());
  } finally {
    server?.kill('SIGKILL');
    await c.cleanup();
  }
});
