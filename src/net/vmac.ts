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
//
// vmac_xmit_base: with it, adverts are sent and received on the parent (base) interface while the
// VIPs live on the VMAC; that choice is the daemon's (open the VrrpSocket on `parent` instead of
// `name`). Gratuitous ARP for a VMAC instance is sent with the VMAC as source MAC.
import { NetError, errnoFromError } from './errors.js';
import { formatMac, parseMac, type Family } from './ipaddr.js';
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
}

export interface VmacResult {
  name: string;
  ifindex: number;
  mac: string;
  parentIndex: number;
  /** false when an existing matching interface was reused */
  created: boolean;
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
  const parent = await rtnl.getLink(spec.parent);
  const existing = (await rtnl.listLinks()).find((l) => l.name === name);
  if (existing) return reuse(rtnl, existing, parent, mac, spec.up ?? true);
  try {
    await rtnl.createMacvlan({ name, parent: parent.index, mac, mode: 'private', up: false });
  } catch (err) {
    // Lost a race with another creator: reuse if it matches.
    if (errnoFromError(err) === 'EEXIST') {
      const again = (await rtnl.listLinks()).find((l) => l.name === name);
      if (again) return reuse(rtnl, again, parent, mac, spec.up ?? true);
    }
    throw err;
  }
  if (spec.up ?? true) await rtnl.setLinkUp(name, true);
  const link = await rtnl.getLink(name);
  return { name, ifindex: link.index, mac: link.mac ?? mac, parentIndex: parent.index, created: true };
}

async function reuse(rtnl: Rtnl, existing: LinkInfo, parent: LinkInfo, mac: string, up: boolean): Promise<VmacResult> {
  if (existing.kind !== 'macvlan' || existing.parentIndex !== parent.index || existing.mac !== mac) {
    throw new NetError(
      'EEXIST',
      'createVmac',
      `interface ${existing.name} exists but is not a macvlan of ${parent.name} with MAC ${mac} (kind ${existing.kind ?? 'none'}, MAC ${existing.mac ?? 'none'})`,
    );
  }
  if (up && !existing.adminUp) await rtnl.setLinkUp(existing.index, true);
  return { name: existing.name, ifindex: existing.index, mac, parentIndex: parent.index, created: false };
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
