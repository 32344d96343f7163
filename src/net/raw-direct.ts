// A send that leaves now. raw-socket (1.8) queues every send until libuv next polls the socket
// for writability, a turn of the event loop later (1-2 ms at a takeover, when that loop has
// other work). Its native send is a plain synchronous sendto(2), so when nothing is queued ahead
// we call it directly; a full socket buffer (EAGAIN / ENOBUFS) is left to the queue, which
// waits for writability. Relies on two internals of raw-socket, checked at each call: without
// them every send takes the queue, as before.
import type raw from '@neuralegion/raw-socket';

interface RawInternals {
  wrap?: { send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): unknown };
  requests?: unknown[];
}

/** Bytes sent, or undefined when the caller must use the socket's queued send. Throws other errors. */
export function sendNow(sock: raw.Socket, packet: Buffer, target: string): number | undefined {
  const s = sock as unknown as RawInternals;
  if (!s.wrap || s.requests?.length !== 0) return undefined;
  try {
    let sent = 0;
    s.wrap.send(packet, 0, packet.length, target, (bytes: number) => { sent = bytes; });
    return sent;
  } catch (err) {
    if (/temporarily unavailable|No buffer space/i.test(err instanceof Error ? err.message : '')) return undefined;
    throw err;
  }
}
