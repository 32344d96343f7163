// The checkers' pure parts (url blocks, requests, DNS query, MISC exit codes, FILE_CHECK values)
// and a few probes against loopback servers (a big Content-Length body, a reply that never comes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { buildRequest, defaultHost, httpFetch, judge, parseUrl, type HttpUrl } from '../../src/check/http.js';
import { DEFAULT_UDP_PAYLOAD, dnsProbe, dnsQuery } from '../../src/check/udp.js';
import { createSocket } from 'node:dgram';
import { miscVerdict } from '../../src/check/misc.js';
import { FileCheck } from '../../src/check/file.js';
import { smtpProbe } from '../../src/check/smtp.js';
import type { Target } from '../../src/check/common.js';

const target = (port: number, ms = 500): Target => ({
  host: '127.0.0.1',
  port,
  family: 4,
  connectTimeoutMs: ms,
  name: `[127.0.0.1]:tcp:${port}`,
});

test('url blocks: status_code sets and ranges, digest, regex options; bad ones are refused with the reason', () => {
  const u = parseUrl({ path: '/x', status_code: '200 301-302,404' }) as HttpUrl;
  const r = (status: number) => ({ status, md5: '', bodyBytes: 0, head: '', header: '' });
  assert.equal(judge(u, r(302), 's'), undefined);
  assert.equal(judge(u, r(404), 's'), undefined);
  assert.match(judge(u, r(303), 's')!, /^HTTP status code error to server s\. \(url \/x, status_code 303\)$/);
  assert.match(judge(parseUrl({ path: '/' }) as HttpUrl, r(500), 's')!, /status_code 500/, 'default 200-299');
  const d = parseUrl({ path: '/', digest: 'A'.repeat(32) }) as HttpUrl;
  assert.match(judge(d, { ...r(200), md5: 'b'.repeat(32) }, 's')!, /MD5 digest error/);
  const re = parseUrl({ path: '/', regex: '"^HeLLo"', regex_options: 'caseless' }) as HttpUrl;
  assert.equal(judge(re, { ...r(200), head: 'hello world' }, 's'), undefined);
  const no = parseUrl({ path: '/', regex: 'error', regex_no_match: '' }) as HttpUrl;
  assert.match(judge(no, { ...r(200), head: 'an error page' }, 's')!, /^Regex match failed server s\. \(url \/, regex_no_match\)$/);
  assert.match(parseUrl({ path: '/', status_code: '2xx' }) as string, /status_code "2xx"/);
  assert.match(parseUrl({ path: '/', digest: 'abc' }) as string, /32 hex digits/);
  assert.match(parseUrl({ path: '/', regex: '(' }) as string, /regex/);
  assert.match(parseUrl({}) as string, /without a path/);
});

test('requests as keepalived sends them; Host default IP:PORT with IPv6 in brackets', () => {
  assert.equal(buildRequest('/a', 'h:80', '1.0'), 'GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: h:80\r\n\r\n');
  assert.equal(buildRequest('/a', 'h', '1.1'), 'GET /a HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n');
  assert.match(buildRequest('/a', 'h', '1.0C'), /^GET \/a HTTP\/1\.0\r\n.*Connection: close\r\nHost: h\r\n\r\n$/s);
  assert.equal(defaultHost({ ...target(80), host: '2001:db8::1', family: 6 }), '[2001:db8::1]:80');
  assert.equal(defaultHost(target(8080)), '127.0.0.1:8080');
});

test("DNS query: id, RD, one question with the name's labels", () => {
  const q = dnsQuery(0x1234, 'www.example.test', 1);
  assert.equal(q.readUInt16BE(0), 0x1234);
  assert.equal(q.readUInt16BE(2), 0x0100);
  assert.equal(q.readUInt16BE(4), 1);
  assert.deepEqual([...q.subarray(12, 16)], [3, 0x77, 0x77, 0x77]);
  assert.equal(q.readUInt16BE(q.length - 4), 1);
  assert.equal(dnsQuery(1, '.', 6).length, 12 + 1 + 4, 'the root: an empty name');
});

test('MISC_CHECK exit codes: 0 ok; misc_dynamic 1 fails, 2..255 succeed with weight status-2', () => {
  const exit = (code: number) => ({ kind: 'exit' as const, code, signal: null, pid: 1, durationMs: 1 });
  assert.equal(miscVerdict(exit(0), false).ok, true);
  assert.equal(miscVerdict(exit(3), false).ok, false);
  assert.equal(miscVerdict(exit(1), true).ok, false);
  assert.deepEqual(miscVerdict(exit(12), true), { ok: true, reason: 'exited with status 12', weight: 10 });
  assert.equal(miscVerdict({ ...exit(0), kind: 'timeout', code: null }, true).reason, 'timed out');
});

test('FILE_CHECK values: weight 0 means down on non-zero; otherwise value x weight, reverse negates', () => {
  assert.deepEqual([new FileCheck('f', '/x', 0, false).judge(0).up, new FileCheck('f', '/x', 0, false).judge(2).up], [true, false]);
  assert.equal(new FileCheck('f', '/x', 5, false).judge(3).offset, 15);
  assert.equal(new FileCheck('f', '/x', 5, true).judge(3).offset, -15);
  assert.equal(new FileCheck('f', '/x', 2147483647, true).judge(2).up, false, '<= -2^31 takes it down');
});

test('HTTP: a big body with Content-Length is hashed whole; a silent server is a read timeout, and the socket is closed', async (t) => {
  const body = Buffer.alloc(3 * 1024 * 1024, 0x62);
  let silentClosed = false;
  const srv = createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (req) => {
      if (req.toString().startsWith('GET /silent')) {
        s.on('close', () => {
          silentClosed = true;
        });
        return;
      }
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      s.write(body); // the connection stays open: the Content-Length ends the read
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  const port = (srv.address() as AddressInfo).port;
  const r = await httpFetch(target(port), new AbortController().signal, { path: '/', host: 'h', protocol: '1.1' });
  assert.ok('md5' in r, JSON.stringify(r));
  assert.equal(r.md5, createHash('md5').update(body).digest('hex'));
  assert.equal(r.bodyBytes, body.length);
  const t0 = performance.now();
  const s = await httpFetch(target(port, 300), new AbortController().signal, { path: '/silent', host: 'h', protocol: '1.0' });
  assert.deepEqual(s, { ok: false, reason: 'Read timeout' });
  assert.ok(performance.now() - t0 < 1500);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(silentClosed, true, 'the probe closed its socket');
});

test('SMTP: multi-line banner, HELO, QUIT; a server that never speaks is a timeout', async (t) => {
  const seen: string[] = [];
  const srv = createServer((s) => {
    s.on('error', () => undefined);
    s.write('220-hi\r\n220 ready\r\n');
    s.on('data', (c) => {
      for (const l of c.toString().split('\r\n').filter(Boolean)) {
        seen.push(l);
        s.write(l.startsWith('HELO') ? '250-a\r\n250 b\r\n' : '221 bye\r\n');
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  const ok = await smtpProbe(target((srv.address() as AddressInfo).port), 'me.test')(new AbortController().signal, 0);
  assert.deepEqual(ok, { ok: true, reason: 'SMTP dialogue complete' });
  assert.deepEqual(seen, ['HELO me.test', 'QUIT']);
  const mute = createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  t.after(() => mute.close());
  const r = await smtpProbe(target((mute.address() as AddressInfo).port, 200), 'me.test')(new AbortController().signal, 0);
  assert.match(r.reason, /^Read timeout from server \[127\.0\.0\.1\]:tcp:\d+\.$/);
  assert.equal(r.ok, false);
});

test('DNS_CHECK: a reply with a wrong id is ignored (the right one still counts), a wrong id alone times out; rcode fails', async (t) => {
  let mode = 'wrong-then-right';
  const srv = createSocket('udp4');
  srv.on('message', (q, rinfo) => {
    const reply = (id: number, flags: number) => {
      const r = Buffer.from(q);
      r.writeUInt16BE(id, 0);
      r.writeUInt16BE(flags, 2);
      srv.send(r, rinfo.port, rinfo.address);
    };
    const id = q.readUInt16BE(0);
    if (mode === 'wrong-then-right') {
      reply((id + 1) & 0xffff, 0x8180);
      setTimeout(() => reply(id, 0x8180), 20);
    }
    if (mode === 'wrong') reply((id + 1) & 0xffff, 0x8180);
    if (mode === 'nxdomain') reply(id, 0x8183);
  });
  await new Promise<void>((r) => srv.bind(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  const tg = { ...target(srv.address().port, 300), name: 'd' };
  const probe = dnsProbe(tg, 'example.test', 1, () => 0x4242);
  assert.deepEqual(await probe(new AbortController().signal, 0), { ok: true, reason: 'NOERROR' });
  mode = 'wrong';
  assert.deepEqual(await probe(new AbortController().signal, 0), {
    ok: false,
    reason: "read timeout from socket (ignored a reply with id 16963, not the query's 16962)",
  });
  mode = 'nxdomain';
  assert.deepEqual(await probe(new AbortController().signal, 0), { ok: false, reason: 'read error occurred. (rcode = 3 NXDOMAIN)' });
});

test("UDP_CHECK default payload: keepalived's 32 filler bytes", () => {
  assert.equal(DEFAULT_UDP_PAYLOAD.length, 32);
  assert.equal(DEFAULT_UDP_PAYLOAD.toString('latin1'), 'keepalived check - keepalived ch');
});

test("connect_ip/connect_port default to the real server; bindto/bind_port are the probe's source; bind_if scopes a link-local IPv6", async (t) => {
  const { targetOf } = await import('../../src/check/common.js');
  const { tcpProbe } = await import('../../src/check/tcp.js');
  const ip = (address: string) => ({ family: (address.includes(':') ? 'inet6' : 'inet') as 'inet' | 'inet6', address, prefixLength: 32 });
  const rsv = { address: ip('192.0.2.5'), port: 8080 } as unknown as Parameters<typeof targetOf>[1];
  const base = { type: 'TCP_CHECK', options: {} } as unknown as Parameters<typeof targetOf>[0];
  assert.deepEqual(
    [targetOf(base, rsv, 1000).host, targetOf(base, rsv, 1000).port, targetOf(base, rsv, 1000).name],
    ['192.0.2.5', 8080, '[192.0.2.5]:tcp:8080'],
  );
  const ll = targetOf({ ...base, connectIp: ip('fe80::1'), connectPort: 81, options: { bind_if: 'eth1' } } as typeof base, rsv, 1000);
  assert.deepEqual([ll.host, ll.port, ll.family, ll.name], ['fe80::1%eth1', 81, 6, '[fe80::1]:tcp:81']);
  // a real connection from 127.0.0.2:<bind_port> to a loopback server
  const seen: string[] = [];
  const srv = createServer((s) => {
    seen.push(`${s.remoteAddress}:${s.remotePort}`);
    s.on('error', () => undefined);
    s.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  const bindPort = 20000 + Math.floor(Math.random() * 20000);
  const tg = targetOf(
    {
      ...base,
      connectIp: ip('127.0.0.1'),
      connectPort: (srv.address() as AddressInfo).port,
      bindTo: ip('127.0.0.2'),
      bindPort,
    } as typeof base,
    rsv,
    1000,
  );
  assert.deepEqual(await tcpProbe(tg)(new AbortController().signal, 0), { ok: true, reason: 'connected' });
  assert.deepEqual(seen, [`127.0.0.2:${bindPort}`]);
});
