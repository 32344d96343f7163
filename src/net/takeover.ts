// What a takeover puts on the wire and into the kernel: the advert, the virtual addresses, the
// gratuitous ARPs and unsolicited NAs. Two implementations of one interface:
//   - liveTransport sends them (the daemon's decisions);
//   - rehearsalTransport does all the same work (encoding, the IPv4 header, the netlink request,
//     the ARP / NA frames) and sends nothing: the advert and the frames are built and dropped, the
//     netlink request goes to interface index 0, which the kernel refuses (ENODEV) without a trace.
// The daemon's rehearsal (InstanceRunner.rehearse) runs the takeover's code with the second one so
// that V8 has compiled it before a real takeover; everything but the final send is shared.
import type { AddressSpec, LinkInfo, Rtnl } from './netlink.js';
import type { VrrpSocket } from './vrrp-socket.js';
import { buildGratuitousArp, type GarpSender } from './garp.js';
import { buildUnsolicitedNa, type NdiscSender } from './ndisc.js';
import { errnoFromError } from './errors.js';

export interface TakeoverTransport {
  /**
   * One VRRP message to `dst` on `socket`: bytes sent now, or undefined when the socket's queue
   * must take it (then queueAdvert). Throws a NetError.
   */
  trySendAdvert(socket: VrrpSocket, payload: Buffer, dst: string): number | undefined;
  /** The same through the socket's queue (a full socket buffer): resolves once it is sent. */
  queueAdvert(socket: VrrpSocket, payload: Buffer, dst: string): Promise<number>;
  /**
   * A virtual address, written before this returns when it can be (Rtnl.ensureAddressNow);
   * `onSent` once the request is written. Resolves true when it went as intended.
   */
  addAddress(rtnl: Rtnl, spec: AddressSpec, onSent?: () => void): Promise<boolean>;
  /** Another interface than the instance's (a VIP's `dev`), for its MAC and index. */
  link(rtnl: Rtnl, dev: string): Promise<LinkInfo | undefined>;
  /** One gratuitous ARP for `vip` from `mac` on `ifindex`; true when it was sent (to be logged). */
  gratuitousArp(garp: GarpSender | undefined, ifindex: number, vip: string, mac: string): boolean;
  /** One unsolicited NA for `vip` from `mac`; true when it was sent (to be logged). */
  unsolicitedNa(ndisc: () => Promise<NdiscSender | undefined>, vip: string, mac: string): Promise<boolean>;
}

export const liveTransport: TakeoverTransport = {
  trySendAdvert: (socket, payload, dst) => socket.trySend(payload, dst),
  queueAdvert: (socket, payload, dst) => socket.send(payload, dst),
  addAddress: (rtnl, spec, onSent) => rtnl.ensureAddressNow(spec, onSent),
  link: (rtnl, dev) => rtnl.getLink(dev).catch(() => undefined),
  gratuitousArp(garp, ifindex, vip, mac) {
    if (!garp) return false;
    garp.sendGratuitousArp(ifindex, vip, mac);
    return true;
  },
  async unsolicitedNa(ndisc, vip, mac) {
    const nd = await ndisc();
    if (!nd) return false;
    await nd.sendUnsolicitedNa(vip, mac).catch(() => undefined);
    return true;
  },
};

export const rehearsalTransport: TakeoverTransport = {
  // everything a send does but the sendto(2): the packet (IPv4 header included) is built
  trySendAdvert: (socket, payload, dst) => socket.prepareSend(payload, dst).packet.length,
  queueAdvert: (socket, payload, dst) => Promise.resolve(socket.prepareSend(payload, dst).packet.length),
  async addAddress(rtnl, spec, onSent) {
    try {
      await rtnl.ensureAddressNow({ ...spec, dev: 0 }, onSent);
      return false; // added?! cannot happen: there is no interface 0
    } catch (err) {
      return errnoFromError(err) === 'ENODEV';
    }
  },
  // asks the kernel nothing: a VIP on another interface is left out of the rehearsal
  link: () => Promise.resolve(undefined),
  gratuitousArp(garp, _ifindex, vip, mac) {
    if (garp) buildGratuitousArp(vip, mac);
    return false;
  },
  unsolicitedNa(_ndisc, vip, mac) {
    buildUnsolicitedNa(vip, mac);
    return Promise.resolve(false);
  },
};
