// IPVS over generic netlink (family "IPVS"), built on netlink@0.3.0's generic-netlink socket and
// our schema (ipvs-schema.ts). Every request has a timeout; every failure is an IpvsError whose
// `code` is the kernel's errno name (EEXIST, ESRCH, ENOENT, EINVAL...) or ETIMEDOUT / ENOIPVS.
//
// Public API:
//   class Ipvs
//     static open(opts?: { timeoutMs?, modprobe? }): Promise<Ipvs>   resolves the family by name;
//         when it is missing runs `modprobe ip_vs` once (as keepalived does) and retries; rejects
//         with IpvsError ENOIPVS when the kernel still has no IPVS
//     close(): void
//     info(): Promise<IpvsInfo>                 getTimeouts(): Promise<IpvsTimeouts>
//     setTimeouts(t): Promise<void>             flush(): Promise<void>
//     listServices(): Promise<IpvsService[]>    getService(key): Promise<IpvsService | undefined>
//     addService / editService (full entry), deleteService (key)
//     listDests(svc): Promise<IpvsDest[]>
//     addDest / editDest (svc, full dest), deleteDest (svc, dest key)
//     dump(): Promise<IpvsTableEntry[]>          every service with its destinations
//     listDaemons(): Promise<IpvsDaemon[]>  addDaemon(d) / deleteDaemon(state)
//     writes: number                            netlink writes (requests that change the table)
//   class IpvsError extends Error { code; op }
//   formatTable(entries): string                an `ipvsadm -Ln`-like text, for logs and tests
//
// Why our own error decoding: netlink 0.3.0 rejects with Error("Request rejected: EEXIST") and no
// errno property; we pass checkError: false and read the NLMSG_ERROR payload (a negative errno).
import { execFile } from 'node:child_process';
import { constants as osConstants } from 'node:os';
// deep imports: see src/net/netlink.ts
import { createGenericNetlink, type GenericNetlinkSocket } from 'netlink/dist/genl/genl.js';
import * as genl from 'netlink/dist/genl/structs.js';
import { FlagsGet } from 'netlink/dist/constants.js';
import type { NetlinkMessage } from 'netlink/dist/structs.js';
import {
  AF_INET,
  CMD_ATTR,
  FWD,
  IPVS_CMD,
  IPVS_GENL_NAME,
  IPVS_GENL_VERSION,
  decodeDaemon,
  decodeDest,
  decodeInfo,
  decodeService,
  decodeTimeouts,
  destKey,
  encodeDaemon,
  encodeDest,
  encodeService,
  encodeTimeouts,
  nest,
  parseAttrs,
  serviceKey,
  SVC_FLAG,
  type IpvsDaemon,
  type IpvsDest,
  type IpvsInfo,
  type IpvsService,
  type IpvsTimeouts,
} from './ipvs-schema.js';

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_DUMP = FlagsGet.DUMP as number;
const DEFAULT_TIMEOUT_MS = 2000;

const ERRNO_NAME = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));
/** errno name of a positive or negative errno number */
export function errnoName(n: number): string {
  return ERRNO_NAME.get(Math.abs(n)) ?? `errno ${Math.abs(n)}`;
}

/** What an errno means for an IPVS command, in ipvsadm's words where it has some. */
function explain(cmd: number, code: string): string {
  const svcCmd = cmd === IPVS_CMD.NEW_SERVICE || cmd === IPVS_CMD.SET_SERVICE;
  switch (code) {
    case 'EEXIST':
      return svcCmd ? 'service already exists' : 'destination already exists';
    case 'ESRCH':
      return 'no such service';
    case 'ENOENT':
      return svcCmd ? 'scheduler or persistence engine not found (is its ip_vs_* module loaded?)' : 'no such destination';
    case 'EINVAL':
      return 'invalid argument (a family, port or option the kernel refuses)';
    case 'EPERM':
      return 'operation not permitted: needs CAP_NET_ADMIN';
    case 'EAFNOSUPPORT':
      return 'address family not supported (a mixed-family destination needs TUN)';
    case 'EOPNOTSUPP':
      return 'not supported by this kernel';
    case 'EBUSY':
      return 'busy (a sync daemon of that role already runs)';
    default:
      return 'kernel refused';
  }
}

export class IpvsError extends Error {
  readonly code: string;
  readonly op: string;
  constructor(code: string, op: string, message?: string, options?: { cause?: unknown }) {
    super(`${op}: ${message ?? code}`, options);
    this.name = 'IpvsError';
    this.code = code;
    this.op = op;
  }
}

export interface IpvsTableEntry {
  service: IpvsService;
  dests: IpvsDest[];
}

/** The NLMSG_ERROR payload's errno (0 = ACK), or undefined for other messages. */
export function nlmsgErrno(msg: Pick<NetlinkMessage, 'type' | 'data'>): number | undefined {
  if (msg.type !== NLMSG_ERROR) return undefined;
  if (msg.data.length < 4) return -22; // truncated error: EINVAL
  return msg.data.readInt32LE(0);
}

function runModprobe(timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    execFile('modprobe', ['ip_vs'], { timeout: timeoutMs }, () => resolve());
  });
}

export class Ipvs {
  /** netlink requests that change the table (for "reload with the same file writes nothing") */
  writes = 0;
  private constructor(
    private readonly sock: GenericNetlinkSocket,
    readonly familyId: number,
    private readonly timeoutMs: number,
  ) {}

  static async open(opts: { timeoutMs?: number; modprobe?: boolean } = {}): Promise<Ipvs> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let sock: GenericNetlinkSocket;
    try {
      sock = createGenericNetlink();
    } catch (e) {
      throw new IpvsError('ENOIPVS', 'open generic netlink socket', (e as Error).message, { cause: e });
    }
    const resolve = async (): Promise<number | undefined> => {
      try {
        const [fam] = await sock.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: IPVS_GENL_NAME }, { timeout: timeoutMs });
        return fam?.familyId;
      } catch (e) {
        if (/ENOENT/.test((e as Error).message)) return undefined;
        sock.socket.close();
        throw new IpvsError(
          /Timeout/.test((e as Error).message) ? 'ETIMEDOUT' : 'ENOIPVS',
          'resolve generic netlink family IPVS',
          (e as Error).message,
          { cause: e },
        );
      }
    };
    let id = await resolve();
    if (id === undefined && opts.modprobe !== false) {
      await runModprobe(5000);
      id = await resolve();
    }
    if (id === undefined) {
      sock.socket.close();
      throw new IpvsError(
        'ENOIPVS',
        'resolve generic netlink family IPVS',
        `the kernel has no IPVS (generic netlink family "IPVS" not found${opts.modprobe === false ? '' : ', modprobe ip_vs did not help'})`,
      );
    }
    return new Ipvs(sock, id, timeoutMs);
  }

  close(): void {
    this.sock.socket.close();
  }

  /** one dump at a time per socket: the kernel refuses a second one in progress (EBUSY) */
  private dumping: Promise<unknown> = Promise.resolve();

  /** One request; resolves with the reply messages' genl payloads (attributes after the genl header). */
  private request(op: string, cmd: number, attrs: Buffer[], dump = false): Promise<Buffer[]> {
    if (!dump) return this.exchange(op, cmd, attrs, false);
    const p = this.dumping.catch(() => undefined).then(() => this.exchange(op, cmd, attrs, true));
    this.dumping = p;
    return p;
  }

  private async exchange(op: string, cmd: number, attrs: Buffer[], dump: boolean): Promise<Buffer[]> {
    const header = Buffer.from([cmd, IPVS_GENL_VERSION, 0, 0]);
    let msgs: NetlinkMessage[];
    try {
      [msgs] = await this.sock.socket.request(this.familyId, [header, ...attrs], {
        flags: dump ? NLM_F_DUMP : 0,
        checkError: false,
        timeout: this.timeoutMs,
      });
    } catch (e) {
      const m = (e as Error).message;
      throw new IpvsError(/Timeout/.test(m) ? 'ETIMEDOUT' : 'EIO', op, m, { cause: e });
    }
    const out: Buffer[] = [];
    for (const msg of msgs) {
      const errno = nlmsgErrno(msg);
      if (errno !== undefined) {
        if (errno !== 0) {
          const name = errnoName(errno);
          throw new IpvsError(name, op, `${name} (${explain(cmd, name)})`);
        }
        continue;
      }
      // the package checks only the first message's type: filter the rest ourselves
      if (msg.type === NLMSG_DONE || msg.type !== this.familyId || msg.data.length < 4) continue;
      out.push(msg.data.subarray(4));
    }
    return out;
  }

  private async write(op: string, cmd: number, attrs: Buffer[]): Promise<void> {
    this.writes++;
    await this.request(op, cmd, attrs);
  }

  async info(): Promise<IpvsInfo> {
    const [r] = await this.request('get IPVS info', IPVS_CMD.GET_INFO, []);
    if (!r) throw new IpvsError('EPROTO', 'get IPVS info', 'no reply');
    return decodeInfo(r);
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    const [r] = await this.request('get IPVS timeouts', IPVS_CMD.GET_CONFIG, []);
    if (!r) throw new IpvsError('EPROTO', 'get IPVS timeouts', 'no reply');
    return decodeTimeouts(r);
  }

  setTimeouts(t: IpvsTimeouts): Promise<void> {
    return this.write(`set IPVS timeouts tcp ${t.tcp} tcpfin ${t.tcpFin} udp ${t.udp}`, IPVS_CMD.SET_CONFIG, [encodeTimeouts(t)]);
  }

  flush(): Promise<void> {
    return this.write('flush IPVS table', IPVS_CMD.FLUSH, []);
  }

  async listServices(): Promise<IpvsService[]> {
    const replies = await this.request('list IPVS services', IPVS_CMD.GET_SERVICE, [], true);
    return replies.map((r) => {
      const svc = parseAttrs(r).get(CMD_ATTR.SERVICE);
      if (!svc) throw new IpvsError('EPROTO', 'list IPVS services', 'reply without a SERVICE attribute');
      return decodeService(svc);
    });
  }

  addService(s: IpvsService): Promise<void> {
    return this.write(`add service ${serviceKey(s)}`, IPVS_CMD.NEW_SERVICE, [nest(CMD_ATTR.SERVICE, [encodeService(s, true)])]);
  }
  editService(s: IpvsService): Promise<void> {
    return this.write(`edit service ${serviceKey(s)}`, IPVS_CMD.SET_SERVICE, [nest(CMD_ATTR.SERVICE, [encodeService(s, true)])]);
  }
  deleteService(s: IpvsService): Promise<void> {
    return this.write(`delete service ${serviceKey(s)}`, IPVS_CMD.DEL_SERVICE, [nest(CMD_ATTR.SERVICE, [encodeService(s, false)])]);
  }

  async listDests(s: IpvsService): Promise<IpvsDest[]> {
    const op = `list destinations of ${serviceKey(s)}`;
    const replies = await this.request(op, IPVS_CMD.GET_DEST, [nest(CMD_ATTR.SERVICE, [encodeService(s, false)])], true);
    return replies.map((r) => {
      const d = parseAttrs(r).get(CMD_ATTR.DEST);
      if (!d) throw new IpvsError('EPROTO', op, 'reply without a DEST attribute');
      return decodeDest(d, s.af);
    });
  }

  addDest(s: IpvsService, d: IpvsDest): Promise<void> {
    return this.write(`add destination ${destKey(d)} to ${serviceKey(s)}`, IPVS_CMD.NEW_DEST, [
      nest(CMD_ATTR.SERVICE, [encodeService(s, false)]),
      nest(CMD_ATTR.DEST, [encodeDest(d, s.af, true)]),
    ]);
  }
  editDest(s: IpvsService, d: IpvsDest): Promise<void> {
    return this.write(`edit destination ${destKey(d)} of ${serviceKey(s)}`, IPVS_CMD.SET_DEST, [
      nest(CMD_ATTR.SERVICE, [encodeService(s, false)]),
      nest(CMD_ATTR.DEST, [encodeDest(d, s.af, true)]),
    ]);
  }
  deleteDest(s: IpvsService, d: Pick<IpvsDest, 'address' | 'port'>): Promise<void> {
    const key: IpvsDest = { address: d.address, port: d.port, fwdMethod: 0, weight: 0, uThreshold: 0, lThreshold: 0 };
    return this.write(`delete destination ${destKey(d)} from ${serviceKey(s)}`, IPVS_CMD.DEL_DEST, [
      nest(CMD_ATTR.SERVICE, [encodeService(s, false)]),
      nest(CMD_ATTR.DEST, [encodeDest(key, s.af, false)]),
    ]);
  }

  async dump(): Promise<IpvsTableEntry[]> {
    const out: IpvsTableEntry[] = [];
    for (const service of await this.listServices()) out.push({ service, dests: await this.listDests(service) });
    return out;
  }

  async listDaemons(): Promise<IpvsDaemon[]> {
    const replies = await this.request('list IPVS sync daemons', IPVS_CMD.GET_DAEMON, [], true);
    return replies.map((r) => {
      const d = parseAttrs(r).get(CMD_ATTR.DAEMON);
      if (!d) throw new IpvsError('EPROTO', 'list IPVS sync daemons', 'reply without a DAEMON attribute');
      return decodeDaemon(d);
    });
  }
  addDaemon(d: IpvsDaemon): Promise<void> {
    return this.write(`start sync daemon ${d.state === 1 ? 'master' : 'backup'} on ${d.mcastIfn}`, IPVS_CMD.NEW_DAEMON, [
      nest(CMD_ATTR.DAEMON, [encodeDaemon(d, true)]),
    ]);
  }
  deleteDaemon(state: number): Promise<void> {
    return this.write(`stop sync daemon ${state === 1 ? 'master' : 'backup'}`, IPVS_CMD.DEL_DAEMON, [
      nest(CMD_ATTR.DAEMON, [encodeDaemon({ state, mcastIfn: '', syncId: 0 }, false)]),
    ]);
  }
}

// code-unit order: the same on every locale
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const FWD_NAME: Record<number, string> = { [FWD.MASQ]: 'Masq', [FWD.LOCALNODE]: 'Local', [FWD.TUNNEL]: 'Tunnel', [FWD.DROUTE]: 'Route' };

/**
 * The table as `ipvsadm -Ln` prints it (services and destinations sorted, counters left out), so
 * tables from keepalived and from us compare as text.
 */
export function formatTable(entries: readonly IpvsTableEntry[]): string {
  const lines: string[] = [];
  const sorted = [...entries].sort((a, b) => byText(serviceKey(a.service), serviceKey(b.service)));
  for (const { service: s, dests } of sorted) {
    let line = `${serviceKey(s)} ${s.schedName}`;
    const extra = s.flags & ~SVC_FLAG.HASHED & ~SVC_FLAG.PERSISTENT;
    if (extra) line += ` flags 0x${extra.toString(16)}`;
    if (s.flags & SVC_FLAG.PERSISTENT) line += ` persistent ${s.timeout}`;
    if (s.flags & SVC_FLAG.PERSISTENT && s.netmask !== (s.af === AF_INET ? 32 : 128)) line += ` mask ${s.netmask}`;
    if (s.peName) line += ` pe ${s.peName}`;
    lines.push(line);
    for (const d of [...dests].sort((a, b) => byText(destKey(a), destKey(b)))) {
      let dl = `  -> ${destKey(d)} ${FWD_NAME[d.fwdMethod] ?? d.fwdMethod} ${d.weight}`;
      if (d.uThreshold || d.lThreshold) dl += ` u${d.uThreshold} l${d.lThreshold}`;
      if (d.tunType) dl += ` tun ${d.tunType}${d.tunPort ? `:${d.tunPort}` : ''}${d.tunFlags ? ` f${d.tunFlags}` : ''}`;
      lines.push(dl);
    }
  }
  return lines.join('\n');
}
