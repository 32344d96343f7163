// VRRP transport: one raw IP-protocol-112 socket per (interface, family).
//
// Public API:
//   VRRP_MCAST_V4 = '224.0.0.18', VRRP_MCAST_V6 = 'ff02::12', IPPROTO_VRRP = 112
//   class VrrpSocket extends EventEmitter
//     static open(opts: VrrpSocketOptions): Promise<VrrpSocket>
//         NetError "ENOCAP" without CAP_NET_RAW, "ENOIF" if the interface does not exist,
//         "EADDRNOTAVAIL" if no IPv4 source address can be found.
//     readonly ifname, ifindex, family, srcAddress (IPv4: the source we put in our headers;
//              IPv6: undefined, the kernel picks the interface's link-local), group
//     send(payload: Buffer, dst?: string): Promise<number>   dst defaults to the multicast group;
//     trySend(payload, dst?): number | undefined          the same when it can complete now;
//         payload is the VRRP message only (for IPv4 we add the IP header ourselves)
//     filterVrids(vrids): boolean                        kernel-side filter: only these VRIDs delivered
//     close(): void                                      idempotent; emits 'close'
//   Events: 'packet' (p: ReceivedPacket), 'error' (err: NetError), 'close' ()
//   (without an 'error' listener, errors become process warnings rather than crashes)
//   If the interface is deleted (e.g. a VMAC recreated), the bound socket receives nothing more:
//   the daemon reopens it on the monitor's 'link' event.
//
// How and why:
// - SO_BINDTODEVICE: the socket sees only its interface's packets, so `ifname` is known.
// - A multicast join is needed to receive anything; IP(V6)_MULTICAST_LOOP 0 so that our own
//   adverts do not come back to us.
// - IPv4 uses IP_HDRINCL: we write the header, so the source address is exactly mcast_src_ip /
//   unicast_src_ip (or the interface's primary address) for multicast AND unicast, the TTL is 255
//   (or unicast_ttl), and TOS is 0xc0 (internetwork control, as keepalived sends). The kernel fills
//   the total length, the id and the header checksum.
// - IPv6: IPV6_CHECKSUM at offset 6 makes the kernel fill the VRRPv3 checksum (pseudo-header
//   included) on send and drop bad ones on receive. Hop limit 255 by IPV6_MULTICAST_HOPS /
//   IPV6_UNICAST_HOPS. The IPv6 source cannot be chosen (no bind in raw-socket): the kernel uses
//   the interface's link-local, which is what VRRPv3 wants anyway.
// - raw-socket closes the fd of a garbage-collected socket and reuses one receive buffer: we keep
//   every open socket in a module-level set; a packet's bytes are lent to the 'packet' listeners
//   (decoded synchronously), not copied.
// - Receive: with the kts_vrrp_rx addon (vrrp-rx.ts), a second raw socket of the addon's, bound
//   and joined the same way, reads every queued packet in one batch per wake-up (recvmmsg);
//   raw-socket's socket then only sends (receive paused, a drop-all filter so that the kernel
//   queues nothing for it). Without the addon, raw-socket receives as before.
import { EventEmitter } from 'node:events';
import raw from '@neuralegion/raw-socket';
import { CAP_NET_RAW, assertCapabilities } from './capabilities.js';
import { NetError, emitNetError, toNetError } from './errors.js';
import { formatIp, parseIp, type Family } from './ipaddr.js';
import { formatIpv4 } from '../util/ip.js';
import { Rtnl } from './netlink.js';
import { drainOnReadable, sendNow } from './raw-direct.js';
import { attachVridFilter, vridFilterProgram } from './vrid-filter.js';
import { loadVrrpRxAddon, rxErrorCode, type RxHandle, type VrrpRxAddon } from './vrrp-rx.js';

export const IPPROTO_VRRP = 112;
export const VRRP_MCAST_V4 = '224.0.0.18';
export const VRRP_MCAST_V6 = 'ff02::12';

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IPPROTO_IPV6 = 41;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;

export interface VrrpSocketOptions {
  ifname: string;
  family: Family;
  /** multicast group to join and send to (mcast_dst_ip); default 224.0.0.18 / ff02::12;
   *  null: no join (unicast peers only) */
  group?: string | null;
  /** IPv4 source address (mcast_src_ip / unicast_src_ip); default the interface's primary
   *  (first non-secondary global) IPv4 address. Ignored for IPv6. */
  srcAddress?: string;
  /** TTL / hop limit of sent packets (unicast_ttl); default 255 as RFC 5798 requires */
  ttl?: number;
  /** receive buffer size passed to raw-socket (largest packet we can read), default 65535 */
  bufferSize?: number;
}

export interface ReceivedPacket {
  /** IPv4: the whole IP packet (header at 0, VRRP at payloadOffset); IPv6: the VRRP message
   *  only (the kernel strips the IPv6 header from raw sockets). Valid only during the 'packet'
   *  event (the socket's receive buffer, reused for the next packet): copy it to keep it. */
  data: Buffer;
  family: Family;
  /** where the VRRP message starts in `data` (IPv4: IHL x 4; IPv6: 0) */
  payloadOffset: number;
  srcAddress: string;
  /** IPv4: destination from the header; IPv6: undefined (not readable without recvmsg) */
  dstAddress?: string;
  /** receiving interface */
  ifname: string;
  /** IPv4: TTL from the header; IPv6: undefined (a raw socket cannot read the hop limit) */
  ttl?: number;
  receivedAtMs: number;
}

export interface VrrpSocket {
  on(event: 'packet', listener: (p: ReceivedPacket) => void): this;
  on(event: 'error', listener: (err: NetError) => void): this;
  on(event: 'close', listener: () => void): this;
  once(event: 'packet', listener: (p: ReceivedPacket) => void): this;
  once(event: 'error', listener: (err: NetError) => void): this;
  once(event: 'close', listener: () => void): this;
}

// Keeps every open raw socket reachable (see header: GC closes unreferenced sockets).
const liveSockets = new Set<VrrpSocket>();

function ipMreqn(group: Buffer, local: Buffer, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  group.copy(b, 0);
  local.copy(b, 4);
  b.writeInt32LE(ifindex, 8);
  return b;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}

/** Build the 20-byte IPv4 header we send with IP_HDRINCL. */
export function buildIpv4Header(src: Buffer, dst: Buffer, ttl: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45; // version 4, IHL 5
  h[1] = 0xc0; // TOS: internetwork control
  h.writeUInt16BE(20 + payloadLength, 2);
  h[8] = ttl;
  h[9] = IPPROTO_VRRP;
  src.copy(h, 12);
  dst.copy(h, 16);
  return h; // id 0 and checksum 0: the kernel fills both
}

export class VrrpSocket extends EventEmitter {
  readonly ifname: string;
  readonly ifindex: number;
  readonly family: Family;
  readonly srcAddress: string | undefined;
  readonly group: string | undefined;
  readonly ttl: number;
  private sock: raw.Socket | undefined;
  private readonly srcBytes: Buffer | undefined;
  /** the addon's receive socket (undefined: raw-socket receives) */
  private rx: { addon: VrrpRxAddon; h: RxHandle } | undefined;
  // the last source / destination seen and its string: a Backup hears one Master per VRID, so
  // most packets reuse the string instead of formatting one each
  private lastSrcKey = -1;
  private lastSrc = '';
  private lastSrc6: Buffer | undefined;
  private lastDstKey = -1;
  private lastDst = '';

  private constructor(opts: {
    ifname: string;
    ifindex: number;
    family: Family;
    src?: string;
    group?: string;
    ttl: number;
    sock: raw.Socket;
    rx?: { addon: VrrpRxAddon; h: RxHandle; bind(s: VrrpSocket): void };
  }) {
    super();
    this.ifname = opts.ifname;
    this.ifindex = opts.ifindex;
    this.family = opts.family;
    this.srcAddress = opts.src;
    this.srcBytes = opts.src ? parseIp(opts.src).bytes : undefined;
    this.group = opts.group;
    this.ttl = opts.ttl;
    this.sock = opts.sock;
    if (opts.rx) {
      this.rx = { addon: opts.rx.addon, h: opts.rx.h };
      opts.rx.bind(this);
    } else {
      opts.sock.on('message', (buf: Buffer, source: string) => this.onMessage(buf, source));
      drainOnReadable(opts.sock);
    }
    opts.sock.on('error', (err: Error) => emitNetError(this, toNetError(`VRRP socket ${this.ifname}/IPv${this.family}`, err)));
    liveSockets.add(this);
  }

  static async open(opts: VrrpSocketOptions): Promise<VrrpSocket> {
    const op = `open VRRP socket on ${opts.ifname} (IPv${opts.family})`;
    if (opts.family !== 4 && opts.family !== 6) throw new NetError('EBADARG', op, `family must be 4 or 6, not ${String(opts.family)}`);
    const ttl = opts.ttl ?? 255;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new NetError('EBADARG', op, `TTL ${ttl} outside 1..255`);
    assertCapabilities([CAP_NET_RAW], op);

    // Resolve the interface (and, for IPv4, the source address) before touching sockets.
    const rtnl = Rtnl.open();
    let ifindex: number;
    let src: string | undefined;
    try {
      ifindex = (await rtnl.getLink(opts.ifname)).index;
      if (opts.family === 4) {
        if (opts.srcAddress) {
          if (parseIp(opts.srcAddress).family !== 4) throw new NetError('EBADARG', op, `source ${opts.srcAddress} is not IPv4`);
          src = opts.srcAddress;
        } else {
          const addrs = await rtnl.listAddresses({ ifindex, family: 4 });
          const primary = addrs.find((a) => !a.secondary && a.scope === 'global') ?? addrs.find((a) => !a.secondary);
          if (!primary)
            throw new NetError(
              'EADDRNOTAVAIL',
              op,
              `interface ${opts.ifname} has no IPv4 address to send from (set mcast_src_ip / unicast_src_ip)`,
            );
          src = primary.address;
        }
      }
    } finally {
      rtnl.close();
    }

    const group = opts.group === null ? undefined : (opts.group ?? (opts.family === 4 ? VRRP_MCAST_V4 : VRRP_MCAST_V6));
    let groupBytes: Buffer | undefined;
    if (group !== undefined) {
      const g = parseIp(group);
      if (g.family !== opts.family) throw new NetError('EBADARG', op, `group ${group} is not IPv${opts.family}`);
      groupBytes = g.bytes;
    }

    let sock: raw.Socket;
    try {
      sock = raw.createSocket({
        protocol: IPPROTO_VRRP,
        addressFamily: opts.family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
        bufferSize: opts.bufferSize ?? 65535,
      });
    } catch (err) {
      throw toNetError(op, err);
    }
    const setopt = (level: number, option: number, value: Buffer | number, what: string): void => {
      try {
        if (Buffer.isBuffer(value))
          (sock.setOption as unknown as (l: number, o: number, v: Buffer, len: number) => void).call(
            sock,
            level,
            option,
            value,
            value.length,
          );
        else sock.setOption(level, option, value);
      } catch (err) {
        const e = toNetError(`${op}: ${what}`, err);
        throw e.code === 'ENODEV' ? new NetError('ENOIF', op, `no such interface: ${opts.ifname}`, { cause: err }) : e;
      }
    };
    try {
      setopt(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(opts.ifname + '\0'), 'SO_BINDTODEVICE');
      if (opts.family === 4) {
        setopt(IPPROTO_IP, IP_HDRINCL, 1, 'IP_HDRINCL');
        setopt(IPPROTO_IP, IP_TTL, ttl, 'IP_TTL');
        setopt(IPPROTO_IP, IP_MULTICAST_TTL, ttl, 'IP_MULTICAST_TTL');
        setopt(IPPROTO_IP, IP_MULTICAST_LOOP, 0, 'IP_MULTICAST_LOOP');
        setopt(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn(Buffer.alloc(4), parseIp(src as string).bytes, ifindex), 'IP_MULTICAST_IF');
        if (groupBytes) setopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(groupBytes, Buffer.alloc(4), ifindex), `join ${group}`);
      } else {
        setopt(IPPROTO_IPV6, IPV6_CHECKSUM, 6, 'IPV6_CHECKSUM');
        setopt(IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, 'IPV6_UNICAST_HOPS');
        setopt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl, 'IPV6_MULTICAST_HOPS');
        setopt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, 'IPV6_MULTICAST_LOOP');
        setopt(IPPROTO_IPV6, IPV6_MULTICAST_IF, int32(ifindex), 'IPV6_MULTICAST_IF');
        if (groupBytes) setopt(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, Buffer.concat([groupBytes, int32(ifindex)]), `join ${group}`);
      }
    } catch (err) {
      try {
        sock.close();
      } catch {
        /* ignore */
      }
      throw err;
    }
    const rx = openNativeRx(sock, opts.family, ifindex, opts.ifname, groupBytes);
    return new VrrpSocket({ ifname: opts.ifname, ifindex, family: opts.family, src, group, ttl, sock, rx });
  }

  /** Send a VRRP message to `dst` (default: the multicast group). Resolves with bytes sent. */
  send(payload: Buffer, dst?: string): Promise<number> {
    try {
      const sent = this.trySend(payload, dst);
      if (sent !== undefined) return Promise.resolve(sent);
      // the socket buffer is full: raw-socket's queue waits for writability
      const { sock, packet, target, op } = this.prepareSend(payload, dst);
      return this.queueSend(sock, packet, target, op);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * send(), when it can complete now: bytes sent, or undefined when the socket's queue must take
   * it (call send()). Throws a NetError. The daemon uses it to know that a takeover advert is on
   * the wire before it adds the VIPs, without waiting for a promise.
   */
  trySend(payload: Buffer, dst?: string): number | undefined {
    const { sock, packet, target, op } = this.prepareSend(payload, dst);
    try {
      return sendNow(sock, packet, target);
    } catch (err) {
      throw toNetError(op, err);
    }
  }

  /**
   * Everything a send does but the sendto(2): the open socket, the packet for `dst` (default: the
   * group) and the operation's name; throws a NetError. The daemon's rehearsal runs it on its own
   * (rehearsalTransport in takeover.ts), so that it is compiled before a takeover.
   */
  prepareSend(payload: Buffer, dst?: string): { sock: raw.Socket; packet: Buffer; target: string; op: string } {
    const to = dst ?? this.group;
    const op = `send VRRP on ${this.ifname} to ${to ?? '(none)'}`;
    const sock = this.sock;
    if (!sock) throw new NetError('EBADF', op, 'socket is closed');
    if (!to) throw new NetError('EBADARG', op, 'no destination: the socket has no multicast group');
    try {
      return { sock, op, ...this.buildPacket(payload, to, op) };
    } catch (err) {
      throw toNetError(op, err);
    }
  }

  private queueSend(sock: raw.Socket, packet: Buffer, target: string, op: string): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        sock.send(packet, 0, packet.length, target, (err: Error | null, bytes: number) => {
          if (err) reject(toNetError(op, err));
          else resolve(bytes);
        });
      } catch (err) {
        reject(toNetError(op, err));
      }
    });
  }

  /** What send() puts on the wire (the IPv4 header added) and where; throws a NetError. */
  buildPacket(payload: Buffer, to: string, op = 'build VRRP packet'): { packet: Buffer; target: string } {
    const d = parseIp(to);
    // A zone ("fe80::1%eth0") is dropped: the socket is bound to its interface, which the
    // kernel uses as the scope of link-local destinations.
    const target = formatIp(d.bytes);
    if (d.family !== this.family) throw new NetError('EBADARG', op, `destination ${to} is not IPv${this.family}`);
    const packet =
      this.family === 4 ? Buffer.concat([buildIpv4Header(this.srcBytes as Buffer, d.bytes, this.ttl, payload.length), payload]) : payload;
    return { packet, target };
  }

  /**
   * Let the kernel deliver only adverts of these VRIDs (a classic BPF filter, see vrid-filter.ts);
   * replaces the previous filter. False when the addon cannot build one (every VRID is delivered).
   */
  filterVrids(vrids: Iterable<number>): boolean {
    if (!this.sock) return false;
    try {
      if (this.rx) {
        this.rx.addon.setFilter(this.rx.h, vridFilterProgram(this.family, vrids));
        return true;
      }
      return attachVridFilter(this.sock, this.family, vrids);
    } catch (err) {
      throw toNetError(`filter VRIDs on ${this.ifname} (IPv${this.family})`, err);
    }
  }

  close(): void {
    const s = this.sock;
    if (!s) return;
    this.sock = undefined;
    liveSockets.delete(this);
    const rx = this.rx;
    this.rx = undefined;
    if (rx) rx.addon.close(rx.h);
    try {
      s.close();
    } catch {
      /* already closed */
    }
    this.emit('close');
  }

  get closed(): boolean {
    return this.sock === undefined;
  }

  /** true when the kts_vrrp_rx addon receives for this socket (batches), false: raw-socket */
  get nativeReceive(): boolean {
    return this.rx !== undefined;
  }

  /** A batch from the addon: `count` packets in the handle's buffers (see vrrp-rx.ts). Internal. */
  onRxBatch(count: number): void {
    const rx = this.rx;
    if (!rx) return;
    if (count < 0) {
      emitNetError(this, new NetError(rxErrorCode(count), `receive on VRRP socket ${this.ifname}/IPv${this.family}`, rxErrorCode(count)));
      return;
    }
    const { data, lens, srcs, slot } = rx.h;
    for (let i = 0; i < count && this.rx; i++) {
      const at = i * slot;
      const pkt = data.subarray(at, at + lens.readUInt32LE(i * 4));
      const s = i * 16;
      let src: string;
      if (this.family === 4) {
        const key = srcs.readUInt32BE(s);
        if (key !== this.lastSrcKey) {
          this.lastSrcKey = key;
          this.lastSrc = formatIpv4(srcs, s);
        }
        src = this.lastSrc;
      } else {
        const b = srcs.subarray(s, s + 16);
        if (!this.lastSrc6?.equals(b)) {
          this.lastSrc6 = Buffer.from(b);
          this.lastSrc = formatIp(b);
        }
        src = this.lastSrc;
      }
      this.deliver(pkt, src, true);
    }
  }

  private onMessage(buf: Buffer, source: string): void {
    this.deliver(buf, source, false);
  }

  /** `canonical`: `source` is already in formatIp's form (the addon's bytes), not raw-socket's text. */
  private deliver(buf: Buffer, source: string, canonical: boolean): void {
    const receivedAtMs = Date.now();
    // No copy: raw-socket reuses its receive buffer for the next packet, but that packet is read
    // only after this synchronous emit returns, and every listener (the daemon's decode) is done
    // with `data` by then (see ReceivedPacket.data). A Backup of 200 instances receives 200 a second.
    const data = buf;
    if (this.family === 4) {
      if (data.length < 20 || data[0]! >> 4 !== 4) return; // not an IPv4 packet: ignore
      const ihl = (data[0]! & 0x0f) * 4;
      if (ihl < 20 || ihl > data.length) return;
      // recvfrom's source of a raw IPv4 socket is the header's source: raw-socket has made that string already
      const dkey = data.readUInt32BE(16);
      if (dkey !== this.lastDstKey) {
        this.lastDstKey = dkey;
        this.lastDst = formatIpv4(data, 16);
      }
      this.emit('packet', {
        data,
        family: 4,
        payloadOffset: ihl,
        srcAddress: source,
        dstAddress: this.lastDst,
        ifname: this.ifname,
        ttl: data[8],
        receivedAtMs,
      } satisfies ReceivedPacket);
    } else {
      let src = source;
      if (!canonical) {
        try {
          src = formatIp(parseIp(source).bytes);
        } catch {
          /* keep as given */
        }
      }
      this.emit('packet', {
        data,
        family: 6,
        payloadOffset: 0,
        srcAddress: src,
        ifname: this.ifname,
        receivedAtMs,
      } satisfies ReceivedPacket);
    }
  }
}

/**
 * The addon's receive socket for a VrrpSocket about to be made, or undefined (no addon, or it
 * could not open one: raw-socket then receives). raw-socket's own socket stops receiving: its
 * read is paused and a filter that accepts nothing keeps the kernel from queueing for it.
 */
function openNativeRx(
  sock: raw.Socket,
  family: Family,
  ifindex: number,
  ifname: string,
  group: Buffer | undefined,
): { addon: VrrpRxAddon; h: RxHandle; bind(s: VrrpSocket): void } | undefined {
  const addon = loadVrrpRxAddon();
  if (!addon) return undefined;
  let target: VrrpSocket | undefined;
  let h: RxHandle;
  try {
    h = addon.open(family, ifindex, ifname, group ?? null, (n) => target?.onRxBatch(n));
  } catch {
    return undefined;
  }
  try {
    attachVridFilter(sock, family, []);
  } catch {
    /* paused anyway: its queue fills and the kernel drops the rest */
  }
  (sock as unknown as { pauseRecv(): void }).pauseRecv();
  return {
    addon,
    h,
    bind(s) {
      target = s;
    },
  };
}

/** Number of VRRP sockets currently open in this process (for tests and diagnostics). */
export function openVrrpSocketCount(): number {
  return liveSockets.size;
}
