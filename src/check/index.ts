/**
 * Health checkers: keepalived 2.2.7's checker process, in-process.
 *
 * Entry point:
 *   const checkers = startCheckers(config.virtualServers, sink, deps): Checkers
 *     sink: RealServerSink (src/check/sink.ts; the LVS table manager implements it)
 *     deps: CheckerDeps { log, notifier?, fifo?, trackFiles?, ssl?, logAllFailures?,
 *                         script?, rsInitNotifies?, alert?, routerId?, smtpAlertChecker?,
 *                         noCheckerEmails?, clock? }
 *   Checkers = CheckerControl (suspend / reload / stop, sink.ts) + snapshot() for status.
 *   checkerDepsFromConfig(config, { log, notifier, fifo, alert, script }) fills deps from
 *   global_defs (track files, SSL block, checker_log_all_failures, rs_init_notifies, ...).
 *
 * Before any check the table manager asks initialAlive(vs, rs) (sink.ts) for a real server's
 * state; from then on this module calls sink.setAlive() on each transition of a real server (it is
 * alive when all its checkers are up: a count of failed checkers) and sink.setWeight() when a
 * dynamic weight changes (misc_dynamic, FILE_CHECK). It logs keepalived's lines for each
 * transition, runs the real server's notify_up / notify_down through the notify queue and writes
 * `RS [rip]:tcp:8080 [vip]:tcp:80 UP|DOWN` to the lvs/notify fifo. Quorum is the table's side.
 *
 * Each checker: scheduler.ts (timing and retries), timing.ts (per-type defaults), one probe file
 * per type (tcp, http, smtp, udp (UDP_CHECK, DNS_CHECK), ping, misc, file).
 * Not supported: BFD_CHECK (no BFD subsystem: the checker is dropped with a warning, as keepalived
 * drops one whose BFD instance is missing). fwmark (SO_MARK) and bind_if (SO_BINDTODEVICE) are set
 * through the kts_connect addon (TCP checkers on the socket it makes, UDP_CHECK and DNS_CHECK on the
 * dgram socket's fd), PING_CHECK on its raw socket; without the addon they are warned once per
 * checker and not set.
 */
import { hostname } from 'node:os';
import { createSecureContext } from 'node:tls';
import type { Checker, KeepalivedConfig, RealServer, TrackFile as TrackFileDef, VirtualServer } from '../config/model.js';
import type { NotifyScript } from '../notify/queue.js';
import { resolveScriptUser } from '../notify/security.js';
import { connectAddon } from '../net/tcp-connect.js';
import { fmtRealServer, fmtVirtualServer, targetOf, type Target } from './common.js';
import { FileCheck } from './file.js';
import { defaultHost, httpProbe, parseUrl, tlsFromSslBlock, type HttpProtocol, type HttpUrl, type TlsOptions } from './http.js';
import { miscProbe } from './misc.js';
import { pingProbe } from './ping.js';
import { CheckerRunner, realClock, type CheckClock, type Probe, type ProbeResult, type StartMode } from './scheduler.js';
import { initialAlive, type CheckerControl, type RealServerSink } from './sink.js';
import { smtpProbe } from './smtp.js';
import { tcpProbe } from './tcp.js';
import { checkerTiming, flagOn } from './timing.js';
import { checkReplyPattern, dnsProbe, DNS_TYPES, udpProbe } from './udp.js';

export { initialAlive } from './sink.js';
export type { RealServerSink, CheckerControl } from './sink.js';

export interface CheckerLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface CheckerDeps {
  log: CheckerLog;
  /** the notify queue (src/notify/queue.ts) for notify_up / notify_down */
  notifier?: { enqueue(queueKey: string, script: NotifyScript, extraArgs?: string[]): Promise<unknown> };
  /** lvs_notify_fifo / notify_fifo (src/notify/fifo.ts) */
  fifo?: { realServer(rs: string, vs: string, up: boolean): boolean };
  /** the configuration's track_file definitions (FILE_CHECK refers to them by name) */
  trackFiles?: readonly TrackFileDef[];
  /** the global SSL block (client certificate for SSL_GET) */
  ssl?: Readonly<Record<string, string>>;
  /** global checker_log_all_failures */
  logAllFailures?: boolean;
  /** rs_init_notifies: notify each real server's initial state at start */
  rsInitNotifies?: boolean;
  /** SMTP alerts (the daemon sends them with its smtp_server settings); keepalived's subject
   *  "[router_id] Realserver R of virtual server V - UP|DOWN" needs the router_id */
  alert?: (subject: string, body: string) => void;
  routerId?: string;
  /** the default of real servers' smtp_alert (global smtp_alert_checker, else smtp_alert) */
  smtpAlertChecker?: boolean;
  /** no_checker_emails: mail only when the real server changes, not on every checker change */
  noCheckerEmails?: boolean;
  /** resolve a script line to run (script_user, script security); undefined = refused.
   *  Default: its user (else keepalived_script, else ourselves) */
  script?: (line: string, user?: string, group?: string) => NotifyScript | undefined;
  clock?: CheckClock;
  /** tests: replace a checker's probe */
  probeFor?: (ck: Checker, rs: RealServer, vs: VirtualServer) => Probe | undefined;
  pingPath?: string;
}

export interface CheckerSnapshot {
  vs: string;
  rs: string;
  alive: boolean;
  weight: number;
  checkers: Array<{ type: string; up: boolean; attempts: number; suspended: boolean }>;
}

export interface Checkers extends CheckerControl {
  snapshot(): CheckerSnapshot[];
}

interface CheckerEntry {
  ck: Checker;
  key: string;
  rs: RsEntry;
  runner?: CheckerRunner;
  file?: FileCheck;
  up: boolean;
  /** dynamic weight contribution (misc_dynamic, FILE_CHECK) */
  offset: number;
}

interface RsEntry {
  vs: VirtualServer;
  rs: RealServer;
  key: string;
  checkers: CheckerEntry[];
  alive: boolean;
  /** weight last reported (or the configured one) */
  weight: number;
}

const on = (v: string | undefined) => flagOn(v);
const TCP_TYPES = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK']);

export function vsKey(vs: VirtualServer): string {
  return `${vs.kind} ${vs.address?.address ?? ''} ${vs.port ?? ''} ${vs.fwmark ?? ''} ${vs.group ?? ''} ${vs.protocol}`;
}
export function rsKey(rs: RealServer): string {
  return `${rs.address.address} ${rs.port ?? ''}`;
}
/** keepalived keeps a checker across a reload when its type and options are identical */
export function checkerKey(ck: Checker, vs: VirtualServer, rs?: RealServer): string {
  const { file: _f, line: _l, ...rest } = ck as Checker & { endLine?: number };
  delete (rest as { endLine?: number }).endLine;
  return JSON.stringify([rest, checkerTiming(ck, vs, rs), rs?.checkerDefaults?.['virtualhost'] ?? null]);
}

/** the keepalived name of a checker type in its log lines */
function logName(type: string): string {
  // keepalived 2.2.7 logs SSL_GET failures as HTTP_CHECK too (strings of /usr/sbin/keepalived)
  return type === 'HTTP_GET' || type === 'SSL_GET' ? 'HTTP_CHECK' : type;
}

export function startCheckers(virtualServers: readonly VirtualServer[], sink: RealServerSink, deps: CheckerDeps): Checkers {
  const clock = deps.clock ?? realClock;
  const log = deps.log;
  let entries: RsEntry[] = [];
  let stopped = false;
  // ha_suspend state by virtual server, so that checkers started by a reload inherit it
  const suspendedVs = new Set<string>();
  let tls: TlsOptions | string | undefined;

  const runScript = (e: RsEntry, up: boolean) => {
    const cmd = up ? e.rs.notifyUp : e.rs.notifyDown;
    const name = fmtRealServer(e.vs, e.rs);
    deps.fifo?.realServer(name, fmtVirtualServer(e.vs), up);
    if (!cmd || !deps.notifier) return;
    const script = deps.script ? deps.script(cmd.command, cmd.user, cmd.group) : defaultScript(cmd.command, cmd.user, cmd.group);
    if (script) void deps.notifier.enqueue(`RS ${name} ${fmtVirtualServer(e.vs)}`, script);
  };

  /** Returns true when the real server's alive state changed. */
  const recompute = (e: RsEntry, reason: string, notify = true): boolean => {
    const failed = e.checkers.filter((c) => !c.up).length;
    const alive = failed === 0;
    const changed = alive !== e.alive;
    if (changed) {
      e.alive = alive;
      sink.setAlive(e.vs, e.rs, alive, reason);
      if (notify) runScript(e, alive);
    }
    const w = Math.max(0, Math.min(0x7fffffff, e.rs.weight + e.checkers.reduce((s, c) => s + c.offset, 0)));
    if (w !== e.weight) {
      e.weight = w;
      sink.setWeight(e.vs, e.rs, w);
    }
    return changed;
  };

  /** smtp_alert for a checker's transition, with keepalived's subject and per-type body. */
  const mail = (e: RsEntry, type: string, up: boolean, reason: string, rsChanged: boolean) => {
    if (!deps.alert) return;
    const vsAlert = e.vs.options['smtp_alert'];
    const enabled = e.rs.smtpAlert ?? (vsAlert !== undefined ? on(vsAlert) : (deps.smtpAlertChecker ?? false));
    if (!enabled || (!rsChanged && deps.noCheckerEmails)) return;
    const what = up ? 'succeed' : 'failed';
    const body: Record<string, string> = {
      TCP_CHECK: `=> TCP CHECK ${what} on service <=`,
      UDP_CHECK: `=> UDP CHECK ${what} on service <=`,
      PING_CHECK: `=> ICMP CHECK ${what} on service <=`,
      DNS_CHECK: `=> DNS_CHECK: ${what} on service <=`,
      MISC_CHECK: `=> MISC CHECK ${what} on service <=`,
    };
    const subject = `[${deps.routerId ?? ''}] Realserver ${fmtRealServer(e.vs, e.rs)} of virtual server ${fmtVirtualServer(e.vs)} - ${e.alive ? 'UP' : 'DOWN'}`;
    deps.alert(subject, body[type] ?? (up ? '=> CHECK succeed on service <=' : `=> CHECK failed on service : ${reason} <=`));
  };

  const logFor = (c: CheckerEntry, target: Target | undefined) => {
    const e = () => c.rs;
    const svc = () => target?.name ?? fmtRealServer(e().vs, e().rs);
    const all = () => deps.logAllFailures || on(c.ck.options['log_all_failures']);
    const miscHead = () =>
      `Misc check for [${fmtRealServer(e().vs, e().rs)} VS ${fmtVirtualServer(e().vs)}] by [${c.ck.miscPath?.command ?? ''}]`;
    return {
      attempt(r: ProbeResult, willRetry: boolean) {
        if (c.ck.type === 'MISC_CHECK' && willRetry && !r.ok) {
          log.info(`${miscHead()} failed, will do ${c.runner ? c.runner.timing.retry : 0} retry (${r.reason}).`);
          return;
        }
        // keepalived logs per-attempt failures only while the checker is up
        if (r.ok || !all() || !c.up) return;
        switch (c.ck.type) {
          case 'TCP_CHECK':
            log.info(`TCP connection to ${svc()} ${r.reason === 'timeout' ? 'timeout' : 'failed'}.`);
            break;
          case 'HTTP_GET':
          case 'SSL_GET':
            log.info(r.reason);
            break;
          // DNS and SMTP log a final failure once, in down()
          case 'DNS_CHECK':
            if (willRetry) log.info(`DNS_CHECK (${svc()}) ${r.reason}`);
            break;
          case 'MISC_CHECK':
            log.info(`${miscHead()} ${r.reason}.`);
            break;
          case 'SMTP_CHECK':
            if (willRetry) log.info(`SMTP_CHECK ${r.reason}`);
            break;
          case 'UDP_CHECK':
            log.info(
              /does not match|length/.test(r.reason)
                ? `UDP check to ${svc()} reply data mismatch. (${r.reason})`
                : `UDP connection to ${svc()} failed. (${r.reason})`,
            );
            break;
          case 'PING_CHECK':
            log.info(
              r.reason === 'timeout' || r.reason === 'no echo reply'
                ? `ICMP connection to address ${svc()} timeout.`
                : `ICMP connection to ${svc()} of ${fmtVirtualServer(e().vs)} failed. (${r.reason})`,
            );
            break;
          default:
            log.info(`${logName(c.ck.type)} ${svc()}: ${r.reason}`);
        }
      },
      up(r: ProbeResult, wasUp: boolean) {
        c.up = true;
        if (r.weight !== undefined) c.offset = r.weight - e().rs.weight;
        switch (c.ck.type) {
          case 'TCP_CHECK':
            log.info(`TCP connection to ${svc()} success.`);
            break;
          case 'HTTP_GET':
          case 'SSL_GET':
            log.info(r.reason);
            log.info(`Remote Web server ${svc()} succeed on service.`);
            break;
          case 'SMTP_CHECK':
            log.info(`Remote SMTP server ${svc()} succeed on service.`);
            break;
          // DNS_CHECK logs no success line
          case 'UDP_CHECK':
            log.info(`UDP connection to ${svc()} success.`);
            break;
          case 'PING_CHECK':
            log.info(`ICMP connection to ${svc()} success.`);
            break;
          case 'MISC_CHECK':
            log.info(`${miscHead()} succeeded.`);
            break;
        }
        const changed = recompute(e(), r.reason);
        if (!wasUp) mail(e(), c.ck.type, true, r.reason, changed);
      },
      down(r: ProbeResult, retries: number) {
        c.up = false;
        const after = retries > 0 ? ` after ${retries} retries` : '';
        switch (c.ck.type) {
          case 'MISC_CHECK': {
            const how =
              r.reason === 'timed out'
                ? 'timed out'
                : c.runner?.timing.retry === 0
                  ? `failed with retry disabled (${r.reason})`
                  : `failed after ${retries} retries (${r.reason})`;
            log.info(`${miscHead()} ${how}.`);
            break;
          }
          case 'DNS_CHECK':
            log.info(`DNS_CHECK (${svc()}) ${r.reason}${after}`);
            break;
          // keepalived logs SMTP's final failure as its reason, with no summary line
          case 'SMTP_CHECK':
            log.info(`SMTP_CHECK ${r.reason}`);
            break;
          case 'PING_CHECK':
            log.info(`ICMP CHECK on service ${svc()}${after ? ` of ${fmtVirtualServer(e().vs)}` : ''} failed${after}.`);
            break;
          default:
            log.info(`${logName(c.ck.type)} on service ${svc()} failed${after}.`);
        }
        mail(e(), c.ck.type, false, r.reason, recompute(e(), `${c.ck.type}: ${r.reason}`));
      },
      success(r: ProbeResult) {
        // misc_dynamic: every success may move the weight, not only a transition
        if (r.weight === undefined && c.ck.type !== 'MISC_CHECK') return;
        const off = r.weight === undefined ? 0 : r.weight - e().rs.weight;
        if (off !== c.offset) {
          c.offset = off;
          recompute(e(), r.reason);
        }
      },
    };
  };

  /** The probe of a checker, or why it cannot run. */
  const probeOf = (c: CheckerEntry): { probe: Probe; target?: Target; urls?: number } | string => {
    const { ck, rs } = c;
    const vs = c.rs.vs;
    const test = deps.probeFor?.(ck, rs.rs, vs);
    const timing = checkerTiming(ck, vs, rs.rs);
    // keepalived prints a checker's address with the virtual server's protocol, whatever the type
    const t = targetOf(ck, rs.rs, timing.connectTimeoutMs, vs.protocol);
    // fwmark and bind_if are set on the TCP, UDP and DNS checkers' sockets by the kts_connect addon
    // (tcp_connect.c): without it they cannot be
    if (t.mark !== undefined || (t.device !== undefined && !t.host.includes('%'))) {
      const what = t.mark !== undefined ? 'fwmark (SO_MARK)' : 'bind_if (SO_BINDTODEVICE)';
      if ((TCP_TYPES.has(ck.type) || ck.type === 'UDP_CHECK' || ck.type === 'DNS_CHECK') && !connectAddon())
        log.warn(
          `${ck.type} (${ck.file}:${ck.line}): ${what} needs the kts_connect addon, which is not built (npm run install); probing without it`,
        );
    }
    if (test) return { probe: test, target: t, urls: Math.max(1, ck.urls.length) };
    switch (ck.type) {
      case 'TCP_CHECK':
        return { probe: tcpProbe(t), target: t };
      case 'HTTP_GET':
      case 'SSL_GET': {
        const urls: HttpUrl[] = [];
        for (const u of ck.urls) {
          const p = parseUrl(u);
          if (typeof p === 'string') return p;
          urls.push(p);
        }
        if (urls.length === 0) return 'no url';
        const proto = (ck.options['http_protocol'] ?? '1.0').trim();
        const protocol: HttpProtocol = proto === '1.1' ? '1.1' : /^1\.0c$/i.test(proto) ? '1.0C' : '1.0';
        const vhost = (u: HttpUrl) =>
          u.virtualhost ?? ck.options['virtualhost'] ?? rs.rs.checkerDefaults?.['virtualhost'] ?? vs.virtualhost;
        let tlsOpts: TlsOptions | undefined;
        if (ck.type === 'SSL_GET') {
          if (tls === undefined) {
            tls = tlsFromSslBlock(deps.ssl);
            if (typeof tls === 'string') log.error(`${tls}; SSL_GET checks will fail`);
            // a certificate or key that cannot be used: said once; every attempt then fails (the
            // real server leaves the table rather than stay in it unchecked)
            if (typeof tls !== 'string' && (tls.cert || tls.key)) {
              try {
                createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca, passphrase: tls.passphrase });
              } catch (e) {
                log.error(`SSL block: the client certificate cannot be used (${(e as Error).message}); SSL_GET checks will fail`);
              }
            }
          }
          if (typeof tls === 'string') {
            const why = tls;
            return { probe: async () => ({ ok: false, reason: why }), target: t };
          }
          const sni = on(ck.options['enable_sni'] === '' ? 'on' : ck.options['enable_sni']) ? vhost(urls[0]!) : undefined;
          tlsOpts = { ...tls, servername: sni && !/^[\d.:]+$/.test(sni) ? sni : undefined };
        }
        return {
          probe: httpProbe(t, urls, { hostOf: (u) => vhost(u) ?? defaultHost(t), protocol, tls: tlsOpts }),
          target: t,
          urls: urls.length,
        };
      }
      case 'SMTP_CHECK':
        return { probe: smtpProbe(t, ck.options['helo_name'] ?? 'smtpchecker.keepalived.org'), target: t };
      case 'DNS_CHECK': {
        const type = (ck.options['type'] ?? 'SOA').toUpperCase();
        const code = DNS_TYPES[type];
        if (code === undefined) return `DNS_CHECK type ${type} is not supported`;
        return { probe: dnsProbe(t, ck.options['name'] ?? '.', code), target: t };
      }
      case 'UDP_CHECK': {
        const payload = ck.options['payload']?.replace(/\s+/g, '');
        if (payload !== undefined && !/^([0-9a-fA-F]{2})*$/.test(payload)) return `payload "${payload}" is not hex bytes`;
        const req = ck.options['require_reply'];
        if (req) {
          const bad = checkReplyPattern(req);
          if (bad) return bad;
        }
        const n = (k: string, d: number) => (ck.options[k] !== undefined && /^\d+$/.test(ck.options[k]!) ? Number(ck.options[k]) : d);
        return {
          probe: udpProbe(t, {
            payload: payload ? Buffer.from(payload, 'hex') : undefined,
            requireReply: req,
            minReplyLength: n('min_reply_length', 0),
            maxReplyLength: n('max_reply_length', 255),
          }),
          target: t,
        };
      }
      case 'PING_CHECK': {
        // fwmark and bind_if are socket options of the raw ICMP socket (ping.ts)
        const fw = ck.options['fwmark']?.trim();
        const mark = fw !== undefined && /^\d+$/.test(fw) ? Number(fw) : undefined;
        return { probe: pingProbe(t, deps.pingPath, { mark, device: ck.options['bind_if']?.trim() || undefined }), target: t };
      }
      case 'MISC_CHECK': {
        if (!ck.miscPath) return 'MISC_CHECK without misc_path';
        const user = ck.miscPath.user ?? ck.options['user']?.split(/\s+/)[0];
        const group = ck.miscPath.group ?? ck.options['user']?.split(/\s+/)[1];
        const s = deps.script ? deps.script(ck.miscPath.command, user, group) : defaultScript(ck.miscPath.command, user, group);
        if (!s) return `misc_path ${ck.miscPath.command} refused (script security or unknown user)`;
        return { probe: miscProbe({ line: s.line, timeoutMs: timing.miscTimeoutMs, dynamic: ck.miscDynamic, uid: s.uid, gid: s.gid }) };
      }
      default:
        return `${ck.type} is not supported`;
    }
  };

  const startEntry = (c: CheckerEntry, mode: StartMode): boolean => {
    const { ck } = c;
    const where = `${ck.file}:${ck.line}`;
    const rsName = fmtRealServer(c.rs.vs, c.rs.rs);
    if (ck.type === 'BFD_CHECK') {
      log.warn(
        `BFD_CHECK (${where}) on ${rsName}: keepalived-ts has no BFD subsystem; the checker is ignored, as keepalived ignores one whose BFD instance is not configured`,
      );
      return false;
    }
    if (ck.type === 'FILE_CHECK') {
      const [name, ...rest] = (ck.options['track_file'] ?? '').split(/\s+/).filter(Boolean);
      const def = deps.trackFiles?.find((d) => d.name === name);
      if (!def) {
        log.warn(`FILE_CHECK (${where}) on ${rsName}: track_file ${name ?? '(none)'} is not defined - ignoring the checker`);
        return false;
      }
      // weight W [reverse] on the track_file line or its own line; default the definition's
      const wl = rest[0] === 'weight' ? rest.slice(1) : (ck.options['weight'] ?? '').split(/\s+/).filter(Boolean);
      const weight = wl[0] !== undefined && /^-?\d+$/.test(wl[0]) ? Number(wl[0]) : def.weight;
      const reverse = wl[0] !== undefined ? wl[1] === 'reverse' : def.reverse;
      const f = new FileCheck(def.name, def.path, weight, reverse);
      c.file = f;
      c.up = mode !== 'alpha' || c.up;
      f.on('state', (s) => {
        const wasUp = c.up;
        c.up = s.up;
        c.offset = s.up ? s.offset : 0;
        // a new reason while down (text, then deleted) is logged too
        if (wasUp !== s.up || !s.up)
          log.info(`FILE_CHECK ${def.name} on ${fmtRealServer(c.rs.vs, c.rs.rs)} ${s.up ? 'up' : `down: ${s.reason}`}`);
        recompute(c.rs, `FILE_CHECK ${def.name}: ${s.reason}`);
      });
      void f.start();
      return true;
    }
    const p = probeOf(c);
    if (typeof p === 'string') {
      log.error(`${ck.type} (${where}) on ${rsName}: ${p} - the checker is ignored`);
      return false;
    }
    const l = logFor(c, p.target);
    const r = new CheckerRunner(
      checkerTiming(ck, c.rs.vs, c.rs.rs),
      p.probe,
      clock,
      {
        attempt: (res, retry) => {
          l.attempt(res, retry);
          if (res.ok) l.success(res);
        },
        up: l.up,
        down: l.down,
      },
      mode,
      p.urls ?? 1,
    );
    r.suspended = suspendedVs.has(vsKey(c.rs.vs));
    c.runner = r;
    c.up = r.up;
    return true;
  };

  const build = (vss: readonly VirtualServer[], mode: 'start' | 'reload', old: RsEntry[]): RsEntry[] => {
    const out: RsEntry[] = [];
    const oldByKey = new Map(old.map((e) => [`${vsKey(e.vs)} | ${e.key}`, e]));
    for (const vs of vss) {
      for (const rs of vs.realServers) {
        const key = rsKey(rs);
        const prev = oldByKey.get(`${vsKey(vs)} | ${key}`);
        if (prev) oldByKey.delete(`${vsKey(vs)} | ${key}`);
        const e: RsEntry = {
          vs,
          rs,
          key,
          checkers: [],
          alive: prev ? prev.alive : initialAlive(vs, rs),
          weight: prev ? prev.weight : rs.weight,
        };
        const spare = prev ? [...prev.checkers] : [];
        for (const ck of rs.checkers) {
          const k = checkerKey(ck, vs, rs);
          const i = spare.findIndex((c) => c.key === k);
          if (i >= 0) {
            // identical checker: it keeps running, with its state
            const c = spare.splice(i, 1)[0]!;
            c.ck = ck;
            c.rs = e;
            e.checkers.push(c);
            continue;
          }
          const alpha = on(vs.options['alpha']) || on(rs.checkerDefaults?.['alpha']) || on(ck.options['alpha']);
          const c: CheckerEntry = { ck, key: k, rs: e, up: !alpha, offset: 0 };
          if (startEntry(c, alpha ? 'alpha' : mode)) e.checkers.push(c);
        }
        for (const c of spare) void stopEntry(c);
        out.push(e);
      }
    }
    for (const e of oldByKey.values()) for (const c of e.checkers) void stopEntry(c);
    return out;
  };

  const stopEntry = async (c: CheckerEntry) => {
    c.file?.stop();
    await c.runner?.stop();
  };

  entries = build(virtualServers, 'start', []);
  for (const e of entries) {
    // dropped checkers (BFD, bad options) can leave the table's initial guess wrong: correct it
    recompute(e, 'initial state', false);
    if (deps.rsInitNotifies) runScript(e, e.alive);
  }
  for (const e of entries) for (const c of e.checkers) c.runner?.start();

  return {
    suspend(vs: VirtualServer, suspended: boolean): void {
      if (suspended) suspendedVs.add(vsKey(vs));
      else suspendedVs.delete(vsKey(vs));
      for (const e of entries) {
        if (e.vs !== vs && vsKey(e.vs) !== vsKey(vs)) continue;
        for (const c of e.checkers) if (c.runner) c.runner.suspended = suspended;
      }
    },
    reload(vss: readonly VirtualServer[]): void {
      if (stopped) return;
      const before = new Set(entries.flatMap((e) => e.checkers));
      entries = build(vss, 'reload', entries);
      for (const e of entries) recompute(e, 'reload');
      // keepalived schedules every checker again, kept ones too (states kept): 1 s + random(warmup)
      for (const e of entries)
        for (const c of e.checkers)
          if (before.has(c)) c.runner?.reschedule();
          else c.runner?.start();
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(entries.flatMap((e) => e.checkers.map(stopEntry)));
      // omega: the real servers' down notifications are also run at shutdown
      for (const e of entries) if (e.alive && (on(e.vs.options['omega']) || on(e.rs.checkerDefaults?.['omega']))) runScript(e, false);
    },
    snapshot(): CheckerSnapshot[] {
      return entries.map((e) => ({
        vs: fmtVirtualServer(e.vs),
        rs: fmtRealServer(e.vs, e.rs),
        alive: e.alive,
        weight: e.weight,
        checkers: e.checkers.map((c) => ({
          type: c.ck.type,
          up: c.up,
          attempts: c.runner?.attempts ?? 0,
          suspended: c.runner?.suspended ?? false,
        })),
      }));
    },
  };
}

/**
 * The global_defs that shape the checkers (for the daemon's wiring): track_file definitions, the
 * SSL block, checker_log_all_failures, rs_init_notifies, no_checker_emails, router_id and the
 * smtp_alert_checker default (else smtp_alert). `base` brings the runtime parts.
 */
export function checkerDepsFromConfig(
  config: KeepalivedConfig,
  base: Pick<CheckerDeps, 'log' | 'notifier' | 'fifo' | 'alert' | 'script' | 'clock'>,
): CheckerDeps {
  const g = config.globalDefs;
  const flag = (k: string) => {
    const v = g.other[k];
    return v !== undefined && (v.length === 0 || on(v[0]));
  };
  return {
    ...base,
    trackFiles: config.trackFiles,
    ssl: config.ssl,
    logAllFailures: flag('checker_log_all_failures'),
    rsInitNotifies: flag('rs_init_notifies'),
    noCheckerEmails: flag('no_checker_emails'),
    routerId: g.routerId ?? hostname().split('.')[0],
    smtpAlertChecker: g.smtpAlertChecker ?? g.smtpAlert ?? false,
  };
}

/** script_user resolution when the daemon does not pass its own (tests, genhash). */
function defaultScript(line: string, user?: string, group?: string): NotifyScript | undefined {
  const su = resolveScriptUser({ user, group });
  if (su.error) return undefined;
  return { line, uid: su.uid, gid: su.gid };
}
