// Runs INSIDE the UML guest: the seed's LVS story without health checkers. Two directors (VRRP +
// IPVS, DR) share VIP 192.0.2.100 in front of two real servers running an HTTP server; a client
// keeps asking the VIP. The Backup director already holds the table; when the Master dies (killed,
// its link cut), the Backup takes the VIP and the client gets answers again.
// Namespaces kts-* inside the guest, joined by a bridge; addresses from 192.0.2.0/24.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const ip = (...a: string[]) => execFileSync('/usr/sbin/ip', a, { encoding: 'utf8' });
const nsx = (ns: string, ...a: string[]) => execFileSync('/usr/sbin/ip', ['netns', 'exec', ns, ...a], { encoding: 'utf8' });
const children: ChildProcess[] = [];
const logs = new Map<string, string>();
function spawnIn(ns: string, name: string, args: string[]): ChildProcess {
  const c = spawn('/usr/sbin/ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  logs.set(name, '');
  c.stdout!.on('data', (b: Buffer) => logs.set(name, logs.get(name) + b.toString()));
  c.stderr!.on('data', (b: Buffer) => logs.set(name, logs.get(name) + b.toString()));
  children.push(c);
  return c;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function host(name: string, addr: string): string {
  const ns = `kts-${name}`;
  ip('netns', 'add', ns);
  ip('link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  ip('link', 'set', `v-${name}`, 'netns', 'kts-sw');
  nsx('kts-sw', '/usr/sbin/ip', 'link', 'set', `v-${name}`, 'master', 'br0', 'up');
  nsx(ns, '/usr/sbin/ip', 'link', 'set', 'lo', 'up');
  nsx(ns, '/usr/sbin/ip', 'link', 'set', 'eth0', 'up');
  nsx(ns, '/usr/sbin/ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
  return ns;
}

const director = (prio: number, state: string) => `
vrrp_instance VI_1 {
  state ${state}
  interface eth0
  virtual_router_id 52
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
}
virtual_server 192.0.2.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 192.0.2.11 80 { }
  real_server 192.0.2.12 80 { }
}
`;

/** One GET to the VIP from the client namespace: the answering server's name, or undefined. */
function ask(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const c = spawn('/usr/sbin/ip', ['netns', 'exec', 'kts-c', process.execPath, '-e', `
      const r = require('http').get({ host: '192.0.2.100', port: 80, agent: false, timeout: 400 }, (res) => { let b = ''; res.on('data', (d) => b += d); res.on('end', () => { process.stdout.write(b); process.exit(0); }); });
      r.on('timeout', () => { r.destroy(); process.exit(1); }); r.on('error', () => process.exit(1));`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('exit', (code) => resolve(code === 0 ? out : undefined));
  });
}

test('two directors, two real servers: the Backup has the table and serves after the Master dies', { timeout: 180_000 }, async () => {
  ip('netns', 'add', 'kts-sw');
  nsx('kts-sw', '/usr/sbin/ip', 'link', 'add', 'br0', 'type', 'bridge');
  nsx('kts-sw', '/usr/sbin/ip', 'link', 'set', 'br0', 'up');
  const d1 = host('d1', '192.0.2.1'), d2 = host('d2', '192.0.2.2');
  const r1 = host('r1', '192.0.2.11'), r2 = host('r2', '192.0.2.12');
  host('c', '192.0.2.50');
  for (const [ns, name] of [[r1, 'r1'], [r2, 'r2']] as const) {
    // DR: the real server owns the VIP on lo and never answers ARP for it
    nsx(ns, '/usr/sbin/ip', 'addr', 'add', '192.0.2.100/32', 'dev', 'lo');
    nsx(ns, '/usr/sbin/sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2');
    spawnIn(ns, name, [process.execPath, '-e', `require('http').createServer((q, s) => s.end('${name}')).listen(80, () => console.log('READY'))`]);
  }
  writeFileSync('/run/d1.conf', director(150, 'MASTER'));
  writeFileSync('/run/d2.conf', director(100, 'BACKUP'));
  const k1 = spawnIn(d1, 'd1', [process.execPath, CLI, '-n', '-l', '-f', '/run/d1.conf', '-p', '/run/d1.pid']);
  spawnIn(d2, 'd2', [process.execPath, CLI, '-n', '-l', '-f', '/run/d2.conf', '-p', '/run/d2.pid']);
  try {
    // the Master serves, round robin over both real servers
    let seen = new Set<string>();
    for (const t0 = Date.now(); Date.now() - t0 < 20_000 && seen.size < 2;) {
      const a = await ask();
      if (a) seen.add(a);
      else await sleep(200);
    }
    assert.deepEqual([...seen].sort(), ['r1', 'r2'], `no answers through the VIP\n${[...logs].map(([k, v]) => `--- ${k}\n${v}`).join('\n')}`);
    // the Backup holds the same table already
    const t2 = nsx(d2, '/usr/sbin/ipvsadm', '-Ln');
    assert.match(t2, /TCP {2}192\.0\.2\.100:80 rr/);
    assert.match(t2, /192\.0\.2\.11:80 +Route +1/);
    assert.match(t2, /192\.0\.2\.12:80 +Route +1/);
    // the Master dies: killed, its link cut
    const tKill = Date.now();
    k1.kill('SIGKILL');
    nsx(d1, '/usr/sbin/ip', 'link', 'set', 'eth0', 'down');
    seen = new Set<string>();
    let firstBack = 0;
    for (const t0 = Date.now(); Date.now() - t0 < 20_000 && seen.size < 2;) {
      const a = await ask();
      if (a) {
        firstBack ||= Date.now() - tKill;
        seen.add(a);
      } else await sleep(100);
    }
    assert.deepEqual([...seen].sort(), ['r1', 'r2'], `no answers after the failover\n${logs.get('d2')}`);
    assert.match(logs.get('d2')!, /Entering MASTER STATE/);
    console.log(`# answers through the Backup ${firstBack} ms after the Master was killed`);
    assert.ok(firstBack < 8000, `failover took ${firstBack} ms`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(500);
  }
});
