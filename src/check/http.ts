// HTTP_GET and SSL_GET (and genhash's fetch): one url per attempt.
// Request as keepalived sends it: `GET PATH HTTP/1.0` (1.1 and "1.0C" add Connection: close),
// User-Agent: KeepAliveClient, Host: url virtualhost > checker > virtual server > IP:PORT.
// The response is read to EOF (or Content-Length); checks, in order: a status line arrived, the
// status code is in the url's set (default 200-299), the MD5 of the body (first Content-Length
// bytes) equals `digest`, `regex` matches (or not, with regex_no_match). SSL_GET: TLS without
// certificate verification, the SSL block's client certificate, SNI with enable_sni.
// Bounds: connect_timeout for the connect + TLS handshake and between reads, and 3 x
// connect_timeout for the whole response: an endless body or handshake is a timeout, not a hang.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { connectTcp, fail, readUntil, settleOnce, success, type Target } from './common.js';
import type { Probe, ProbeResult, CancelSignal } from './scheduler.js';

const MAX_HEADER = 64 * 1024;
/** bytes of body kept for the regex (the digest covers the whole body) */
const MAX_REGEX_BODY = 1024 * 1024;

export interface HttpUrl {
  readonly path: string;
  readonly digest?: string;
  /** status_code set; undefined = 200-299 */
  readonly status?: ReadonlyArray<readonly [number, number]>;
  readonly virtualhost?: string;
  readonly regex?: RegExp;
  readonly regexNoMatch: boolean;
  readonly regexMinOffset?: number;
  readonly regexMaxOffset?: number;
}

export interface TlsOptions {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
  readonly passphrase?: string;
  /** SNI server name (enable_sni), never an IP address */
  readonly servername?: string;
}

/** The url block as written, or the reason it cannot be used. */
export function parseUrl(u: Readonly<Record<string, string>>): HttpUrl | string {
  const path = u['path'];
  if (!path) return 'url without a path';
  let status: Array<[number, number]> | undefined;
  if (u['status_code'] !== undefined) {
    status = [];
    for (const tok of u['status_code'].split(/[\s,]+/).filter(Boolean)) {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(tok);
      if (!m) return `status_code "${tok}" is not a code or a range of codes`;
      status.push([Number(m[1]), Number(m[2] ?? m[1])]);
    }
  }
  const digest = u['digest']?.toLowerCase();
  if (digest !== undefined && !/^[0-9a-f]{32}$/.test(digest)) return `digest "${u['digest']}" is not 32 hex digits`;
  let regex: RegExp | undefined;
  if (u['regex'] !== undefined) {
    // PCRE2 options keepalived accepts, mapped to what JavaScript's RegExp has
    const flags = new Set<string>();
    for (const o of (u['regex_options'] ?? '').split(/\s+/).filter(Boolean)) {
      if (o === 'caseless') flags.add('i');
      else if (o === 'multiline') flags.add('m');
      else if (o === 'dotall') flags.add('s');
    }
    try {
      regex = new RegExp(u['regex'].replace(/^"(.*)"$/, '$1'), [...flags].join(''));
    } catch (e) {
      return `regex "${u['regex']}": ${(e as Error).message}`;
    }
  }
  const num = (k: string) => (u[k] !== undefined && /^\d+$/.test(u[k]!) ? Number(u[k]) : undefined);
  return {
    path,
    digest,
    status,
    virtualhost: u['virtualhost'],
    regex,
    regexNoMatch: u['regex_no_match'] !== undefined,
    regexMinOffset: num('regex_min_offset'),
    regexMaxOffset: num('regex_max_offset'),
  };
}

/** The SSL block's files (password, ca, certificate, key), read once. */
export function tlsFromSslBlock(ssl: Readonly<Record<string, string>> | undefined): TlsOptions | string {
  if (!ssl) return {};
  try {
    return {
      cert: ssl['certificate'] ? readFileSync(ssl['certificate']) : undefined,
      key: ssl['key'] ? readFileSync(ssl['key']) : undefined,
      ca: ssl['ca'] ? readFileSync(ssl['ca']) : undefined,
      passphrase: ssl['password'],
    };
  } catch (e) {
    return `SSL block: ${(e as Error).message}`;
  }
}

export interface HttpResponse {
  readonly status: number;
  /** MD5 (hex) of the body, limited to Content-Length when given */
  readonly md5: string;
  readonly bodyBytes: number;
  /** the start of the body (up to 1 MiB), latin1, for the regex */
  readonly head: string;
  /** the response header as received (genhash -v prints it) */
  readonly header: string;
}

export type HttpProtocol = '1.0' | '1.1' | '1.0C';

export function buildRequest(path: string, host: string, protocol: HttpProtocol): string {
  const version = protocol === '1.1' ? '1.1' : '1.0';
  const close = protocol === '1.0' ? '' : 'Connection: close\r\n';
  // header order as keepalived's genhash sends it (compared in test/interop/genhash-compare)
  return `GET ${path} HTTP/${version}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`;
}

/** The Host header's default: IP:PORT, IPv6 in brackets. */
export function defaultHost(t: Target): string {
  const ip = t.host.replace(/%.*$/, '');
  return isIP(ip) === 6 ? `[${ip}]:${t.port}` : `${ip}:${t.port}`;
}

/**
 * One client context per checker's options, made at its first attempt and reused (keepalived makes
 * one SSL_CTX at start): parsing the certificate and key on every attempt costs a few ms on a host,
 * a few hundred in UML, and an SSL_GET's leave time grows by it.
 */
const contexts = new WeakMap<TlsOptions, SecureContext>();

function handshake(raw: Socket, tls: TlsOptions, signal: CancelSignal, timeoutMs: number): Promise<TLSSocket | ProbeResult> {
  return new Promise((resolve) => {
    let s: TLSSocket;
    try {
      let secureContext = contexts.get(tls);
      if (!secureContext) {
        secureContext = createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, passphrase: tls.passphrase });
        contexts.set(tls, secureContext);
      }
      s = tlsConnect({
        socket: raw,
        rejectUnauthorized: false, // keepalived does not verify the server's certificate
        servername: tls.servername,
        secureContext,
      });
    } catch (e) {
      // a bad client certificate or key (the SSL block) throws before any I/O
      raw.destroy();
      return resolve(fail(`SSL setup failed (${(e as Error).message})`));
    }
    const release = (r: TLSSocket | ProbeResult) => {
      if (r !== s) {
        s.destroy();
        raw.destroy();
      }
    };
    const finish = settleOnce<TLSSocket>(signal, timeoutMs, () => fail('SSL handshake timeout'), release, resolve);
    if (!finish) return;
    s.once('error', (e: NodeJS.ErrnoException) => finish(fail(`SSL handshake failed (${e.code ?? e.message})`)));
    s.once('secureConnect', () => {
      s.on('error', () => undefined);
      finish(s);
    });
  });
}

/** One GET: the response, or why there is none. Always closes its socket. */
export async function httpFetch(
  t: Target,
  signal: CancelSignal,
  req: { path: string; host: string; protocol: HttpProtocol; tls?: TlsOptions },
): Promise<HttpResponse | ProbeResult> {
  const raw = await connectTcp(t, signal);
  if (!('destroy' in raw)) return raw.reason === 'timeout' ? fail('Timeout connecting server') : raw;
  let s: Socket = raw;
  if (req.tls) {
    const tlsSock = await handshake(raw, req.tls, signal, t.connectTimeoutMs);
    if (!('destroy' in tlsSock)) return tlsSock;
    s = tlsSock;
  }
  try {
    s.write(buildRequest(req.path, req.host, req.protocol));
    let header: Buffer = Buffer.alloc(0);
    let status: number | undefined;
    let headerText = '';
    let contentLength: number | undefined;
    let bodyBytes = 0;
    const md5 = createHash('md5');
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let bad: string | undefined;
    const body = (c: Buffer): boolean => {
      const take = contentLength === undefined ? c : c.subarray(0, Math.max(0, contentLength - bodyBytes));
      md5.update(take);
      bodyBytes += take.length;
      if (keptBytes < MAX_REGEX_BODY) {
        const k = take.subarray(0, MAX_REGEX_BODY - keptBytes);
        kept.push(k);
        keptBytes += k.length;
      }
      return contentLength !== undefined && bodyBytes >= contentLength;
    };
    const why = await readUntil(s, signal, t.connectTimeoutMs, t.connectTimeoutMs * 3, (c) => {
      if (status !== undefined) return body(c);
      header = Buffer.concat([header, c]);
      if (header.length >= 5 && header.subarray(0, 5).toString('latin1') !== 'HTTP/') {
        bad = notHttp(header);
        return true;
      }
      const end = header.indexOf('\r\n\r\n');
      if (end < 0) {
        if (header.length > MAX_HEADER) {
          bad = 'response header too long';
          return true;
        }
        return false;
      }
      const head = header.subarray(0, end).toString('latin1');
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(head);
      if (!m) {
        bad = notHttp(header);
        return true;
      }
      status = Number(m[1]);
      headerText = head;
      const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      if (cl) contentLength = Number(cl[1]);
      return body(header.subarray(end + 4));
    });
    if (bad) return fail(bad);
    if (why === 'aborted') return fail('aborted');
    if (status === undefined) {
      if (why === 'timeout') return fail('Read timeout');
      if (header.length === 0) return fail('Read failed: no data received');
      return fail(header.length < 5 && !'HTTP/'.startsWith(header.toString('latin1')) ? notHttp(header) : 'incomplete HTTP header');
    }
    if (why === 'timeout') return fail('Read timeout');
    if (why.startsWith('error')) return fail(`Read failed (${why.slice(6)})`);
    return { status, md5: md5.digest('hex'), bodyBytes, head: Buffer.concat(kept).toString('latin1'), header: headerText };
  } finally {
    s.destroy();
    raw.destroy();
  }
}

function notHttp(b: Buffer): string {
  return `not an HTTP response ("${b
    .subarray(0, 40)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '.')}")`;
}

/** The url's checks on a response: undefined when they all pass, else the failure, worded as
 *  keepalived 2.2.7 logs it ("HTTP status code error to server S.") plus our detail. */
export function judge(u: HttpUrl, r: HttpResponse, server: string): string | undefined {
  const codes = u.status ?? [[200, 299]];
  if (!codes.some(([a, b]) => r.status >= a && r.status <= b)) {
    return `HTTP status code error to server ${server}. (url ${u.path}, status_code ${r.status})`;
  }
  if (u.digest && r.md5 !== u.digest) return `MD5 digest error to server ${server}. (url ${u.path}, MD5SUM ${r.md5})`;
  if (u.regex) {
    const body = r.head.slice(u.regexMinOffset ?? 0, u.regexMaxOffset);
    const found = u.regex.test(body);
    if (found === u.regexNoMatch) return `Regex match failed server ${server}. (url ${u.path}${u.regexNoMatch ? ', regex_no_match' : ''})`;
  }
  return undefined;
}

/** A fetch failure in keepalived's words. */
function fetchFailure(reason: string, server: string): string {
  if (reason === 'Timeout connecting server') return `Connection timeout to server ${server}.`;
  const conn = /^connection failed \((.*)\)$/.exec(reason);
  if (conn) return `Error connecting to server ${server}. (${conn[1]})`;
  if (reason.startsWith('SSL handshake')) return `SSL handshake/communication error connecting to server ${server}. (${reason})`;
  if (reason === 'Read timeout') return `Read timeout from server ${server}.`;
  const rd = /^Read failed \((.*)\)$/.exec(reason);
  if (rd) return `Read error with server ${server}: ${rd[1]}.`;
  return `Read failure from server ${server}. (${reason})`;
}

export function httpProbe(
  t: Target,
  urls: readonly HttpUrl[],
  opts: { hostOf: (u: HttpUrl) => string; protocol: HttpProtocol; tls?: TlsOptions },
): Probe {
  return async (signal, i) => {
    const u = urls[i % urls.length];
    if (!u) return fail('no url to check');
    const r = await httpFetch(t, signal, { path: u.path, host: opts.hostOf(u), protocol: opts.protocol, tls: opts.tls });
    if (!('md5' in r)) return r.reason === 'aborted' ? r : fail(fetchFailure(r.reason, t.name));
    const bad = judge(u, r, t.name);
    if (bad) return fail(bad);
    const what = u.regex ? 'Regex match' : u.digest ? 'MD5 digest' : 'HTTP status code';
    return success(`${what} success to ${t.name} url(${u.path})`);
  };
}
