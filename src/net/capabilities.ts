// Linux capability checks, so that a missing privilege gives a clear message instead of a bare
// "Operation not permitted" from deep inside a socket call.
//
// Public API:
//   const CAP_NET_ADMIN = 12, CAP_NET_RAW = 13
//   parseCapEff(statusText: string): bigint | undefined   CapEff mask from /proc/<pid>/status text
//   readEffectiveCapabilities(statusPath = '/proc/self/status'): bigint   (throws NetError)
//   hasCapability(cap, mask?): boolean
//   missingCapabilities(needed: Capability[], mask?): Capability[]
//   assertCapabilities(needed: Capability[], purpose: string, mask?): void
//        throws NetError code "ENOCAP" naming each missing capability and what it is needed for.
import { readFileSync } from 'node:fs';
import { NetError } from './errors.js';

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;
export type Capability = typeof CAP_NET_ADMIN | typeof CAP_NET_RAW;

const CAP_INFO: Record<Capability, { name: string; why: string }> = {
  [CAP_NET_RAW]: { name: 'CAP_NET_RAW', why: 'raw VRRP sockets (IP protocol 112), gratuitous ARP and neighbour advertisements' },
  [CAP_NET_ADMIN]: {
    name: 'CAP_NET_ADMIN',
    why: 'adding virtual addresses, routes, rules and VMAC interfaces, and binding sockets to an interface',
  },
};

export function capabilityName(cap: Capability): string {
  return CAP_INFO[cap].name;
}

/** Extract the CapEff hex mask from the text of /proc/<pid>/status. */
export function parseCapEff(statusText: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return m ? BigInt('0x' + m[1]) : undefined;
}

export function readEffectiveCapabilities(statusPath = '/proc/self/status'): bigint {
  let text: string;
  try {
    text = readFileSync(statusPath, 'utf8');
  } catch (err) {
    throw new NetError('EUNKNOWN', 'capabilities', `cannot read ${statusPath}: ${(err as Error).message}`, { cause: err });
  }
  const mask = parseCapEff(text);
  if (mask === undefined) throw new NetError('EUNKNOWN', 'capabilities', `no CapEff line in ${statusPath}`);
  return mask;
}

export function hasCapability(cap: Capability, mask: bigint = readEffectiveCapabilities()): boolean {
  return ((mask >> BigInt(cap)) & 1n) === 1n;
}

export function missingCapabilities(needed: readonly Capability[], mask: bigint = readEffectiveCapabilities()): Capability[] {
  return needed.filter((c) => !hasCapability(c, mask));
}

/** Throw a NetError "ENOCAP" that names each missing capability and what needs it. */
export function assertCapabilities(needed: readonly Capability[], purpose: string, mask: bigint = readEffectiveCapabilities()): void {
  const missing = missingCapabilities(needed, mask);
  if (missing.length === 0) return;
  const list = missing.map((c) => `${CAP_INFO[c].name} (needed for ${CAP_INFO[c].why})`).join('; ');
  throw new NetError(
    'ENOCAP',
    purpose,
    `missing capability ${list}. Run as root, or grant it, e.g. systemd AmbientCapabilities=${missing.map((c) => CAP_INFO[c].name).join(' ')}`,
  );
}
