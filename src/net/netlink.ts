// rtnetlink for keepalived-ts: links, addresses, routes, rules, macvlan links.
// Built on netlink@0.3.0 (pinned); every call returns a promise and every failure is a NetError
// whose `code` is the kernel's errno name (EEXIST, EADDRNOTAVAIL, ESRCH, ENODEV, EPERM...).
//
// Public API:
//   class Rtnl
//     static open(): Rtnl                               one request socket (unreferenced: does not
//                                                        keep the event loop alive)
//     close(): void
//     listLinks(): Promise<LinkInfo[]>
//     getLink(nameOrIndex: string | number): Promise<LinkInfo>       NetError "ENOIF" if absent
//     setLinkUp(nameOrIndex, up: boolean): Promise<void>
//     listAddresses(filter?: { ifindex?: number; family?: 4 | 6 }): Promise<AddressInfo[]>
//     addAddress(spec: AddressSpec) / deleteAddress(spec: AddressSpec): Promise<void>
//     ensureAddress(spec, onSent?): Promise<boolean>    true if added, false if it was there (EEXIST)
//     ensureAddressNow(spec, onSent?): the same, written at once when it can be (takeover)
//     ensureAddressAbsent(spec): Promise<boolean>       true if deleted, false if absent (EADDRNOTAVAIL)
//     addRoute / deleteRoute / ensureRoute / ensureRouteAbsent (spec: RouteSpec)   absent = ESRCH
//     listRoutes(family: 4 | 6, table?: number): Promise<RouteInfo[]>
//     addRule / deleteRule / ensureRule / ensureRuleAbsent (spec: RuleSpec)        absent = ENOENT
//     listRules(family: 4 | 6): Promise<RuleInfo[]>
//     createMacvlan(spec: MacvlanSpec): Promise<void>  (used by vmac.ts)
//     deleteLink(nameOrIndex): Promise<void>
//   Names follow iproute2 / keepalived: scope host|link|site|global, route type blackhole etc.
// deep imports: the package's index loads every family it knows (nl80211's tables alone are 240 kB), ~0.2 s
import { createRtNetlink, type RtNetlinkSocket } from 'netlink/dist/rt/rt.js';
import * as rt from 'netlink/dist/rt/structs.js';
import { NetError, errnoFromError, toNetError } from './errors.js';
import { formatIp, formatMac, ipv4Broadcast, parseIp, parseMac, parsePrefix, type Family } from './ipaddr.js';
import { ROUTE_TYPES, routeTypeName, type RouteTypeName } from './route-types.js';

const AF_INET = 2;
const AF_INET6 = 10;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const REQUEST_TIMEOUT_MS = 2000;

export type ScopeName = 'global' | 'site' | 'link' | 'host' | 'nowhere';
const SCOPES: Record<ScopeName, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };
export function scopeNumber(s: ScopeName | number): number {
  if (typeof s === 'number') return s;
  const v = SCOPES[s];
  if (v === undefined) throw new NetError('EBADARG', 'scope', `unknown scope "${String(s)}"`);
  return v;
}
export function scopeName(n: number): ScopeName | number {
  return (Object.entries(SCOPES).find(([, v]) => v === n)?.[0] as ScopeName | undefined) ?? n;
}

export type { RouteTypeName } from './route-types.js';

/** keepalived marks its routes with its own protocol number (RTPROT_KEEPALIVED, 18). */
export const RTPROT_KEEPALIVED = 18;
export const RT_TABLE_MAIN = 254;

export interface LinkInfo {
  index: number;
  name: string;
  /** hardware address, "aa:bb:cc:dd:ee:ff", undefined for links without one */
  mac?: string;
  /** IFF_UP: administratively up */
  adminUp: boolean;
  /** carrier present (IFF_LOWER_UP / IFLA_CARRIER) */
  carrier: boolean;
  /** IFF_RUNNING (the kernel's operational "up") */
  running: boolean;
  /** IFLA_OPERSTATE: 6 = UP, 2 = DOWN, 0 = UNKNOWN ... */
  operstate?: number;
  /** names of the IFF_* flags set: "up", "broadcast", "multicast", "lowerUp"... */
  flags: string[];
  /** IFLA_INFO_KIND: "veth", "bridge", "macvlan"...; undefined for plain devices */
  kind?: string;
  mtu?: number;
  /** IFLA_LINK: the parent (e.g. of a macvlan) */
  parentIndex?: number;
  /** IFLA_MASTER */
  masterIndex?: number;
}

export interface AddressInfo {
  ifindex: number;
  family: Family;
  /** the local address ("192.0.2.10", "2001:db8::10") */
  address: string;
  prefixLength: number;
  scope: ScopeName | number;
  label?: string;
  broadcast?: string;
  /** for point-to-point: the peer address (IFA_ADDRESS when it differs from IFA_LOCAL) */
  peer?: string;
  secondary: boolean;
  /** all IFA_F_* flags by name (secondary, nodad, permanent, tentative, noprefixroute...) */
  flags: string[];
}

export interface AddressSpec {
  /** interface index or name */
  dev: number | string;
  /** "192.0.2.10", "192.0.2.10/24", "2001:db8::10/64"; default prefix /32 or /128 */
  address: string;
  /** overrides the prefix in `address` */
  prefixLength?: number;
  /** IPv4 broadcast: an address, or "auto" for the prefix's broadcast (ip's "brd +") */
  broadcast?: string;
  scope?: ScopeName | number;
  /** IPv4 label, e.g. "eth0:vip"; must start with the interface name (a kernel rule) */
  label?: string;
  /** IPv4 peer (point-to-point) */
  peer?: string;
  /** IFA_F_NOPREFIXROUTE: do not create the prefix route */
  noPrefixRoute?: boolean;
  /** IPv6: IFA_F_NODAD (keepalived sets it on VIPs: no duplicate address detection delay) */
  nodad?: boolean;
  /** preferred lifetime in seconds (0 = deprecated: never chosen as a source when another
   *  address fits); default forever */
  preferredLifetime?: number;
  /** valid lifetime in seconds; default forever */
  validLifetime?: number;
}

export interface RouteSpec {
  /** "198.51.100.0/24", "2001:db8:1::/48", "default"; for "default" give `family` */
  dst: string;
  family?: Family;
  /** gateway (keepalived's "via" / "gw") */
  via?: string;
  /** output interface */
  dev?: number | string;
  /** preferred source address (keepalived "src") */
  src?: string;
  /** routing table id (default main, 254) */
  table?: number;
  /** metric / priority */
  metric?: number;
  /** default: link for unicast routes without a gateway, global otherwise */
  scope?: ScopeName | number;
  type?: RouteTypeName;
  /** rtm_protocol, default RTPROT_KEEPALIVED (18) so our routes are recognisable */
  protocol?: number;
  /** RTNH_F_ONLINK: gateway reachable without a covering prefix */
  onlink?: boolean;
}

export interface RouteInfo {
  family: Family;
  dst: string;
  dstLength: number;
  table: number;
  type: RouteTypeName | number;
  scope: ScopeName | number;
  protocol: number;
  via?: string;
  oif?: number;
  src?: string;
  metric?: number;
}

export type RuleActionName = 'table' | 'goto' | 'blackhole' | 'unreachable' | 'prohibit';
const RULE_ACTIONS: Record<RuleActionName, number> = { table: 1, goto: 2, blackhole: 6, unreachable: 7, prohibit: 8 };

export interface RuleSpec {
  family: Family;
  /** "198.51.100.0/24" (keepalived "from") */
  from?: string;
  to?: string;
  table?: number;
  /** rule priority / preference */
  priority?: number;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  tos?: number;
  /** keepalived "not" */
  invert?: boolean;
  /** default "table" */
  action?: RuleActionName;
  /** for action "goto" */
  goto?: number;
}

export interface RuleInfo {
  family: Family;
  priority?: number;
  from?: string;
  to?: string;
  table: number;
  action: number;
  iif?: string;
  oif?: string;
  fwmark?: number;
  invert: boolean;
}

export interface MacvlanSpec {
  name: string;
  parent: number | string;
  mac: string;
  /** default "private" (keepalived's use_vmac mode) */
  mode?: 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';
  up?: boolean;
  /** IPv6 addrgenmode none: the kernel generates no link-local from the (shared) virtual MAC */
  ipv6AddrGenModeNone?: boolean;
}
const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

/** One nlattr (header + payload + padding). */
function nlattr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

/** Parse a stream of nlattrs into type -> payload (last one wins). */
export function parseNlattrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
    if (len < 4 || off + len > buf.length) break;
    out.set(type, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

function familyNumber(f: Family): number {
  return f === 4 ? AF_INET : AF_INET6;
}

function flagNames(obj: object | undefined): string[] {
  if (!obj) return [];
  return Object.entries(obj)
    .filter(([k, v]) => k !== '__unknown' && v === true)
    .map(([k]) => k);
}

export function linkFromMessage(m: rt.LinkMessage): LinkInfo {
  const f = m.data.flags ?? {};
  let kind: string | undefined;
  if (m.attrs.linkinfo) {
    const k = parseNlattrs(m.attrs.linkinfo).get(1); // IFLA_INFO_KIND
    if (k) kind = k.toString('utf8').replace(/\0+$/, '');
  }
  const link = m.attrs.link;
  const lowerUp = f.lowerUp === true;
  return {
    index: m.data.index ?? 0,
    name: m.attrs.ifname ?? '',
    mac: m.attrs.address && m.attrs.address.length === 6 ? formatMac(m.attrs.address) : undefined,
    adminUp: f.up === true,
    carrier: m.attrs.carrier !== undefined ? m.attrs.carrier !== 0 && f.up === true : lowerUp,
    running: f.running === true,
    operstate: m.attrs.operstate,
    flags: flagNames(f),
    kind,
    mtu: m.attrs.mtu,
    parentIndex: link && link.length >= 4 ? link.readUInt32LE(0) : undefined,
    masterIndex: m.attrs.master,
  };
}

export function addressFromMessage(m: rt.AddressMessage): AddressInfo | undefined {
  const fam = m.data.family === AF_INET ? 4 : m.data.family === AF_INET6 ? 6 : undefined;
  if (!fam) return undefined;
  const local = m.attrs.local ?? m.attrs.address;
  if (!local) return undefined;
  const headerFlags = flagNames(m.data.flags);
  const extFlags = flagNames(m.attrs.flags);
  const flags = [...new Set([...headerFlags, ...extFlags])];
  const peer = m.attrs.local && m.attrs.address && !m.attrs.local.equals(m.attrs.address) ? formatIp(m.attrs.address) : undefined;
  return {
    ifindex: m.data.index ?? 0,
    family: fam,
    address: formatIp(local),
    prefixLength: m.data.prefixlen ?? 0,
    scope: scopeName(m.data.scope ?? 0),
    label: m.attrs.label,
    broadcast: m.attrs.broadcast ? formatIp(m.attrs.broadcast) : undefined,
    peer,
    secondary: flags.includes('secondary'),
    flags,
  };
}

export class Rtnl {
  private sock: RtNetlinkSocket | undefined;
  private readonly linkCache = new Map<string, number>();

  private constructor(sock: RtNetlinkSocket) {
    this.sock = sock;
  }

  static open(): Rtnl {
    try {
      return new Rtnl(createRtNetlink());
    } catch (err) {
      throw toNetError('open rtnetlink socket', err);
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

  private get s(): RtNetlinkSocket {
    if (!this.sock) throw new NetError('EBADF', 'rtnetlink', 'socket is closed');
    return this.sock;
  }

  /** One request at a time: the kernel allows one dump per netlink socket (EBUSY otherwise). */
  private queue: Promise<unknown> = Promise.resolve();
  /** requests queued or in flight (0: a request may be written at once, see ensureAddressNow) */
  private pending = 0;

  private call<T>(op: string, fn: (s: RtNetlinkSocket) => Promise<T>, now = false): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        return await fn(this.s);
      } catch (err) {
        throw toNetError(op, err);
      }
    };
    this.pending++;
    // now: nothing queued, so fn() runs (and writes its request) before call() returns
    const p = now && this.pending === 1 ? run() : this.queue.then(run, run);
    const settled = p.then(
      () => {
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
    this.queue = settled;
    return p;
  }

  // ---- links ----

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.call('list links', (s) => s.getLinks(undefined, undefined, { timeout: REQUEST_TIMEOUT_MS }));
    const links = msgs.map(linkFromMessage);
    for (const l of links) this.linkCache.set(l.name, l.index);
    return links;
  }

  async getLink(dev: number | string): Promise<LinkInfo> {
    const links = await this.listLinks();
    const l = links.find((x) => (typeof dev === 'number' ? x.index === dev : x.name === dev));
    if (!l) throw new NetError('ENOIF', 'getLink', `no such interface: ${dev}`);
    return l;
  }

  /** Resolve an interface name to its index (NetError "ENOIF" if absent). Names are cached (a
   *  link dump costs ~0.35 ms, 5x an address add); a stale entry shows up as ENODEV, on which
   *  the callers below drop it and retry once. */
  async ifindex(dev: number | string): Promise<number> {
    if (typeof dev === 'number') return dev;
    const cached = this.linkCache.get(dev);
    if (cached !== undefined) return cached;
    return (await this.getLink(dev)).index;
  }

  /** Run fn; if it failed because a cached name pointed to a vanished interface, retry once. */
  private async retryStale<T>(devs: ReadonlyArray<number | string | undefined>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const code = errnoFromError(err);
      const names = devs.filter((d): d is string => typeof d === 'string' && this.linkCache.has(d));
      if ((code !== 'ENODEV' && code !== 'ENXIO') || names.length === 0) throw err;
      for (const n of names) this.linkCache.delete(n);
      return fn();
    }
  }

  async setLinkUp(dev: number | string, up: boolean): Promise<void> {
    await this.retryStale([dev], async () => {
      const index = await this.ifindex(dev);
      await this.call(`set link ${dev} ${up ? 'up' : 'down'}`, (s) =>
        s.setLink({ index, flags: up ? { up: true } : {}, change: { up: true } }, {}, { timeout: REQUEST_TIMEOUT_MS }),
      );
    });
  }

  async createMacvlan(spec: MacvlanSpec): Promise<void> {
    const parent = await this.ifindex(spec.parent);
    const mode = MACVLAN_MODES[spec.mode ?? 'private'];
    if (mode === undefined) throw new NetError('EBADARG', 'createMacvlan', `unknown macvlan mode ${spec.mode}`);
    // IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA { IFLA_MACVLAN_MODE u32 } }
    const linkinfo = Buffer.concat([nlattr(1, Buffer.from('macvlan\0')), nlattr(2 | 0x8000, nlattr(1, u32(mode)))]);
    // The kernel refuses IFLA_AF_SPEC in a create request (EAFNOSUPPORT, measured): create the
    // link down, set addrgenmode, then bring it up, so no link-local is ever derived.
    await this.call(`create macvlan ${spec.name} on ${spec.parent}`, (s) =>
      s.newLink(
        {},
        { ifname: spec.name, address: parseMac(spec.mac), link: u32(parent), linkinfo },
        { flags: NLM_F_CREATE | NLM_F_EXCL, timeout: REQUEST_TIMEOUT_MS },
      ),
    );
    if (spec.ipv6AddrGenModeNone) await this.setIpv6AddrGenModeNone(spec.name);
    if (spec.up) await this.setLinkUp(spec.name, true);
  }

  /** IPv6 addrgenmode none on a link (no automatic link-local); set it while the link is down. */
  async setIpv6AddrGenModeNone(dev: number | string): Promise<void> {
    const index = await this.ifindex(dev);
    // IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE (8): u8 IN6_ADDR_GEN_MODE_NONE (1) } }
    const afSpec = new Map([[AF_INET6, nlattr(8, Buffer.from([1]))]]);
    await this.call(`set addrgenmode none on ${dev}`, (s) => s.setLink({ index }, { afSpec }, { timeout: REQUEST_TIMEOUT_MS }));
  }

  async deleteLink(dev: number | string): Promise<void> {
    await this.retryStale([dev], async () => {
      const index = await this.ifindex(dev);
      await this.call(`delete link ${dev}`, (s) => s.delLink({ index }, {}, { timeout: REQUEST_TIMEOUT_MS }));
    });
    if (typeof dev === 'string') this.linkCache.delete(dev);
  }

  // ---- addresses ----

  async listAddresses(filter: { ifindex?: number; family?: Family } = {}): Promise<AddressInfo[]> {
    const msgs = await this.call('list addresses', (s) =>
      s.getAddresses(filter.family ? { family: familyNumber(filter.family) } : undefined, undefined, { timeout: REQUEST_TIMEOUT_MS }),
    );
    return msgs
      .map(addressFromMessage)
      .filter((a): a is AddressInfo => a !== undefined)
      .filter(
        (a) =>
          (filter.ifindex === undefined || a.ifindex === filter.ifindex) && (filter.family === undefined || a.family === filter.family),
      );
  }

  private async addressRequest(spec: AddressSpec): Promise<{ data: rt.Address; attrs: rt.AddressAttrs; text: string }> {
    // the address first: a bad one is reported as such, before a missing interface
    const prefix = addressPrefix(spec);
    return this.addressRequestFor(spec, await this.ifindex(spec.dev), prefix);
  }

  private addressRequestFor(
    spec: AddressSpec,
    index: number,
    { p, prefixLength } = addressPrefix(spec),
  ): { data: rt.Address; attrs: rt.AddressAttrs; text: string } {
    const attrs: rt.AddressAttrs = { local: p.bytes, address: p.bytes };
    if (spec.peer) {
      const peer = parseIp(spec.peer);
      if (peer.family !== p.family) throw new NetError('EBADARG', 'address', `peer ${spec.peer} is not of the address family`);
      attrs.address = peer.bytes;
    }
    if (p.family === 4 && spec.broadcast !== undefined) {
      attrs.broadcast = spec.broadcast === 'auto' ? ipv4Broadcast(p.bytes, prefixLength) : parseIp(spec.broadcast).bytes;
    }
    if (spec.label !== undefined) {
      if (p.family !== 4) throw new NetError('EBADARG', 'address', 'labels exist only for IPv4 addresses');
      if (spec.label.length > 15) throw new NetError('EBADARG', 'address', `label "${spec.label}" longer than 15 characters`);
      attrs.label = spec.label;
    }
    const flags: rt.AddressFlags = {};
    if (spec.noPrefixRoute) flags.noprefixroute = true;
    if (spec.nodad && p.family === 6) flags.nodad = true;
    if (Object.keys(flags).length) attrs.flags = flags;
    if (spec.preferredLifetime !== undefined || spec.validLifetime !== undefined) {
      const forever = 0xffffffff;
      attrs.cacheInfo = { ifaPrefered: spec.preferredLifetime ?? forever, ifaValid: spec.validLifetime ?? forever, cstamp: 0, tstamp: 0 };
    }
    const data: rt.Address = {
      family: familyNumber(p.family),
      prefixlen: prefixLength,
      scope: scopeNumber(spec.scope ?? 'global'),
      index,
    };
    return { data, attrs, text: `${formatIp(p.bytes)}/${prefixLength} dev ${spec.dev}` };
  }

  /**
   * `onSent`: called once the request is written. rtnetlink carries a request out inside the
   * sendmsg(2) that writes it, so from then on the address is in place (unless the ACK brings an
   * error); a caller may announce it without waiting a loop iteration for the ACK. (The write
   * is immediate: call() sends one request at a time, so the socket's queue is empty.)
   */
  async addAddress(spec: AddressSpec, onSent?: () => void): Promise<void> {
    await this.retryStale([spec.dev], async () => {
      const r = await this.addressRequest(spec);
      await this.call(`add address ${r.text}`, (s) => {
        const acked = s.newAddress(r.data, r.attrs, { flags: NLM_F_CREATE | NLM_F_EXCL, timeout: REQUEST_TIMEOUT_MS });
        onSent?.();
        return acked;
      });
    });
  }

  async deleteAddress(spec: AddressSpec): Promise<void> {
    await this.retryStale([spec.dev], () => this.deleteAddressOnce(spec));
  }

  private async deleteAddressOnce(spec: AddressSpec): Promise<void> {
    const r = await this.addressRequest(spec);
    // The kernel matches IPv4 deletions on IFA_LOCAL (+ label); sending only what identifies the
    // address avoids a mismatch on broadcast or flags.
    const attrs: rt.AddressAttrs = { local: r.attrs.local, address: r.attrs.address };
    if (r.attrs.label) attrs.label = r.attrs.label;
    await this.call(`delete address ${r.text}`, (s) => s.delAddress(r.data, attrs, { timeout: REQUEST_TIMEOUT_MS }));
  }

  async ensureAddress(spec: AddressSpec, onSent?: () => void): Promise<boolean> {
    return ensurePresent(() => this.addAddress(spec, onSent));
  }

  /**
   * ensureAddress, with the request written before this returns when it can be: the interface
   * given by index and no other request queued. The takeover uses it so that the VIP is in
   * place right after the advert, in the same turn of the event loop (keepalived's order), and
   * not after the microtask hops of the general path. Otherwise it is ensureAddress.
   */
  ensureAddressNow(spec: AddressSpec, onSent?: () => void): Promise<boolean> {
    if (typeof spec.dev !== 'number' || this.pending > 0 || !this.sock) return this.ensureAddress(spec, onSent);
    let r: ReturnType<Rtnl['addressRequestFor']>;
    try {
      r = this.addressRequestFor(spec, spec.dev);
    } catch (err) {
      return Promise.reject(err);
    }
    return ensurePresent(() =>
      this.call(
        `add address ${r.text}`,
        (s) => {
          const acked = s.newAddress(r.data, r.attrs, { flags: NLM_F_CREATE | NLM_F_EXCL, timeout: REQUEST_TIMEOUT_MS });
          onSent?.();
          return acked.then(() => undefined);
        },
        true,
      ),
    );
  }

  async ensureAddressAbsent(spec: AddressSpec): Promise<boolean> {
    return ensureAbsent(() => this.deleteAddress(spec), ['EADDRNOTAVAIL', 'ESRCH', 'ENOENT']);
  }

  // ---- routes ----

  private async routeRequest(spec: RouteSpec, forDelete: boolean): Promise<{ data: rt.Route; attrs: rt.RouteAttrs; text: string }> {
    let family: Family;
    let dstBytes: Buffer | undefined;
    let dstLen: number;
    if (spec.dst === 'default') {
      family = spec.family ?? (spec.via ? parseIp(spec.via).family : 4);
      dstLen = 0;
    } else {
      const p = parsePrefix(spec.dst);
      family = p.family;
      dstBytes = p.bytes;
      dstLen = p.prefixLength;
    }
    if (spec.family && spec.family !== family) throw new NetError('EBADARG', 'route', `family ${spec.family} does not match ${spec.dst}`);
    const table = spec.table ?? RT_TABLE_MAIN;
    const type = spec.type ? ROUTE_TYPES[spec.type] : forDelete ? 0 : ROUTE_TYPES.unicast;
    if (type === undefined) throw new NetError('EBADARG', 'route', `unknown route type ${spec.type}`);
    const attrs: rt.RouteAttrs = { table };
    if (dstBytes) attrs.dst = dstBytes;
    if (spec.via) {
      const g = parseIp(spec.via);
      if (g.family !== family) throw new NetError('EBADARG', 'route', `gateway ${spec.via} is not of the family of ${spec.dst}`);
      attrs.gateway = g.bytes;
    }
    if (spec.dev !== undefined) attrs.oif = await this.ifindex(spec.dev);
    if (spec.src) attrs.prefsrc = parseIp(spec.src).bytes;
    if (spec.metric !== undefined) attrs.priority = spec.metric;
    // Scope as iproute2 chooses it: link for direct unicast routes, host for local, universe else;
    // on delete "nowhere" matches any scope.
    const defaultScope = forDelete
      ? SCOPES.nowhere
      : type === ROUTE_TYPES.local
        ? SCOPES.host
        : type === ROUTE_TYPES.unicast && !spec.via
          ? SCOPES.link
          : SCOPES.global;
    const data: rt.Route = {
      family: familyNumber(family),
      dstLen,
      table: table < 256 ? table : 0,
      protocol: forDelete ? 0 : (spec.protocol ?? RTPROT_KEEPALIVED),
      scope: spec.scope !== undefined ? scopeNumber(spec.scope) : defaultScope,
      type,
    };
    const text = `${spec.type && spec.type !== 'unicast' ? spec.type + ' ' : ''}${spec.dst}${spec.via ? ' via ' + spec.via : ''}${spec.dev !== undefined ? ' dev ' + spec.dev : ''} table ${table}`;
    return { data, attrs, text };
  }

  async addRoute(spec: RouteSpec): Promise<void> {
    await this.retryStale([spec.dev], async () => {
      const r = await this.routeRequest(spec, false);
      if (spec.onlink) r.data.flags = { __unknown: 4 }; // RTNH_F_ONLINK in rtm_flags
      await this.call(`add route ${r.text}`, (s) =>
        s.newRoute(r.data, r.attrs, { flags: NLM_F_CREATE | NLM_F_EXCL, timeout: REQUEST_TIMEOUT_MS }),
      );
    });
  }

  /** Add or replace (ip route replace). */
  async replaceRoute(spec: RouteSpec): Promise<void> {
    await this.retryStale([spec.dev], async () => {
      const r = await this.routeRequest(spec, false);
      await this.call(`replace route ${r.text}`, (s) =>
        s.newRoute(r.data, r.attrs, { flags: NLM_F_CREATE | NLM_F_REPLACE, timeout: REQUEST_TIMEOUT_MS }),
      );
    });
  }

  async deleteRoute(spec: RouteSpec): Promise<void> {
    await this.retryStale([spec.dev], async () => {
      const r = await this.routeRequest(spec, true);
      await this.call(`delete route ${r.text}`, (s) => s.delRoute(r.data, r.attrs, { timeout: REQUEST_TIMEOUT_MS }));
    });
  }

  async ensureRoute(spec: RouteSpec): Promise<boolean> {
    return ensurePresent(() => this.addRoute(spec));
  }

  async ensureRouteAbsent(spec: RouteSpec): Promise<boolean> {
    return ensureAbsent(() => this.deleteRoute(spec), ['ESRCH', 'ENOENT']);
  }

  async listRoutes(family: Family, table?: number): Promise<RouteInfo[]> {
    const msgs = await this.call('list routes', (s) =>
      s.getRoutes({ family: familyNumber(family) }, undefined, { timeout: REQUEST_TIMEOUT_MS }),
    );
    const out: RouteInfo[] = [];
    for (const m of msgs) {
      const t = m.attrs.table ?? m.data.table ?? 0;
      if (table !== undefined && t !== table) continue;
      const typeNum =
        typeof m.data.type === 'number' ? m.data.type : ((rt.RouteType as unknown as Record<string, number>)[m.data.type ?? 'UNSPEC'] ?? 0);
      const scopeNum =
        typeof m.data.scope === 'number'
          ? m.data.scope
          : ((rt.RouteScope as unknown as Record<string, number>)[m.data.scope ?? 'UNIVERSE'] ?? 0);
      const protoNum =
        typeof m.data.protocol === 'number'
          ? m.data.protocol
          : ((rt.RouteProtocol as unknown as Record<string, number>)[m.data.protocol ?? 'UNSPEC'] ?? 0);
      out.push({
        family,
        dst: m.attrs.dst ? formatIp(m.attrs.dst) : 'default',
        dstLength: m.data.dstLen ?? 0,
        table: t,
        type: routeTypeName(typeNum) ?? typeNum,
        scope: scopeName(scopeNum),
        protocol: protoNum,
        via: m.attrs.gateway ? formatIp(m.attrs.gateway) : undefined,
        oif: m.attrs.oif,
        src: m.attrs.prefsrc ? formatIp(m.attrs.prefsrc) : undefined,
        metric: m.attrs.priority,
      });
    }
    return out;
  }

  // ---- rules ----

  private ruleRequest(spec: RuleSpec, forDelete: boolean): { data: rt.Rule; attrs: rt.RuleAttrs; text: string } {
    const attrs: rt.RuleAttrs = {};
    const data: rt.Rule = { family: familyNumber(spec.family), dstLen: 0, srcLen: 0, tos: spec.tos ?? 0 };
    const parts: string[] = [];
    for (const [key, v] of [
      ['from', spec.from],
      ['to', spec.to],
    ] as const) {
      if (v === undefined || v === 'all') continue;
      const p = parsePrefix(v);
      if (p.family !== spec.family) throw new NetError('EBADARG', 'rule', `${key} ${v} is not IPv${spec.family}`);
      if (key === 'from') {
        attrs.src = p.bytes;
        data.srcLen = p.prefixLength;
      } else {
        attrs.dst = p.bytes;
        data.dstLen = p.prefixLength;
      }
      parts.push(`${key} ${v}`);
    }
    const action = spec.action ?? (forDelete && spec.table === undefined ? undefined : 'table');
    if (action !== undefined) {
      const a = RULE_ACTIONS[action];
      if (a === undefined) throw new NetError('EBADARG', 'rule', `unknown rule action ${action}`);
      data.action = a;
    }
    if (spec.table !== undefined) {
      attrs.table = spec.table;
      data.table = spec.table < 256 ? spec.table : 0;
      parts.push(`table ${spec.table}`);
    }
    if (spec.priority !== undefined) {
      attrs.priority = spec.priority;
      parts.push(`priority ${spec.priority}`);
    }
    if (spec.iif) {
      attrs.iifname = spec.iif;
      parts.push(`iif ${spec.iif}`);
    }
    if (spec.oif) {
      attrs.oifname = spec.oif;
      parts.push(`oif ${spec.oif}`);
    }
    if (spec.fwmark !== undefined) {
      attrs.fwmark = spec.fwmark;
      parts.push(`fwmark ${spec.fwmark}`);
    }
    if (spec.fwmask !== undefined) attrs.fwmask = spec.fwmask;
    if (spec.goto !== undefined) attrs.goto = spec.goto;
    if (spec.invert) {
      data.flags = { invert: true };
      parts.unshift('not');
    }
    return { data, attrs, text: parts.join(' ') || 'all' };
  }

  async addRule(spec: RuleSpec): Promise<void> {
    const r = this.ruleRequest(spec, false);
    await this.call(`add rule ${r.text}`, (s) =>
      s.newRule(r.data, r.attrs, { flags: NLM_F_CREATE | NLM_F_EXCL, timeout: REQUEST_TIMEOUT_MS }),
    );
  }

  async deleteRule(spec: RuleSpec): Promise<void> {
    const r = this.ruleRequest(spec, true);
    await this.call(`delete rule ${r.text}`, (s) => s.delRule(r.data, r.attrs, { timeout: REQUEST_TIMEOUT_MS }));
  }

  async ensureRule(spec: RuleSpec): Promise<boolean> {
    return ensurePresent(() => this.addRule(spec));
  }

  async ensureRuleAbsent(spec: RuleSpec): Promise<boolean> {
    return ensureAbsent(() => this.deleteRule(spec), ['ENOENT', 'ESRCH']);
  }

  async listRules(family: Family): Promise<RuleInfo[]> {
    const msgs = await this.call('list rules', (s) =>
      s.getRules({ family: familyNumber(family) }, undefined, { timeout: REQUEST_TIMEOUT_MS }),
    );
    return msgs.map((m) => ({
      family,
      priority: m.attrs.priority,
      from: m.attrs.src ? `${formatIp(m.attrs.src)}/${m.data.srcLen ?? 0}` : undefined,
      to: m.attrs.dst ? `${formatIp(m.attrs.dst)}/${m.data.dstLen ?? 0}` : undefined,
      table: m.attrs.table ?? m.data.table ?? 0,
      action:
        typeof m.data.action === 'number'
          ? m.data.action
          : ((rt.RuleAction as unknown as Record<string, number>)[m.data.action ?? 'unspec'] ?? 0),
      iif: m.attrs.iifname,
      oif: m.attrs.oifname,
      fwmark: m.attrs.fwmark,
      invert: m.data.flags?.invert === true,
    }));
  }
}

/** Run an add; EEXIST means "already there": resolve false. */
/** The address of a spec and its prefix length (the spec's own, else the address's); checked. */
function addressPrefix(spec: AddressSpec): { p: ReturnType<typeof parsePrefix>; prefixLength: number } {
  const p = parsePrefix(spec.address);
  const prefixLength = spec.prefixLength ?? p.prefixLength;
  const max = p.family === 4 ? 32 : 128;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw new NetError('EBADARG', 'address', `bad prefix length ${prefixLength} for ${spec.address}`);
  }
  return { p, prefixLength };
}

export async function ensurePresent(add: () => Promise<void>): Promise<boolean> {
  try {
    await add();
    return true;
  } catch (err) {
    if (errnoFromError(err) === 'EEXIST') return false;
    throw err;
  }
}

/** Run a delete; the given codes mean "already absent": resolve false. */
export async function ensureAbsent(del: () => Promise<void>, absentCodes: readonly string[]): Promise<boolean> {
  try {
    await del();
    return true;
  } catch (err) {
    const code = errnoFromError(err);
    if (code !== undefined && absentCodes.includes(code)) return false;
    throw err;
  }
}
