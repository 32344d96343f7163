// Unsolicited IPv6 neighbour advertisements (RFC 4861 section 7.2.6), the IPv6 counterpart of
// gratuitous ARP, sent through a raw ICMPv6 socket (raw-socket, protocol 58).
//
// Public API:
//   buildUnsolicitedNa(target: string, mac: string | Uint8Array, opts?: { router?: boolean }): Buffer
//       ICMPv6 type 136, code 0, flags Override (+ Router if asked; never Solicited), the target
//       address, option 2 (target link-layer address) with the MAC. Checksum left 0: the kernel
//       always computes ICMPv6 checksums on raw sockets.
//   class NdiscSender
//     static open(ifname: string): Promise<NdiscSender>   ENOCAP / ENOIF as NetErrors
//     sendUnsolicitedNa(target: string, mac: string | Uint8Array, opts?): Promise<number>
//         to ff02::1 with hop limit 255 (receivers drop ND with any other hop limit)
//     close(): void
import raw from '@neuralegion/raw-socket';
import { CAP_NET_RAW, assertCapabilities } from './capabilities.js';
import { NetError, toNetError } from './errors.js';
import { parseIp, parseMac } from './ipaddr.js';
import { Rtnl } from './netlink.js';
import { sendNow } from './raw-direct.js';

const IPPROTO_ICMPV6 = 58;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IPV6 = 41;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
export const ALL_NODES = 'ff02::1';

const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_OVERRIDE = 0x20;

export function buildUnsolicitedNa(target: string, mac: string | Uint8Array, opts: { router?: boolean } = {}): Buffer {
  const t = parseIp(target);
  if (t.family !== 6) throw new NetError('EBADARG', 'buildUnsolicitedNa', `${target} is not an IPv6 address`);
  const m = typeof mac === 'string' ? parseMac(mac) : Buffer.from(mac);
  if (m.length !== 6) throw new NetError('EBADARG', 'buildUnsolicitedNa', 'MAC must be 6 bytes');
  const b = Buffer.alloc(32);
  b[0] = 136; // Neighbor Advertisement
  b[1] = 0;
  b[4] = NA_FLAG_OVERRIDE | (opts.router ? NA_FLAG_ROUTER : 0);
  t.bytes.copy(b, 8);
  b[24] = 2; // option: Target Link-Layer Address
  b[25] = 1; // length in units of 8 bytes
  m.copy(b, 26);
  return b;
}

// raw-socket closes garbage-collected sockets: keep open ones reachable.
const live = new Set<NdiscSender>();

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}

export class NdiscSender {
  readonly ifname: string;
  readonly ifindex: number;
  private sock: raw.Socket | undefined;

  private constructor(ifname: string, ifindex: number, sock: raw.Socket) {
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.sock = sock;
    // Errors surface through send(); an 'error' listener keeps EventEmitter from throwing.
    sock.on('error', () => undefined);
    live.add(this);
  }

  static async open(ifname: string): Promise<NdiscSender> {
    const op = `open ICMPv6 socket on ${ifname}`;
    assertCapabilities([CAP_NET_RAW], op);
    const rtnl = Rtnl.open();
    let ifindex: number;
    try {
      ifindex = (await rtnl.getLink(ifname)).index;
    } finally {
      rtnl.close();
    }
    let sock: raw.Socket;
    try {
      sock = raw.createSocket({ protocol: IPPROTO_ICMPV6, addressFamily: raw.AddressFamily.IPv6 });
      // Send-only: never read, so the receive side never fills.
      (sock as unknown as { pauseRecv?: () => void }).pauseRecv?.call(sock);
    } catch (err) {
      throw toNetError(op, err);
    }
    try {
      const setBuf = sock.setOption as unknown as (l: number, o: number, v: Buffer, len: number) => void;
      const dev = Buffer.from(ifname + '\0');
      setBuf.call(sock, SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
      sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
      sock.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
      sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
      setBuf.call(sock, IPPROTO_IPV6, IPV6_MULTICAST_IF, int32(ifindex), 4);
    } catch (err) {
      try {
        sock.close();
      } catch {
        /* ignore */
      }
      throw toNetError(op, err);
    }
    return new NdiscSender(ifname, ifindex, sock);
  }

  sendUnsolicitedNa(target: string, mac: string | Uint8Array, opts: { router?: boolean } = {}): Promise<number> {
    const op = `send unsolicited NA for ${target} on ${this.ifname}`;
    const sock = this.sock;
    if (!sock) return Promise.reject(new NetError('EBADF', op, 'socket is closed'));
    let pkt: Buffer;
    try {
      pkt = buildUnsolicitedNa(target, mac, opts);
    } catch (err) {
      return Promise.reject(toNetError(op, err));
    }
    try {
      const sent = sendNow(sock, pkt, ALL_NODES); // now, not a loop turn later (raw-direct.ts)
      if (sent !== undefined) return Promise.resolve(sent);
    } catch (err) {
      return Promise.reject(toNetError(op, err));
    }
    return new Promise((resolve, reject) => {
      try {
        sock.send(pkt, 0, pkt.length, ALL_NODES, (err: Error | null, bytes: number) =>
          err ? reject(toNetError(op, err)) : resolve(bytes),
        );
      } catch (err) {
        reject(toNetError(op, err));
      }
    });
  }

  close(): void {
    const s = this.sock;
    this.sock = undefined;
    live.delete(this);
    if (s) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}
