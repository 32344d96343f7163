// PING_CHECK: one ICMP / ICMPv6 echo, success = the matching echo reply within the connect_timeout
// (keepalived: one echo on an ICMP socket per attempt). Node has no ICMP socket: we open a raw one
// per attempt through raw-socket (a dependency already, CAP_NET_RAW as for VRRP), which also takes
// fwmark (SO_MARK) and bind_if (SO_BINDTODEVICE) as keepalived does. Where a raw socket cannot be
// had, or with bindto (raw-socket cannot bind a source), we run iputils' `ping -c1` instead: exit 0
// = a reply came back; the run is bounded and reaped by child.ts. Forking costs: in UML a Node
// process's fork took 30-140 ms, and a checker a second added up.
import { randomInt } from 'node:crypto';
import type rawSocket from '@neuralegion/raw-socket';
import { runCommand } from '../track/child.js';
import { fail, settleOnce, success, type Target } from './common.js';
import type { CancelSignal, Probe, ProbeResult } from './scheduler.js';

export const PING = '/usr/bin/ping';

export function pingArgs(t: Target): string[] {
  const secs = Math.max(0.001, t.connectTimeoutMs / 1000);
  const args = [t.family === 6 ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', secs.toFixed(3)];
  if (t.localAddress) args.push('-I', t.localAddress);
  args.push(t.host);
  return args;
}

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_MARK = 36;

/** RFC 1071 checksum (ICMPv4; the kernel computes ICMPv6's on a raw socket). */
function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface PingOptions {
  /** fwmark: SO_MARK on the probe's socket */
  readonly mark?: number;
  /** bind_if: SO_BINDTODEVICE */
  readonly device?: string;
}

/**
 * One echo on a raw ICMP socket; undefined when no raw socket can be had (the caller runs ping).
 * A raw socket sees every ICMP message of the host: only an echo reply with our identifier and
 * sequence counts; anything else is let pass until the timeout.
 */
function rawEcho(raw: typeof rawSocket, t: Target, signal: CancelSignal, o: PingOptions): Promise<ProbeResult> | undefined {
  const v6 = t.family === 6;
  let sock: rawSocket.Socket;
  try {
    sock = raw.createSocket({
      protocol: v6 ? raw.Protocol.ICMPv6 : raw.Protocol.ICMP,
      addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
    });
  } catch {
    return undefined;
  }
  const setBuf = sock.setOption as unknown as (l: number, o: number, v: Buffer | number, len?: number) => void;
  try {
    if (o.mark !== undefined) setBuf.call(sock, SOL_SOCKET, SO_MARK, o.mark);
    if (o.device) {
      const dev = Buffer.from(`${o.device}\0`);
      setBuf.call(sock, SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
    }
  } catch (e) {
    sock.close();
    return Promise.resolve(fail(`cannot set ${o.mark !== undefined ? 'fwmark' : 'bind_if'} (${(e as Error).message})`));
  }
  const id = randomInt(0, 0x10000);
  const seq = randomInt(0, 0x10000);
  const req = Buffer.alloc(8 + 56);
  req[0] = v6 ? 128 : 8; // echo request
  req.writeUInt16BE(id, 4);
  req.writeUInt16BE(seq, 6);
  if (!v6) req.writeUInt16BE(checksum(req), 2);
  const host = t.host.replace(/%.*$/, '');
  return new Promise((resolve) => {
    const release = () => {
      try {
        sock.close();
      } catch {
        /* closed */
      }
    };
    const finish = settleOnce<ProbeResult>(signal, t.connectTimeoutMs, () => fail('no echo reply'), release, resolve);
    if (!finish) return;
    sock.on('error', (e: Error) => finish(fail(`ICMP socket error (${e.message})`)));
    sock.on('message', (b: Buffer) => {
      // IPv4 raw sockets deliver the IP header too
      const off = v6 ? 0 : (b[0]! & 0x0f) * 4;
      if (b.length < off + 8 || b[off] !== (v6 ? 129 : 0)) return;
      if (b.readUInt16BE(off + 4) === id && b.readUInt16BE(off + 6) === seq) finish(success('echo reply'));
    });
    sock.send(req, 0, req.length, host, undefined, (err: Error | null) => {
      if (err) finish(fail(`send failed (${err.message})`));
    });
  });
}

// the addon loads with the first ICMP probe: a checker process without PING_CHECK never needs it
let rawLoaded: Promise<typeof rawSocket | undefined> | undefined;
const loadRaw = (): Promise<typeof rawSocket | undefined> =>
  (rawLoaded ??= import('@neuralegion/raw-socket').then(
    (m) => m.default,
    () => undefined,
  ));

export function pingProbe(t: Target, file = PING, o: PingOptions = {}): Probe {
  return async (signal) => {
    const raw = t.localAddress === undefined ? await loadRaw() : undefined;
    if (raw) {
      const r = rawEcho(raw, t, signal, o);
      if (r) return r;
    }
    const run = runCommand(
      { file, args: pingArgs(t), shell: false, line: `${file} ${pingArgs(t).join(' ')}` },
      {
        timeoutMs: t.connectTimeoutMs + 1000,
        killGraceMs: 200,
      },
    );
    const onAbort = () => run.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    const r = await run.result;
    signal.removeEventListener('abort', onAbort);
    if (r.kind === 'exit' && r.code === 0) return success('echo reply');
    if (r.kind === 'exit' && r.code === 1) return fail('no echo reply');
    if (r.kind === 'spawn-error') return fail(`cannot run ${file}: ${r.error ?? ''}`);
    if (r.kind === 'timeout') return fail('timeout');
    return fail(`ping failed (${r.kind} ${r.code ?? r.signal ?? ''})`);
  };
}
