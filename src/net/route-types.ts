/**
 * The one route-type table (rtnetlink's RTN_* numbers, iproute2's names), used by the config
 * schema (which words may lead a route), the daemon's model-to-netlink map and netlink itself.
 * Dependency-free, so that the config can import it without loading any of src/net's I/O.
 */

export const ROUTE_TYPES = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
  nat: 10,
} as const;

export type RouteTypeName = keyof typeof ROUTE_TYPES;

/** true for a name of the table */
export function isRouteTypeName(s: string): s is RouteTypeName {
  return Object.hasOwn(ROUTE_TYPES, s);
}

/** the name of an RTN_* number, or undefined for one outside the table */
export function routeTypeName(n: number): RouteTypeName | undefined {
  return (Object.keys(ROUTE_TYPES) as RouteTypeName[]).find((k) => ROUTE_TYPES[k] === n);
}

/**
 * The names keepalived 2.2.7's route parser accepts as a route's leading type word: every one of
 * the table but anycast (which the kernel does not implement).
 */
export function isConfigRouteType(s: string): s is RouteTypeName {
  return isRouteTypeName(s) && s !== 'anycast';
}
