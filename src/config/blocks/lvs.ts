// LVS: virtual_server, virtual_server_group, real_server, the checkers' blocks, SSL.
import type { Checker, IpAddress, RealServer, VirtualServer, VirtualServerGroup } from '../model.js';
import type { ConfigDraft } from '../build.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, pushAll } from '../values.js';
import { type Handler, type Mutable, nameOf, needBlock, needChildren, type Table, walk } from './common.js';
import { trackedList } from './trackers.js';
import { parseGroupEntryAddress } from '../lvs-group-entry.js';

// ---------------------------------------------------------------- LVS

const CHECKER_TYPES = [
  'TCP_CHECK',
  'HTTP_GET',
  'SSL_GET',
  'MISC_CHECK',
  'SMTP_CHECK',
  'DNS_CHECK',
  'UDP_CHECK',
  'PING_CHECK',
  'FILE_CHECK',
  'BFD_CHECK',
];
/** keywords each checker accepts besides the common connection ones */
const CHECKER_SPECIFIC: Record<string, readonly string[]> = {
  TCP_CHECK: [],
  HTTP_GET: ['url', 'virtualhost', 'http_protocol', 'fast_recovery', 'enable_sni', 'nb_get_retry'],
  SSL_GET: ['url', 'virtualhost', 'http_protocol', 'fast_recovery', 'enable_sni', 'nb_get_retry'],
  MISC_CHECK: ['misc_path', 'misc_timeout', 'misc_dynamic', 'user'],
  SMTP_CHECK: ['helo_name', 'host'],
  DNS_CHECK: ['type', 'name'],
  UDP_CHECK: ['payload', 'require_reply', 'min_reply_length', 'max_reply_length'],
  PING_CHECK: [],
  FILE_CHECK: ['track_file'],
  BFD_CHECK: ['name'],
};
// nb_get_retry: only HTTP_GET/SSL_GET still take it (deprecated); 2.2.7 calls it unknown elsewhere
const CHECKER_COMMON = [
  'connect_ip',
  'connect_port',
  'bindto',
  'bind_port',
  'bind_if',
  'connect_timeout',
  'retry',
  'delay_before_retry',
  'warmup',
  'delay_loop',
  'fwmark',
  'log_all_failures',
  'alpha',
  'omega',
  'weight',
  'dynamic',
];

// keywords each checker type takes, built once per type (files with 30,000 checkers exist)
const checkerKeywordSets = new Map<string, ReadonlySet<string>>();
function checkerKeywords(type: string): ReadonlySet<string> {
  let set = checkerKeywordSets.get(type);
  if (!set) {
    const own = type === 'BFD_CHECK' || type === 'FILE_CHECK';
    set = new Set([...(own ? ['weight'] : CHECKER_COMMON), ...(CHECKER_SPECIFIC[type] ?? [])]);
    checkerKeywordSets.set(type, set);
  }
  return set;
}

function parseChecker(n: ConfigNode, c: Ctx): Checker {
  const ck: Mutable<Checker> = {
    type: n.keyword,
    file: n.file,
    line: n.line,
    connectTimeoutMs: 5000,
    retry: 1,
    delayBeforeRetryMs: 1000,
    urls: [],
    miscDynamic: false,
    options: {},
  };
  if (n.keyword === 'MISC_CHECK') ck.retry = 0;
  // -t says it (an info note: no effect on the verdict); the checkers log it again at run time
  if (n.keyword === 'BFD_CHECK')
    c.report(
      n,
      `BFD_CHECK is not supported by keepalived-ts (no BFD subsystem): the checker will be ignored, as keepalived ignores one whose bfd_instance is missing`,
      'info',
      'info',
    );
  const opts: Record<string, string> = {};
  let miscNode: ConfigNode | undefined;
  const allowed = checkerKeywords(n.keyword);
  for (const e of n.children ?? []) {
    if (!allowed.has(e.keyword)) {
      c.report(e, `Unknown keyword '${e.keyword}'`, 'unknown-keyword', 'warning');
      continue;
    }
    if (['retry', 'nb_get_retry', 'delay_before_retry', 'connect_timeout'].includes(e.keyword))
      ck.explicit = [...(ck.explicit ?? []), e.keyword];
    switch (e.keyword) {
      case 'connect_ip': {
        const a = c.addr(e, 0, false);
        if (a) ck.connectIp = a;
        break;
      }
      case 'bindto': {
        const a = c.addr(e, 0, false);
        if (a) ck.bindTo = a;
        break;
      }
      case 'connect_port': {
        const v = c.int(e, 0, 0, 65535);
        if (v !== undefined) ck.connectPort = v;
        break;
      }
      case 'bind_port': {
        const v = c.int(e, 0, 0, 65535);
        if (v !== undefined) ck.bindPort = v;
        break;
      }
      case 'connect_timeout': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.connectTimeoutMs = v;
        else if (e.args[0] !== undefined) c.report(e, `connect_timeout ${e.args[0]} invalid - ignoring`, 'invalid-value');
        break;
      }
      case 'retry':
      case 'nb_get_retry': {
        if (e.keyword === 'nb_get_retry') c.report(e, `nb_get_retry is deprecated - please use 'retry'`, 'semantic', 'warning');
        const v = c.int(e, 0, 0, 0x7fffffff);
        if (v !== undefined) ck.retry = v;
        break;
      }
      case 'delay_before_retry': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.delayBeforeRetryMs = v;
        break;
      }
      case 'delay_loop': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.delayLoopMs = v;
        break;
      }
      case 'warmup': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.warmupMs = v;
        break;
      }
      case 'misc_path': {
        // registered after the block: its `user` keyword may follow
        const s = c.script(e, 0, false);
        if (s) {
          ck.miscPath = s;
          miscNode = e;
        }
        break;
      }
      case 'misc_timeout': {
        const v = c.timerMs(e, 0);
        if (v !== undefined) ck.miscTimeoutMs = v;
        break;
      }
      case 'misc_dynamic':
        ck.miscDynamic = true;
        break;
      case 'url': {
        const u: Record<string, string> = {};
        for (const k of e.children ?? []) {
          if (
            ![
              'path',
              'digest',
              'status_code',
              'virtualhost',
              'regex',
              'regex_no_match',
              'regex_options',
              'regex_stack',
              'regex_min_offset',
              'regex_max_offset',
            ].includes(k.keyword)
          ) {
            c.report(k, `Unknown keyword '${k.keyword}'`, 'unknown-keyword', 'warning');
            continue;
          }
          u[k.keyword] = k.args.join(' ');
        }
        if (!u['path']) c.report(e, `url requires a path`, 'missing-parameter');
        ck.urls.push(u);
        break;
      }
      default:
        opts[e.keyword] = e.args.join(' ');
    }
  }
  ck.options = opts;
  if (ck.miscPath && miscNode) {
    const user = ck.miscPath.user ?? opts['user']?.split(/\s+/)[0];
    c.scriptRuns(ck.miscPath.command, user, miscNode, { endLine: n.endLine, checker: ck });
  }
  return ck;
}

function newRealServer(n: ConfigNode, c: Ctx): Mutable<RealServer> | undefined {
  const a = c.addr(n, 0, false);
  if (!a) return undefined;
  const rs: Mutable<RealServer> = {
    address: a,
    file: n.file,
    line: n.line,
    weight: 1,
    inhibitOnFailure: false,
    trackFiles: [],
    checkers: [],
  };
  if (n.args[1] !== undefined) {
    const p = c.int(n, 1, 0, 65535);
    if (p !== undefined) rs.port = p;
  }
  return rs;
}

const REAL_SERVER: Table<Mutable<RealServer>> = {
  weight: (n, r, c) => {
    const s = c.need(n, 0);
    if (s === undefined) return;
    if (/^-\d+$/.test(s)) {
      c.report(n, `negative number '${s}'`, 'invalid-value');
      c.report(n, `Real server weight ${s} is outside range 0-2147483647`, 'invalid-value');
      return;
    }
    const v = c.int(n, 0, 0, 2147483647);
    if (v !== undefined) r.weight = v;
  },
  lvs_method: (n, r, c) => {
    const s = c.need(n, 0);
    // TUN keeps its options as written ("TUN type gue port 6080 csum"): src/lvs reads them
    if (s !== undefined) r.lvsMethod = s === 'TUN' ? n.args.join(' ') : s;
  },
  inhibit_on_failure: (_n, r) => {
    r.inhibitOnFailure = true;
  },
  notify_up: (n, r, c) => {
    const s = c.script(n);
    if (s) r.notifyUp = s;
  },
  notify_down: (n, r, c) => {
    const s = c.script(n);
    if (s) r.notifyDown = s;
  },
  uthreshold: (n, r, c) => {
    const v = c.int(n, 0, 0, 0x7fffffff);
    if (v !== undefined) r.uthreshold = v;
  },
  lthreshold: (n, r, c) => {
    const v = c.int(n, 0, 0, 0x7fffffff);
    if (v !== undefined) r.lthreshold = v;
  },
  smtp_alert: (n, r, c) => {
    const v = c.bool(n);
    if (v !== undefined) r.smtpAlert = v;
  },
  track_file: (n, r, c) => void pushAll(r.trackFiles, trackedList(n, c, -2147483647, 2147483647, 'track file', 'real server')),
  // defaults for the real server's checkers, kept as written (src/check/timing.ts reads them)
  ...Object.fromEntries(
    ['delay_loop', 'alpha', 'omega', 'retry', 'delay_before_retry', 'warmup', 'connect_timeout', 'virtualhost'].map((k) => [
      k,
      ((n: ConfigNode, r: Mutable<RealServer>) => {
        r.checkerDefaults = { ...r.checkerDefaults, [k]: n.args.join(' ') };
      }) as Handler<Mutable<RealServer>>,
    ]),
  ),
  ...Object.fromEntries(
    CHECKER_TYPES.map((t) => [
      t,
      ((n: ConfigNode, r: Mutable<RealServer>, c: Ctx) => void r.checkers.push(parseChecker(n, c))) as Handler<Mutable<RealServer>>,
    ]),
  ),
};

const VS_SIMPLE = [
  'alpha',
  'omega',
  'ops',
  'persistence_engine',
  'smtp_alert',
  'ip_family',
  'retry',
  'delay_before_retry',
  'warmup',
  'connect_timeout',
  'inhibit_on_failure',
  'mh-port',
  'mh-fallback',
  'sh-port',
  'sh-fallback',
  'flag-1',
  'flag-2',
  'flag-3',
  'nftables_ipvs',
  'snmp_name',
];
export const VIRTUAL_SERVER: Table<Mutable<VirtualServer>> = {
  delay_loop: (n, v, c) => {
    const ms = c.timerMs(n, 0);
    if (ms !== undefined) v.delayLoopMs = ms;
  },
  lvs_sched: (n, v, c) => lvsSched(n, v, c),
  lb_algo: (n, v, c) => lvsSched(n, v, c),
  lvs_method: (n, v, c) => lvsMethod(n, v, c),
  lb_kind: (n, v, c) => lvsMethod(n, v, c),
  protocol: (n, v, c) => {
    // keepalived compares the protocol name without regard to case ("protocol tcp")
    const s = c.need(n, 0)?.toUpperCase();
    if (s === 'TCP' || s === 'UDP' || s === 'SCTP') v.protocol = s;
    else if (s !== undefined) c.report(n, `Unknown protocol ${s} - ignoring`, 'invalid-value');
  },
  persistence_timeout: (n, v, c) => {
    const k = n.args[0] === undefined ? 360 : c.int(n, 0, 1, 0x7fffffff);
    if (k !== undefined) v.persistenceTimeoutS = k;
  },
  persistence_granularity: (n, v, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) v.persistenceGranularity = s;
  },
  quorum: (n, v, c) => {
    const k = c.int(n, 0, 1, 0x7fffffff);
    if (k !== undefined) v.quorum = k;
  },
  hysteresis: (n, v, c) => {
    const k = c.int(n, 0, 0, 0x7fffffff);
    if (k !== undefined) v.hysteresis = k;
  },
  quorum_up: (n, v, c) => {
    const s = c.script(n);
    if (s) v.quorumUp = s;
  },
  quorum_down: (n, v, c) => {
    const s = c.script(n);
    if (s) v.quorumDown = s;
  },
  ha_suspend: (_n, v) => {
    v.haSuspend = true;
  },
  virtualhost: (n, v, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) v.virtualhost = s;
  },
  sorry_server: (n, v, c) => {
    const rs = newRealServer(n, c);
    if (rs) v.sorryServer = rs;
  },
  real_server: (n, v, c) => {
    const rs = newRealServer(n, c);
    if (!rs) return;
    walk(n.children, REAL_SERVER, rs, c);
    v.realServers.push(rs);
  },
  ...Object.fromEntries(
    VS_SIMPLE.map((k) => [
      k,
      ((n: ConfigNode, v: Mutable<VirtualServer>) => {
        (v.options as Record<string, string>)[k] = n.args.join(' ');
      }) as Handler<Mutable<VirtualServer>>,
    ]),
  ),
  // both apply to the sorry_server given before them (measured, 2.2.7: otherwise ignored, exit 5)
  sorry_server_inhibit: (n, v, c) => {
    if (!v.sorryServer) return c.report(n, 'Ignoring sorry_server inhibit used before or without sorry_server', 'semantic', 'warning');
    (v.options as Record<string, string>)[n.keyword] = n.args.join(' ');
  },
  sorry_server_lvs_method: (n, v, c) => {
    if (!v.sorryServer) return c.report(n, 'sorry_server forwarding used without sorry_server', 'semantic', 'warning');
    (v.options as Record<string, string>)[n.keyword] = n.args.join(' ');
  },
};

/** IPVS schedulers keepalived 2.2.7 knows (case-sensitive; measured: "RR", "foo" are refused) */
export const LVS_SCHEDULERS: readonly string[] = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
];

function lvsSched(n: ConfigNode, v: Mutable<VirtualServer>, c: Ctx): void {
  const s = c.need(n, 0);
  if (s === undefined) return;
  if (LVS_SCHEDULERS.includes(s)) v.lvsSched = s;
  else c.report(n, `Invalid lvs_scheduler '${s}' - ignoring`, 'invalid-value', 'error', 0);
}

function lvsMethod(n: ConfigNode, v: Mutable<VirtualServer>, c: Ctx): void {
  const s = c.need(n, 0);
  if (s === undefined) return;
  // case-sensitive: keepalived 2.2.7 rejects "dr" and "Tun" (measured)
  if (s === 'NAT' || s === 'DR') v.lvsMethod = s;
  else if (s === 'TUN')
    v.lvsMethod = n.args.join(' '); // with its options, as for real_server
  else c.report(n, `PARSER : unknown [${s}] routing method for virtual server.`, 'invalid-value');
}

export function newVirtualServer(n: ConfigNode, c: Ctx): Mutable<VirtualServer> | undefined {
  const base = {
    file: n.file,
    line: n.line,
    delayLoopMs: 60000,
    lvsSched: 'wlc',
    lvsMethod: 'NAT',
    protocol: 'TCP',
    quorum: 1,
    hysteresis: 0,
    haSuspend: false,
    realServers: [],
    options: {},
  };
  if (n.args[0] === 'group') {
    const g = c.need(n, 1);
    return g === undefined ? undefined : { ...base, kind: 'group', group: g };
  }
  if (n.args[0] === 'fwmark') {
    const m = c.int(n, 1, 1, 0xffffffff);
    return m === undefined ? undefined : { ...base, kind: 'fwmark', fwmark: m };
  }
  const a = c.addr(n, 0, false);
  if (!a) return undefined;
  const vs: Mutable<VirtualServer> = { ...base, kind: 'address', address: a };
  if (n.args[1] !== undefined) {
    const p = c.int(n, 1, 0, 65535);
    if (p !== undefined) vs.port = p;
  }
  return vs;
}

export function parseVsGroup(n: ConfigNode, c: Ctx, name: string): VirtualServerGroup {
  const entries: { raw: string[]; address?: IpAddress; range?: number; last?: string; port?: number; fwmark?: number }[] = [];
  for (const e of needBlock(n, c)) {
    const raw = [e.keyword, ...e.args];
    if (e.keyword === 'fwmark') {
      const m = c.int(e, 0, 1, 0xffffffff);
      if (m !== undefined) entries.push({ raw, fwmark: m });
      continue;
    }
    // "A.B.C.D", "A.B.C.D-E", "A.B.C.D-E.F.G.H", "A.B.C.D/nn" (IPv6 alike)
    const r = parseGroupEntryAddress(e.keyword);
    if (!r.ok) {
      c.report(e, r.message, 'invalid-value');
      continue;
    }
    const ent: { raw: string[]; address?: IpAddress; range?: number; last?: string; port?: number } = { raw, ...r.entry };
    if (e.args[0] !== undefined) {
      const p = c.intText(e, e.args[0], 0, 65535, 0);
      if (p !== undefined) ent.port = p;
    }
    entries.push(ent);
  }
  return { name, file: n.file, line: n.line, entries };
}

/** a protocol / scheduler / method line keepalived accepted */
function vsValid(x: ConfigNode): boolean {
  if (x.keyword === 'protocol') return ['TCP', 'UDP', 'SCTP'].includes(x.args[0]!.toUpperCase());
  if (x.keyword === 'lvs_method' || x.keyword === 'lb_kind') return ['NAT', 'DR', 'TUN'].includes(x.args[0]!);
  if (x.keyword === 'lvs_sched' || x.keyword === 'lb_algo') return LVS_SCHEDULERS.includes(x.args[0]!);
  return true;
}

// ---------------------------------------------------------------- top-level blocks

export const LVS_BLOCKS: Table<ConfigDraft> = {
  virtual_server_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    d.virtualServerGroups.push(parseVsGroup(n, c, name));
  },
  virtual_server: (n, d, c) => {
    if (!needChildren(n, c)) return;
    const vs = newVirtualServer(n, c);
    if (!vs) return;
    walk(n.children, VIRTUAL_SERVER, vs, c);
    // keepalived 2.2.7 reports missing settings as configuration errors and uses its defaults
    const has = (...k: string[]): boolean => n.children!.some((x) => k.includes(x.keyword) && x.args.length > 0 && vsValid(x));
    const label =
      vs.kind === 'fwmark' ? `FWM ${vs.fwmark}` : vs.kind === 'group' ? `GROUP ${vs.group}` : `[${vs.address!.address}]:%p:${vs.port ?? 0}`;
    let proto = 'none';
    if (vs.kind !== 'fwmark' && !has('protocol')) {
      c.global(`Virtual server ${label.replace('%p', proto)}: no protocol set - defaulting to UDP`, 'semantic', 'error', vs, 'protocol');
      vs.protocol = 'UDP';
    }
    proto = vs.protocol.toLowerCase();
    if (!has('lvs_sched', 'lb_algo'))
      c.global(
        `Virtual server ${label.replace('%p', proto)}: no scheduler set, setting default 'wlc'`,
        'semantic',
        'error',
        vs,
        'lvs_sched',
      );
    if (!has('lvs_method', 'lb_kind'))
      c.global(
        `Virtual server ${label.replace('%p', proto)}: no forwarding method set, setting default NAT`,
        'semantic',
        'error',
        vs,
        'lvs_method',
      );
    const protoNode = n.children!.find((x) => x.keyword === 'protocol');
    if (vs.kind === 'fwmark' && protoNode) {
      c.report(protoNode, `Warning: Virtual server FWM ${vs.fwmark}: protocol specified for fwmark - protocol will be ignored`, 'semantic');
    }
    // measured (2.2.7, exit 5, no line given): with DR or TUN a real server cannot change the
    // port, keepalived resets it to the virtual server's
    if (vs.kind === 'address' && vs.port !== undefined) {
      vs.realServers = vs.realServers.map((rs) => {
        const method = rs.lvsMethod ?? vs.lvsMethod;
        if ((method !== 'DR' && method !== 'TUN') || rs.port === undefined || rs.port === vs.port) return rs;
        const rsAddr = `[${rs.address.address}]`;
        c.global(
          `WARNING - virtual server ${label.replace('%p', proto)} and real server ${rsAddr}:${proto}:${rs.port} ports don't match - resetting`,
          'semantic',
          'warning',
          rs,
          'real_server',
        );
        return { ...rs, port: vs.port };
      });
    }
    // a quorum above the total weight can never be met: keepalived lowers it (measured: exit 5)
    const total = vs.realServers.reduce((a, rs) => a + rs.weight, 0);
    if (vs.realServers.length > 0 && vs.quorum > total) {
      const qn = n.children!.find((x) => x.keyword === 'quorum') ?? n;
      c.report(
        qn,
        `Warning - quorum ${vs.quorum} for ${label.replace('%p', proto)} exceeds total weight of real servers ${total}, reducing quorum to ${total}`,
        'semantic',
        'warning',
      );
      vs.quorum = total;
    }
    d.virtualServers.push(vs);
  },
  SSL: (n, d, c) => {
    if (!needChildren(n, c)) return;
    const s: Record<string, string> = {};
    for (const e of n.children!) {
      if (['password', 'ca', 'certificate', 'key'].includes(e.keyword)) s[e.keyword] = e.args.join(' ');
      else c.report(e, `Unknown keyword '${e.keyword}'`, 'unknown-keyword', 'warning');
    }
    d.ssl = s;
  },
  // daemon facilities written outside global_defs (man page: before global_defs)
};
