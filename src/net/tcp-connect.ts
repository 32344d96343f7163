// The JS side of the kts_connect addon (native/tcp_connect.c): a non-blocking TCP connect on a
// socket made by us, so that the health checkers can set keepalived's `fwmark` (SO_MARK) and
// `bind_if` (SO_BINDTODEVICE) before connecting (net.connect creates and connects in one call),
// and so that TCP_CHECK's attempt is a connect and a close, with no net.Socket per attempt.
//
//   connectAddon(): ConnectAddon | undefined    undefined when the addon is not built (the
//                                               checkers then use net.connect, unmarked)
//   rawConnect(addon, options, done): cancel    done(errno, fd) once, unless cancel() was called
//                                               first; throws a ConnectError before the connect
//                                               is under way (socket, setsockopt, bind, connect)
//   setUdpSocketOptions(addon, socket, mark, device)   fwmark / bind_if on a bound dgram socket
//                                               (UDP_CHECK, DNS_CHECK); throws a ConnectError
//   errnoName(errno): "ECONNREFUSED"...
import type { Socket as UdpSocket } from 'node:dgram';
import { getSystemErrorName } from 'node:util';
import { loadNativeAddon } from '../util/native-addon.js';

export interface ConnectAddon {
  connect(
    family: 4 | 6,
    address: string,
    port: number,
    scopeIf: string,
    localAddress: string,
    localPort: number,
    mark: number,
    device: string,
    keep: boolean,
    cb: (errno: number, fd: number) => void,
  ): unknown;
  cancel(handle: unknown): void;
  setSocketOptions(fd: number, mark: number, device: string): void;
}

export interface RawConnectOptions {
  readonly family: 4 | 6;
  /** an IP literal; a link-local IPv6 one may carry its scope ("fe80::1%eth0") */
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** fwmark: SO_MARK */
  readonly mark?: number;
  /** bind_if: SO_BINDTODEVICE */
  readonly device?: string;
  /** true: the connected fd is the caller's; false: closed at once (done gets -1) */
  readonly keep: boolean;
}

/** A failure before the connect was under way: `code` the errno name, `syscall` the step. */
export interface ConnectError extends Error {
  code: string;
  syscall: string;
}

let addon: ConnectAddon | null | undefined;

/** The addon, or undefined when it is not built or does not load (the checkers then use
 *  net.connect); KTS_CONNECT_ADDON overrides the location ("none": as if not built). Looked up once. */
export function connectAddon(): ConnectAddon | undefined {
  if (addon === undefined) {
    const r = loadNativeAddon<ConnectAddon>('kts_connect', 'KTS_CONNECT_ADDON');
    addon = 'addon' in r ? r.addon : null;
  }
  return addon ?? undefined;
}

/** Starts a connect; returns its cancel (idempotent, a no-op once done was called). */
export function rawConnect(a: ConnectAddon, o: RawConnectOptions, done: (errno: number, fd: number) => void): () => void {
  const pct = o.host.indexOf('%');
  const host = pct < 0 ? o.host : o.host.slice(0, pct);
  const scope = pct < 0 ? '' : o.host.slice(pct + 1);
  const h = a.connect(o.family, host, o.port, scope, o.localAddress ?? '', o.localPort ?? 0, o.mark ?? -1, o.device ?? '', o.keep, done);
  return () => a.cancel(h);
}

/** A bound dgram socket's fd: Node 20 keeps its handle under the 'state symbol' (the `_handle`
 *  getter warns DEP0112); undefined when that changes or before bind. */
function dgramFd(s: UdpSocket): number | undefined {
  const sym = Object.getOwnPropertySymbols(s).find((k) => k.description === 'state symbol');
  const fd = sym && (s as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[sym]?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** fwmark (SO_MARK) and bind_if (SO_BINDTODEVICE) on a bound dgram socket, before its connect (the
 *  route is looked up there) and its first send. Throws a ConnectError (syscall the failing step). */
export function setUdpSocketOptions(a: ConnectAddon, s: UdpSocket, mark: number | undefined, device: string | undefined): void {
  const fd = dgramFd(s);
  if (fd === undefined) throw Object.assign(new Error('the dgram socket has no fd'), { code: 'EBADF', syscall: 'fd' });
  a.setSocketOptions(fd, mark ?? -1, device ?? '');
}

export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}
