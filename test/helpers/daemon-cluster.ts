// Integration-test helper: a cluster of keepalived-ts daemons, each in its own lab namespace.
// It writes per-node configuration files, starts `node dist/src/cli.js -f FILE -n -l -i ID -p PID`
// inside the node's namespace, collects every log line with its arrival time, waits for
// keepalived's "(VI_1) Entering MASTER STATE" wording, tells who holds a VIP and stops nodes by
// PID. Everything lives under one temporary directory and one Lab; cleanup() removes both.
// Rules: addresses only from the documentation ranges, namespaces only from the Lab ("kts-...").
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor, type HostSpec } from './netns.js';

/** dist/src/cli.js (this file compiles to dist/test/helpers/daemon-cluster.js). */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli.js');

export interface LogLine {
  /**
   * When the daemon logged the line (its own millisecond timestamp, same clock as Date.now());
   * the arrival time if the line has none. Arrival can lag: the test's event loop is blocked
   * while it runs `ip` synchronously, so ordering and timing use the daemon's stamp.
   */
  t: number;
  /** Date.now() when the line reached the test */
  arrived: number;
  text: string;
}

const STAMP = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) /;

/** The daemon's console timestamp (local time, see src/daemon/log.ts) as epoch ms. */
export function lineTime(text: string): number | undefined {
  const m = STAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!).getTime();
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One running keepalived-ts process. */
export class KtsNode {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly configFile: string,
    readonly pidFile: string,
    /** Date.now() at spawn */
    readonly startedAt: number,
  ) {
    const collect = (stream: NodeJS.ReadableStream | null) => {
      if (!stream) return;
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, i);
          const arrived = Date.now();
          this.lines.push({ t: lineTime(text) ?? arrived, arrived, text });
          buf = buf.slice(i + 1);
        }
        for (const w of this.waiters) w();
      });
    };
    collect(child.stderr);
    collect(child.stdout);
    this.exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const w of this.waiters) w();
        res(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** A time to pass as `from` so that only lines the daemon logs from now on are considered. */
  mark(): number {
    return Date.now();
  }

  /** First line matching re logged at or after `from` (epoch ms, see mark()). */
  find(re: RegExp, from = 0): LogLine | undefined {
    return this.lines.find((l) => l.t >= from && re.test(l.text));
  }

  count(re: RegExp, from = 0): number {
    return this.lines.filter((l) => l.t >= from && re.test(l.text)).length;
  }

  /** Wait (bounded) for a line matching re logged at or after `from`; undefined on timeout or exit. */
  async waitLine(re: RegExp, timeoutMs: number, from = 0): Promise<LogLine | undefined> {
    const hit = this.find(re, from);
    if (hit) return hit;
    return new Promise((res) => {
      const done = (v: LogLine | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        res(v);
      };
      const check = () => {
        const h = this.find(re, from);
        if (h) done(h);
        else if (!this.running) done(undefined);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Wait for "(INST) Entering STATE STATE" logged at or after `from`. */
  waitState(instance: string, state: 'MASTER' | 'BACKUP' | 'FAULT', timeoutMs: number, from = 0): Promise<LogLine | undefined> {
    return this.waitLine(stateRe(instance, state), timeoutMs, from);
  }

  /** The last "Entering X STATE" of an instance, or undefined if none yet. */
  lastState(instance = 'VI_1'): string | undefined {
    const re = new RegExp(`\\(${escapeRe(instance)}\\) Entering (\\w+) STATE`);
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const m = re.exec(this.lines[i]!.text);
      if (m) return m[1];
    }
    return undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running && this.pid > 0) process.kill(this.pid, sig);
  }

  /** SIGTERM and wait for the exit (bounded; SIGKILL after timeoutMs). */
  async stop(timeoutMs = 15_000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo!;
    this.signal('SIGTERM');
    const r = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (r) return r;
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGKILL: no goodbye advert, addresses left behind (a crash). */
  async kill9(): Promise<ExitInfo> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** The whole log, for assertion messages. */
  log(last = 60): string {
    return this.lines
      .slice(-last)
      .map((l) => `[${this.name}] ${l.text}`)
      .join('\n');
  }
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function stateRe(instance: string, state: string): RegExp {
  return new RegExp(`\\(${escapeRe(instance)}\\) Entering ${state} STATE`);
}

/** Options of one generated vrrp_instance block. */
export interface InstanceOptions {
  name?: string; // VI_1
  interface?: string; // vnet0
  vrid?: number; // 51
  priority: number;
  /** seconds; v2 needs whole seconds */
  advertInt?: number; // 1
  version?: 2 | 3; // 3
  state?: 'MASTER' | 'BACKUP'; // BACKUP
  nopreempt?: boolean;
  preemptDelay?: number; // seconds
  authPass?: string; // auth_type PASS (v2 only)
  unicastSrcIp?: string;
  unicastPeers?: string[];
  vips: string[]; // "192.0.2.100/24"
  trackScripts?: Array<{ name: string; weight?: number }>;
  /** extra raw lines inside the block */
  extra?: string[];
}

/** A keepalived.conf text: global_defs, vrrp_script blocks and instances. */
export function renderConfig(o: {
  routerId: string;
  instances: InstanceOptions[];
  scripts?: Array<{ name: string; script: string; interval?: number; weight?: number; fall?: number; rise?: number }>;
  globalExtra?: string[];
}): string {
  const out: string[] = ['global_defs {', `    router_id ${o.routerId}`];
  // vrrp_version in global_defs sets the default; each instance states its own anyway
  for (const g of o.globalExtra ?? []) out.push(`    ${g}`);
  out.push('}', '');
  for (const s of o.scripts ?? []) {
    out.push(`vrrp_script ${s.name} {`, `    script "${s.script}"`, `    interval ${s.interval ?? 1}`);
    if (s.weight !== undefined) out.push(`    weight ${s.weight}`);
    out.push(`    fall ${s.fall ?? 1}`, `    rise ${s.rise ?? 1}`, '}', '');
  }
  for (const i of o.instances) {
    out.push(`vrrp_instance ${i.name ?? 'VI_1'} {`);
    out.push(`    state ${i.state ?? 'BACKUP'}`);
    out.push(`    interface ${i.interface ?? 'vnet0'}`);
    out.push(`    virtual_router_id ${i.vrid ?? 51}`);
    out.push(`    version ${i.version ?? 3}`);
    out.push(`    priority ${i.priority}`);
    out.push(`    advert_int ${i.advertInt ?? 1}`);
    if (i.nopreempt) out.push('    nopreempt');
    if (i.preemptDelay !== undefined) out.push(`    preempt_delay ${i.preemptDelay}`);
    if (i.authPass !== undefined) out.push('    authentication {', '        auth_type PASS', `        auth_pass ${i.authPass}`, '    }');
    if (i.unicastSrcIp) out.push(`    unicast_src_ip ${i.unicastSrcIp}`);
    if (i.unicastPeers?.length) out.push('    unicast_peer {', ...i.unicastPeers.map((p) => `        ${p}`), '    }');
    out.push('    virtual_ipaddress {', ...i.vips.map((v) => `        ${v}`), '    }');
    if (i.trackScripts?.length) {
      out.push(
        '    track_script {',
        ...i.trackScripts.map((t) => `        ${t.name}${t.weight !== undefined ? ` weight ${t.weight}` : ''}`),
        '    }',
      );
    }
    for (const e of i.extra ?? []) out.push(`    ${e}`);
    out.push('}', '');
  }
  return out.join('\n');
}

/** A Lab plus the keepalived-ts processes running in it. */
export class Cluster {
  readonly lab: Lab;
  readonly dir: string;
  readonly nodes = new Map<string, KtsNode>();
  private readonly all: KtsNode[] = [];
  private extraPorts = 0;

  private constructor(lab: Lab) {
    this.lab = lab;
    this.dir = mkdtempSync(join(tmpdir(), `kts-itest-${lab.id}-`));
  }

  /** Create the lab with these hosts (each on the bridge, interface vnet0 unless stated). */
  static create(hosts: HostSpec[]): Cluster {
    const lab = Lab.create();
    const c = new Cluster(lab);
    try {
      for (const h of hosts) lab.addHost(h);
    } catch (err) {
      void c.cleanup();
      throw err;
    }
    return c;
  }

  /** Write a file in the cluster's directory; returns its path. */
  writeFile(name: string, text: string, mode?: number): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    if (mode !== undefined) chmodSync(p, mode);
    return p;
  }

  /**
   * Start keepalived-ts on a host with this configuration text (written to <host>-<n>.conf).
   * opts.pidFile: reuse a given pid file (default: a unique one per start, since the daemon
   * refuses to start over a live pid); opts.allowSecond: start even if one runs on the host.
   */
  start(host: string, config: string, opts: { pidFile?: string; allowSecond?: boolean; args?: string[] } = {}): KtsNode {
    const h = this.lab.host(host);
    const old = this.nodes.get(host);
    if (old?.running && !opts.allowSecond) throw new Error(`keepalived-ts already running on ${host}`);
    const seq = this.all.filter((n) => n.name === host).length;
    const configFile = this.writeFile(`${host}-${seq}.conf`, config);
    const pidFile = opts.pidFile ?? join(this.dir, `${host}-${seq}.pid`);
    const child = this.lab.spawn(h.ns, [
      process.execPath,
      CLI,
      '-f',
      configFile,
      '-n',
      '-l',
      '-i',
      host,
      '-p',
      pidFile,
      ...(opts.args ?? []),
    ]);
    const node = new KtsNode(host, child, configFile, pidFile, Date.now());
    this.nodes.set(host, node);
    this.all.push(node);
    return node;
  }

  node(host: string): KtsNode {
    const n = this.nodes.get(host);
    if (!n) throw new Error(`no keepalived-ts started on ${host}`);
    return n;
  }

  /** Hosts whose interface currently carries the address (without prefix). */
  holders(vip: string, hosts?: string[]): string[] {
    const family = vip.includes(':') ? 6 : 4;
    const names = hosts ?? [...this.lab.hosts.keys()];
    return names.filter((n) => {
      try {
        return this.lab.addressesOf(n, family).includes(vip);
      } catch {
        return false; // interface gone (e.g. deleted by a test)
      }
    });
  }

  /** Wait (bounded) until exactly `host` holds the VIP; returns the holders seen last. */
  async waitHolder(vip: string, host: string | undefined, timeoutMs: number, hosts?: string[]): Promise<string[]> {
    let last: string[] = [];
    await waitFor(
      () => {
        last = this.holders(vip, hosts);
        return host === undefined ? last.length === 0 : last.length === 1 && last[0] === host;
      },
      timeoutMs,
      25,
    );
    return last;
  }

  /**
   * Add a second interface to a host, on the bridge (veth created directly inside the two
   * namespaces, like Lab.addHost). Left down and without addresses unless given.
   */
  addInterface(host: string, ifname: string, addresses: string[] = [], up = true): void {
    const h = this.lab.host(host);
    const port = `x${this.extraPorts++}`;
    execFileSync('ip', ['link', 'add', 'name', port, 'netns', this.lab.switchNs, 'type', 'veth', 'peer', 'name', ifname, 'netns', h.ns], {
      stdio: 'ignore',
    });
    this.lab.exec(this.lab.switchNs, ['ip', 'link', 'set', port, 'master', 'br0']);
    this.lab.exec(this.lab.switchNs, ['ip', 'link', 'set', port, 'up']);
    this.lab.exec(h.ns, ['sysctl', '-qw', `net.ipv6.conf.${ifname}.accept_dad=0`]);
    for (const a of addresses) this.lab.exec(h.ns, ['ip', 'addr', 'add', a, 'dev', ifname, ...(a.includes(':') ? ['nodad'] : [])]);
    if (up) this.lab.exec(h.ns, ['ip', 'link', 'set', ifname, 'up']);
  }

  /**
   * Capture packets on a host's interface for `seconds` with tcpdump (bounded by timeout(1));
   * resolves with tcpdump's one-line summaries.
   */
  capture(host: string, seconds: number, filter: string, ifname?: string, extra: string[] = []): Promise<string[]> {
    const h = this.lab.host(host);
    const child = this.lab.spawn(h.ns, ['timeout', String(seconds), 'tcpdump', '-l', '-n', ...extra, '-i', ifname ?? h.ifname, filter]);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr?.resume();
    return new Promise((res) => child.once('exit', () => res(out.split('\n').filter((l) => l.length > 0))));
  }

  /** Logs of every node, for assertion messages. */
  logs(last = 40): string {
    return [...this.nodes.values()].map((n) => n.log(last)).join('\n');
  }

  /** Stop every daemon (SIGTERM, bounded), delete the lab and the directory. */
  async cleanup(): Promise<void> {
    await Promise.all(this.all.filter((n) => n.running).map((n) => n.stop(5000).catch(() => undefined)));
    await this.lab.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Time between two log lines (or a timestamp and a line), in ms. */
export function elapsed(from: number, line: LogLine | undefined): number {
  return line ? line.t - from : Number.NaN;
}

export { waitFor, sleep };

/** The VIP of the single-instance cluster tests. */
export const VIP = '192.0.2.100';

/** One vrrp_instance VI_1 carrying VIP/24 (options as renderConfig's). */
export function vipConf(name: string, o: Omit<InstanceOptions, 'vips'> & { vips?: string[] }): string {
  return renderConfig({ routerId: name, instances: [{ vips: [`${VIP}/24`], ...o }] });
}

/** n1 (192.0.2.11), n2 (.12) [, n3 (.13)] on one bridge. */
export function nodes(count: 2 | 3): Cluster {
  return Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
    ...(count === 3 ? [{ name: 'n3', addresses: ['192.0.2.13/24'] }] : []),
  ]);
}

/** Start n1 and n2 and assert that n1 became Master holding VIP alone (the usual first step). */
export async function startMasterPair(c: Cluster, n1conf: string, n2conf: string): Promise<[KtsNode, KtsNode]> {
  const n1 = c.start('n1', n1conf);
  const n2 = c.start('n2', n2conf);
  assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
  assert.deepEqual(await c.waitHolder(VIP, 'n1', 5000), ['n1'], c.logs());
  return [n1, n2];
}

/** RFC 5798 Master_Down_Interval (v3) in ms: 3 x interval + (256 - priority) x interval / 256. */
export function mdiV3(priority: number, advertIntCs: number): number {
  return 3 * advertIntCs * 10 + ((256 - priority) * advertIntCs * 10) / 256;
}
