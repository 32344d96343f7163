// One vrrp_instance in the running daemon: the sans-I/O core (src/vrrp/core.ts) driven by real
// timers, a raw socket, netlink and ARP/ND. The core decides; this file only carries decisions
// out, by the core's contract (carryOut in src/vrrp/core.ts: urgent ones at once, words after;
// effects that touch the kernel are chained so that "add addresses" always precedes "announce"
// and "remove" follows both). What reaches the wire and the kernel goes through a
// TakeoverTransport (src/net/takeover.ts): the live one, or the rehearsal's, which sends nothing.
import type { Logger } from 'pino';
import type { GlobalDefs, VirtualIpAddress, VrrpInstance } from '../config/model.js';
import {
  VrrpCore,
  carryOut,
  type DeferredDecision,
  type UrgentDecision,
  type VrrpCoreConfig,
  type VrrpDecision,
  type VrrpEvent,
  type VrrpTimer,
  type VrrpState,
} from '../vrrp/core.js';
import { encodeAdvert, receiveIpv4, receiveIpv6, type DropReason, type ReceiveOptions } from '../vrrp/packet.js';
import type { IpFamily } from '../vrrp/types.js';
import type { Rtnl, LinkInfo, AddressInfo } from '../net/netlink.js';
import type { ReceivedPacket, VrrpSocket } from '../net/vrrp-socket.js';
import type { GarpSender } from '../net/garp.js';
import { createVmac, deleteVmac, restoreSysctls, type VmacResult } from '../net/vmac.js';
import { formatIp, parseIp } from '../net/ipaddr.js';
import type { NdiscSender } from '../net/ndisc.js';
import { liveTransport, rehearsalTransport, type TakeoverTransport } from '../net/takeover.js';
import type { Notifier, NotifyScript } from '../notify/queue.js';
import type { NotifyFifo } from '../notify/fifo.js';
import { formatInstanceLine } from '../notify/fifo.js';
import {
  addressSpec,
  advertisedAddresses,
  authTypeOf,
  familyOf,
  netRoute,
  netRule,
  ownedAddresses,
  receiveOptions,
  sameConfig,
  toCoreConfig,
  vipKey,
} from './map.js';
import type { SocketHub, SocketKey } from './sockets.js';
import { armDeadline, type DeadlineClock, type DeadlineTimer } from './timer.js';

const noop = (): void => undefined;

/**
 * Is this packet the advert whose bytes are `bytes` (the Backup's fast path, see onPacket), so
 * that the decoder would judge it the same? IPv4: the whole IP packet but the header's
 * identification and checksum, which change from one packet to the next; the checksum must be
 * right (the decoder checks it; the kernel already has); the source and destination addresses
 * and the TTL are in the compared bytes. IPv6: the VRRP message and the source (the kernel
 * checked the checksum; the destination is the socket's group or our address, as for the first).
 */
export function sameAdvert(p: ReceivedPacket, bytes: Buffer, src: string): boolean {
  const d = p.data;
  if (p.family === 4) {
    const n = bytes.length;
    if (d.length !== n || n < 20) return false;
    for (let i = 0; i < 10; i++) if (i !== 4 && i !== 5 && d[i] !== bytes[i]) return false;
    if (d.compare(bytes, 12, n, 12, n) !== 0) return false;
    // the header checksum (RFC 791): the one's complement sum of the header's words is 0xffff
    const ihl = (d[0]! & 0x0f) * 4;
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) sum += (d[i]! << 8) | d[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return sum === 0xffff;
  }
  const off = p.payloadOffset;
  return p.srcAddress === src && d.length - off === bytes.length && d.compare(bytes, 0, bytes.length, off, d.length) === 0;
}

/** The final stretch of a Master_Down_Timer waited out without sleeping (ms). */
const MASTER_DOWN_SPIN_MS = 2;

export interface RunnerDeps {
  log: Logger;
  rtnl: Rtnl;
  hub: SocketHub;
  global: GlobalDefs;
  notifier: Notifier;
  /** monotonic milliseconds */
  now(): number;
  garp(): GarpSender | undefined;
  ndisc(ifname: string): Promise<NdiscSender | undefined>;
  fifo?: NotifyFifo;
  /** called after every state change of this instance (sync groups follow it) */
  onStateChanged?(runner: InstanceRunner, from: VrrpState, to: VrrpState): void;
  /** called just before this instance's notify scripts and fifo line for `state` (sync group ordering) */
  beforeNotify?(runner: InstanceRunner, state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'): void;
  /** resolve a notify line to a script (uid/gid of script_user); undefined: refused by script security */
  script(line: string | undefined, user?: string, group?: string): NotifyScript | undefined;
  /** the VRRP timers' platform waits (default: Node's); tests pass a fake clock */
  timerClock?: DeadlineClock;
  /** false: every advert goes through the decoder and the core (no Backup fast path, see
   *  onPacket); for tests that compare the two */
  repeatShortcut?: boolean;
}

export interface InstanceStatus {
  name: string;
  state: VrrpState | 'WAITING';
  vrid: number;
  version: 2 | 3;
  family: IpFamily;
  interface: string;
  /** configured priority */
  priority: number;
  /** priority after tracking weights (what adverts carry) */
  effectivePriority: number;
  advertIntervalCs: number;
  virtualAddresses: string[];
  /** how many virtual addresses this node holds now */
  addressesHeld: number;
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  becameMaster: number;
  releasedMaster: number;
  /** state changes since start */
  transitions: number;
  /** wall-clock ms of the last state change (0: none yet) */
  lastTransitionMs: number;
  /** received packets dropped, by reason */
  drops: Record<string, number>;
  /** the address adverts are sent from (SIGUSR1's "Using src_ip") */
  srcAddress?: string;
}

/** Links and addresses read once and shared by the instances starting together. */
export interface NetSnapshot {
  links: Promise<LinkInfo[]>;
  addresses: Promise<AddressInfo[]>;
}

/** "ifindex address" of every address of a snapshot's dump, made once per snapshot */
const snapshotKeys = new WeakMap<NetSnapshot, Promise<Set<string>>>();
function addressKeys(snap: NetSnapshot): Promise<Set<string>> {
  let keys = snapshotKeys.get(snap);
  if (!keys) {
    keys = snap.addresses.then((addrs) => new Set(addrs.map((a) => `${a.ifindex} ${a.address}`)));
    snapshotKeys.set(snap, keys);
  }
  return keys;
}

export function netSnapshot(rtnl: Rtnl): NetSnapshot {
  const links = rtnl.listLinks();
  const addresses = rtnl.listAddresses({});
  // a failed dump is seen by every awaiting instance; never an unhandled rejection
  links.catch(() => undefined);
  addresses.catch(() => undefined);
  return { links, addresses };
}

export class InstanceRunner {
  readonly name: string;
  readonly ifname: string;
  readonly family: IpFamily;
  core: VrrpCore | undefined;
  private socket: VrrpSocket | undefined;
  private socketKey: SocketKey | undefined;
  private link: LinkInfo | undefined;
  private srcAddress: string | undefined;
  private readonly timers = new Map<VrrpTimer, DeadlineTimer>();
  private chain: Promise<void> = Promise.resolve();
  private chainIdle = true;
  /** log lines of the urgent path, written after the words (see say) */
  private said: Array<['info' | 'debug', string]> = [];
  private feeding = false;
  private coreConfig: VrrpCoreConfig | undefined;
  /** reload: adopted addresses the kernel still had (the next addAddresses skips them, once);
   *  made by the first adoption (an empty Set is ~180 bytes, per instance) */
  private adoptedInPlace: Set<string> | undefined;
  /** For the announce that follows an addAddresses: when its addresses are written (a promise),
   *  or 'written' when they were before apply() returned (see apply) */
  private addressGate: Promise<void> | 'written' | undefined;
  private vipByKey = new Map<string, VirtualIpAddress>();
  /** addresses a reconfiguration dropped, kept until they are removed from the kernel (made by
   *  the first reconfiguration that drops one) */
  private retiredVips: Map<string, VirtualIpAddress> | undefined;
  private rxOpts: ReceiveOptions;
  private advertAddrs: string[];
  /** Instances with the same key run the same takeover code (see rehearse). */
  rehearsalKey: string;
  private _inst: VrrpInstance;
  /** global_defs this instance runs with (reconfigure replaces it; deps are shared by every runner) */
  private global: GlobalDefs;
  /** virtual addresses we have added and not yet removed (so a deletion under us is noticed) */
  readonly held = new Set<string>();
  readonly drops: Record<string, number> = {};
  /** where virtual addresses and routes go: the interface, or the VMAC with use_vmac */
  private vipDev: string;
  private vmac: VmacResult | undefined;
  private transitions = 0;
  private routesHeld = false;
  private lastTransitionMs = 0;
  private stopped = false;
  /** during a reload restart: no notify for re-entering the state we already had */
  private quietRestart = false;
  /** The Backup's fast path (see onPacket): the last advert the core took whose only decision
   *  was "restart the Master_Down_Timer", its bytes and what it gave; undefined: none. */
  private repeat: { bytes: Buffer; src: string; ev: Extract<VrrpEvent, { type: 'advertReceived' }>; mdiMs: number } | undefined;
  /** arrival of the last repeat not yet fed to the core (see flushRepeat) */
  private repeatAt: number | undefined;
  /** adverts counted here and not (yet) by the core: status() adds them */
  private repeatsUncounted = 0;

  constructor(
    inst: VrrpInstance,
    private readonly deps: RunnerDeps,
  ) {
    this._inst = inst;
    this.global = deps.global;
    this.name = inst.name;
    this.ifname = inst.interface ?? deps.global.defaultInterface;
    this.vipDev = this.ifname;
    this.family = familyOf(inst);
    for (const a of ownedAddresses(inst)) this.vipByKey.set(vipKey(a, inst.interface), a);
    this.rxOpts = receiveOptions(inst);
    this.advertAddrs = advertisedAddresses(inst);
    this.rehearsalKey = this.rehearsalKeyOf(inst);
  }

  /** the configuration this instance runs (replaced in place by reconfigure) */
  get inst(): VrrpInstance {
    return this._inst;
  }

  private rehearsalKeyOf(inst: VrrpInstance): string {
    // the families of the addresses, sorted ('inet', 'inet6' or 'inet+inet6'), without the
    // arrays and Set (computed again for each instance a reload changes)
    let v4 = false;
    let v6 = false;
    for (const v of this.vipByKey.values()) {
      if (v.family === 'inet') v4 = true;
      else v6 = true;
    }
    const fams = v4 && v6 ? 'inet+inet6' : v4 ? 'inet' : v6 ? 'inet6' : '';
    return `${this.family}/v${inst.version}/${inst.unicastPeers.length > 0 ? 'unicast' : 'multicast'}/${authTypeOf(inst)}/${fams}`;
  }

  /** a virtual address by key, including one a reconfiguration dropped and not yet removed */
  private vipOf(key: string): VirtualIpAddress | undefined {
    return this.vipByKey.get(key) ?? this.retiredVips?.get(key);
  }

  /**
   * Why `next` cannot be applied to this running instance in place (undefined: it can). What
   * the socket, the VMAC or the instance's identity are made of needs a new runner.
   */
  inPlaceBlocker(next: VrrpInstance, global: GlobalDefs): string | undefined {
    const cur = this._inst;
    if (!this.core || !this.coreConfig || this.stopped) return 'not running';
    if ((next.interface ?? global.defaultInterface) !== this.ifname) return 'interface';
    if (next.virtualRouterId !== cur.virtualRouterId) return 'virtual_router_id';
    if (familyOf(next) !== this.family) return 'family';
    if (next.version !== cur.version) return 'version';
    if (next.unicastPeers.length > 0 !== cur.unicastPeers.length > 0) return 'unicast/multicast';
    if (next.mcastDstIp.address !== cur.mcastDstIp.address) return 'mcast_dst_ip';
    if (next.sourceIp?.address !== cur.sourceIp?.address) return 'source address';
    if (next.unicastTtl !== cur.unicastTtl) return 'unicast_ttl';
    if (!sameConfig(next.useVmac, cur.useVmac) || next.vmacXmitBase !== cur.vmacXmitBase || next.useVmacAddr !== cur.useVmacAddr)
      return 'use_vmac';
    if (!sameConfig(next.useIpvlan, cur.useIpvlan)) return 'use_ipvlan';
    if (next.vrf !== cur.vrf) return 'vrf';
    if (next.kernelRxBufSize !== cur.kernelRxBufSize) return 'kernel_rx_buf_size';
    return undefined;
  }

  /**
   * Reload: apply a changed configuration to this running instance in place (the core's
   * reconfigure event): state, timers, socket and the addresses the new configuration keeps stay
   * as they are, nothing is announced or notified for them; virtual addresses, routes and rules
   * are added and removed by difference while Master. Priority, tracking weights (`priority`:
   * the effective priority under the new configuration), advert_int and the other timers,
   * preemption, notify scripts and authentication take effect from their next use. Call only
   * when inPlaceBlocker(next) is undefined. Resolves when the kernel effects it queued are done.
   */
  reconfigure(next: VrrpInstance, global: GlobalDefs, priority?: number): Promise<void> {
    const core = this.core;
    const cfg = this.coreConfig;
    if (!core || !cfg || this.stopped) return Promise.resolve();
    const old = this._inst;
    const oldVips = this.vipByKey;
    this._inst = next;
    this.global = global;
    this.vipByKey = new Map();
    for (const a of ownedAddresses(next)) this.vipByKey.set(vipKey(a, next.interface), a);
    this.rxOpts = receiveOptions(next);
    this.advertAddrs = advertisedAddresses(next);
    this.rehearsalKey = this.rehearsalKeyOf(next);
    // the same address with other attributes (label, scope, peer, ...): replaced if held
    const respec: Array<[VirtualIpAddress, VirtualIpAddress]> = [];
    for (const [k, a] of oldVips) {
      const b = this.vipByKey.get(k);
      if (!b) (this.retiredVips ??= new Map()).set(k, a);
      else if (this.held.has(k) && !sameConfig(a, b)) respec.push([a, b]);
    }
    if (this.retiredVips) for (const k of this.vipByKey.keys()) this.retiredVips.delete(k);
    // virtual_routes / virtual_rules held (Master): out before the addresses go, in after they come
    const gone = <T>(from: readonly T[], to: readonly T[]) => from.filter((x) => !to.some((y) => sameConfig(x, y)));
    const routesOut = this.routesHeld ? gone(old.virtualRoutes, next.virtualRoutes) : [];
    const routesIn = this.routesHeld ? gone(next.virtualRoutes, old.virtualRoutes) : [];
    const rulesOut = this.routesHeld ? gone(old.virtualRules, next.virtualRules) : [];
    const rulesIn = this.routesHeld ? gone(next.virtualRules, old.virtualRules) : [];
    if (routesOut.length + rulesOut.length > 0) this.effect(() => this.routeDiff(routesOut, rulesOut, false));
    this.coreConfig = toCoreConfig(next, global, cfg.primaryAddress);
    // a configuration we cannot encode is said now, not at the next advert
    this.encode(core.effectivePriority, next.advertIntervalCs, next.unicastPeers[0]?.address ?? next.mcastDstIp.address);
    this.feed({ type: 'reconfigure', nowMs: this.deps.now(), config: this.coreConfig, priority });
    if (respec.length > 0) {
      this.effect(async () => {
        for (const [a, b] of respec) {
          await this.deps.rtnl.ensureAddressAbsent(this.vipSpec(a));
          await this.deps.rtnl.ensureAddress(this.vipSpec(b));
        }
      });
    }
    if (routesIn.length + rulesIn.length > 0) this.effect(() => this.routeDiff(routesIn, rulesIn, true));
    // debug: a reload that changes every priority of 1,000 instances spent half its time here
    if (this.deps.log.isLevelEnabled('debug')) this.deps.log.debug(`(${this.name}) reconfigured in place, staying ${core.state}`);
    return this.chainIdle ? Promise.resolve() : this.chain;
  }

  get state(): VrrpState | 'WAITING' {
    return this.core?.state ?? 'WAITING';
  }

  status(): InstanceStatus {
    const st = this.core?.stats;
    return {
      name: this.name,
      state: this.state,
      vrid: this.inst.virtualRouterId,
      version: this.inst.version,
      family: this.family,
      interface: this.ifname,
      priority: this.inst.priority,
      effectivePriority: this.core?.effectivePriority ?? this.inst.priority,
      advertIntervalCs: this.inst.advertIntervalCs,
      virtualAddresses: ownedAddresses(this.inst).map((a) => `${a.address}/${a.prefixLength}`),
      addressesHeld: this.held.size,
      advertsSent: st?.advertsSent ?? 0,
      advertsReceived: (st?.advertsReceived ?? 0) + this.repeatsUncounted,
      priorityZeroSent: st?.priorityZeroSent ?? 0,
      priorityZeroReceived: st?.priorityZeroReceived ?? 0,
      becameMaster: st?.becameMaster ?? 0,
      releasedMaster: st?.releasedMaster ?? 0,
      transitions: this.transitions,
      lastTransitionMs: this.lastTransitionMs,
      drops: { ...this.drops },
      srcAddress: this.srcAddress,
    };
  }

  /**
   * Open the socket and start the protocol. An instance whose interface is missing waits (the
   * daemon retries when the link appears) instead of killing the daemon.
   */
  async start(
    initial?: { priority: number; fault: boolean },
    adopt?: { state: VrrpState; held: ReadonlySet<string> },
    net?: NetSnapshot,
  ): Promise<boolean> {
    const { rtnl, log } = this.deps;
    // one dump of links and addresses serves every instance started together (start, reload)
    const snap = net ?? netSnapshot(rtnl);
    this.link = (await snap.links).find((l) => l.name === this.ifname);
    if (!this.link) {
      log.error(`(${this.name}) interface ${this.ifname} does not exist: waiting for it (FAULT)`);
      return false;
    }
    const primary = await this.primaryAddress(snap);
    if (!primary) {
      log.error(`(${this.name}) no usable ${this.family === 4 ? 'IPv4' : 'IPv6 link-local'} address on ${this.ifname}: waiting (FAULT)`);
      return false;
    }
    this.srcAddress = primary;
    if (this.inst.useVmac && !this.vmac) {
      // use_vmac: a macvlan with the virtual MAC carries the VIPs (and the adverts, unless
      // vmac_xmit_base); the parent's address stays the advert source, as keepalived does
      try {
        this.vmac = await createVmac(rtnl, {
          vrid: this.inst.virtualRouterId,
          family: this.family,
          parent: this.ifname,
          name: this.inst.useVmac.interfaceName,
          mac: this.inst.useVmac.macAddress,
        });
        this.vipDev = this.vmac.name;
        log.info(`(${this.name}) using VMAC ${this.vmac.name} (${this.vmac.mac})`);
      } catch (err) {
        log.error(`(${this.name}) cannot create VMAC on ${this.ifname}: ${(err as Error).message}`);
        return false;
      }
    }
    const unicast = this.inst.unicastPeers.length > 0;
    this.socketKey = {
      ifname: this.vmac && !this.inst.vmacXmitBase ? this.vmac.name : this.ifname,
      family: this.family,
      group: unicast ? null : this.inst.mcastDstIp.address,
      srcAddress: this.family === 4 ? (this.vmac ? primary : this.inst.sourceIp?.address) : undefined,
      ttl: unicast ? this.inst.unicastTtl : 255,
    };
    this.socket = await this.deps.hub.attach(this.socketKey, this.inst.virtualRouterId, this);
    if (this.family === 4 && this.socket.srcAddress) this.srcAddress = this.socket.srcAddress;
    this.coreConfig = toCoreConfig(this.inst, this.global, primary);
    this.core = new VrrpCore(this.coreConfig);
    // Encode one advert now: a configuration we cannot encode is reported at start, not at the
    // first takeover (the daemon's rehearsal then compiles the rest of that path).
    this.encode(this.inst.priority, this.inst.advertIntervalCs, this.inst.unicastPeers[0]?.address ?? this.inst.mcastDstIp.address);
    // fault sources first: the core's startup looks at them
    if (!this.link.adminUp || !this.link.carrier) this.onLink(this.link);
    if (initial) this.onTrackers(initial.priority, initial.fault, []);
    if (adopt) {
      // reload of a changed instance: the kernel already holds its addresses; take them over
      for (const k of adopt.held) if (this.vipByKey.has(k)) this.held.add(k);
      this.quietRestart = adopt.state === 'MASTER' || adopt.state === 'BACKUP';
      // Those the reload's dump shows in place need no add when the core re-enters MASTER:
      // re-adding 200 of them meant 200 netlink round trips answered EEXIST, most of the reload.
      const [links, addrs] = await Promise.all([snap.links, snap.addresses]);
      const inKernel = new Set(addrs.map((a) => `${a.ifindex} ${a.address}`));
      for (const k of this.held) {
        const vip = this.vipByKey.get(k);
        const dev = vip && (vip.dev ?? this.vipDev);
        const index = links.find((l) => l.name === dev)?.index;
        if (vip && index !== undefined && inKernel.has(`${index} ${formatIp(parseIp(vip.address).bytes)}`))
          (this.adoptedInPlace ??= new Set()).add(k);
      }
    } else {
      // A virtual address left on the interface by a crashed or killed predecessor would make a
      // Backup answer for the VIP alongside the Master: remove it before the protocol starts, as
      // keepalived does ("removing VIPs."). Effects are chained, so an owner's immediate
      // "add addresses" follows this.
      // Only those the start's dump shows are asked for: a delete per address (1,000 netlink
      // round trips at the start of 1,000 instances) found nothing to remove nearly every time.
      // An interface the dump does not know (a VMAC made just now) or a failed dump: ask anyway.
      this.effect(async () => {
        let removed = 0;
        const dump = await Promise.all([snap.links, addressKeys(snap)]).catch(() => undefined);
        for (const vip of this.vipByKey.values()) {
          const dev = vip.dev ?? this.vipDev;
          const index = dump?.[0].find((l) => l.name === dev)?.index;
          if (dump && index !== undefined && !dump[1].has(`${index} ${formatIp(parseIp(vip.address).bytes)}`)) continue;
          if (await this.deps.rtnl.ensureAddressAbsent(this.vipSpec(vip)).catch(() => false)) removed++;
        }
        if (removed > 0) log.info(`(${this.name}) removing VIPs.`);
      });
    }
    this.feed({ type: 'startup', nowMs: this.deps.now() });
    if (adopt?.state === 'MASTER' && this.core.state === 'BACKUP') {
      this.feed({ type: 'forceState', nowMs: this.deps.now(), state: 'MASTER', reason: 'reload: keeping MASTER state' });
    }
    if (this.quietRestart) log.info(`(${this.name}) reloaded in place, staying ${this.core.state}`);
    this.quietRestart = false;
    this.adoptedInPlace = undefined; // only for the re-entry above
    return true;
  }

  /**
   * Rehearse a takeover and a step down on throwaway state: a shadow core goes BACKUP -> MASTER
   * -> BACKUP -> STOP, and what its decisions would put on the wire and into the kernel goes
   * through the same code with rehearsalTransport: built (advert, IPv4 header, gratuitous ARP /
   * NA) and thrown away; the netlink request goes to interface index 0, which the kernel refuses
   * (ENODEV). Nothing reaches the wire, nothing changes in the kernel, and this instance's own
   * state is untouched. Why: V8 compiles a function on its first call and runs it slowly until
   * it has warmed up; a Backup never runs the takeover before the Master dies, and that first
   * run took 2-4 ms between the Master_Down_Timer and our advert, where keepalived takes 0.5 ms.
   * The daemon repeats it now and then (an idle function's bytecode may be flushed).
   * Resolves true when every step ran as expected; never throws.
   */
  async rehearse(rounds: number): Promise<boolean> {
    const cfg = this.coreConfig;
    const socket = this.socket;
    if (!cfg || !socket || this.stopped) return false;
    let ok = true;
    const dst = this.inst.unicastPeers[0]?.address ?? this.inst.mcastDstIp.address;
    try {
      for (let round = 0; round < rounds; round++) {
        const shadow = new VrrpCore(cfg);
        let t = 1_000_000;
        const play = async (decisions: readonly VrrpDecision[]): Promise<number | undefined> => {
          let masterDownAt: number | undefined;
          for (const d of decisions) {
            if (d.kind === 'sendAdvert') {
              await this.sendAdvert(d.priority, d.advertIntervalCs, rehearsalTransport);
            } else if (d.kind === 'addAddresses') {
              // one address is enough (the same code for each): a round trip the kernel refuses
              const vip = this.vipByKey.get(d.addresses[0] ?? '');
              if (vip && !(await rehearsalTransport.addAddress(this.deps.rtnl, this.vipSpec(vip), noop))) ok = false;
            } else if (d.kind === 'announce') {
              await this.announceOnce(ownedAddresses(this.inst), 1, rehearsalTransport);
            } else if (d.kind === 'armTimer' && d.timer === 'masterDown') {
              masterDownAt = d.atMs;
            }
          }
          return masterDownAt;
        };
        const downAt = await play(shadow.handle({ type: 'startup', nowMs: t }));
        if (downAt !== undefined) await play(shadow.handle({ type: 'timerExpired', nowMs: (t = downAt), timer: 'masterDown' }));
        const peer = this.family === 4 ? '192.0.2.254' : 'fe80::ffff';
        await play(
          shadow.handle({
            type: 'advertReceived',
            nowMs: (t += 1),
            advert: {
              family: this.family,
              srcAddress: peer,
              dstAddress: dst,
              ttl: 255,
              ifname: this.ifname,
              advert: {
                version: this.inst.version,
                type: 1,
                vrid: this.inst.virtualRouterId,
                priority: 255,
                advertIntervalCs: this.inst.advertIntervalCs,
                addresses: this.advertAddrs,
                checksum: 0,
              },
            },
          }),
        );
        await play(shadow.handle({ type: 'shutdown', nowMs: (t += 1) }));
      }
    } catch {
      // a rehearsal that fails only leaves code cold; the real run reports its own errors
      return false;
    }
    return ok;
  }

  private async primaryAddress(snap: NetSnapshot): Promise<string | undefined> {
    if (this.family === 4 && this.inst.sourceIp) return this.inst.sourceIp.address;
    const addrs = (await snap.addresses).filter((a) => a.ifindex === this.link!.index && a.family === this.family);
    if (this.family === 4) return addrs.find((a) => !a.secondary)?.address ?? addrs[0]?.address;
    return addrs.find((a) => a.scope === 'link')?.address;
  }

  /**
   * The netlink spec of a virtual address. On the instance's own interface we give the kernel
   * the ifindex we already know: with a name, every add/delete first costs a link lookup round
   * trip, and that delayed the VIP (and the gratuitous ARP chained after it) at takeover.
   */
  private vipSpec(vip: VirtualIpAddress): ReturnType<typeof addressSpec> {
    const spec = addressSpec(vip, this.vipDev);
    // by index: saves a name lookup on the takeover path
    if (this.link && spec.dev === this.ifname) spec.dev = this.link.index;
    return spec;
  }

  /** Link state from the monitor: down (admin or carrier) is a FAULT source. */
  onLink(link: LinkInfo): void {
    this.link = link;
    if (!this.core) return;
    const fault = !(link.adminUp && link.carrier);
    this.feed({ type: 'faultChanged', nowMs: this.deps.now(), fault, reason: 'interface-down', source: this.ifname });
  }

  /** In FAULT for a reason of its own (not only because its sync group is)? */
  inFaultOwn(): boolean {
    return (this.core?.faultSources ?? []).some((f) => f.kind !== 'sync-group');
  }

  /** A sync group forces this member's state (keepalived keeps group members together). */
  force(state: 'MASTER' | 'BACKUP' | 'FAULT' | 'NOFAULT', reason: string): void {
    if (!this.core || this.stopped) return;
    const nowMs = this.deps.now();
    if (state === 'FAULT' || state === 'NOFAULT') {
      this.feed({ type: 'faultChanged', nowMs, fault: state === 'FAULT', reason: 'sync-group', source: reason });
    } else if (this.core.state !== state && this.core.state !== 'FAULT') {
      this.feed({ type: 'forceState', nowMs, state, reason });
    }
  }

  /** Effective priority or FAULT from the trackers. */
  onTrackers(priority: number, fault: boolean, faultBy: string[]): void {
    if (!this.core) return;
    const now = this.deps.now();
    // one fault source for all trackers: the core clears it by the same key
    if (fault) this.deps.log.debug(`(${this.name}) trackers in fault: ${faultBy.join(', ')}`);
    this.feed({ type: 'faultChanged', nowMs: now, fault, reason: 'tracker', source: 'trackers' });
    this.feed({ type: 'priorityChanged', nowMs: now, priority });
  }

  /** A virtual address vanished from the kernel: restore it if we hold it (unless no_track). */
  onAddressRemoved(address: string, ifindex: number): void {
    if (this.stopped || this.core?.state !== 'MASTER') return;
    for (const key of this.held) {
      const vip = this.vipByKey.get(key);
      if (!vip || vip.address !== address || vip.noTrack) continue;
      this.deps.log.warn(`(${this.name}) virtual address ${address} was removed from interface ${ifindex}: restoring it`);
      this.effect(async () => {
        await this.deps.rtnl.ensureAddress(this.vipSpec(vip));
        await this.announceOnce([vip], 1);
      });
    }
  }

  onPacket(p: ReceivedPacket): void {
    if (!this.core || this.stopped) return;
    // the time it reached us, before decoding: Master_Down_Timer counts from here
    const nowMs = this.deps.now();
    // The Backup's common case, an exact shortcut of the core: an advert byte for byte the one
    // the core took last (see sameAdvert), when that one's only decision was "restart the
    // Master_Down_Timer at arrival + Master_Down_Interval". The core would decide the same
    // again (its answer depends on the advert, its state, priority, learned interval and
    // configuration, and every event that changes those goes through feed(), which flushes
    // first and forgets the repeat), so the timer is moved here and the arrival recorded; the
    // core is fed the latest one before any other event of this instance (flushRepeat).
    const rep = this.repeat;
    if (rep !== undefined && sameAdvert(p, rep.bytes, rep.src)) {
      this.repeatAt = nowMs;
      this.repeatsUncounted++;
      this.timers.get('masterDown')?.moveTo(nowMs + rep.mdiMs);
      return;
    }
    const r =
      p.family === 4
        ? receiveIpv4(p.data, this.rxOpts)
        : receiveIpv6(p.data, p.srcAddress, this.socketKey?.group ?? this.srcAddress ?? '::', this.rxOpts, p.ttl);
    if (!r.ok) {
      this.countDrop(r.reason, r.detail, p.srcAddress);
      return;
    }
    for (const w of r.warnings) this.deps.log.debug(`(${this.name}) advert from ${r.src}: ${w}`);
    const ev: Extract<VrrpEvent, { type: 'advertReceived' }> = {
      type: 'advertReceived',
      nowMs,
      advert: { advert: r.advert, family: r.family, srcAddress: r.src, dstAddress: r.dst, ttl: r.ttl, ifname: p.ifname },
    };
    const decisions = this.feed(ev);
    // Can the next copy of this advert skip the core? Only when what the core did with it was
    // nothing but Backup's "restart the Master_Down_Timer at arrival + Master_Down_Interval"
    // (RFC 5798 6.4.2) and the advert was accepted for what it is, not for the time: a
    // lower-priority advert followed during preempt_delay is decided by the clock.
    const core = this.core;
    const d = decisions?.length === 1 ? decisions[0] : undefined;
    if (
      core &&
      !this.stopped &&
      r.warnings.length === 0 &&
      this.deps.repeatShortcut !== false &&
      core.state === 'BACKUP' &&
      d?.kind === 'armTimer' &&
      d.timer === 'masterDown' &&
      d.atMs === nowMs + core.masterDownIntervalMs() &&
      (!core.config.preempt || r.advert.priority >= core.effectivePriority) &&
      r.advert.priority > 0
    ) {
      const start = p.family === 4 ? 0 : p.payloadOffset;
      this.repeat = { bytes: Buffer.from(p.data.subarray(start)), src: p.srcAddress, ev, mdiMs: core.masterDownIntervalMs() };
    }
  }

  /** Feed the core the last repeat of its last advert (see onPacket), at its arrival time. */
  private flushRepeat(): void {
    const at = this.repeatAt;
    const rep = this.repeat;
    this.repeatAt = undefined;
    this.repeat = undefined;
    if (at === undefined || !rep) return;
    this.repeatsUncounted--; // the core counts this one
    this.feed({ ...rep.ev, nowMs: at });
  }

  private countDrop(reason: DropReason, detail: string | undefined, src: string): void {
    const n = (this.drops[reason] = (this.drops[reason] ?? 0) + 1);
    // keepalived logs these; we log the first few of each reason, then every 100th
    if (n <= 3 || n % 100 === 0) {
      this.deps.log.warn(
        `(${this.name}) dropped advert from ${src}: ${reason}${detail ? ` (${detail})` : ''}${n > 3 ? ` [${n} so far]` : ''}`,
      );
    }
  }

  /** Graceful stop: priority 0 if Master, addresses released, notify_stop; resolves when done. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.core) this.feed({ type: 'shutdown', nowMs: this.deps.now() });
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await this.chain;
    // whatever the core decided, never leave a route, rule or address behind on stop
    await this.routesAndRules(false);
    for (const key of [...this.held]) {
      const vip = this.vipOf(key);
      if (vip) await this.deps.rtnl.ensureAddressAbsent(this.vipSpec(vip)).catch(() => undefined);
      this.held.delete(key);
    }
    if (this.socketKey) await this.deps.hub.detach(this.socketKey, this.inst.virtualRouterId, this);
    if (this.vmac) {
      restoreSysctls(this.vmac.sysctlChanges);
      if (this.vmac.created) await deleteVmac(this.deps.rtnl, this.vmac.name).catch(() => undefined);
      this.vmac = undefined;
    }
  }

  /**
   * Reload: stop this runner without a trace on the wire or in the kernel (no priority 0, no
   * address removed); the runner replacing it adopts its state and addresses.
   */
  async quiesce(): Promise<{ state: VrrpState | 'WAITING'; held: Set<string> }> {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await this.chain;
    return { state: this.state, held: new Set(this.held) };
  }

  /** After quiesce(): give up the socket (unless the replacement already took it over). */
  async releaseSocket(): Promise<void> {
    if (this.socketKey) await this.deps.hub.detach(this.socketKey, this.inst.virtualRouterId, this);
  }

  /** Does this runner own the virtual address with this key? */
  owns(key: string): boolean {
    return this.vipByKey.has(key);
  }

  /** After quiesce(): remove the addresses we held that `successor` does not own. */
  async releaseAddressesNotOwnedBy(successor: InstanceRunner | undefined): Promise<void> {
    for (const key of [...this.held]) {
      if (successor?.owns(key)) continue;
      const vip = this.vipByKey.get(key);
      if (vip) await this.deps.rtnl.ensureAddressAbsent(this.vipSpec(vip)).catch(() => undefined);
      this.held.delete(key);
    }
  }

  // ---- carrying out decisions ------------------------------------------------------------------

  /** Hand an event to the core and carry out its decisions; returns them (undefined: not fed). */
  private feed(ev: VrrpEvent): readonly VrrpDecision[] | undefined {
    if (!this.core || (this.stopped && ev.type !== 'shutdown')) return undefined;
    // the core first hears the adverts the fast path took for it, then this event; a repeat is
    // trusted again only after an advert the core has judged anew (onPacket)
    if (this.repeatAt !== undefined) this.flushRepeat();
    this.repeat = undefined;
    if (!this.core || (this.stopped && ev.type !== 'shutdown')) return undefined;
    // the core hands out a new array per event (never touched again): no copy. A Backup hearing
    // its Master (200 a second with 200 instances) gets one armTimer: no array is made here then.
    const decisions = this.core.handle(ev);
    // The core's contract (carryOut): what goes on the wire or into the kernel at once, every
    // advert first; words (log lines, notify scripts) after: formatting and writing them took tens
    // of milliseconds on a busy machine at the first takeover, before the first advert went out.
    this.feeding = true;
    let words: DeferredDecision[] | undefined;
    try {
      words = carryOut(decisions, this.applyUrgentFn);
    } finally {
      this.feeding = false;
    }
    this.addressGate = undefined; // for this feed's announce only
    if (!words) {
      if (this.said.length > 0) setImmediate(() => this.flushSaid());
      return decisions;
    }
    const deferred = words;
    // What the kernel effects still wait for (a queued send, a netlink ACK before the next
    // address, the GARP bursts) goes before the words: setImmediate runs after the poll phase
    // (order between feeds is kept, FIFO). On
    // shutdown they go at once so that notify_stop is queued before the daemon waits for it.
    // A sync group member's words go at once: its members' notifications and the group's must
    // keep keepalived's order (members forced from a notify, the group line after them).
    const quiet = this.quietRestart;
    const applyWords = () => {
      for (const d of deferred) this.applyWord(d, quiet);
      this.flushSaid();
    };
    if (ev.type === 'shutdown' || this.inst.syncGroup !== undefined) applyWords();
    else setImmediate(applyWords);
    return decisions;
  }

  /**
   * Queue a kernel effect behind the others. `now`: when nothing is pending, start it at once
   * (it runs up to its first await before this returns), so that a takeover's VIP is written in
   * the same turn of the event loop as its advert.
   */
  private effect(fn: () => Promise<void>, now = false): void {
    const run = now && this.chainIdle ? fn() : this.chain.then(fn);
    this.setChain(
      run.catch((err: unknown) => {
        this.deps.log.error(`(${this.name}) ${err instanceof Error ? err.message : String(err)}`);
      }),
    );
  }

  /**
   * A log line of the urgent path (VIPs set, ARPs queued): written after the words of the decision
   * that caused it ("Entering MASTER STATE" first, as keepalived), never before the frames leave.
   */
  private say(level: 'info' | 'debug', msg: string): void {
    this.said.push([level, msg]);
    if (!this.feeding && this.said.length === 1) setImmediate(() => this.flushSaid());
  }

  private flushSaid(): void {
    const lines = this.said;
    this.said = [];
    for (const [level, msg] of lines) this.deps.log[level](msg);
  }

  /** The chain's new tail; chainIdle says whether it has settled (it never rejects). */
  private setChain(p: Promise<void>): void {
    this.chain = p;
    this.chainIdle = false;
    void p.then(() => {
      if (this.chain === p) this.chainIdle = true;
    });
  }

  /** A word of the core (see feed). `quiet`: a reload re-entering its state (captured when the
   *  decision was made). */
  private applyWord(d: DeferredDecision, quiet: boolean): void {
    const { log } = this.deps;
    switch (d.kind) {
      case 'log':
        // a reload re-entering the state it had is not a state change: say so once, not "Entering"
        if (quiet && (d.topic === 'enterMaster' || d.topic === 'enterBackup' || d.topic === 'advertTimeout')) return;
        if (d.level === 'warning') log.warn(d.message);
        else log.info(d.message);
        return;
      case 'stateChanged':
        log.debug(`(${this.name}) ${d.from} -> ${d.to}: ${d.reason}`);
        this.transitions++;
        this.lastTransitionMs = Date.now();
        // after this event's decisions: a sync group reacting now would re-enter the core
        queueMicrotask(() => this.deps.onStateChanged?.(this, d.from, d.to));
        return;
      case 'notify':
        if (quiet && (d.state === 'MASTER' || d.state === 'BACKUP')) return;
        this.notify(d.state, d.priority);
        return;
      case 'notifyMasterRxLowerPri': {
        const s = this.deps.script(
          this.inst.notifyMasterRxLowerPri?.command,
          this.inst.notifyMasterRxLowerPri?.user,
          this.inst.notifyMasterRxLowerPri?.group,
        );
        if (s) void this.deps.notifier.enqueue(`INSTANCE ${this.name}`, s);
        return;
      }
    }
  }

  /** bound once: carryOut calls it for every urgent decision */
  private readonly applyUrgentFn = (d: UrgentDecision): void => this.applyUrgent(d);

  /** An urgent decision (see feed): carried out now. */
  private applyUrgent(d: UrgentDecision): void {
    const quiet = this.quietRestart;
    switch (d.kind) {
      case 'armTimer': {
        const armed = this.timers.get(d.timer);
        if (armed) {
          armed.moveTo(d.atMs);
          return;
        }
        // armDeadline never fires before the deadline: the core would drop an early expiry
        // the Master_Down_Timer decides when the takeover advert goes out: its last 2 ms are
        // waited out awake (see timer.ts); it only gets there when the Master has gone quiet
        const timer = armDeadline(
          d.atMs,
          () => this.deps.now(),
          (nowMs) => {
            if (this.timers.get(d.timer) === timer) this.timers.delete(d.timer);
            this.feed({ type: 'timerExpired', nowMs, timer: d.timer });
          },
          this.deps.timerClock?.schedule,
          this.deps.timerClock?.unschedule,
          d.timer === 'masterDown' ? MASTER_DOWN_SPIN_MS : 0,
          this.deps.timerClock?.spin,
        );
        this.timers.set(d.timer, timer);
        return;
      }
      case 'cancelTimer': {
        this.timers.get(d.timer)?.cancel();
        this.timers.delete(d.timer);
        return;
      }
      case 'sendAdvert': {
        // Kernel effects decided with this advert (the new Master's VIPs and GARPs) wait until
        // it is on the wire, as keepalived orders them: the first address add of a process, run
        // first, once delayed the takeover advert by 17-80 ms on a busy machine.
        // Sent now when the socket allows (it does but for a full buffer): nothing to wait for.
        const sent = this.sendAdvert(d.priority, d.advertIntervalCs);
        if (sent) this.setChain(Promise.all([this.chain, sent]).then(() => undefined));
        return;
      }
      case 'addAddresses': {
        // The announcement that follows (the new Master's GARPs) waits until every address is
        // written to the kernel, not for the last ACK: that was one more turn of the event loop
        // between the VIP in place and the first gratuitous ARP.
        let resolveIssued!: () => void;
        let issuedNow = false;
        const written = new Promise<void>((r) => {
          resolveIssued = r;
        });
        const issued = () => {
          issuedNow = true;
          resolveIssued();
        };
        // adopted at a reload and still in the kernel: nothing to add (see start)
        const inPlace = this.adoptedInPlace;
        this.adoptedInPlace = undefined;
        // when nothing else is pending, the first address is written before effect() returns
        // (ensureAddressNow): with one VIP, it is in place right after the advert
        this.effect(async () => {
          try {
            const keys = d.addresses.filter((k) => this.vipByKey.has(k) && !inPlace?.has(k));
            for (const [i, key] of keys.entries()) {
              await liveTransport.addAddress(
                this.deps.rtnl,
                this.vipSpec(this.vipByKey.get(key)!),
                i === keys.length - 1 ? issued : undefined,
              );
              this.held.add(key);
            }
          } finally {
            issued();
          }
          await this.routesAndRules(true);
        }, true);
        this.addressGate = issuedNow ? 'written' : written;
        // after the first address is written: the log line never delays the takeover
        if (!quiet) this.say('info', `(${this.name}) setting VIPs.`);
        return;
      }
      case 'removeAddresses': {
        if (d.addresses.some((k) => this.held.has(k))) this.say('info', `(${this.name}) removing VIPs.`);
        // still Master: a reconfiguration dropped these addresses (routes and rules stay)
        const leaving = this.core?.state !== 'MASTER';
        this.effect(async () => {
          if (leaving) await this.routesAndRules(false);
          for (const key of d.addresses) {
            const vip = this.vipOf(key);
            if (!vip) continue;
            this.held.delete(key);
            await this.deps.rtnl.ensureAddressAbsent(this.vipSpec(vip));
            this.retiredVips?.delete(key);
          }
        });
        return;
      }
      case 'announce': {
        if (quiet) return; // reload re-entering MASTER: the neighbours already point at us
        const gate = d.reason === 'master' ? this.addressGate : undefined;
        this.addressGate = undefined;
        const only = d.addresses;
        const vips = only
          ? only.map((k) => this.vipByKey.get(k)).filter((v): v is VirtualIpAddress => v !== undefined)
          : ownedAddresses(this.inst);
        if (!gate) {
          this.effect(() => this.announceOnce(vips, d.count));
          return;
        }
        // after the addresses are written (see addAddresses): at once if they already are (the
        // first gratuitous ARP goes before announceOnce's first await); later effects wait for both
        const announce = () => this.announceOnce(vips, d.count);
        const announced = (gate === 'written' ? announce() : gate.then(announce)).catch((err: unknown) => {
          this.deps.log.error(`(${this.name}) ${err instanceof Error ? err.message : String(err)}`);
        });
        this.setChain(Promise.all([this.chain, announced]).then(() => undefined));
        return;
      }
    }
  }

  /**
   * Send one advert (to every unicast peer, or the group). undefined: every copy is on the wire
   * already (the usual case); else a promise that settles when the queued ones are. `via`: the
   * rehearsal's transport builds the packets and sends nothing.
   */
  private sendAdvert(priority: number, advertIntervalCs: number, via: TakeoverTransport = liveTransport): Promise<void> | undefined {
    const socket = this.socket;
    if (!socket) return undefined;
    const unicast = this.inst.unicastPeers.length > 0;
    const dsts = unicast ? this.inst.unicastPeers.map((p) => p.address) : [this.inst.mcastDstIp.address];
    const failed = (dst: string) => (err: unknown) => {
      this.deps.log.warn(`(${this.name}) sending advert to ${dst} failed: ${err instanceof Error ? err.message : String(err)}`);
    };
    const queued: Promise<void>[] = [];
    for (const dst of dsts) {
      const bytes = this.encode(priority, advertIntervalCs, dst);
      if (!bytes) break;
      try {
        if (via.trySendAdvert(socket, bytes, dst) !== undefined) continue;
      } catch (err) {
        failed(dst)(err);
        continue;
      }
      queued.push(via.queueAdvert(socket, bytes, dst).then(() => undefined, failed(dst)));
    }
    return queued.length > 0 ? Promise.all(queued).then(() => undefined) : undefined;
  }

  private encode(priority: number, advertIntervalCs: number, dst: string): Buffer | undefined {
    const auth = authTypeOf(this.inst);
    const enc = encodeAdvert(
      {
        version: this.inst.version,
        vrid: this.inst.virtualRouterId,
        priority,
        advertIntervalCs,
        addresses: this.advertAddrs,
        authType: this.inst.version === 2 ? auth : undefined,
        authData: this.inst.version === 2 ? this.inst.authentication?.authPass : undefined,
      },
      { family: this.family, src: this.srcAddress, dst },
    );
    if (!enc.ok) {
      this.deps.log.error(`(${this.name}) cannot encode advert: ${enc.error}${enc.detail ? ` (${enc.detail})` : ''}`);
      return undefined;
    }
    return enc.bytes;
  }

  /** Add or remove these routes and rules (errors are logged with their line, never thrown). */
  private async routeDiff(
    routes: readonly VrrpInstance['virtualRoutes'][number][],
    rules: readonly VrrpInstance['virtualRules'][number][],
    present: boolean,
  ): Promise<void> {
    const { rtnl, log } = this.deps;
    for (const r of routes) {
      try {
        const spec = netRoute(r, this.vipDev);
        await (present ? rtnl.ensureRoute(spec) : rtnl.ensureRouteAbsent(spec));
      } catch (err) {
        log.error(`(${this.name}) virtual_route ${r.raw.join(' ')} (${r.file}:${r.line}): ${(err as Error).message}`);
      }
    }
    for (const r of rules) {
      try {
        const spec = netRule(r);
        await (present ? rtnl.ensureRule(spec) : rtnl.ensureRuleAbsent(spec));
      } catch (err) {
        log.error(`(${this.name}) virtual_rule ${r.raw.join(' ')} (${r.file}:${r.line}): ${(err as Error).message}`);
      }
    }
  }

  /** virtual_routes and virtual_rules follow the addresses: in after them, out before them. */
  private async routesAndRules(present: boolean): Promise<void> {
    if (present === this.routesHeld) return;
    this.routesHeld = present;
    await this.routeDiff(this.inst.virtualRoutes, this.inst.virtualRules, present);
  }

  /**
   * A burst of `count` gratuitous ARPs / unsolicited NAs per address, garp_interval apart. `via`:
   * the rehearsal's transport builds the frames and sends nothing (nothing to say then).
   */
  private async announceOnce(vips: readonly VirtualIpAddress[], count: number, via: TakeoverTransport = liveTransport): Promise<void> {
    const g = this.global;
    for (let i = 0; i < count; i++) {
      // keepalived's lines, written once the round's frames are out (never before the first one)
      const said: Array<[string, string]> = [];
      for (const vip of vips) {
        const dev = vip.dev ?? this.vipDev;
        const link = dev === this.ifname && this.link ? this.link : await via.link(this.deps.rtnl, dev);
        if (!link?.mac) continue;
        if (vip.family === 'inet') {
          if (via.gratuitousArp(this.deps.garp(), link.index, vip.address, link.mac))
            said.push([
              `(${this.name}) Sending/queueing gratuitous ARPs on ${dev} for ${vip.address}`,
              `Sending gratuitous ARP on ${dev} for ${vip.address}`,
            ]);
        } else if (await via.unsolicitedNa(() => this.deps.ndisc(dev), vip.address, link.mac)) {
          said.push([
            `(${this.name}) Sending/queueing Unsolicited Neighbour Adverts on ${dev} for ${vip.address}`,
            `Sending unsolicited Neighbour Advert on ${dev} for ${vip.address}`,
          ]);
        }
      }
      // the burst's first round says what is queued (info), every frame is detail (-D), as keepalived
      for (const [queued, sent] of said) {
        if (i === 0) this.say('info', queued);
        this.say('debug', sent);
      }
      const gap = i + 1 < count ? Math.max(g.vrrpGarpIntervalMs, g.vrrpGnaIntervalMs) : 0;
      if (gap > 0) await new Promise((r) => setTimeout(r, gap));
    }
  }

  private notify(state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', priority: number): void {
    this.deps.beforeNotify?.(this, state);
    const i = this.inst;
    const s = (c: typeof i.notifyMaster) => (c ? this.deps.script(c.command, c.user, c.group) : undefined);
    void this.deps.notifier.notifyState({
      kind: 'INSTANCE',
      name: this.name,
      state,
      priority,
      scripts: {
        master: s(i.notifyMaster),
        backup: s(i.notifyBackup),
        fault: s(i.notifyFault),
        stop: s(i.notifyStop),
        generic: s(i.notify),
      },
    });
    this.deps.fifo?.write?.(formatInstanceLine(this.name, state, priority));
  }
}
