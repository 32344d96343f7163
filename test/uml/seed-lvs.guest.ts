// Runs INSIDE the UML guest: the seed's LVS story. Two directors (VRRP + IPVS, DR) share VIP
// 192.0.2.100 in front of two real servers running an HTTP server, each watched by the seed's
// TCP_CHECK (delay_loop 6, connect_timeout 3, delay_before_retry 3; nb_get_retry is unknown to
// keepalived 2.2.7 too: retry stays 1); a client keeps asking the VIP from two addresses (the
// seed's persistence_timeout 50 pins each source to one real server). A real server's HTTP server
// dies: it leaves the table on both directors and the client keeps getting answers; it comes back
// on restart. The Backup director already holds the table; when the Master dies (killed, its link
// cut), the Backup takes the VIP and the client gets answers again.
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
/** A daemon writes its log lines once per turn of its event loop, which may end after what the
 * test saw change (a table, an answer); and the test's own polls delay its reading of the pipes.
 * Gives the lines up to 2 s to arrive. */
async function logged(names: string[], re: RegExp): Promise<void> {
  for (let i = 0; i < 40 && !names.every((n) => re.test(logs.get(n)!)); i++) await sleep(50);
}
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
  delay_loop 6
  lb_algo rr
  lb_kind DR
  persistence_timeout 50
  protocol TCP
  real_server 192.0.2.11 80 {
    weight 1
    TCP_CHECK {
      connect_port 80
      connect_timeout 3
      nb_get_retry 3
      delay_before_retry 3
    }
  }
  real_server 192.0.2.12 80 {
    weight 1
    TCP_CHECK {
      connect_port 80
      connect_timeout 3
      nb_get_retry 3
      delay_before_retry 3
    }
  }
}
`;

/** The client's two source addresses: with persistence each one sticks to one real server. */
const CLIENTS = ['192.0.2.50', '192.0.2.51'];

/** One GET to the VIP from each client address (one process): the answering servers' names. */
function ask(): Promise<(string | undefined)[]> {
  return new Promise((resolve) => {
    const c = spawn(
      '/usr/sbin/ip',
      [
        'netns',
        'exec',
        'kts-c',
        process.execPath,
        '-e',
        `
      const get = (la) => new Promise((ok) => {
        const r = require('http').get({ host: '192.0.2.100', port: 80, localAddress: la, agent: false, timeout: 400 }, (res) => { let b = ''; res.on('data', (d) => b += d); res.on('end', () => ok(b)); });
        r.on('timeout', () => { r.destroy(); ok(''); }); r.on('error', () => ok(''));
      });
      Promise.all(${JSON.stringify(CLIENTS)}.map(get)).then((a) => { process.stdout.write(JSON.stringify(a)); process.exit(0); });`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('exit', () => {
      try {
        resolve((JSON.parse(out) as string[]).map((a) => a || undefined));
      } catch {
        resolve(CLIENTS.map(() => undefined));
      }
    });
  });
}

/** The real servers in a director's table (`ipvsadm -Ln` in its namespace). */
function realServers(ns: string): string[] {
  return [...nsx(ns, '/usr/sbin/ipvsadm', '-Ln').matchAll(/-> (192\.0\.2\.\d+):80 /g)].map((m) => m[1]!).sort();
}

/** Poll both directors' tables until `want` holds on both (bounded): ms it took. */
async function tablesReach(dirs: string[], want: string[], limitMs: number, since: number): Promise<number> {
  for (const t0 = Date.now(); Date.now() - t0 < limitMs; ) {
    if (dirs.every((d) => realServers(d).join() === want.join())) return Date.now() - since;
    await sleep(200);
  }
  const now = dirs.map((d) => `${d}: ${realServers(d).join(' ')}`).join('; ');
  throw new Error(
    `the tables did not reach [${want.join(' ')}] in ${limitMs} ms (${now})\n${[...logs].map(([k, v]) => `--- ${k}\n${v.slice(-2500)}`).join('\n')}`,
  );
}

function realServer(ns: string, name: string): Promise<ChildProcess> {
  const c = spawnIn(ns, name, [
    process.execPath,
    '-e',
    `require('http').createServer((q, s) => s.end('${name}')).listen(80, () => console.log('READY'))`,
  ]);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start`)), 15_000);
    c.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('READY')) {
        clearTimeout(t);
        resolve(c);
      }
    });
  });
}

test('two directors, two real servers: the Backup has the table and serves after the Master dies', { timeout: 180_000 }, async () => {
  ip('netns', 'add', 'kts-sw');
  nsx('kts-sw', '/usr/sbin/ip', 'link', 'add', 'br0', 'type', 'bridge');
  nsx('kts-sw', '/usr/sbin/ip', 'link', 'set', 'br0', 'up');
  const d1 = host('d1', '192.0.2.1'),
    d2 = host('d2', '192.0.2.2');
  const r1 = host('r1', '192.0.2.11'),
    r2 = host('r2', '192.0.2.12');
  const c = host('c', CLIENTS[0]!);
  nsx(c, '/usr/sbin/ip', 'addr', 'add', `${CLIENTS[1]}/24`, 'dev', 'eth0');
  const servers = new Map<string, ChildProcess>();
  for (const [ns, name] of [
    [r1, 'r1'],
    [r2, 'r2'],
  ] as const) {
    // DR: the real server owns the VIP on lo and never answers ARP for it
    nsx(ns, '/usr/sbin/ip', 'addr', 'add', '192.0.2.100/32', 'dev', 'lo');
    nsx(ns, '/usr/sbin/sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2');
    servers.set(name, await realServer(ns, name));
  }
  writeFileSync('/run/d1.conf', director(150, 'MASTER'));
  writeFileSync('/run/d2.conf', director(100, 'BACKUP'));
  const k1 = spawnIn(d1, 'd1', [process.execPath, CLI, '-n', '-l', '-f', '/run/d1.conf', '-p', '/run/d1.pid']);
  spawnIn(d2, 'd2', [process.execPath, CLI, '-n', '-l', '-f', '/run/d2.conf', '-p', '/run/d2.pid']);
  try {
    // the Master serves, round robin over both real servers (one per client address)
    let seen = new Set<string>();
    for (const t0 = Date.now(); Date.now() - t0 < 20_000 && seen.size < 2; ) {
      const a = await ask();
      for (const x of a) if (x) seen.add(x);
      if (a.includes(undefined)) await sleep(200);
    }
    assert.deepEqual(
      [...seen].sort(),
      ['r1', 'r2'],
      `no answers through the VIP\n${[...logs].map(([k, v]) => `--- ${k}\n${v}`).join('\n')}`,
    );
    // the Backup holds the same table already
    const t2 = nsx(d2, '/usr/sbin/ipvsadm', '-Ln');
    assert.match(t2, /TCP {2}192\.0\.2\.100:80 rr persistent 50/);
    assert.match(t2, /192\.0\.2\.11:80 +Route +1/);
    assert.match(t2, /192\.0\.2\.12:80 +Route +1/);
    // the checkers' first attempts (1 s + up to warmup = delay_loop 6 after start) succeed on both
    // directors; before them a first failure would be final at once (keepalived's primed retry)
    const firstOk = (d: string) =>
      ['11', '12'].every((n) => new RegExp(`TCP connection to \\[192\\.0\\.2\\.${n}\\]:tcp:80 success`).test(logs.get(d)!));
    for (let i = 0; i < 100 && !(firstOk('d1') && firstOk('d2')); i++) await sleep(100);
    assert.ok(firstOk('d1') && firstOk('d2'), `no first successful checks\n${logs.get('d1')}\n${logs.get('d2')}`);
    assert.deepEqual(realServers(d1), ['192.0.2.11', '192.0.2.12']);

    // r1's HTTP server dies: TCP_CHECK takes it out of both tables (next attempt within
    // delay_loop 6, one retry after delay_before_retry 3: 3-9 s), the client keeps getting answers
    const tDie = Date.now();
    servers.get('r1')!.kill('SIGKILL');
    const left = await tablesReach([d1, d2], ['192.0.2.12'], 15_000, tDie);
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) answers.push(...(await ask()));
    assert.deepEqual(answers, Array(answers.length).fill('r2'), `answers after r1 left the table: ${answers.join(' ')}`);
    const removed = /Removing service \[192\.0\.2\.11\]:tcp:80 from VS \[192\.0\.2\.100\]:tcp:80/;
    await logged(['d1', 'd2'], removed);
    assert.match(logs.get('d1')!, removed);
    assert.match(logs.get('d2')!, removed);
    assert.ok(left >= 3000, `r1 left the tables ${left} ms after it died: before the retry could run`);
    // restarted: back in both tables within one delay_loop (TCP_CHECK keeps trying while down)
    const tBack = Date.now();
    servers.set('r1', await realServer(r1, 'r1'));
    const back = await tablesReach([d1, d2], ['192.0.2.11', '192.0.2.12'], 12_000, tBack);
    // the line was written before the table changed, but the polls (execFileSync) kept the loop
    // from reading the daemon's output: give it a moment
    const added = /Adding service \[192\.0\.2\.11\]:tcp:80 to VS \[192\.0\.2\.100\]:tcp:80/;
    await logged(['d1'], added);
    assert.match(logs.get('d1')!, added);
    console.log(`# r1 killed: out of both tables after ${left} ms; restarted: back after ${back} ms`);
    // the Master dies: killed, its link cut
    const tKill = Date.now();
    k1.kill('SIGKILL');
    nsx(d1, '/usr/sbin/ip', 'link', 'set', 'eth0', 'down');
    seen = new Set<string>();
    let firstBack = 0;
    for (const t0 = Date.now(); Date.now() - t0 < 20_000 && seen.size < 2; ) {
      const a = await ask();
      for (const x of a)
        if (x) {
          firstBack ||= Date.now() - tKill;
          seen.add(x);
        }
      if (a.includes(undefined)) await sleep(100);
    }
    assert.deepEqual([...seen].sort(), ['r1', 'r2'], `no answers after the failover\n${logs.get('d2')}`);
    await logged(['d2'], /Entering MASTER STATE/);
    assert.match(logs.get('d2')!, /Entering MASTER STATE/);
    console.log(`# answers through the Backup ${firstBack} ms after the Master was killed`);
    assert.ok(firstBack < 8000, `failover took ${firstBack} ms`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(500);
  }
});
