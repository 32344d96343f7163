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
    s.wrap.send(packet, 0, packet.length, target, (bytes: number) => {
      sent = bytes;
    });
    return sent;
  } catch (err) {
    if (/temporarily unavailable|No buffer space/i.test(err instanceof Error ? err.message : '')) return undefined;
    throw err;
  }
}

interface RawRecvInternals {
  wrap?: {
    on(event: 'recvReady', listener: () => void): unknown;
    recv(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): unknown;
  };
  buffer?: Buffer;
}

/**
 * Read every packet queued on the socket at each readable event, up to `max`, instead of
 * raw-socket's one (it reads one and waits for the next turn of the event loop). After a stall
 * (the process not scheduled, a GC pause) hundreds of adverts wait in the queue; read one per
 * turn, the Master_Down_Timers of a loaded Backup expired between them (v3 at 10 ms: false
 * takeovers, bench/v3load). Each packet is emitted as raw-socket emits it ('message', a view of
 * its one receive buffer). Relies on raw-socket's internals like sendNow: without them, one per
 * event as before.
 */
export function drainOnReadable(sock: raw.Socket, max = 256): void {
  const s = sock as unknown as RawRecvInternals;
  const wrap = s.wrap,
    buffer = s.buffer;
  if (!wrap || !buffer || typeof wrap.on !== 'function' || typeof wrap.recv !== 'function') return;
  // registered after raw-socket's own listener: it has read the first packet
  wrap.on('recvReady', () => {
    for (let i = 0; i < max; i++) {
      let bytes = -1,
        from = '';
      try {
        wrap.recv(buffer, (_b, n, source) => {
          bytes = n;
          from = source;
        });
      } catch {
        return; // EAGAIN: the queue is empty (another error: raw-socket's own read reports it)
      }
      if (bytes < 0) return;
      sock.emit('message', buffer.subarray(0, bytes), from);
    }
  });
}
