// What every connecting checker shares: where to connect (connect_ip/connect_port, default the
// real server's), where from (bindto/bind_port, bind_if as the IPv6 scope), the connect_timeout,
// and keepalived's way of printing a service ("[192.0.2.10]:tcp:80").
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Checker, IpAddress, RealServer, VirtualServer } from '../config/model.js';
import type { ProbeResult, CancelSignal } from './scheduler.js';

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly connectTimeoutMs: number;
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
  // bind_if: the scope of a link-local IPv6 address (SO_BINDTODEVICE has no Node API)
  const bindIf = ck.options['bind_if'];
  if (bindIf && family(ip) === 6 && /^fe80:/i.test(host)) host = `${host}%${bindIf}`;
  const port = ck.connectPort ?? rs.port ?? 0;
  return {
    host,
    port,
    family: family(ip),
    localAddress: ck.bindTo?.address,
    localPort: ck.bindPort,
    connectTimeoutMs,
    name: fmtService(ip.address, proto, port),
  };
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

/** A connected TCP socket, or the reason it could not be had within the connect_timeout. */
export function connectTcp(t: Target, signal: CancelSignal): Promise<Socket | ProbeResult> {
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
