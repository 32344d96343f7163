// What every connecting checker shares: where to connect (connect_ip/connect_port, default the
// real server's), where from (bindto/bind_port, bind_if as the IPv6 scope), the connect_timeout,
// and keepalived's way of printing a service ("[192.0.2.10]:tcp:80"); fwmark (SO_MARK) and
// bind_if (SO_BINDTODEVICE) on the probe's socket, set through the kts_connect addon
// (src/net/tcp-connect.ts): without it the TCP-based checkers connect with net.connect, unmarked.
import { closeSync } from 'node:fs';
import { connect as tcpConnect, Socket } from 'node:net';
import type { Checker, IpAddress, RealServer, VirtualServer } from '../config/model.js';
import { type ConnectAddon, type ConnectError, connectAddon, errnoName, rawConnect } from '../net/tcp-connect.js';
import type { ProbeResult, CancelSignal } from './scheduler.js';

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly connectTimeoutMs: number;
  /** fwmark: SO_MARK on the probe's socket */
  readonly mark?: number;
  /** bind_if: SO_BINDTODEVICE on the probe's socket (and the scope of a link-local IPv6 address) */
  readonly device?: string;
  /** "[host]:tcp:port" for the logs */
  readonly name: string;
}

function family(a: IpAddress): 4 | 6 {
  return a.family === 'inet6' || a.address.includes(':') ? 6 : 4;
}

/** keepalived's service format: [addr]:proto:port */
export function fmtService(address: string, proto: string, port: number | undefined): string {
  return `[${address}]:${proto.toLowerCase()}:${port ?? 0}`;
}

/** The virtual server as keepalived prints it: [vip]:tcp:80, FWM 5, or the group name. */
export function fmtVirtualServer(vs: VirtualServer): string {
  if (vs.kind === 'fwmark') return `FWM ${vs.fwmark ?? 0}`;
  if (vs.kind === 'group') return `[${vs.group ?? ''}]`;
  return fmtService(vs.address?.address ?? '?', vs.protocol, vs.port);
}

export function fmtRealServer(vs: VirtualServer, rs: RealServer): string {
  return fmtService(rs.address.address, vs.protocol, rs.port);
}

export function targetOf(ck: Checker, rs: RealServer, connectTimeoutMs: number, proto = 'tcp'): Target {
  const ip = ck.connectIp ?? rs.address;
  let host = ip.address;
  // bind_if: SO_BINDTODEVICE, and the scope of a link-local IPv6 address
  const bindIf = ck.options['bind_if']?.trim() || undefined;
  if (bindIf && family(ip) === 6 && /^fe80:/i.test(host)) host = `${host}%${bindIf}`;
  const port = ck.connectPort ?? rs.port ?? 0;
  return {
    host,
    port,
    family: family(ip),
    localAddress: ck.bindTo?.address,
    localPort: ck.bindPort,
    connectTimeoutMs,
    mark: parseMark(ck.options['fwmark']),
    device: bindIf,
    name: fmtService(ip.address, proto, port),
  };
}

/** keepalived's fwmark value (decimal or 0x hex, 32 bits); undefined when absent or not a number */
export function parseMark(v: string | undefined): number | undefined {
  const t = v?.trim();
  if (!t || !/^(\d+|0x[\da-f]+)$/i.test(t)) return undefined;
  const n = Number(t);
  return n <= 0xffffffff ? n : undefined;
}

export const fail = (reason: string): ProbeResult => ({ ok: false, reason });
export const success = (reason: string): ProbeResult => ({ ok: true, reason });

/**
 * One probe step that ends once: by its own events (`finish(r)`), its timeout (`onTimeout()`) or
 * the attempt's cancel signal (a fail 'aborted'). The timer and the abort listener are released
 * and `release(r)` closes what the step opened before `resolve(r)`; later events are ignored.
 * Returns `finish`, or undefined when the signal had already fired (then resolved at once).
 */
export function settleOnce<T>(
  signal: CancelSignal,
  timeoutMs: number,
  onTimeout: () => T | ProbeResult,
  release: (r: T | ProbeResult) => void,
  resolve: (r: T | ProbeResult) => void,
): ((r: T | ProbeResult) => void) | undefined {
  if (signal.aborted) {
    release(fail('aborted'));
    resolve(fail('aborted'));
    return undefined;
  }
  let done = false;
  const finish = (r: T | ProbeResult) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    release(r);
    resolve(r);
  };
  const onAbort = () => finish(fail('aborted'));
  const timer = setTimeout(() => finish(onTimeout()), timeoutMs);
  signal.addEventListener('abort', onAbort, { once: true });
  return finish;
}

/** Why a connect failed before it was under way, in the checkers' words. */
export function startFailure(e: unknown): ProbeResult {
  const err = e as Partial<ConnectError>;
  const code = err.code ?? err.message ?? 'error';
  if (err.syscall === 'setsockopt(SO_MARK)') return fail(`cannot set fwmark (${code})`);
  if (err.syscall === 'setsockopt(SO_BINDTODEVICE)') return fail(`cannot set bind_if (${code})`);
  return fail(`connection failed (${code})`);
}

/**
 * A non-blocking connect through the addon: the connected fd (keep), -1 (connected and closed
 * already: TCP_CHECK), or the reason, with connectTcp's words. The socket is closed on every other
 * way out (timeout, cancel, error).
 */
export function connectFd(a: ConnectAddon, t: Target, signal: CancelSignal, keep: boolean): Promise<number | ProbeResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(fail('aborted'));
    let cancel: (() => void) | undefined;
    // a no-op once the addon has reported (then the fd, if kept, is the caller's)
    const release = () => cancel?.();
    const finish = settleOnce<number>(signal, t.connectTimeoutMs, () => fail('timeout'), release, resolve)!;
    try {
      cancel = rawConnect(
        a,
        {
          family: t.family,
          host: t.host,
          port: t.port,
          localAddress: t.localAddress,
          localPort: t.localPort,
          mark: t.mark,
          device: t.device,
          keep,
        },
        (errno, fd) => finish(errno === 0 ? fd : fail(`connection failed (${errnoName(errno)})`)),
      );
    } catch (e) {
      finish(startFailure(e));
    }
  });
}

/**
 * Whether a checker's connects go through the addon: when it sets fwmark or bind_if (nothing else
 * can), or for every connect when `always` (TCP_CHECK: faster, see README "Health checkers").
 * Undefined: net.connect (the addon is not built, or not needed).
 */
export function addonFor(t: Target, always: boolean): ConnectAddon | undefined {
  if (!always && t.mark === undefined && t.device === undefined) return undefined;
  return connectAddon();
}

/** A connected TCP socket, or the reason it could not be had within the connect_timeout. */
export async function connectTcp(t: Target, signal: CancelSignal): Promise<Socket | ProbeResult> {
  const a = addonFor(t, STREAMS_THROUGH_ADDON);
  if (!a) return netConnect(t, signal);
  const fd = await connectFd(a, t, signal, true);
  if (typeof fd !== 'number') return fd;
  let s: Socket;
  try {
    s = new Socket({ fd, readable: true, writable: true });
  } catch (e) {
    closeSync(fd);
    return fail(`connection failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // a later error (reset) is reported by whoever reads the socket; never crash on it
  s.on('error', () => undefined);
  return s;
}

/** HTTP_GET, SSL_GET and SMTP_CHECK connect through the addon even without fwmark / bind_if and
 *  wrap the fd in a net.Socket: measured a few % less CPU than net.connect (README "Health
 *  checkers"); net.connect stays the path when the addon is not built. */
const STREAMS_THROUGH_ADDON = true;

function netConnect(t: Target, signal: CancelSignal): Promise<Socket | ProbeResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(fail('aborted'));
    const s = tcpConnect({ host: t.host, port: t.port, localAddress: t.localAddress, localPort: t.localPort, family: t.family });
    const onError = (e: NodeJS.ErrnoException) => finish(fail(`connection failed (${e.code ?? e.message})`));
    const release = (r: Socket | ProbeResult) => {
      s.removeListener('error', onError);
      if (r !== s) s.destroy();
    };
    const finish = settleOnce<Socket>(signal, t.connectTimeoutMs, () => fail('timeout'), release, resolve)!;
    s.once('error', onError);
    s.once('connect', () => {
      // a later error (reset) is reported by whoever reads the socket; never crash on it
      s.on('error', () => undefined);
      finish(s);
    });
  });
}

/**
 * Reads a socket under a deadline: `idleMs` between chunks (connect_timeout applies to each read,
 * as keepalived's) and `totalMs` for the whole exchange (an endless stream is a timeout, not a
 * hang). `onData` returns true when it has read enough. Resolves with the reason it stopped.
 */
export function readUntil(
  s: Socket,
  signal: CancelSignal,
  idleMs: number,
  totalMs: number,
  onData: (chunk: Buffer) => boolean,
): Promise<'done' | 'eof' | 'timeout' | 'aborted' | `error ${string}`> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: 'done' | 'eof' | 'timeout' | 'aborted' | `error ${string}`) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(total);
      signal.removeEventListener('abort', onAbort);
      s.removeListener('data', onChunk);
      s.removeListener('end', onEnd);
      s.removeListener('close', onEnd);
      s.removeListener('error', onErr);
      // a later read picks up what arrives meanwhile (a flowing stream would drop it)
      s.pause();
      resolve(why);
    };
    const onAbort = () => finish('aborted');
    const onChunk = (c: Buffer) => {
      idle.refresh();
      if (onData(c)) finish('done');
    };
    const onEnd = () => finish('eof');
    const onErr = (e: NodeJS.ErrnoException) => finish(`error ${e.code ?? e.message}`);
    const idle = setTimeout(() => finish('timeout'), idleMs);
    const total = setTimeout(() => finish('timeout'), totalMs);
    if (signal.aborted) return finish('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    s.on('data', onChunk);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', onErr);
    if (s.destroyed || s.readableEnded) return finish('eof');
    s.resume();
  });
}
