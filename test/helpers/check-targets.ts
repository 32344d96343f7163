// Targets for the health checkers' netns tests, run inside a lab namespace:
//   node check-targets.js ADDR CERT KEY
// Services on ADDR, each with modes switched by lines on stdin: "set PORT MODE" (answers "ok").
//   8001 TCP         ok | down (listener closed: connections refused)
//   8002 HTTP        ok | 500
//   8003 HTTP        ok | garbage (bytes that are not HTTP)
//   8004 HTTP        ok | endless (200, then a body that never ends)
//   8005 HTTP        ok | changed (another body: the digest no longer matches)
//   8443 HTTPS       ok | hang (accepts, never answers the TLS handshake) | 500 (status 500 after
//                    the handshake); ok answers 200 only with SNI www.example.test, Host
//                    www.example.test and a client certificate
//   8025 SMTP        ok | single (healthy, a one-line 220 greeting: keepalived 2.2.7 reads only
//                    the first line) | garbage (554 banner)
//   8053 DNS (UDP)   ok | wrongid (the reply's id is not the query's) | servfail (RCODE 2)
//   8007 UDP echo    ok | down (socket closed: ICMP port unreachable)
//   8008 UDP         ok ("PONG") | garbage (a reply that does not match require_reply)
// Bounded life: exits after 5 minutes, or when stdin closes.
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { TLSSocket, createSecureContext } from 'node:tls';
import { createInterface } from 'node:readline';

const [addr, certPath, keyPath] = process.argv.slice(2) as [string, string, string];
const modes = new Map<number, string>();
const mode = (p: number) => modes.get(p) ?? 'ok';
export const BODY = 'hello from the real server\n';

function tcp(port: number, onConn: (s: Socket) => void): { server: Server; listen(): Promise<void>; close(): void } {
  const conns = new Set<Socket>();
  const server = createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  return {
    server,
    listen: () => new Promise((res) => server.listen(port, addr, () => res())),
    close: () => {
      server.close();
      for (const c of conns) c.destroy();
    },
  };
}

function http(s: Socket, port: number, body = BODY): void {
  let req = '';
  s.on('data', (c) => {
    req += c.toString('latin1');
    if (!req.includes('\r\n\r\n')) return;
    const m = mode(port);
    if (m === '500') return void s.end('HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
    if (m === 'garbage') return void s.end(Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x42, 0x13, 0x37]));
    if (m === 'endless') {
      s.write('HTTP/1.0 200 OK\r\n\r\n');
      const chunk = Buffer.alloc(16384, 0x61);
      const timer = setInterval(() => {
        if (!s.destroyed) s.write(chunk);
      }, 5);
      s.on('close', () => clearInterval(timer));
      return;
    }
    const b = m === 'changed' ? 'something else\n' : body;
    s.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
  });
}

const ctx = createSecureContext({ cert: readFileSync(certPath), key: readFileSync(keyPath) });

const services = {
  8001: tcp(8001, () => undefined),
  8002: tcp(8002, (s) => http(s, 8002)),
  8003: tcp(8003, (s) => http(s, 8003)),
  8004: tcp(8004, (s) => http(s, 8004)),
  8005: tcp(8005, (s) => http(s, 8005)),
  8443: tcp(8443, (raw) => {
    if (mode(8443) === 'hang') return; // the client's ClientHello is never answered
    const status500 = mode(8443) === '500';
    let sni: string | undefined;
    const t = new TLSSocket(raw, {
      isServer: true,
      secureContext: ctx,
      requestCert: true,
      rejectUnauthorized: false,
      SNICallback: (name, cb) => {
        sni = name;
        cb(null, ctx);
      },
    });
    t.on('error', () => undefined);
    let req = '';
    t.on('data', (c) => {
      req += c.toString('latin1');
      if (!req.includes('\r\n\r\n')) return;
      const host = /\r\nHost: ([^\r]*)/.exec(req)?.[1];
      const cert = t.getPeerCertificate();
      const good = sni === 'www.example.test' && host === 'www.example.test' && cert && Object.keys(cert).length > 0;
      if (status500) return void t.end('HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
      t.end(
        good
          ? `HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n`
          : `HTTP/1.0 421 Misdirected (sni ${sni} host ${host} cert ${cert ? Object.keys(cert).length : 0})\r\nContent-Length: 0\r\n\r\n`,
      );
    });
  }),
  8025: tcp(8025, (s) => {
    if (mode(8025) === 'garbage') return void s.end('554 no service here\r\n');
    s.write(mode(8025) === 'single' ? '220 rs.example.test ESMTP ready\r\n' : '220-rs.example.test ESMTP\r\n220 ready\r\n');
    let buf = '';
    s.on('data', (c) => {
      buf += c.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (/^HELO /i.test(line)) s.write('250 rs.example.test\r\n');
        else if (/^QUIT/i.test(line)) s.end('221 bye\r\n');
        else s.write('500 what?\r\n');
      }
    });
  }),
};

function udp(port: number, reply: (m: Buffer) => Buffer | undefined): { open(): Promise<void>; close(): void } {
  let sock: UdpSocket | undefined;
  return {
    open: () =>
      new Promise((res) => {
        sock = createSocket('udp4');
        sock.on('message', (m, rinfo) => {
          const r = reply(m);
          if (r) sock?.send(r, rinfo.port, rinfo.address);
        });
        sock.bind(port, addr, () => res());
      }),
    close: () => {
      sock?.close();
      sock = undefined;
    },
  };
}

const dns = udp(8053, (q) => {
  if (q.length < 12) return undefined;
  const r = Buffer.from(q);
  if (mode(8053) === 'wrongid') r.writeUInt16BE((q.readUInt16BE(0) + 1) & 0xffff, 0);
  r.writeUInt16BE(mode(8053) === 'servfail' ? 0x8182 : 0x8180, 2); // QR RD RA, NOERROR (or SERVFAIL)
  return r;
});
const echo = udp(8007, (m) => m);
const pong = udp(8008, () => Buffer.from(mode(8008) === 'garbage' ? 'NOPE' : 'PONG'));

async function main() {
  for (const s of Object.values(services)) await s.listen();
  await dns.open();
  await echo.open();
  await pong.open();
  process.stdout.write('ready\n');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    const m = /^set (\d+) (\S+)$/.exec(line.trim());
    if (!m) return;
    const port = Number(m[1]);
    const prev = mode(port);
    modes.set(port, m[2]!);
    // listeners that go away so that the kernel refuses (RST / ICMP port unreachable)
    if (port === 8001 && m[2] === 'down') services[8001].close();
    if (port === 8001 && m[2] === 'ok' && prev === 'down') {
      const again = tcp(8001, () => undefined);
      services[8001] = again;
      await again.listen();
    }
    if (port === 8007 && m[2] === 'down') echo.close();
    if (port === 8007 && m[2] === 'ok' && prev === 'down') await echo.open();
    process.stdout.write('ok\n');
  });
  rl.on('close', () => process.exit(0));
  setTimeout(() => process.exit(0), 300_000).unref();
}
void main();
