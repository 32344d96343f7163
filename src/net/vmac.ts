// use_vmac: the VRRP virtual MAC interface (a macvlan on the instance's interface).
//
// Public API:
//   vmacAddress(vrid: number, family: 4 | 6): string   00:00:5e:00:01:VRID (IPv4) /
//                                                       00:00:5e:00:02:VRID (IPv6), RFC 5798 7.3
//   defaultVmacName(vrid: number): string               keepalived's default name "vrrp.<VRID>"
//   resolveVmacMac(mac: string | undefined, vrid, family): string
//       keepalived's use_vmac MAC argument: 6 octets, or 5 octets with the VRID as the last one
//   createVmac(rtnl: Rtnl, spec: VmacSpec): Promise<VmacResult>
//       creates the macvlan (mode private, as keepalived) with the VMAC and brings it up. If an
//       interface of that name exists already with the same parent and MAC (e.g. after a crash)
//       it is reused (created: false); with anything else: NetError "EEXIST".
//   deleteVmac(rtnl, name): Promise<boolean>             false if it did not exist
//   setSysctl(path, value): SysctlChange | undefined     undefined when already at that value
//   restoreSysctls(changes: SysctlChange[]): void        put back what createVmac changed
//
// What keepalived 2.2.7 does with use_vmac, measured in a namespace, and we repeat:
// - IPv4 VMAC: arp_ignore=1, accept_local=1, rp_filter=0, promote_secondaries=1 on the VMAC,
//   and arp_ignore=1, arp_filter=1 on the parent, so only the VMAC answers ARP for the VIPs.
//   The changes are returned (sysctlChanges) for the daemon to restore at shutdown.
// - IPv6 VMAC: addrgenmode none (otherwise every router would derive the SAME link-local from
//   the shared virtual MAC), then the parent's link-local is copied onto the VMAC with nodad and
//   preferred lifetime 0, to be the source of the VRRPv3 adverts sent on the VMAC.
//
// vmac_xmit_base: with it, adverts are sent and received on the parent (base) interface while the
// VIPs live on the VMAC; that choice is the daemon's (open the VrrpSocket on `parent` instead of
// `name`). Gratuitous ARP for a VMAC instance is sent with the VMAC as source MAC.
import { readFileSync, writeFileSync } from 'node:fs';
import { NetError, errnoFromError, toNetError } from './errors.js';
import { formatIp, formatMac, parseMac, type Family } from './ipaddr.js';
import type { LinkInfo, Rtnl } from './netlink.js';

export interface VmacSpec {
  vrid: number;
  family: Family;
  /** parent interface (the vrrp_instance's `interface`) */
  parent: string | number;
  /** interface name; default "vrrp.<VRID>" */
  name?: string;
  /** MAC override (use_vmac's MAC_ADDRESS), 5 or 6 octets */
  mac?: string;
  /** bring the interface up (default true) */
  up?: boolean;
  /** apply keepalived's sysctls (IPv4) / link-local (IPv6) set-up, default true */
  configure?: boolean;
}

export interface SysctlChange {
  path: string;
  previous: string;
  value: string;
}

export interface VmacResult {
  name: string;
  ifindex: number;
  mac: string;
  parentIndex: number;
  /** false when an existing matching interface was reused */
  created: boolean;
  /** IPv6: the link-local put on the VMAC */
  linkLocal?: string;
  /** sysctls changed (to restore at shutdown) */
  sysctlChanges: SysctlChange[];
}

function checkVrid(vrid: number): void {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new NetError('EBADARG', 'vmac', `virtual_router_id ${vrid} outside 1..255`);
}

export function vmacAddress(vrid: number, family: Family): string {
  checkVrid(vrid);
  return formatMac(Buffer.from([0x00, 0x00, 0x5e, 0x00, family === 4 ? 0x01 : 0x02, vrid]));
}

export function defaultVmacName(vrid: number): string {
  checkVrid(vrid);
  return `vrrp.${vrid}`;
}

export function resolveVmacMac(mac: string | undefined, vrid: number, family: Family): string {
  if (mac === undefined) return vmacAddress(vrid, family);
  checkVrid(vrid);
  const parts = mac.trim().split(/[:-]/);
  if (parts.length === 5) return formatMac(parseMac([...parts, vrid.toString(16)].join(':')));
  return formatMac(parseMac(mac));
}

export async function createVmac(rtnl: Rtnl, spec: VmacSpec): Promise<VmacResult> {
  checkVrid(spec.vrid);
  const name = spec.name ?? defaultVmacName(spec.vrid);
  if (name.length > 15) throw new NetError('EBADARG', 'createVmac', `interface name "${name}" longer than 15 characters`);
  const mac = resolveVmacMac(spec.mac, spec.vrid, spec.family);
  const up = spec.up ?? true;
  const parent = await rtnl.getLink(spec.parent);
  let link = (await rtnl.listLinks()).find((l) => l.name === name);
  let created = false;
  if (link) {
    checkReusable(link, parent, mac);
  } else {
    try {
      await rtnl.createMacvlan({ name, parent: parent.index, mac, mode: 'private', up: false, ipv6AddrGenModeNone: spec.family === 6 });
      created = true;
    } catch (err) {
      // Lost a race with another creator: reuse it if it matches.
      if (errnoFromError(err) !== 'EEXIST') throw err;
    }
    link = await rtnl.getLink(name);
    if (!created) checkReusable(link, parent, mac);
  }
  const result: VmacResult = { name, ifindex: link.index, mac, parentIndex: parent.index, created, sysctlChanges: [] };
  if (spec.configure ?? true) {
    if (spec.family === 4) {
      for (const [dev, key, value] of [
        [name, 'arp_ignore', '1'],
        [name, 'accept_local', '1'],
        [name, 'rp_filter', '0'],
        [name, 'promote_secondaries', '1'],
        [parent.name, 'arp_ignore', '1'],
        [parent.name, 'arp_filter', '1'],
      ] as const) {
        const c = setSysctl(`/proc/sys/net/ipv4/conf/${dev}/${key}`, value);
        if (c) result.sysctlChanges.push(c);
      }
    }
  }
  if (up && !link.adminUp) await rtnl.setLinkUp(link.index, true);
  if ((spec.configure ?? true) && spec.family === 6) {
    result.linkLocal = await copyLinkLocal(rtnl, parent, link.index);
  }
  return result;
}

function checkReusable(existing: LinkInfo, parent: LinkInfo, mac: string): void {
  if (existing.kind !== 'macvlan' || existing.parentIndex !== parent.index || existing.mac !== mac) {
    throw new NetError(
      'EEXIST',
      'createVmac',
      `interface ${existing.name} exists but is not a macvlan of ${parent.name} with MAC ${mac} (kind ${existing.kind ?? 'none'}, MAC ${existing.mac ?? 'none'})`,
    );
  }
}

/** EUI-64 link-local from a MAC (RFC 4291 appendix A). */
export function eui64LinkLocal(mac: string): string {
  const m = parseMac(mac);
  const b = Buffer.alloc(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b[8] = m[0]! ^ 0x02;
  b[9] = m[1]!;
  b[10] = m[2]!;
  b[11] = 0xff;
  b[12] = 0xfe;
  b[13] = m[3]!;
  b[14] = m[4]!;
  b[15] = m[5]!;
  return formatIp(b);
}

async function copyLinkLocal(rtnl: Rtnl, parent: LinkInfo, ifindex: number): Promise<string> {
  const parentLl = (await rtnl.listAddresses({ ifindex: parent.index, family: 6 })).find((a) => a.scope === 'link');
  const ll = parentLl?.address ?? (parent.mac ? eui64LinkLocal(parent.mac) : undefined);
  if (!ll) throw new NetError('EADDRNOTAVAIL', 'createVmac', `parent ${parent.name} has no link-local address nor MAC to derive one`);
  await rtnl.ensureAddress({ dev: ifindex, address: `${ll}/64`, scope: 'link', nodad: true, preferredLifetime: 0 });
  return ll;
}

export function setSysctl(path: string, value: string): SysctlChange | undefined {
  try {
    const previous = readFileSync(path, 'utf8').trim();
    if (previous === value) return undefined;
    writeFileSync(path, value);
    return { path, previous, value };
  } catch (err) {
    throw toNetError(`sysctl ${path}=${value}`, err);
  }
}

/** Restore sysctls in reverse order; errors (e.g. the interface is gone) are ignored. */
export function restoreSysctls(changes: readonly SysctlChange[]): void {
  for (const c of [...changes].reverse()) {
    try {
      writeFileSync(c.path, c.previous);
    } catch {
      /* interface deleted meanwhile */
    }
  }
}

export async function deleteVmac(rtnl: Rtnl, name: string): Promise<boolean> {
  try {
    await rtnl.deleteLink(name);
    return true;
  } catch (err) {
    const code = errnoFromError(err);
    if (code === 'ENOIF' || code === 'ENODEV') return false;
    throw err;
  }
}
