// From the typed configuration model to what each runtime piece needs: the sans-I/O core's
// configuration, the receive checks of the codec, netlink address specs. Pure functions.
import { CORE_SETTINGS, type CoreSettings, type GlobalDefs, type VirtualIpAddress, type VrrpInstance } from '../config/model.js';
import { coreConfig, type VrrpCoreConfig } from '../vrrp/core.js';
import type { ReceiveOptions } from '../vrrp/packet.js';
import { AuthType, type IpFamily } from '../vrrp/types.js';
import type { AddressSpec } from '../net/netlink.js';
import { readFileSync } from 'node:fs';
import type { RouteSpec as ModelRoute, RuleSpec as ModelRule } from '../config/model.js';
import type { RouteSpec as NetRoute, RuleSpec as NetRule, ScopeName } from '../net/netlink.js';
import { isRouteTypeName } from '../net/route-types.js';

/** Equal configurations, ignoring where they were written (file and line move on every edit). */
export function sameConfig(a: unknown, b: unknown): boolean {
  // A structural comparison of the model (plain data: objects, arrays, primitives) that skips
  // the "file" and "line" keys. It used to compare JSON.stringify with a replacer, which cost
  // 4 ms of a 200-instance reload.
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameConfig(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>,
    bo = b as Record<string, unknown>;
  // one pass over each side, no key arrays (a reload compares every instance of the file)
  let na = 0;
  for (const k in ao) {
    if (k === 'file' || k === 'line') continue;
    const va = ao[k];
    if (va === undefined) continue;
    na++;
    if (!Object.hasOwn(bo, k) || !sameConfig(va, bo[k])) return false;
  }
  let nb = 0;
  for (const k in bo) if (k !== 'file' && k !== 'line' && bo[k] !== undefined) nb++;
  return na === nb;
}

export function familyOf(inst: VrrpInstance): IpFamily {
  return inst.family === 'inet6' ? 6 : 4;
}

/** The addresses carried in adverts: the virtual_ipaddress entries of the instance's family. */
export function advertisedAddresses(inst: VrrpInstance): string[] {
  const fam = inst.family;
  return inst.virtualIpAddresses.filter((a) => a.family === fam).map((a) => a.address);
}

/** Every address the instance owns while Master (virtual_ipaddress + _excluded), keyed for the core. */
export function ownedAddresses(inst: VrrpInstance): VirtualIpAddress[] {
  return [...inst.virtualIpAddresses, ...inst.virtualIpAddressesExcluded];
}

/** Key of a virtual address as handed to and from the core ("192.0.2.100/24 dev vnet0"). */
export function vipKey(a: VirtualIpAddress, defaultDev: string | undefined): string {
  return `${a.address}/${a.prefixLength} dev ${a.dev ?? defaultDev ?? '?'}`;
}

/** the model's CoreSettings fields of an instance, unchanged */
function coreSettings(inst: VrrpInstance): CoreSettings {
  const o: Partial<Record<keyof CoreSettings, unknown>> = {};
  for (const k of CORE_SETTINGS) o[k] = inst[k];
  return o as CoreSettings;
}

export function toCoreConfig(inst: VrrpInstance, g: GlobalDefs, primaryAddress: string): VrrpCoreConfig {
  return coreConfig({
    name: inst.name,
    vrid: inst.virtualRouterId,
    version: inst.version,
    family: familyOf(inst),
    // priority, advert_int, preempt, garp_*...: already in the core's names and units
    ...coreSettings(inst),
    primaryAddress,
    virtualAddresses: ownedAddresses(inst).map((a) => vipKey(a, inst.interface)),
    startupDelayMs: g.vrrpStartupDelayMs,
    initialState: inst.state,
  });
}

export function authTypeOf(inst: VrrpInstance): AuthType {
  if (inst.version !== 2 || !inst.authentication) return AuthType.None;
  return inst.authentication.authType === 'AH' ? AuthType.IpAh : AuthType.SimpleText;
}

export function receiveOptions(inst: VrrpInstance): ReceiveOptions {
  const unicast = inst.unicastPeers.length > 0;
  const minTtls = inst.unicastPeers.map((p) => p.minTtl).filter((x): x is number => x !== undefined);
  const maxTtls = inst.unicastPeers.map((p) => p.maxTtl).filter((x): x is number => x !== undefined);
  return {
    version: inst.version,
    vrids: inst.virtualRouterId,
    authType: authTypeOf(inst),
    // bytes once, not per packet
    authPass: inst.authentication ? Buffer.from(inst.authentication.authPass, 'utf8') : undefined,
    advertIntervalCs: inst.advertIntervalCs,
    unicast,
    minTtl: minTtls.length ? Math.min(...minTtls) : undefined,
    maxTtl: maxTtls.length ? Math.max(...maxTtls) : undefined,
    addresses: inst.skipCheckAdvAddr ? undefined : advertisedAddresses(inst),
    dropOnAddressMismatch: inst.strictMode,
    oldUnicastChecksum: inst.oldUnicastChecksum === 'never' ? 'never' : 'auto',
  };
}

export function addressSpec(a: VirtualIpAddress, defaultDev: string): AddressSpec {
  const scope = a.scope as AddressSpec['scope'];
  return {
    dev: a.dev ?? defaultDev,
    address: a.address,
    prefixLength: a.prefixLength,
    broadcast: a.broadcast === '+' || a.broadcast === '-' ? (a.broadcast === '+' ? 'auto' : undefined) : a.broadcast,
    scope,
    label: a.label,
    peer: a.peer?.address,
    noPrefixRoute: a.noPrefixRoute || undefined,
    // keepalived adds IPv6 VIPs without duplicate address detection (no takeover delay)
    nodad: a.family === 'inet6' ? true : undefined,
  };
}

// ---- virtual_routes / virtual_rules / static_* ------------------------------------------------

const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };

/** A routing table by number or by name (iproute2's rt_tables). */
export function tableId(t: string | undefined, rtTables = '/etc/iproute2/rt_tables'): number | undefined {
  if (t === undefined) return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  if (TABLES[t] !== undefined) return TABLES[t];
  try {
    for (const line of readFileSync(rtTables, 'utf8').split('\n')) {
      const m = /^\s*(\d+)\s+(\S+)/.exec(line);
      if (m && m[2] === t) return Number(m[1]);
    }
  } catch {
    /* no rt_tables */
  }
  throw new Error(`unknown routing table "${t}"`);
}

export function netRoute(r: ModelRoute, defaultDev: string | undefined): NetRoute {
  const fam = r.family === 'inet6' ? 6 : 4;
  const scope = r.options.scope as ScopeName | undefined;
  return {
    dst: r.destination ? `${r.destination.address}/${r.destination.prefixLength}` : 'default',
    family: fam,
    via: r.via?.address,
    dev: r.dev ?? (r.via || r.type !== 'unicast' ? undefined : defaultDev),
    src: r.src?.address,
    table: tableId(r.table),
    metric: r.metric,
    scope,
    type: isRouteTypeName(r.type) ? r.type : undefined,
    onlink: 'onlink' in r.options || r.raw.includes('onlink') || undefined,
  };
}

export function netRule(r: ModelRule): NetRule {
  const o = r.options;
  const mark = o.fwmark?.split('/');
  return {
    family: r.family === 'inet6' ? 6 : 4,
    from: r.from ? `${r.from.address}/${r.from.prefixLength}` : undefined,
    to: r.to ? `${r.to.address}/${r.to.prefixLength}` : undefined,
    table: tableId(r.table),
    priority: r.preference,
    iif: o.iif ?? o.dev,
    oif: o.oif,
    fwmark: mark?.[0] !== undefined ? Number(mark[0]) : undefined,
    fwmask: mark?.[1] !== undefined ? Number(mark[1]) : undefined,
    tos: o.tos !== undefined ? Number(o.tos) : undefined,
    invert: r.raw.includes('not') || undefined,
  };
}
