// Link and address events from rtnetlink multicast groups (LINK, IPV4_IFADDR, IPV6_IFADDR).
//
// netlink@0.3.0's high-level 'message' event drops the message type, so NEWADDR and DELADDR look
// alike: we listen on the underlying NetlinkSocket, which keeps the type, and parse each message
// with the library's rt.parseMessage(type, data).
//
// Public API:
//   class NetMonitor extends EventEmitter
//     static start(): Promise<NetMonitor>     subscribes, then seeds link state from a dump so the
//                                             first events are real transitions
//     links(): ReadonlyMap<number, LinkInfo>  last known state per ifindex
//     close(): void
//   Events (typed overloads below):
//     'linkUp'        (link: LinkInfo)                      became admin up AND carrier
//     'linkDown'      (link: LinkInfo, reason: LinkDownReason) lost admin up, carrier, or deleted
//     'link'          (link: LinkInfo, type: 'new' | 'del') every RTM_NEWLINK / RTM_DELLINK
//     'addressAdded'  (addr: MonitoredAddress)               RTM_NEWADDR
//     'addressRemoved'(addr: MonitoredAddress)               RTM_DELADDR
//     'error'         (err: NetError)   (without a listener: a process warning, never a crash)
//     'resync'        ()                after resync() (called by itself on ENOBUFS): state was
//                                        re-read, missed link transitions emitted; re-check addresses
//   A link counts as up when it is administratively up and has carrier (keepalived's view: either
//   one missing makes the interface faulty).
import { EventEmitter } from 'node:events';
// deep imports: see src/net/netlink.ts
import { createRtNetlink, type RtNetlinkSocket } from 'netlink/dist/rt/rt.js';
import * as rt from 'netlink/dist/rt/structs.js';
import type { NetlinkMessage } from 'netlink/dist/structs.js';
import { NetError, emitNetError, errnoFromError, toNetError } from './errors.js';
import { Rtnl, addressFromMessage, linkFromMessage, type AddressInfo, type LinkInfo } from './netlink.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;

export type LinkDownReason = 'admin' | 'carrier' | 'deleted';

export interface MonitoredAddress extends AddressInfo {
  /** interface name when the link is known */
  ifname?: string;
  receivedAtMs: number;
}

export interface NetMonitor {
  on(event: 'linkUp', listener: (link: LinkInfo) => void): this;
  on(event: 'linkDown', listener: (link: LinkInfo, reason: LinkDownReason) => void): this;
  on(event: 'link', listener: (link: LinkInfo, type: 'new' | 'del') => void): this;
  on(event: 'addressAdded' | 'addressRemoved', listener: (addr: MonitoredAddress) => void): this;
  on(event: 'error', listener: (err: NetError) => void): this;
  on(event: 'resync', listener: () => void): this;
  once(event: 'linkUp', listener: (link: LinkInfo) => void): this;
  once(event: 'linkDown', listener: (link: LinkInfo, reason: LinkDownReason) => void): this;
  once(event: 'addressAdded' | 'addressRemoved', listener: (addr: MonitoredAddress) => void): this;
}

export function isLinkUsable(l: Pick<LinkInfo, 'adminUp' | 'carrier'>): boolean {
  return l.adminUp && l.carrier;
}

export class NetMonitor extends EventEmitter {
  private sock: RtNetlinkSocket | undefined;
  private readonly state = new Map<number, LinkInfo>();

  private constructor(sock: RtNetlinkSocket) {
    super();
    this.sock = sock;
  }

  static async start(): Promise<NetMonitor> {
    let sock: RtNetlinkSocket;
    try {
      // ref: true keeps the socket (and the process) alive while we listen.
      sock = createRtNetlink({ ref: true, recvBufferSize: 1 << 20, sendBufferSize: 1 << 16 });
      sock.addMembership('LINK');
      sock.addMembership('IPV4_IFADDR');
      sock.addMembership('IPV6_IFADDR');
    } catch (err) {
      throw toNetError('start netlink monitor', err);
    }
    const mon = new NetMonitor(sock);
    sock.socket.on('message', (msgs: NetlinkMessage[]) => mon.handle(msgs));
    sock.socket.on('error', (err: Error) => {
      const e = toNetError('netlink monitor', err);
      // ENOBUFS: the kernel dropped notifications (socket buffer overrun); resynchronise.
      if (errnoFromError(err) === 'ENOBUFS') void mon.resync();
      emitNetError(mon, e);
    });
    // Seed link state after subscribing, so no transition falls between the dump and the events.
    const rtnl = Rtnl.open();
    try {
      for (const l of await rtnl.listLinks()) if (!mon.state.has(l.index)) mon.state.set(l.index, l);
    } catch (err) {
      mon.close();
      throw err;
    } finally {
      rtnl.close();
    }
    return mon;
  }

  links(): ReadonlyMap<number, LinkInfo> {
    return this.state;
  }

  /** Re-read every link and emit the transitions missed (after lost notifications); emits
   *  'resync' so that the daemon also re-checks its addresses. */
  async resync(): Promise<void> {
    const rtnl = Rtnl.open();
    try {
      const now = await rtnl.listLinks();
      const seen = new Set<number>();
      for (const l of now) {
        seen.add(l.index);
        this.onLink(l, false);
      }
      for (const [index, l] of [...this.state]) if (!seen.has(index)) this.onLink(l, true);
      this.emit('resync');
    } catch (err) {
      emitNetError(this, toNetError('netlink monitor resync', err));
    } finally {
      rtnl.close();
    }
  }

  close(): void {
    const s = this.sock;
    this.sock = undefined;
    if (s) {
      try {
        s.socket.close();
      } catch {
        /* already closed */
      }
    }
  }

  private handle(msgs: NetlinkMessage[]): void {
    const now = Date.now();
    for (const m of msgs) {
      try {
        if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) {
          this.onLink(linkFromMessage(rt.parseMessage(m.type, m.data) as rt.LinkMessage), m.type === RTM_DELLINK);
        } else if (m.type === RTM_NEWADDR || m.type === RTM_DELADDR) {
          const a = addressFromMessage(rt.parseMessage(m.type, m.data) as rt.AddressMessage);
          if (!a) continue;
          const ev: MonitoredAddress = { ...a, ifname: this.state.get(a.ifindex)?.name, receivedAtMs: now };
          this.emit(m.type === RTM_NEWADDR ? 'addressAdded' : 'addressRemoved', ev);
        }
      } catch (err) {
        // A message we cannot parse must not kill the daemon: report and go on.
        emitNetError(this, toNetError(`parse netlink message type ${m.type}`, err));
      }
    }
  }

  private onLink(link: LinkInfo, deleted: boolean): void {
    const prev = this.state.get(link.index);
    // record first: a listener reading links() must see the state the event announces
    if (deleted) this.state.delete(link.index);
    else this.state.set(link.index, link);
    this.emit('link', link, deleted ? 'del' : 'new');
    if (deleted) {
      if (!prev || isLinkUsable(prev)) this.emit('linkDown', link, 'deleted');
      return;
    }
    const was = prev ? isLinkUsable(prev) : false;
    const now = isLinkUsable(link);
    if (now && !was) this.emit('linkUp', link);
    else if (!now && (was || !prev)) this.emit('linkDown', link, link.adminUp ? 'carrier' : 'admin');
  }
}
