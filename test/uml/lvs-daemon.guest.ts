// Runs INSIDE the UML guest: keepalived 2.2.7 and keepalived-ts program the same table from the
// same file (NAT / DR / TUN, fwmark, a group with a range, persistence, sorry server, inhibit);
// reload with the same file changes nothing; stop removes ours and keeps a foreign service; -I
// leaves everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { LvsRunnerStatus } from '../../src/lvs/index.js';
import { join } from 'node:path';
import { Ipvs, formatTable } from '../../src/lvs/ipvs-netlink.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.js');
const CONF = '/run/lvs.conf';
const ipvsadm = (...a: string[]): string => execFileSync('/usr/sbin/ipvsadm', a, { encoding: 'utf8' });

const CONFIG = `
global_defs {
  router_id uml
}
virtual_server 192.0.2.100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.11 8080 { weight 2 }
  real_server 198.51.100.12 8080 { weight 1 }
  real_server 198.51.100.13 8080 {
    weight 1
    inhibit_on_failure
    uthreshold 500
    lthreshold 100
  }
}
virtual_server 192.0.2.101 8080 {
  lb_algo wrr
  lb_kind DR
  protocol TCP
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  real_server 198.51.100.11 8080 { weight 3 }
  real_server 198.51.100.12 9090 { }
}
virtual_server 192.0.2.102 53 {
  lb_algo sh
  sh-port
  lb_kind TUN
  protocol UDP
  ops
  real_server 198.51.100.21 53 { }
}
virtual_server fwmark 7 {
  lb_algo wlc
  lb_kind DR
  persistence_timeout 120
  real_server 198.51.100.31 80 { }
  real_server 198.51.100.32 80 { weight 5 }
}
virtual_server_group WEB {
  203.0.113.10-12 443
}
virtual_server group WEB {
  lb_algo lc
  lb_kind NAT
  protocol TCP
  sorry_server 198.51.100.99 8443
  sorry_server_inhibit
  real_server 198.51.100.41 443 { }
  real_server 198.51.100.42 443 { }
}
`;

let ipvs: Ipvs;
async function table(): Promise<string> {
  return formatTable(await ipvs.dump());
}
/** Wait until the table holds `minServices` services and has not changed for `quietMs`. */
async function settled(minServices: number, quietMs = 600, limitMs = 15_000): Promise<string> {
  const t0 = Date.now();
  let last = '',
    since = Date.now();
  while (Date.now() - t0 < limitMs) {
    const t = await table();
    if (t !== last) {
      last = t;
      since = Date.now();
    }
    const n = t.split('\n').filter((l) => l && !l.startsWith(' ')).length;
    if (n >= minServices && Date.now() - since >= quietMs) return t;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table did not settle with ${minServices} services in ${limitMs} ms:\n${last}`);
}
function run(cmd: string, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}
const keepalived = () => run('/usr/sbin/keepalived', ['-n', '-l', '-C', '-G', '-f', CONF, '-p', '/run/ka.pid', '-c', '/run/ka_c.pid']);
const ours = (...extra: string[]) => run(process.execPath, [CLI, '-n', '-l', '-f', CONF, '-p', '/run/kts.pid', ...extra]);
const SERVICES = 7;

test('setup', async () => {
  writeFileSync(CONF, CONFIG);
  // a link for the documentation prefixes: packets to the real servers leave there and vanish
  const ip = (...a: string[]) => execFileSync('/usr/sbin/ip', a);
  ip('link', 'add', 'kts0', 'type', 'dummy');
  ip('link', 'set', 'kts0', 'up');
  ip('addr', 'add', '192.0.2.1/24', 'dev', 'kts0');
  ip('addr', 'add', '198.51.100.1/24', 'dev', 'kts0');
  ipvs = await Ipvs.open({ modprobe: false });
  await ipvs.flush();
});

let keepalivedTable = '';
test('keepalived 2.2.7 programs the table; stop empties it', async () => {
  const k = keepalived();
  try {
    keepalivedTable = await settled(SERVICES);
  } finally {
    await stop(k.child);
  }
  assert.equal(await table(), '', `keepalived left entries behind:\n${k.out()}`);
  console.log(`# keepalived's table:\n${keepalivedTable.replace(/^/gm, '# ')}`);
});

test('keepalived-ts programs the same table; reload with the same file changes nothing; stop keeps a foreign service', async () => {
  const k = ours('--status-listen', '127.0.0.1:19650');
  let stopped = false;
  try {
    const t = await settled(SERVICES).catch((e: Error) => {
      throw new Error(`${e.message}\nlog:\n${k.out()}`);
    });
    assert.equal(t, keepalivedTable);
    // status and metrics: one connection attempt through IPVS shows in the counters
    await new Promise<void>((r) => {
      const sock = connect({ host: '192.0.2.100', port: 80, timeout: 300 });
      sock
        .on('error', () => r())
        .on('timeout', () => {
          sock.destroy();
          r();
        })
        .on('connect', () => {
          sock.destroy();
          r();
        });
    });
    const status = async (): Promise<LvsRunnerStatus> =>
      ((await (await fetch('http://127.0.0.1:19650/status')).json()) as { lvs: LvsRunnerStatus }).lvs;
    // the kernel folds its per-CPU counters into the service's every 2 s (estimator)
    let st = await status();
    for (const t0 = Date.now(); Date.now() - t0 < 6000 && !st.counters?.['[192.0.2.100]:tcp:80']?.conns; ) {
      await new Promise((r) => setTimeout(r, 300));
      st = await status();
    }
    assert.equal(st.state, 'running');
    const web = st.virtualServers.find((v) => v.name === '[192.0.2.100]:tcp:80')!;
    assert.deepEqual(
      web.realServers.map((r) => `${r.name} ${r.alive} ${r.weight} ${r.inTable}`),
      ['[198.51.100.11]:tcp:8080 true 2 true', '[198.51.100.12]:tcp:8080 true 1 true', '[198.51.100.13]:tcp:8080 true 1 true'],
    );
    assert.equal(st.counters?.['[192.0.2.100]:tcp:80']?.conns, 1, JSON.stringify(st.counters));
    const metrics = await (await fetch('http://127.0.0.1:19650/metrics')).text();
    assert.match(metrics, /keepalived_ts_lvs_up 1/);
    assert.match(metrics, /keepalived_ts_lvs_rs_in_table\{vs="\[192\.0\.2\.100\]:tcp:80",rs="\[198\.51\.100\.11\]:tcp:8080"\} 1/);
    assert.match(metrics, /keepalived_ts_lvs_connections_total\{vs="\[192\.0\.2\.100\]:tcp:80"\} 1/);
    const seen = new Set<string>();
    k.child.kill('SIGHUP');
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) {
      seen.add(await table());
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual([...seen], [keepalivedTable], 'the table changed during a same-file reload');
    assert.match(k.out(), /Reload done/);
    assert.match(k.out(), /Initializing ipvs \(IP Virtual Server version 1\.\d+\.\d+\)/);
    assert.match(k.out(), /Reinitializing ipvs/);
    assert.match(k.out(), /IPVS: 0 table change\(s\) for the new configuration/);
    ipvsadm('-A', '-t', '203.0.113.200:80', '-s', 'rr');
    ipvsadm('-a', '-t', '203.0.113.200:80', '-r', '198.51.100.50:80', '-m');
    await stop(k.child);
    stopped = true;
    assert.equal(await table(), 'TCP 203.0.113.200:80 rr\n  -> 198.51.100.50:80 Masq 1');
    assert.match(k.out(), /Shutting down service \[198\.51\.100\.11\]:tcp:8080 from VS \[192\.0\.2\.100\]:tcp:80/);
    assert.doesNotMatch(k.out(), /ERROR|Error:|    at /);
  } finally {
    if (!stopped) await stop(k.child);
    await ipvs.flush();
  }
});

// reload with a changed file: a VS goes, one comes, an RS goes, one comes, a weight and a
// scheduler change, persistence is switched off
const CHANGED =
  CONFIG.replace(/virtual_server 192\.0\.2\.102 53 \{[\s\S]*?real_server 198\.51\.100\.21 53 \{ \}\n\}\n/, '')
    .replace('real_server 198.51.100.11 8080 { weight 2 }', 'real_server 198.51.100.11 8080 { weight 4 }')
    .replace('real_server 198.51.100.12 8080 { weight 1 }', 'real_server 198.51.100.14 8080 { weight 1 }')
    .replace('lb_algo wrr', 'lb_algo rr')
    .replace(/persistence_timeout 120\n/, '') +
  `virtual_server 192.0.2.103 25 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.61 2525 { }
}
`;

async function reloadTable(start: () => { child: ChildProcess; out: () => string }): Promise<string> {
  writeFileSync(CONF, CONFIG);
  const k = start();
  try {
    await settled(SERVICES);
    writeFileSync(CONF, CHANGED);
    k.child.kill('SIGHUP');
    return await settled(SERVICES, 800);
  } finally {
    await stop(k.child);
    writeFileSync(CONF, CONFIG);
    await ipvs.flush();
  }
}

test("reload with a changed file gives keepalived's resulting table", async () => {
  const theirs = await reloadTable(keepalived);
  const mine = await reloadTable(() => ours());
  assert.match(theirs, /TCP 192\.0\.2\.103:25 rr/);
  assert.doesNotMatch(theirs, /192\.0\.2\.102/);
  assert.equal(mine, theirs);
  console.log(`# after the reload:\n${theirs.replace(/^/gm, '# ')}`);
});

// more keywords, compared the same way: IPv6 services and ranges, a mixed-family tunnel, TUN gue
// with port and checksum, mh with its flags, flag-1..3, SCTP, sorry_server_lvs_method,
// persistence on IPv6 (prefix length), fwmark entries in a group, weight 0, quorum clamped;
// group entries as a subnet, with a full address as the range end, an IPv6 end with hex letters
// (inside the last byte / group: across it keepalived 2.2.7 wraps, see README "LVS (IPVS)")
const MORE = `
virtual_server 2001:db8::100 80 {
  lb_algo mh
  mh-port
  mh-fallback
  lb_kind DR
  protocol TCP
  persistence_timeout 30
  persistence_granularity 64
  real_server 2001:db8::11 80 { weight 0 }
  real_server 2001:db8::12 80 { weight 7 }
}
virtual_server 192.0.2.110 443 {
  lb_algo wlc
  flag-1
  flag-3
  lb_kind TUN type gue port 6080 csum
  protocol TCP
  real_server 198.51.100.71 443 { }
  real_server 2001:db8::71 443 { lvs_method TUN type ipip }
}
virtual_server 192.0.2.111 3868 {
  lb_algo sed
  lb_kind NAT
  protocol SCTP
  quorum 1000
  sorry_server 198.51.100.98 3868
  sorry_server_lvs_method DR
  sorry_server_inhibit
  real_server 198.51.100.81 3868 { weight 2 }
}
virtual_server_group SIX {
  2001:db8::200-202 8080
  fwmark 12
}
virtual_server group SIX {
  lb_algo nq
  lb_kind NAT
  protocol TCP
  real_server 2001:db8::91 8080 { }
}
virtual_server_group R4 {
  192.0.2.124/30 80
  192.0.2.120-192.0.2.122 80
}
virtual_server group R4 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.92 8080 { }
}
virtual_server_group R6 {
  2001:db8::fd-ff 80
  2001:db8::1:0/126 80
  2001:db8::2:fffd-2001:db8::2:ffff 80
}
virtual_server group R6 {
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server 2001:db8::92 8080 { }
}
`;

test('more keywords: keepalived-ts programs the table keepalived programs', async () => {
  writeFileSync(CONF, MORE);
  const n = 24; // 7 + R4 (4 + 3) + R6 (3 + 4 + 3)
  const k = keepalived();
  let theirs: string;
  try {
    theirs = await settled(n);
  } finally {
    await stop(k.child);
  }
  assert.equal(await table(), '');
  const o = ours();
  let mine: string;
  try {
    mine = await settled(n).catch((e: Error) => {
      throw new Error(`${e.message}\nlog:\n${o.out()}`);
    });
  } finally {
    await stop(o.child);
    writeFileSync(CONF, CONFIG);
  }
  console.log(`# keepalived's table (more keywords):\n${theirs.replace(/^/gm, '# ')}`);
  assert.equal(mine, theirs, `keepalived's log:\n${k.out().slice(-3000)}\nours:\n${o.out().slice(-3000)}`);
  assert.equal(await table(), '');
});

// pre-existing entries (notes/lvs.md 8.4): keepalived adopts its service as it is (scheduler,
// weight, stale dest kept); keepalived-ts reconciles it to the file. A foreign service survives both.
test('start with entries already there: keepalived adopts as is, keepalived-ts reconciles', async () => {
  const seed = () => {
    ipvsadm('-A', '-t', '192.0.2.100:80', '-s', 'wlc');
    ipvsadm('-a', '-t', '192.0.2.100:80', '-r', '198.51.100.11:8080', '-m', '-w', '5');
    ipvsadm('-a', '-t', '192.0.2.100:80', '-r', '198.51.100.99:8080', '-m', '-w', '1');
    ipvsadm('-A', '-t', '203.0.113.200:80', '-s', 'rr');
  };
  const web = (t: string) => t.split(/\n(?=\S)/).find((b) => b.startsWith('TCP 192.0.2.100:80'));
  await ipvs.flush();
  seed();
  const k = keepalived();
  let theirs: string;
  try {
    theirs = await settled(SERVICES + 1);
  } finally {
    await stop(k.child);
  }
  assert.equal(
    web(theirs),
    'TCP 192.0.2.100:80 wlc\n  -> 198.51.100.11:8080 Masq 5\n  -> 198.51.100.12:8080 Masq 1\n  -> 198.51.100.13:8080 Masq 1 u500 l100\n  -> 198.51.100.99:8080 Masq 1',
  );
  assert.equal(await table(), 'TCP 203.0.113.200:80 rr');
  await ipvs.flush();
  seed();
  const o = ours();
  let mine: string;
  try {
    mine = await settled(SERVICES + 1);
  } finally {
    await stop(o.child);
  }
  try {
    const blocks = (t: string) => t.split(/\n(?=\S)/).sort();
    assert.deepEqual(blocks(mine), blocks(`${keepalivedTable}\nTCP 203.0.113.200:80 rr`));
    assert.match(o.out(), /IPVS service TCP 192\.0\.2\.100:80 already exists: adopting it/);
    assert.equal(await table(), 'TCP 203.0.113.200:80 rr');
  } finally {
    await ipvs.flush();
  }
});

test('-P runs VRRP only (no table); -C runs the LVS side only', async () => {
  const p = ours('-P');
  try {
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await table(), '');
    assert.doesNotMatch(p.out(), /Initializing ipvs/);
  } finally {
    await stop(p.child);
  }
  const c = ours('-C');
  try {
    assert.equal(await settled(SERVICES), keepalivedTable);
  } finally {
    await stop(c.child);
  }
  assert.equal(await table(), '');
});

test('-I (--dont-release-ipvs) leaves the whole table at stop', async () => {
  const k = ours('-I');
  try {
    await settled(SERVICES);
  } finally {
    await stop(k.child);
  }
  assert.equal(await table(), keepalivedTable);
  await ipvs.flush();
  ipvs.close();
});
