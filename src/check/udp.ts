// UDP_CHECK and DNS_CHECK: a connected datagram socket, so that the kernel reports an ICMP error
// (port/host/net unreachable) for the real server as an 'error' event (ECONNREFUSED...).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { setUdpSocketOptions } from '../net/tcp-connect.js';
import { addonFor, fail, settleOnce, startFailure, success, type Target } from './common.js';
import type { Probe, ProbeResult, CancelSignal } from './scheduler.js';

/**
 * Send one datagram and wait for the first reply that `accept` does not reject (undefined =
 * keep waiting, a result = done). Silence until the connect_timeout gives `onSilence`.
 */
function exchange(
  t: Target,
  signal: CancelSignal,
  payload: Buffer,
  accept: (msg: Buffer) => ProbeResult | undefined,
  onSilence: () => ProbeResult,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(fail('aborted'));
    let s: UdpSocket | undefined;
    const release = () => {
      try {
        s?.close();
      } catch {
        /* already closed */
      }
    };
    const finish = settleOnce<ProbeResult>(signal, t.connectTimeoutMs, onSilence, release, resolve)!;
    s = createSocket(t.family === 6 ? 'udp6' : 'udp4');
    s.on('error', (e: NodeJS.ErrnoException) =>
      finish(fail(e.code === 'ECONNREFUSED' ? 'ICMP port unreachable' : `socket error (${e.code ?? e.message})`)),
    );
    s.on('message', (m) => {
      const r = accept(m);
      if (r) finish(r);
    });
    // fwmark / bind_if: set through the kts_connect addon on the bound socket, before the connect
    // (which picks the route); without the addon they are not set (index.ts warns)
    const a = addonFor(t, false);
    const go = () => {
      if (a) {
        try {
          setUdpSocketOptions(a, s, t.mark, t.device);
        } catch (e) {
          return finish(startFailure(e));
        }
      }
      // a connect that fails at once (ENETUNREACH: no route) is given to this callback, not to
      // 'error'; sending then on the unconnected socket would throw (no port) and end the process
      s.connect(t.port, t.host, (ce?: Error) => {
        if (ce) return finish(fail(`socket error (${(ce as NodeJS.ErrnoException).code ?? ce.message})`));
        s.send(payload, (e) => {
          if (e) finish(fail(`send failed (${(e as NodeJS.ErrnoException).code ?? e.message})`));
        });
      });
    };
    if (a || t.localAddress !== undefined || t.localPort !== undefined) s.bind({ address: t.localAddress, port: t.localPort ?? 0 }, go);
    else go();
  });
}

/** require_reply HEX, validated: hex digits, X for a wildcard nibble, whole bytes. */
export function checkReplyPattern(hex: string): string | undefined {
  const h = hex.replace(/\s+/g, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-FxX]*$/.test(h)) return `require_reply "${hex}" is not hex bytes (X for any nibble)`;
  return undefined;
}

function nibbleMatch(pattern: string, byte: number): boolean {
  const hex = byte.toString(16).padStart(2, '0');
  return [0, 1].every((k) => /x/i.test(pattern[k]!) || pattern[k]!.toLowerCase() === hex[k]);
}

export interface UdpCheckOptions {
  /** payload HEX (default: keepalived's 32 filler bytes, DEFAULT_UDP_PAYLOAD) */
  readonly payload?: Buffer;
  /** require_reply [HEX]: undefined = silence is success */
  readonly requireReply?: string;
  readonly minReplyLength: number;
  readonly maxReplyLength: number;
}

/** What keepalived sends without `payload`: 32 bytes of "keepalived check - " repeated (a
 *  server that logs or filters probes sees the same datagram from us). */
export const DEFAULT_UDP_PAYLOAD = Buffer.from('keepalived check - '.repeat(2).slice(0, 32), 'latin1');

export function udpProbe(t: Target, o: UdpCheckOptions): Probe {
  const payload = o.payload ?? DEFAULT_UDP_PAYLOAD;
  const pattern = (o.requireReply ?? '').replace(/\s+/g, '');
  return (signal) =>
    exchange(
      t,
      signal,
      payload,
      (m) => {
        if (o.requireReply === undefined) return success('reply received');
        if (m.length < o.minReplyLength || m.length > o.maxReplyLength) {
          return fail(`reply length ${m.length} outside ${o.minReplyLength}..${o.maxReplyLength}`);
        }
        const n = Math.min(m.length, pattern.length / 2);
        for (let i = 0; i < n; i++) {
          if (!nibbleMatch(pattern.slice(i * 2, i * 2 + 2), m[i]!)) return fail(`reply does not match at byte ${i}`);
        }
        return success('reply matches');
      },
      () => (o.requireReply === undefined ? success('no ICMP error') : fail('no reply')),
    );
}

/** DNS type names keepalived accepts */
export const DNS_TYPES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DS: 43,
  RRSIG: 46,
  DNSKEY: 48,
  PTR: 12,
  HINFO: 13,
};

export function dnsQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4); // QDCOUNT
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2); // IN
  return Buffer.concat([h, qname, q]);
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/**
 * DNS_CHECK: one query; success = a reply with our id, QR set and RCODE 0. As keepalived does, a
 * reply with another id, without QR or too short is ignored and the wait goes on: it ends as a
 * read timeout (the reason says what was ignored).
 */
export function dnsProbe(t: Target, name: string, type: number, nextId: () => number = () => randomInt(0, 0x10000)): Probe {
  return (signal) => {
    const id = nextId();
    let ignored = '';
    return exchange(
      t,
      signal,
      dnsQuery(id, name, type),
      (m) => {
        if (m.length < 12) {
          ignored = `a ${m.length}-byte reply`;
          return undefined;
        }
        if (m.readUInt16BE(0) !== id) {
          ignored = `a reply with id ${m.readUInt16BE(0)}, not the query's ${id}`;
          return undefined;
        }
        const flags = m.readUInt16BE(2);
        if (!(flags & 0x8000)) {
          ignored = 'a message without the QR bit';
          return undefined;
        }
        const rcode = flags & 0xf;
        if (rcode !== 0) return fail(`read error occurred. (rcode = ${rcode}${RCODES[rcode] ? ` ${RCODES[rcode]}` : ''})`);
        return success('NOERROR');
      },
      () => fail(`read timeout from socket${ignored ? ` (ignored ${ignored})` : ''}`),
    );
  };
}
