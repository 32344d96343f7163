// Address, route and rule entries: virtual_ipaddress(_excluded), virtual_routes, virtual_rules
// (in vrrp_instance) and their static_* top-level blocks.
import type { IpAddress, RouteSpec, RuleSpec, VirtualIpAddress } from '../model.js';
import type { ConfigDraft } from '../build.js';
import { isConfigRouteType } from '../../net/route-types.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, parseIpAddress } from '../values.js';
import { type Mutable, needChildren, type Table } from './common.js';

// ---------------------------------------------------------------- address / route / rule entries

const SCOPES = new Set(['site', 'link', 'host', 'nowhere', 'global']);

/** One line of virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress. */
export function parseVipEntry(n: ConfigNode, c: Ctx, isStatic: boolean): VirtualIpAddress | undefined {
  let a = parseIpAddress(n.keyword);
  const pm = /^(.*)\/(\d+)$/.exec(n.keyword);
  if (!a && pm) {
    // an over-long prefix is reported and the host length used (keepalived)
    const host = parseIpAddress(pm[1]!, false);
    const max = host?.family === 'inet6' ? 128 : 32;
    if (host && Number(pm[2]) > max) {
      c.report(n, `number '${pm[2]}' outside range [0, ${max}]`, 'invalid-value');
      c.report(n, `Invalid address prefix len ${pm[2]} for address ${n.keyword} - using ${max}`, 'invalid-value');
      a = host;
    }
  }
  if (!a) {
    c.report(n, `VRRP parsed invalid IP ${n.keyword}. skipping IP...`, 'invalid-value');
    return undefined;
  }
  // the fields of `a` written out: a spread followed by nine more properties costs ~10 us an
  // entry in V8 (object clone, then map transitions), this literal ~0.3 us (issue 14)
  const v: Mutable<VirtualIpAddress> = {
    family: a.family,
    address: a.address,
    prefixLength: a.prefixLength,
    file: n.file,
    line: n.line,
    home: false,
    noDad: false,
    mngTmpAddr: false,
    noPrefixRoute: false,
    autoJoin: false,
    noTrack: false,
    useVmac: false,
  };
  // IPv6 /128 addresses are deprecated (preferred_lft 0) unless told otherwise
  if (a.family === 'inet6' && a.prefixLength === 128) v.preferredLft = 0;
  const args = n.args;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const val = (): string | undefined => {
      const x = args[i + 1];
      if (x === undefined) c.report(n, `${w} requires a value`, 'missing-parameter', 'error', i);
      i++;
      return x;
    };
    switch (w) {
      case 'brd':
      case 'broadcast': {
        const x = val();
        if (x !== undefined) v.broadcast = x;
        break;
      }
      case 'dev': {
        const x = val();
        if (x !== undefined) v.dev = x;
        break;
      }
      case 'scope': {
        const x = val();
        if (x !== undefined) {
          if (SCOPES.has(x) || /^\d+$/.test(x)) v.scope = x;
          else c.report(n, `Invalid scope '${x}' specified for ${n.keyword} - ignoring`, 'invalid-value', 'error', i);
        }
        break;
      }
      case 'label': {
        const x = val();
        if (x !== undefined) v.label = x;
        break;
      }
      case 'peer': {
        const x = val();
        if (x !== undefined) {
          const p = parseIpAddress(x);
          if (p) v.peer = p;
          else c.report(n, `Invalid peer address '${x}'`, 'invalid-value', 'error', i);
        }
        break;
      }
      case 'home':
        v.home = true;
        break;
      case '-nodad':
        v.noDad = true;
        break;
      case 'mngtmpaddr':
        v.mngTmpAddr = true;
        break;
      case 'noprefixroute':
        v.noPrefixRoute = true;
        break;
      case 'autojoin':
        v.autoJoin = true;
        break;
      case 'no_track':
        v.noTrack = true;
        break;
      case 'use_vmac':
        v.useVmac = true;
        break;
      case 'preferred_lft': {
        const x = val();
        if (x === 'forever') v.preferredLft = 'forever';
        else if (x !== undefined) {
          const k = c.intText(n, x, 0, 0xffffffff, i);
          if (k !== undefined) v.preferredLft = k;
        }
        break;
      }
      case 'track_group': {
        const x = val();
        if (x !== undefined) {
          if (isStatic) v.trackGroup = x;
          else c.report(n, `track_group is only valid for static addresses`, 'semantic', 'warning', i);
        }
        break;
      }
      default:
        c.report(n, `Unknown configuration entry '${w}' for ip address - ignoring`, 'unknown-keyword', 'warning', i);
    }
  }
  return v;
}

// ---------------------------------------------------------------- routes and rules

// ip-route options (each with one value, "lock" aside) that keepalived 2.2.7's route parser knows
const ROUTE_OPTIONS = new Set([
  'tos',
  'dsfield',
  'protocol',
  'proto',
  'scope',
  'mtu',
  'hoplimit',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'ssthresh',
  'realms',
  'rto_min',
  'initcwnd',
  'initrwnd',
  'features',
  'quickack',
  'congctl',
  'pref',
  'fastopen_no_cookie',
  'ttl-propagate',
  'vrf',
  'expires',
  'encap',
  'weight',
  'lock',
  'src',
]);

/** The words that routes and rules spell differently for the options they share. */
interface EntryGrammar {
  readonly what: 'route' | 'rule';
  /** the table: "table" (rules also "lookup") */
  readonly table: readonly string[];
  /** the number that orders them: a route's metric, a rule's preference */
  readonly order: readonly string[];
  readonly orderField: 'metric' | 'preference';
  /** options without a value, kept in options as '' */
  readonly flags: readonly string[];
}
const ROUTE_GRAMMAR: EntryGrammar = {
  what: 'route',
  table: ['table'],
  order: ['metric', 'priority', 'preference'],
  orderField: 'metric',
  flags: ['onlink', 'append', 'pervasive'],
};
const RULE_GRAMMAR: EntryGrammar = {
  what: 'rule',
  table: ['table', 'lookup'],
  order: ['preference', 'priority', 'order', 'prio'],
  orderField: 'preference',
  flags: ['l3mdev', 'not'],
};

/**
 * One virtual_routes / virtual_rules entry, read word by word (ip-route / ip-rule syntax): the
 * options routes and rules share are handled here (common), the others by the caller's loop.
 */
class EntryWords {
  readonly words: string[];
  /** index of the current word; next() and option() move it past the values they take */
  i = 0;
  /** "inet6" seen: the entry is IPv6 whatever its addresses say */
  forced6 = false;
  readonly options: Record<string, string> = {};
  constructor(
    readonly n: ConfigNode,
    readonly c: Ctx,
    readonly g: EntryGrammar,
  ) {
    this.words = [n.keyword, ...n.args];
  }
  /** the value after option w (reported when missing) */
  next(w: string): string | undefined {
    const x = this.words[this.i + 1];
    if (x === undefined) this.c.report(this.n, `${this.g.what} option '${w}' requires a value`, 'missing-parameter');
    this.i++;
    return x;
  }
  /** any other option, kept raw with its one value; metrics may be locked: "mtu lock 1000" */
  option(w: string): void {
    let x = this.words[this.i + 1];
    if (x !== undefined) this.i++;
    if (x === 'lock' && this.words[this.i + 1] !== undefined) x = `lock ${this.words[++this.i]!}`;
    this.options[w] = x ?? '';
  }
  /** the options routes and rules share; false when w is none of them */
  common(w: string, r: { table?: string; noTrack: boolean; trackGroup?: string; metric?: number; preference?: number }): boolean {
    if (w === 'inet6') this.forced6 = true;
    else if (w === 'no_track') r.noTrack = true;
    else if (w === 'track_group') {
      const x = this.next(w);
      if (x !== undefined) r.trackGroup = x;
    } else if (this.g.table.includes(w)) {
      const x = this.next(w);
      if (x !== undefined) r.table = x;
    } else if (this.g.order.includes(w)) {
      const x = this.next(w);
      const k = x === undefined ? undefined : this.c.intText(this.n, x, 0, 0xffffffff);
      if (k !== undefined) r[this.g.orderField] = k;
    } else if (this.g.flags.includes(w)) this.options[w] = '';
    else return false;
    return true;
  }
}

export function parseRouteEntry(n: ConfigNode, c: Ctx): RouteSpec | undefined {
  const e = new EntryWords(n, c, ROUTE_GRAMMAR);
  const words = e.words;
  const r: Mutable<RouteSpec> = { file: n.file, line: n.line, family: 'inet', type: 'unicast', noTrack: false, options: {}, raw: words };
  const addrOf = (x: string | undefined): IpAddress | undefined => {
    if (x === undefined) return undefined;
    const a = parseIpAddress(x);
    if (!a) c.report(n, `Invalid address '${x}' in route`, 'invalid-value');
    return a;
  };
  let inNexthop = false;
  for (; e.i < words.length; e.i++) {
    const w = words[e.i]!;
    if (e.i === 0 && isConfigRouteType(w)) {
      r.type = w;
      continue;
    }
    if (e.common(w, r)) continue;
    switch (w) {
      case 'to': {
        const a = addrOf(e.next(w));
        if (a) r.destination = a;
        break;
      }
      case 'src': {
        const a = addrOf(e.next(w));
        if (a) r.src = a;
        break;
      }
      case 'via':
      case 'gw': {
        if (w === 'gw') c.report(n, `"gw" for routes is deprecated. Please use "via"`, 'semantic', 'warning');
        // ip-route's "via [inet|inet6] ADDR": keepalived accepts the family word before the gateway
        const fam = words[e.i + 1];
        if (fam === 'inet' || fam === 'inet6') {
          e.i++;
          if (fam === 'inet6') e.forced6 = true;
        }
        const a = addrOf(e.next(w));
        if (a) r.via = a;
        break;
      }
      case 'or': {
        c.report(n, `"or" for routes is deprecated. Please use "nexthop"`, 'semantic', 'warning');
        const a = addrOf(e.next(w));
        if (a) r.or = a;
        break;
      }
      case 'dev':
      case 'oif': {
        const x = e.next(w);
        if (x !== undefined) r.dev = x;
        break;
      }
      case 'nexthop':
        // nexthop groups ("nexthop via A dev X weight 1 nexthop ...") are kept raw from here on
        inNexthop = true;
        e.options[w] = words.slice(e.i + 1).join(' ');
        e.i = words.length;
        break;
      default: {
        if (r.destination === undefined && (parseIpAddress(w) || w === 'default')) {
          r.destination = w === 'default' ? { family: 'inet', address: '0.0.0.0', prefixLength: 0 } : parseIpAddress(w)!;
          break;
        }
        if (!inNexthop && !ROUTE_OPTIONS.has(w)) {
          // keepalived 2.2.7 logs "unknown route keyword X" and skips the whole route (exit 5)
          c.report(n, `unknown route keyword ${w}`, 'invalid-value');
          return undefined;
        }
        // remaining ip-route options take one value ("ssthresh lock 107": the rest is kept raw)
        e.option(w);
      }
    }
  }
  if (!r.destination) {
    c.report(n, `route has no destination - ignoring`, 'invalid-value');
    return undefined;
  }
  r.family = e.forced6 ? 'inet6' : r.destination.family;
  r.options = e.options;
  return r;
}

export function parseRuleEntry(n: ConfigNode, c: Ctx): RuleSpec | undefined {
  const e = new EntryWords(n, c, RULE_GRAMMAR);
  const words = e.words;
  const r: Omit<Mutable<RuleSpec>, 'preference'> & { preference?: number } = {
    file: n.file,
    line: n.line,
    family: 'inet',
    noTrack: false,
    options: {},
    raw: words,
  };
  for (; e.i < words.length; e.i++) {
    const w = words[e.i]!;
    if (e.common(w, r)) continue;
    if (w === 'from' || w === 'to') {
      const x = e.next(w);
      if (x === undefined) continue;
      const a = x === 'all' ? undefined : parseIpAddress(x);
      if (x !== 'all' && !a) c.report(n, `Invalid address '${x}' in rule`, 'invalid-value');
      if (a) r[w] = a;
    } else e.option(w);
  }
  if (r.preference === undefined) {
    // keepalived assigns 16384, 16383, ... in configuration order
    r.preference = c.nextRulePreference--;
    c.report(
      n,
      `Rule has no preference specified - setting to ${r.preference}. This is probably not what you want.`,
      'semantic',
      'warning',
    );
  }
  r.family = e.forced6 || r.from?.family === 'inet6' || r.to?.family === 'inet6' ? 'inet6' : 'inet';
  r.options = e.options;
  return r as RuleSpec;
}

// ---------------------------------------------------------------- top-level blocks

export const STATIC_BLOCKS: Table<ConfigDraft> = {
  static_ipaddress: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const v = parseVipEntry(e, c, true);
      if (v) d.staticIpAddresses.push(v);
    }
  },
  static_routes: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const r = parseRouteEntry(e, c);
      if (r) d.staticRoutes.push(r);
    }
  },
  static_rules: (n, d, c) => {
    if (!needChildren(n, c)) return;
    for (const e of n.children!) {
      const r = parseRuleEntry(e, c);
      if (r) d.staticRules.push(r);
    }
  },
};
