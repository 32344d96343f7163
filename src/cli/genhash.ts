// `keepalived-ts genhash`: keepalived's genhash, the digest to put in an HTTP_GET/SSL_GET url block.
//   keepalived-ts genhash -s SERVER -p PORT -u URL [-S] [-I] [-V VHOST] [-P 1.0|1.0c|1.1] [-t SECS] [-v]
// Prints the MD5 of the body exactly as the checker computes it (the same request and fetch:
// src/check/http.ts). Unlike keepalived's genhash, a failure exits 1 (keepalived's exits 0).
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { defaultHost, httpFetch, type HttpProtocol } from '../check/http.js';
import type { Target } from '../check/common.js';

export interface GenhashIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = `Usage: keepalived-ts genhash -s SERVER -p PORT -u URL [OPTIONS]
   --use-ssl         -S   Use SSL connection to remote server.
   --use-sni         -I   Use SNI during SSL handshake (uses the virtualhost, see -V).
   --server          -s   Remote server address.
   --port            -p   Remote server port.
   --url             -u   Remote server url.
   --use-virtualhost -V   Virtualhost in the GET query (Host header).
   --verbose         -v   Print the response header too.
   --protocol        -P   HTTP protocol: 1.0, 1.0c (1.0 with Connection: close), 1.1.
   --timeout         -t   Timeout in seconds (default 5).
   --help            -h   This help.
`;

export async function runGenhash(argv: readonly string[], io: GenhashIo): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        'use-ssl': { type: 'boolean', short: 'S' },
        'use-sni': { type: 'boolean', short: 'I' },
        server: { type: 'string', short: 's' },
        port: { type: 'string', short: 'p' },
        url: { type: 'string', short: 'u' },
        'use-virtualhost': { type: 'string', short: 'V' },
        verbose: { type: 'boolean', short: 'v' },
        protocol: { type: 'string', short: 'P' },
        timeout: { type: 'string', short: 't' },
        fwmark: { type: 'string', short: 'm' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    io.stderr(`keepalived-ts genhash: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  if (v.help) {
    io.stdout(USAGE);
    return 0;
  }
  const server = v.server;
  const port = Number(v.port ?? (v['use-ssl'] ? 443 : 80));
  if (!server || isIP(server.replace(/%.*$/, '')) === 0) return bad(io, `--server needs an IP address (got ${server ?? 'none'})`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return bad(io, `--port ${v.port} is not a port`);
  if (!v.url) return bad(io, '--url is required');
  if (v.fwmark !== undefined) return bad(io, '--fwmark (SO_MARK) is not supported by keepalived-ts');
  const proto = (v.protocol ?? '1.0').toLowerCase();
  if (!['1.0', '1.0c', '1.1'].includes(proto)) return bad(io, `--protocol ${v.protocol}: expected 1.0, 1.0c or 1.1`);
  const secs = Number(v.timeout ?? 5);
  if (!Number.isFinite(secs) || secs <= 0) return bad(io, `--timeout ${v.timeout} is not a number of seconds`);
  const t: Target = {
    host: server,
    port,
    family: isIP(server.replace(/%.*$/, '')) === 6 ? 6 : 4,
    connectTimeoutMs: Math.round(secs * 1000),
    name: `[${server}]:tcp:${port}`,
  };
  const vhost = v['use-virtualhost'];
  const protocol: HttpProtocol = proto === '1.1' ? '1.1' : proto === '1.0c' ? '1.0C' : '1.0';
  const r = await httpFetch(t, new AbortController().signal, {
    path: v.url,
    host: vhost ?? defaultHost(t),
    protocol,
    tls: v['use-ssl'] ? { servername: v['use-sni'] && vhost && isIP(vhost) === 0 ? vhost : undefined } : undefined,
  });
  if (!('md5' in r)) {
    io.stderr(`Connection failed: ${r.reason}\n`);
    return 1;
  }
  if (v.verbose) io.stdout(`${r.header}\r\n\r\n(${r.bodyBytes} bytes of body, HTTP status ${r.status})\nMD5SUM = `);
  io.stdout(`${r.md5}\n`);
  return 0;
}

function bad(io: GenhashIo, msg: string): number {
  io.stderr(`keepalived-ts genhash: ${msg}\n`);
  return 1;
}
