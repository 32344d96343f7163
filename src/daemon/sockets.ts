// Shares VRRP sockets between instances: one raw socket per (interface, family, group or
// unicast source), incoming packets dispatched to the instance by VRID. The kernel drops the
// packets of a VRID no instance owns (a BPF filter per socket, kept to the registered VRIDs);
// without the addon they reach us and are counted, as keepalived counts them.
import { VrrpSocket, type ReceivedPacket } from '../net/vrrp-socket.js';
import type { IpFamily } from '../vrrp/types.js';

export interface PacketSink {
  onPacket(p: ReceivedPacket): void;
}

export interface SocketKey {
  ifname: string;
  family: IpFamily;
  /** multicast group, or null for unicast-only */
  group: string | null;
  /** IPv4 source (mcast_src_ip / unicast_src_ip), undefined: the interface's primary */
  srcAddress?: string;
  ttl?: number;
}

interface Entry {
  socket: VrrpSocket;
  sinks: Map<number, PacketSink>;
  /** a kernel VRID filter update is queued (one per burst of attaches, e.g. 200 at start) */
  refilter?: boolean;
}

/** Let the kernel deliver only the VRIDs registered on this socket (net/vrid-filter.ts): other
 *  clusters' adverts no longer wake the daemon. Without the addon every VRID is delivered and
 *  the unknown ones are counted here, as before. */
function queueRefilter(entry: Entry): void {
  if (entry.refilter) return;
  entry.refilter = true;
  queueMicrotask(() => {
    entry.refilter = false;
    if (entry.sinks.size === 0 || entry.socket.closed) return;
    try {
      entry.socket.filterVrids(entry.sinks.keys());
    } catch {
      /* unfiltered: counted as unknownVrid */
    }
  });
}

export class SocketHub {
  private readonly entries = new Map<string, Promise<Entry>>();
  /** packets for a VRID nobody here owns, per socket key */
  unknownVrid = 0;

  private static keyOf(k: SocketKey): string {
    return `${k.ifname}|${k.family}|${k.group ?? 'unicast'}|${k.srcAddress ?? ''}|${k.ttl ?? 255}`;
  }

  /** Register an instance for a VRID on a socket (opened on first use). */
  async attach(k: SocketKey, vrid: number, sink: PacketSink): Promise<VrrpSocket> {
    const key = SocketHub.keyOf(k);
    let p = this.entries.get(key);
    if (!p) {
      p = VrrpSocket.open({ ifname: k.ifname, family: k.family, group: k.group, srcAddress: k.srcAddress, ttl: k.ttl }).then((socket) => {
        const entry: Entry = { socket, sinks: new Map() };
        socket.on('packet', (pkt) => {
          const vrid = pkt.data[pkt.payloadOffset + 1];
          const sink = vrid === undefined ? undefined : entry.sinks.get(vrid);
          if (sink) sink.onPacket(pkt);
          else this.unknownVrid++;
        });
        // errors on receive are reported by the instance's send path; keep the emitter quiet
        socket.on('error', () => undefined);
        return entry;
      });
      this.entries.set(key, p);
      p.catch(() => this.entries.delete(key));
    }
    const entry = await p;
    entry.sinks.set(vrid, sink);
    queueRefilter(entry);
    return entry.socket;
  }

  /** Unregister `sink` for a VRID (only if it is still the registered one: a reload may have replaced it). */
  async detach(k: SocketKey, vrid: number, sink: PacketSink): Promise<void> {
    const key = SocketHub.keyOf(k);
    const p = this.entries.get(key);
    if (!p) return;
    try {
      const entry = await p;
      if (entry.sinks.get(vrid) === sink) entry.sinks.delete(vrid);
      if (entry.sinks.size === 0) {
        entry.socket.close();
        this.entries.delete(key);
      } else queueRefilter(entry);
    } catch {
      this.entries.delete(key);
    }
  }

  async closeAll(): Promise<void> {
    for (const p of this.entries.values()) {
      try {
        (await p).socket.close();
      } catch {
        /* never opened */
      }
    }
    this.entries.clear();
  }
}
