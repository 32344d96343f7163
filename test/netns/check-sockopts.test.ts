// fwmark (SO_MARK) and bind_if (SO_BINDTODEVICE) on the TCP, UDP and DNS checkers' sockets, set
// through the kts_connect addon (native/tcp_connect.c, src/net/tcp-connect.ts), in a network-namespace lab:
//   - fwmark: in the checker's namespace the only route to 203.0.113.21 is in table 100, used by
//     `ip rule fwmark 0x5 lookup 100`: TCP_CHECK, HTTP_GET, UDP_CHECK (require_reply) and DNS_CHECK
//     unmarked fail, marked succeed;
//   - bind_if: 198.51.100.21 is reachable only through the checker's second interface (vnet1, a
//     veth to a namespace of its own): bind_if vnet0 fails (the kernel tries it on-link there and
//     nobody answers: connect_timeout, or no reply for UDP/DNS), bind_if vnet1 succeeds;
//   - no fd is left behind by many attempts of each ending: connected, refused, timeout, cancel
//     while connecting, HTTP_GET fetched through the wrapped fd, UDP/DNS replied, silent, aborted or
//     refused the option (/proc/self/fd counted);
//   - without the addon (KTS_CONNECT_ADDON=none) the checkers still work through net.connect, and
//     the mark is then not set (the marked probe fails as an unmarked one), and warned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';

const here = new URL('.', import.meta.url).pathname;
const COMMON_JS = join(here, '../../src/check/common.js');
const TCP_JS = join(here, '../../src/check/tcp.js');
const HTTP_JS = join(here, '../../src/check/http.js');
const SCHED_JS = join(here, '../../src/check/scheduler.js');
const ADDON_JS = join(here, '../../src/net/tcp-connect.js');
const INDEX_JS = join(here, '../../src/check/index.js');
const UDP_JS = join(here, '../../src/check/udp.js');

// a TCP service on 8001 (accepts, closes), an HTTP one on 8002, a UDP echo on 8003 and a DNS
// responder on 8053 (the query back with QR set: NOERROR), on every address of the namespace
const TARGETS = `
const net = require('node:net');
const dgram = require('node:dgram');
// one socket per address: a wildcard one would answer from the route's source (192.0.2.21 for
// 203.0.113.21's probes), which the checker's connected socket does not take
for (const a of Object.values(require('node:os').networkInterfaces()).flat()) {
  if (a.family !== 'IPv4' || a.internal) continue;
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, from) => echo.send(m, from.port, from.address));
  echo.bind(8003, a.address);
  const dns = dgram.createSocket('udp4');
  dns.on('message', (m, from) => { m[2] |= 0x80; dns.send(m, from.port, from.address); });
  dns.bind(8053, a.address);
}
net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(8001);
net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n'));
}).listen(8002, () => console.log('ready'));
setTimeout(() => process.exit(0), 120000);
`;

const CHECKER = `
import { readdirSync } from 'node:fs';
import { targetOf } from ${JSON.stringify(COMMON_JS)};
import { tcpProbe } from ${JSON.stringify(TCP_JS)};
import { httpProbe } from ${JSON.stringify(HTTP_JS)};
import { Cancel } from ${JSON.stringify(SCHED_JS)};
import { connectAddon } from ${JSON.stringify(ADDON_JS)};
import { startCheckers } from ${JSON.stringify(INDEX_JS)};
import { udpProbe, dnsProbe } from ${JSON.stringify(UDP_JS)};
const ip = (address) => ({ family: 'inet', address, prefixLength: 32 });
// a target as the checkers build it from the configuration (fwmark / bind_if as written there)
const target = (host, port, options = {}, ms = 700) =>
  targetOf({ type: 'TCP_CHECK', options, urls: [], connectIp: ip(host), connectPort: port }, { address: ip(host), port }, ms);
// UDP_CHECK with require_reply (any reply), so that silence is a failure; DNS_CHECK for an A record
const udp = (t) => udpProbe(t, { requireReply: '', minReplyLength: 0, maxReplyLength: 65535 });
const dnsq = (t) => dnsProbe(t, 'example.com', 1);
const http = (t) => httpProbe(t, [{ path: '/', status: [[200, 200]] }], { hostOf: () => 'x', protocol: '1.0' });
const run = async (name, probe, abortAfterMs) => {
  const c = new Cancel();
  const t0 = performance.now();
  const p = probe(c, 0);
  if (abortAfterMs !== undefined) setTimeout(() => c.abort(), abortAfterMs);
  const r = await p;
  console.log(JSON.stringify({ name, ok: r.ok, reason: r.reason, ms: Math.round(performance.now() - t0) }));
  return r;
};
const fds = () => readdirSync('/proc/self/fd').length;
console.log(JSON.stringify({ name: 'addon', ok: connectAddon() !== undefined }));
await run('tcp-unmarked', tcpProbe(target('203.0.113.21', 8001)));
await run('tcp-marked', tcpProbe(target('203.0.113.21', 8001, { fwmark: '5' })));
await run('tcp-marked-hex', tcpProbe(target('203.0.113.21', 8001, { fwmark: '0x5' })));
await run('http-unmarked', http(target('203.0.113.21', 8002)));
await run('http-marked', http(target('203.0.113.21', 8002, { fwmark: '5' })));
await run('if-none', tcpProbe(target('198.51.100.21', 8001)));
await run('if-wrong', tcpProbe(target('198.51.100.21', 8001, { bind_if: 'vnet0' })));
await run('if-right', tcpProbe(target('198.51.100.21', 8001, { bind_if: 'vnet1' })));
await run('http-if-right', http(target('198.51.100.21', 8002, { bind_if: 'vnet1' })));
await run('if-absent', tcpProbe(target('198.51.100.21', 8001, { bind_if: 'kts-none0' })));
await run('refused', tcpProbe(target('192.0.2.21', 8009)));
await run('udp-unmarked', udp(target('203.0.113.21', 8003)));
await run('udp-marked', udp(target('203.0.113.21', 8003, { fwmark: '5' })));
await run('dns-unmarked', dnsq(target('203.0.113.21', 8053)));
await run('dns-marked', dnsq(target('203.0.113.21', 8053, { fwmark: '0x5' })));
await run('udp-if-wrong', udp(target('198.51.100.21', 8003, { bind_if: 'vnet0' })));
await run('udp-if-right', udp(target('198.51.100.21', 8003, { bind_if: 'vnet1' })));
await run('dns-if-wrong', dnsq(target('198.51.100.21', 8053, { bind_if: 'vnet0' })));
await run('dns-if-right', dnsq(target('198.51.100.21', 8053, { bind_if: 'vnet1' })));
await run('udp-if-absent', udp(target('198.51.100.21', 8003, { bind_if: 'kts-none0' })));
await run('abort', tcpProbe(target('192.0.2.99', 8001, {}, 5000)), 100);
// the warnings a configuration gets (stopped before the first attempt: 1 s after the start)
const vsOf = (port, type, options) => ({
  kind: 'address', address: ip('192.0.2.21'), port, file: 'k.conf', line: 1, delayLoopMs: 60000, lvsSched: 'wlc',
  lvsMethod: 'NAT', protocol: 'TCP', quorum: 1, hysteresis: 0, haSuspend: false, options: {},
  realServers: [{ address: ip('192.0.2.21'), port, file: 'k.conf', line: 2, weight: 1, inhibitOnFailure: false, trackFiles: [],
    checkers: [{ type, file: 'k.conf', line: port, connectTimeoutMs: 1000, retry: 1, delayBeforeRetryMs: 1000, miscDynamic: false, options, urls: [] }] }],
});
const warned = [];
const ctl = startCheckers(
  [vsOf(1, 'TCP_CHECK', { fwmark: '5' }), vsOf(2, 'SMTP_CHECK', { bind_if: 'vnet0' }), vsOf(3, 'UDP_CHECK', { fwmark: '5' }), vsOf(4, 'DNS_CHECK', { bind_if: 'vnet0' })],
  { setAlive: () => undefined, setWeight: () => undefined },
  { log: { info: () => undefined, warn: (m) => warned.push(m), error: (m) => warned.push(m) } },
);
await ctl.stop();
console.log(JSON.stringify({ name: 'warnings', ok: true, reason: JSON.stringify(warned) }));
if (process.argv.includes('leaks')) {
  // one of each ending first, so that whatever is opened once (libuv's, the addon's) is open already
  const before = fds();
  const many = async (n, f) => { for (let i = 0; i < n; i++) await f(); };
  const par = (n, f) => Promise.all(Array.from({ length: n }, f));
  const one = (p, abortAfterMs) => {
    const c = new Cancel();
    if (abortAfterMs !== undefined) setTimeout(() => c.abort(), abortAfterMs);
    return p(c, 0);
  };
  const tally = {};
  const count = (k) => (r) => { const key = k + ':' + r.reason; tally[key] = (tally[key] ?? 0) + 1; };
  await many(200, () => one(tcpProbe(target('192.0.2.21', 8001, { fwmark: '5' }))).then(count('connected')));
  await many(200, () => one(tcpProbe(target('192.0.2.21', 8009))).then(count('refused')));
  await many(50, () => one(http(target('203.0.113.21', 8002, { fwmark: '5' }))).then(count('http')));
  await par(20, () => one(tcpProbe(target('198.51.100.21', 8001, { bind_if: 'vnet0' }, 300))).then(count('timeout')));
  await par(20, () => one(http(target('192.0.2.99', 8002, { fwmark: '5' }, 5000)), 50).then(count('http-abort')));
  await par(20, () => one(tcpProbe(target('192.0.2.99', 8001, {}, 5000)), 50).then(count('abort')));
  await many(20, () => one(tcpProbe(target('192.0.2.21', 8001, { bind_if: 'kts-none0' }))).then(count('nodev')));
  await many(100, () => one(udp(target('203.0.113.21', 8003, { fwmark: '5' }))).then(count('udp')));
  await many(100, () => one(dnsq(target('198.51.100.21', 8053, { bind_if: 'vnet1' }))).then(count('dns')));
  await par(20, () => one(udp(target('198.51.100.21', 8003, { bind_if: 'vnet0' }, 300))).then(count('udp-silent')));
  await par(20, () => one(dnsq(target('198.51.100.21', 8053, { bind_if: 'vnet0' }, 5000)), 50).then(count('dns-abort')));
  await many(20, () => one(udp(target('192.0.2.21', 8003, { bind_if: 'kts-none0' }))).then(count('udp-nodev')));
  // a wrapped socket's close completes on a later turn of the loop
  await new Promise((r) => setTimeout(r, 300));
  console.log(JSON.stringify({ name: 'leaks', ok: fds() === before, reason: JSON.stringify({ before, after: fds(), tally }) }));
}
console.log('done');
`;

interface Line {
  name: string;
  ok: boolean;
  reason: string;
  ms: number;
}

async function runChecker(lab: Lab, env: NodeJS.ProcessEnv, args: string[] = []): Promise<Record<string, Line>> {
  const child = lab.spawn(lab.host('lb').ns, [process.execPath, '--input-type=module', '-e', CHECKER, '--', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout!.on('data', (b) => {
    out += String(b);
  });
  child.stderr!.on('data', (b) => {
    out += String(b);
  });
  assert.ok(await waitFor(() => out.includes('done'), 40_000), out);
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        const o = JSON.parse(l) as Line;
        return [o.name, o];
      }),
  );
}

test('TCP, UDP and DNS checkers: fwmark and bind_if through kts_connect, no fd left on any path, net.connect without the addon', {
  skip: !isRoot() && 'needs root',
  timeout: 120_000,
}, async (t) => {
  const lab = Lab.create();
  t.after(() => lab.cleanup());
  const lb = lab.addHost({ name: 'lb', addresses: ['192.0.2.10/24'] });
  const srv = lab.addHost({ name: 'srv', addresses: ['192.0.2.21/24', '203.0.113.21/32'] });
  // the far namespace, joined to lb's second interface only (registered for cleanup)
  const far = { name: 'far', ns: `kts-${lab.id}-far`, ifname: 'vnet0', addresses: ['198.51.100.21/24'] };
  execFileSync('ip', ['netns', 'add', far.ns]);
  lab.hosts.set('far', far);
  execFileSync('ip', ['link', 'add', 'name', 'vnet1', 'netns', lb.ns, 'type', 'veth', 'peer', 'name', 'vnet0', 'netns', far.ns]);
  lab.exec(lb.ns, ['ip', 'addr', 'add', '198.51.100.10/24', 'dev', 'vnet1']);
  lab.exec(lb.ns, ['ip', 'link', 'set', 'vnet1', 'up']);
  lab.exec(far.ns, ['ip', 'link', 'set', 'lo', 'up']);
  lab.exec(far.ns, ['ip', 'addr', 'add', '198.51.100.21/24', 'dev', 'vnet0']);
  lab.exec(far.ns, ['ip', 'link', 'set', 'vnet0', 'up']);
  // 203.0.113.21 is routed only in table 100, which only marked packets use
  lab.exec(lb.ns, ['ip', 'rule', 'add', 'fwmark', '0x5', 'lookup', '100']);
  lab.exec(lb.ns, ['ip', 'route', 'add', '203.0.113.21/32', 'via', '192.0.2.21', 'dev', 'vnet0', 'table', '100']);
  for (const h of [srv, far]) {
    const targets = lab.spawn(h.ns, [process.execPath, '-e', TARGETS], { stdio: ['ignore', 'pipe', 'inherit'] });
    let ready = '';
    targets.stdout!.on('data', (b) => {
      ready += String(b);
    });
    assert.ok(await waitFor(() => ready.includes('ready'), 10_000), `targets in ${h.name}`);
  }

  const r = await runChecker(lab, process.env, ['leaks']);
  const all = JSON.stringify(r, null, 1);
  assert.equal(r.addon?.ok, true, 'the kts_connect addon is built');
  // fwmark
  assert.equal(r['tcp-unmarked']!.ok, false, all);
  assert.match(r['tcp-unmarked']!.reason, /^connection failed \(ENETUNREACH\)$/);
  assert.deepEqual([r['tcp-marked']!.ok, r['tcp-marked']!.reason], [true, 'connected'], all);
  assert.deepEqual([r['tcp-marked-hex']!.ok, r['tcp-marked-hex']!.reason], [true, 'connected'], all);
  assert.equal(r['http-unmarked']!.ok, false, all);
  assert.equal(r['http-marked']!.ok, true, all);
  // bind_if
  assert.equal(r['if-none']!.ok, true, all);
  assert.equal(r['if-wrong']!.ok, false, all);
  assert.equal(r['if-right']!.ok, true, all);
  assert.equal(r['http-if-right']!.ok, true, all);
  assert.deepEqual([r['if-absent']!.ok, r['if-absent']!.reason], [false, 'cannot set bind_if (ENODEV)'], all);
  // the reasons and timings of the other endings, as with net.connect
  assert.deepEqual([r.refused!.ok, r.refused!.reason], [false, 'connection failed (ECONNREFUSED)'], all);
  assert.equal(r['if-wrong']!.reason, 'timeout', all);
  assert.ok(r['if-wrong']!.ms >= 690 && r['if-wrong']!.ms < 2500, `timeout after ${r['if-wrong']!.ms} ms (connect_timeout 700)`);
  assert.deepEqual([r.abort!.ok, r.abort!.reason], [false, 'aborted'], all);
  assert.ok(r.abort!.ms < 1000, `abort took ${r.abort!.ms} ms`);
  // UDP_CHECK and DNS_CHECK: the mark set before the connect picks table 100's route (unmarked:
  // no route at all); bind_if vnet0 sends where nobody answers, vnet1 reaches the far namespace
  const got = (k: string) => [r[k]?.ok, r[k]?.reason];
  assert.deepEqual(got('udp-unmarked'), [false, 'socket error (ENETUNREACH)'], all);
  assert.deepEqual(got('udp-marked'), [true, 'reply matches'], all);
  assert.deepEqual(got('dns-unmarked'), [false, 'socket error (ENETUNREACH)'], all);
  assert.deepEqual(got('dns-marked'), [true, 'NOERROR'], all);
  assert.deepEqual(got('udp-if-wrong'), [false, 'no reply'], all);
  assert.deepEqual(got('udp-if-right'), [true, 'reply matches'], all);
  assert.deepEqual(got('dns-if-wrong'), [false, 'read timeout from socket'], all);
  assert.deepEqual(got('dns-if-right'), [true, 'NOERROR'], all);
  assert.deepEqual(got('udp-if-absent'), [false, 'cannot set bind_if (ENODEV)'], all);
  // no fd left, and every batch ended the way it should
  assert.equal(r.leaks?.ok, true, all);
  const tally = (JSON.parse(r.leaks!.reason) as { tally: Record<string, number> }).tally;
  assert.deepEqual(tally, {
    'connected:connected': 200,
    'refused:connection failed (ECONNREFUSED)': 200,
    'http:HTTP status code success to [203.0.113.21]:tcp:8002 url(/)': 50,
    'timeout:timeout': 20,
    'http-abort:aborted': 20,
    'abort:aborted': 20,
    'nodev:cannot set bind_if (ENODEV)': 20,
    'udp:reply matches': 100,
    'dns:NOERROR': 100,
    'udp-silent:no reply': 20,
    'dns-abort:aborted': 20,
    'udp-nodev:cannot set bind_if (ENODEV)': 20,
  });

  // with the addon every checker type sets both options: nothing to warn about
  assert.deepEqual(JSON.parse(r.warnings!.reason), []);

  // without the addon: net.connect, unmarked and unbound
  const n = await runChecker(lab, { ...process.env, KTS_CONNECT_ADDON: 'none' });
  const alln = JSON.stringify(n, null, 1);
  assert.equal(n.addon?.ok, false);
  assert.deepEqual([n['if-none']!.ok, n.refused!.reason, n.abort!.reason], [true, 'connection failed (ECONNREFUSED)', 'aborted'], alln);
  assert.equal(n['tcp-marked']!.ok, false, alln);
  assert.equal(n['http-marked']!.ok, false, alln);
  assert.deepEqual([n['udp-marked']!.ok, n['dns-marked']!.ok, n['udp-if-right']!.ok], [false, false, true], alln);
  assert.deepEqual(JSON.parse(n.warnings!.reason), [
    'TCP_CHECK (k.conf:1): fwmark (SO_MARK) needs the kts_connect addon, which is not built (npm run install); probing without it',
    'SMTP_CHECK (k.conf:2): bind_if (SO_BINDTODEVICE) needs the kts_connect addon, which is not built (npm run install); probing without it',
    'UDP_CHECK (k.conf:3): fwmark (SO_MARK) needs the kts_connect addon, which is not built (npm run install); probing without it',
    'DNS_CHECK (k.conf:4): bind_if (SO_BINDTODEVICE) needs the kts_connect addon, which is not built (npm run install); probing without it',
  ]);
});
