// Gratuitous ARP, sent at the Ethernet level through the kts_packet N-API addon (native/).
//
// Public API:
//   buildGratuitousArp(vip: string, srcMac: string | Uint8Array): Buffer
//       ARP request form (RFC 5227 "ARP announcement" style but with target MAC ff:ff:ff:ff:ff:ff,
//       which is what neighbours and tshark treat as a gratuitous ARP): sender = target = VIP,
//       Ethernet destination broadcast, source the interface MAC or the VMAC. Padded to the
//       60-byte Ethernet minimum.
//   loadPacketAddon(): PacketAddon            NetError "ENOADDON" with the build command if missing
//   class GarpSender
//     static open(): GarpSender               NetError "ENOCAP" without CAP_NET_RAW
//     sendGratuitousArp(ifindex: number, vip: string, srcMac: string | Uint8Array): number  (bytes)
//     sendFrame(ifindex: number, frame: Buffer): number
//     close(): void
//   Sends are synchronous (one sendto, a few microseconds); errors are NetErrors with the errno.
//   keepalived's garp_master_delay / garp_master_repeat / garp_interval timing belongs to the
//   caller (the daemon); this module sends one frame per call.
import { loadNativeAddon } from '../util/native-addon.js';
import { CAP_NET_RAW, assertCapabilities } from './capabilities.js';
import { NetError, toNetError } from './errors.js';
import { parseIp, parseMac } from './ipaddr.js';

export interface PacketAddon {
  open(): number;
  send(fd: number, ifindex: number, frame: Buffer): number;
  close(fd: number): void;
  ifindex(name: string): number;
  /** a struct sock_fprog for these BPF instructions (see native/packet_socket.c); absent in an old build */
  sockFprog?(program: Buffer): Buffer;
}

const ETH_P_ARP = 0x0806;
const ETH_P_IP = 0x0800;
const ETH_MIN_FRAME = 60;
const BROADCAST_MAC = Buffer.alloc(6, 0xff);

export function buildGratuitousArp(vip: string, srcMac: string | Uint8Array): Buffer {
  const ip = parseIp(vip);
  if (ip.family !== 4) throw new NetError('EBADARG', 'buildGratuitousArp', `${vip} is not an IPv4 address (use unsolicited NA for IPv6)`);
  const mac = typeof srcMac === 'string' ? parseMac(srcMac) : Buffer.from(srcMac);
  if (mac.length !== 6) throw new NetError('EBADARG', 'buildGratuitousArp', 'source MAC must be 6 bytes');
  const f = Buffer.alloc(ETH_MIN_FRAME);
  BROADCAST_MAC.copy(f, 0); // Ethernet destination
  mac.copy(f, 6); // Ethernet source
  f.writeUInt16BE(ETH_P_ARP, 12);
  f.writeUInt16BE(1, 14); // hardware type Ethernet
  f.writeUInt16BE(ETH_P_IP, 16); // protocol type IPv4
  f[18] = 6; // hardware address length
  f[19] = 4; // protocol address length
  f.writeUInt16BE(1, 20); // opcode request
  mac.copy(f, 22); // sender MAC
  ip.bytes.copy(f, 28); // sender IP = VIP
  BROADCAST_MAC.copy(f, 32); // target MAC
  ip.bytes.copy(f, 38); // target IP = VIP
  return f;
}

let addon: PacketAddon | undefined;

/** The built addon (native/packet_socket.c); KTS_PACKET_ADDON, when set, is the only place
 *  looked at (packaging override). */
export function loadPacketAddon(): PacketAddon {
  if (addon) return addon;
  const r = loadNativeAddon<PacketAddon>('kts_packet', 'KTS_PACKET_ADDON');
  if ('addon' in r) {
    addon = r.addon;
    return addon;
  }
  if ('broken' in r)
    throw new NetError(
      'ENOADDON',
      'load kts_packet addon',
      `${r.broken} exists but does not load: ${r.error.message}. Rebuild it with \`npm run install\``,
      {
        cause: r.error,
      },
    );
  throw new NetError(
    'ENOADDON',
    'load kts_packet addon',
    `the native addon is not built (looked in ${r.missing.join(', ')}). Build it with \`npm run install\` (node-gyp rebuild --directory=native; needs a C compiler, make and python3)`,
  );
}

// A GarpSender dropped without close() must not leak its fd (the daemon may create and drop
// senders across reloads): close it when the object is collected.
const fdCleanup = new FinalizationRegistry<{ addon: PacketAddon; fd: number }>(({ addon: a, fd }) => {
  try {
    a.close(fd);
  } catch {
    /* already closed */
  }
});

export class GarpSender {
  private fd: number | undefined;
  private readonly addon: PacketAddon;

  private constructor(a: PacketAddon, fd: number) {
    this.addon = a;
    this.fd = fd;
    fdCleanup.register(this, { addon: a, fd }, this);
  }

  static open(): GarpSender {
    const op = 'open AF_PACKET socket for gratuitous ARP';
    const a = loadPacketAddon();
    assertCapabilities([CAP_NET_RAW], op);
    try {
      return new GarpSender(a, a.open());
    } catch (err) {
      throw toNetError(op, err);
    }
  }

  sendFrame(ifindex: number, frame: Buffer): number {
    const op = `send frame on ifindex ${ifindex}`;
    if (this.fd === undefined) throw new NetError('EBADF', op, 'socket is closed');
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw new NetError('EBADARG', op, 'ifindex must be a positive integer');
    try {
      return this.addon.send(this.fd, ifindex, frame);
    } catch (err) {
      const e = toNetError(op, err);
      throw e.code === 'ENXIO' || e.code === 'ENODEV' ? new NetError('ENOIF', op, `no such interface index ${ifindex}`, { cause: err }) : e;
    }
  }

  sendGratuitousArp(ifindex: number, vip: string, srcMac: string | Uint8Array): number {
    return this.sendFrame(ifindex, buildGratuitousArp(vip, srcMac));
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    fdCleanup.unregister(this);
    if (fd !== undefined) {
      try {
        this.addon.close(fd);
      } catch {
        /* already closed */
      }
    }
  }
}
