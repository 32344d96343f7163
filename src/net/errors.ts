// Typed errors for the network edges (src/net/*).
//
// Public API:
//   class NetError extends Error { code: NetErrorCode; op: string; cause?: unknown }
//   type NetErrorCode: an errno name ("EEXIST", "EPERM"...) or one of our own
//     "ENOCAP" (a capability is missing), "ENOIF" (no such interface), "ENOADDON" (the native
//     addon was not built), "EBADARG" (a bad argument from the caller), "EUNKNOWN".
//   errnoFromError(err): string | undefined   the errno name hidden in a library error
//   toNetError(op, err): NetError              wrap anything thrown by raw-socket / netlink / the addon
//   emitNetError(emitter, err): void           'error' if someone listens, else a process warning
//
// Why: raw-socket throws bare strerror text and netlink 0.3.0 rejects with
// Error("Request rejected: EEXIST"), neither with a `code`. Callers (idempotence helpers, the
// daemon's logs) need a stable code, so every error leaving src/net is a NetError.

export type NetErrorCode = 'ENOCAP' | 'ENOIF' | 'ENOADDON' | 'EBADARG' | 'EUNKNOWN' | (string & { readonly __errno?: never });

export class NetError extends Error {
  readonly code: NetErrorCode;
  /** what we were doing, e.g. "addAddress 192.0.2.10/24 dev eth0" */
  readonly op: string;
  constructor(code: NetErrorCode, op: string, message: string, options?: { cause?: unknown }) {
    super(`${op}: ${message}`, options);
    this.name = 'NetError';
    this.code = code;
    this.op = op;
  }
}

// strerror(3) texts (glibc, English) of the errors the network edges can meet.
const STRERROR: Record<string, string> = {
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'No such file or directory': 'ENOENT',
  'No such process': 'ESRCH',
  'No such device': 'ENODEV',
  'No such device or address': 'ENXIO',
  'File exists': 'EEXIST',
  'Invalid argument': 'EINVAL',
  'Cannot assign requested address': 'EADDRNOTAVAIL',
  'Address already in use': 'EADDRINUSE',
  'Network is unreachable': 'ENETUNREACH',
  'Network is down': 'ENETDOWN',
  'No route to host': 'EHOSTUNREACH',
  'No buffer space available': 'ENOBUFS',
  'Message too long': 'EMSGSIZE',
  'Resource temporarily unavailable': 'EAGAIN',
  'Address family not supported by protocol': 'EAFNOSUPPORT',
  'Protocol not supported': 'EPROTONOSUPPORT',
  'Operation not supported': 'EOPNOTSUPP',
  'Device or resource busy': 'EBUSY',
  'Numerical result out of range': 'ERANGE',
  'Timeout has been reached': 'ETIMEDOUT', // netlink 0.3.0's request timeout
  'Connection timed out': 'ETIMEDOUT',
};

/** The errno name carried by an error from raw-socket, netlink or the addon, if any. */
export function errnoFromError(err: unknown): string | undefined {
  if (err instanceof NetError) return err.code;
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  }
  const msg = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /Request rejected: (E[A-Z0-9]+)/.exec(msg);
  if (m) return m[1];
  for (const [text, code] of Object.entries(STRERROR)) {
    if (msg.includes(text)) return code;
  }
  const bare = /\b(E[A-Z]{3,})\b/.exec(msg);
  return bare ? bare[1] : undefined;
}

/** An asynchronous error must never crash the daemon: an EventEmitter throws on an unheard
 *  'error', so without a listener the error becomes a process warning instead. */
export function emitNetError(
  emitter: { listenerCount(e: string): number; emit(e: string, ...a: unknown[]): boolean },
  err: NetError,
): void {
  if (emitter.listenerCount('error') > 0) emitter.emit('error', err);
  else process.emitWarning(`${err.code}: ${err.message}`, 'NetWarning');
}

export function toNetError(op: string, err: unknown): NetError {
  if (err instanceof NetError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new NetError(errnoFromError(err) ?? 'EUNKNOWN', op, msg, { cause: err });
}
