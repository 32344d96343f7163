// Runs INSIDE the UML guest: lvs_sync_daemon driven by a VRRP instance. keepalived-ts starts the
// backup sync daemon, switches to the master one when the instance becomes MASTER, and stops it at
// exit. Cross-checked with `ipvsadm --list --daemon`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ipvs } from '../../src/lvs/ipvs-netlink.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const ip = (...a: string[]) => execFileSync('/usr/sbin/ip', a);

test('lvs_sync_daemon inst VI_1: backup, then master with the VRID as sync id, nothing after stop', async () => {
  ip('link', 'add', 'kts0', 'type', 'veth', 'peer', 'name', 'kts1');
  ip('link', 'set', 'kts0', 'up');
  ip('link', 'set', 'kts1', 'up');
  ip('addr', 'add', '192.0.2.1/24', 'dev', 'kts0');
  writeFileSync(
    '/run/sync.conf',
    `global_defs {
  lvs_sync_daemon kts0 inst VI_1 maxlen 1400
}
vrrp_instance VI_1 {
  state BACKUP
  interface kts0
  virtual_router_id 42
  priority 150
  advert_int 1
  virtual_ipaddress { 192.0.2.100/24 }
}
virtual_server 192.0.2.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 192.0.2.11 80 { }
}
`,
  );
  const ipvs = await Ipvs.open({ modprobe: false });
  const child = spawn(process.execPath, [CLI, '-n', '-l', '-f', '/run/sync.conf', '-p', '/run/s.pid'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const daemons = async () =>
    (await ipvs.listDaemons()).map((d) => `${d.state === 1 ? 'master' : 'backup'} ${d.mcastIfn} ${d.syncId} ${d.syncMaxLen}`);
  const until = async (want: string[], ms: number) => {
    const t0 = Date.now();
    let last: string[] = [];
    while (Date.now() - t0 < ms) {
      last = await daemons();
      if (JSON.stringify(last) === JSON.stringify(want)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`sync daemons ${JSON.stringify(last)}, expected ${JSON.stringify(want)}\n${out}`);
  };
  try {
    // UML is slow to start Node and load our modules (~2 s before the first line): a generous bound
    await until(['backup kts0 42 1400'], 15_000);
    await until(['master kts0 42 1400'], 15_000);
    assert.match(
      execFileSync('/usr/sbin/ipvsadm', ['--list', '--daemon'], { encoding: 'utf8' }),
      /master sync daemon \(mcast=kts0, syncid=42/,
    );
    // the log line follows the state change: the daemon writes its lines once per turn of the
    // event loop, and in UML that turn may end after the kernel already shows the master daemon
    const t0 = Date.now();
    while (!/Entering MASTER STATE/.test(out) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /Entering MASTER STATE/);
  } finally {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  }
  assert.deepEqual(await daemons(), []);
  assert.equal((await ipvs.listServices()).length, 0);
  ipvs.close();
});
