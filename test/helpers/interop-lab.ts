// A lab for mixed clusters: keepalived-ts ("kts") and Debian's keepalived 2.2.7 ("ka") nodes in
// network namespaces on one bridge (test/helpers/netns.ts), the same keepalived.conf text for
// both, a bystander namespace that captures every frame on the bridge with tcpdump, and the
// checks the interop tests and benchmarks share: who holds a VIP, what keepalived complained
// about, and how tshark dissects what a node sent.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from './netns.js';

export type Impl = 'kts' | 'ka';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/helpers
export const KTS_CLI = join(here, '..', '..', 'src', 'cli.js');

/** Node's flags on a script's `#!/usr/bin/env -S node FLAGS` line (none for a plain `#!/usr/bin/env node`). */
export function launcherFlags(script: string): string[] {
  let first = '';
  try {
    first = readFileSync(script, 'utf8').slice(0, 300).split('\n', 1)[0] ?? '';
  } catch {
    return [];
  }
  const m = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first);
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- configuration text --------------------------------------------------------------------------

export interface InstanceOpts {
  name?: string;
  vrid?: number;
  version: 2 | 3;
  priority: number;
  /** seconds (v3 accepts centiseconds: 0.01) */
  advertInt: number;
  vips: string[];
  /** PASS password (v2 only) */
  authPass?: string;
  /** unicast: this node's source and its peers */
  unicastSrc?: string;
  unicastPeers?: string[];
  nopreempt?: boolean;
  state?: 'MASTER' | 'BACKUP';
  iface?: string;
  /** extra lines inside the vrrp_instance block */
  extra?: string[];
}

/** One vrrp_instance block (the syntax both implementations read). */
export function instanceBlock(o: InstanceOpts): string {
  const l: string[] = [];
  l.push(`vrrp_instance ${o.name ?? 'VI_1'} {`);
  l.push(`    state ${o.state ?? 'BACKUP'}`);
  l.push(`    interface ${o.iface ?? 'vnet0'}`);
  l.push(`    virtual_router_id ${o.vrid ?? 51}`);
  l.push(`    version ${o.version}`);
  l.push(`    priority ${o.priority}`);
  l.push(`    advert_int ${o.advertInt}`);
  if (o.nopreempt) l.push('    nopreempt');
  if (o.authPass) l.push('    authentication {', '        auth_type PASS', `        auth_pass ${o.authPass}`, '    }');
  if (o.unicastPeers) {
    if (o.unicastSrc) l.push(`    unicast_src_ip ${o.unicastSrc}`);
    l.push('    unicast_peer {', ...o.unicastPeers.map((p) => `        ${p}`), '    }');
  }
  l.push('    virtual_ipaddress {', ...o.vips.map((v) => `        ${v}`), '    }');
  for (const e of o.extra ?? []) l.push(`    ${e}`);
  l.push('}');
  return l.join('\n');
}

export function configText(routerId: string, blocks: string[], globalExtra: string[] = []): string {
  return ['global_defs {', `    router_id ${routerId}`, ...globalExtra.map((g) => `    ${g}`), '}', '', ...blocks, ''].join('\n');
}

// ---- the lab -----------------------------------------------------------------------------------------

export interface LogLine {
  t: number;
  line: string;
}

export interface RunningNode {
  name: string;
  impl: Impl;
  child: ChildProcess;
  /** PIDs we started for this node (keepalived: parent and its VRRP child) */
  pids(): number[];
  log: LogLine[];
  exited: boolean;
}

export interface CaptureRow {
  frame: number;
  time: number;
  ethSrc: string;
  ipSrc: string;
  ipDst: string;
  /** 'vrrp' | 'arp' | 'na' | other */
  kind: string;
  version?: number;
  vrid?: number;
  prio?: number;
  /** tshark's checksum status text/number ("Good" / "1") */
  checksumStatus?: string;
  /** tshark expert messages on the frame */
  expert: string;
  malformed: boolean;
  garp: boolean;
  /** ARP sender IP / NA target */
  target?: string;
  ttl?: number;
}

export class InteropLab {
  readonly lab: Lab;
  readonly dir: string;
  readonly nodes = new Map<string, RunningNode>();
  /** keepalived-ts nodes: the cli.js to run and Node's own flags before it (benchmarks compare
   *  builds and V8 flags); undefined: the flags of cli.js's #! line, as the installed command runs */
  ktsCli = KTS_CLI;
  ktsNodeArgs: string[] | undefined = undefined;
  private capture: ChildProcess | undefined;
  readonly pcap: string;
  private readonly tapName = 'tap';

  private constructor(lab: Lab) {
    this.lab = lab;
    this.dir = mkdtempSync(join(tmpdir(), `kts-interop-${lab.id}-`));
    this.pcap = join(this.dir, 'bridge.pcap');
  }

  /**
   * A lab whose bridge floods every frame (ageing_time 0: no MAC learning), so the bystander
   * sees unicast adverts too, plus the bystander itself.
   */
  static create(): InteropLab {
    const lab = Lab.create();
    const il = new InteropLab(lab);
    try {
      lab.exec(lab.switchNs, ['ip', 'link', 'set', 'br0', 'type', 'bridge', 'ageing_time', '0']);
      lab.addHost({ name: il.tapName, addresses: ['192.0.2.250/24', '2001:db8::250/64'] });
    } catch (err) {
      void lab.cleanup();
      throw err;
    }
    return il;
  }

  addNode(name: string, addresses: string[]): void {
    this.lab.addHost({ name, addresses });
  }

  ns(name: string): string {
    return this.lab.host(name).ns;
  }

  mac(name: string): string {
    const h = this.lab.host(name);
    const out = JSON.parse(this.lab.exec(h.ns, ['ip', '-j', 'link', 'show', 'dev', h.ifname])) as Array<{ address: string }>;
    return out[0]!.address;
  }

  /** Start capturing every VRRP, ARP and ICMPv6 frame on the bridge (bystander namespace). */
  async startCapture(): Promise<void> {
    const tap = this.lab.host(this.tapName);
    this.capture = this.lab.spawn(tap.ns, [
      'tcpdump',
      '-i',
      tap.ifname,
      '-U',
      '-n',
      '-s',
      '256',
      '-w',
      this.pcap,
      'ip proto 112 or ip6 proto 112 or arp or icmp6',
    ]);
    let ready = false;
    this.capture.stderr?.on('data', (d: Buffer) => {
      if (/listening on/.test(d.toString())) ready = true;
    });
    this.capture.stdout?.resume();
    if (!(await waitFor(() => ready, 5000, 20))) throw new Error('tcpdump did not start');
  }

  /** Stop tcpdump (SIGINT flushes the file) and wait for it to exit. */
  async stopCapture(): Promise<void> {
    const c = this.capture;
    if (!c || c.exitCode !== null) return;
    await sleep(100); // let the last frames reach the file
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGINT');
    await Promise.race([done, sleep(3000)]);
    this.capture = undefined;
  }

  /** Write the node's configuration and start it; returns at once. `nodeFlags`: Node's own
   *  flags for keepalived-ts (e.g. --trace-gc), before the script. */
  start(name: string, impl: Impl, conf: string, extraArgs: string[] = [], nodeFlags: string[] = []): RunningNode {
    const confPath = join(this.dir, `${name}.conf`);
    writeFileSync(confPath, conf);
    const piddir = join(this.dir, `pid-${name}`);
    rmSync(piddir, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', piddir]);
    const argv =
      impl === 'kts'
        ? [
            process.execPath,
            ...(this.ktsNodeArgs ?? launcherFlags(this.ktsCli)),
            ...nodeFlags,
            this.ktsCli,
            '-f',
            confPath,
            '-n',
            '-l',
            '-i',
            name,
            '-p',
            join(piddir, 'k.pid'),
            ...extraArgs,
          ]
        : // stdbuf: keepalived's console log is block-buffered on a pipe; line-buffer it so lines come with their time
          [
            'stdbuf',
            '-oL',
            '-eL',
            'keepalived',
            '-n',
            '-l',
            '-D',
            '-G',
            '-P',
            '-R',
            '-f',
            confPath,
            '-i',
            name,
            '-p',
            join(piddir, 'k.pid'),
            '-r',
            join(piddir, 'v.pid'),
            '-c',
            join(piddir, 'c.pid'),
            ...extraArgs,
          ];
    const child = this.lab.spawn(this.ns(name), argv);
    const log: LogLine[] = [];
    const node: RunningNode = {
      name,
      impl,
      child,
      log,
      exited: false,
      pids: () => {
        const p: number[] = [];
        if (child.pid && child.exitCode === null && child.signalCode === null) p.push(child.pid);
        if (impl === 'ka') {
          const v = readPid(join(piddir, 'v.pid'));
          if (v && v !== child.pid) p.push(v);
        }
        return p;
      },
    };
    const onData = (d: Buffer) => {
      const t = Date.now();
      for (const line of d.toString().split('\n')) if (line.trim()) log.push({ t, line });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      node.exited = true;
    });
    this.nodes.set(name, node);
    return node;
  }

  /** For keepalived, wait until its VRRP child wrote its pid file (so kill() can reach it). */
  async ready(name: string, timeoutMs = 5000): Promise<boolean> {
    const n = this.nodes.get(name);
    if (!n) return false;
    if (n.impl === 'kts') return true;
    return waitFor(() => n.pids().length >= 2, timeoutMs, 20);
  }

  /**
   * Kill a node by PID. SIGKILL: dies at once with no goodbye; keepalived's parent and VRRP
   * child both (the parent first so it cannot respawn the child). A dead Master's VIP stays in
   * its namespace (as after a crash): `dropVips` removes it, as a reboot would.
   */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 5000): Promise<number> {
    const n = this.nodes.get(name);
    if (!n) return Date.now();
    const pids = n.pids();
    const t = Date.now();
    if (signal === 'SIGKILL') {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    } else if (pids[0]) {
      try {
        process.kill(pids[0], signal);
      } catch {
        /* gone */
      }
    }
    const gone = await waitFor(() => n.exited && n.pids().every((p) => !alive(p)), timeoutMs, 20);
    if (!gone)
      for (const p of n.pids()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    return t;
  }

  dropVips(name: string, vips: string[]): void {
    const h = this.lab.host(name);
    for (const v of vips) {
      try {
        this.lab.exec(h.ns, ['ip', 'addr', 'del', v, 'dev', h.ifname]);
      } catch {
        /* not there */
      }
    }
  }

  /** Names of the nodes (among `names`) that hold `vip` (address without prefix). */
  holders(vip: string, names: string[]): string[] {
    const fam = vip.includes(':') ? 6 : 4;
    return names.filter((n) => {
      try {
        return this.lab.addressesOf(n, fam).includes(vip);
      } catch {
        return false;
      }
    });
  }

  /** Wait until exactly `name` holds `vip` among `names`. */
  async waitHolder(vip: string, name: string, names: string[], timeoutMs: number): Promise<boolean> {
    return waitFor(
      () => {
        const h = this.holders(vip, names);
        return h.length === 1 && h[0] === name;
      },
      timeoutMs,
      100,
    ); // each poll forks ip: keep it light
  }

  /**
   * keepalived's log lines that complain about received adverts or anything else wrong:
   * "bad", "invalid", "checksum", "mismatch", "error" (case-insensitive).
   */
  complaints(name: string): string[] {
    const n = this.nodes.get(name);
    if (!n) return [];
    return n.log.map((l) => l.line).filter((l) => /\bbad\b|invalid|checksum|mismatch|error/i.test(l));
  }

  /** Dissect the capture with tshark (VRRP checksum validation on: the dissector's default). */
  dissect(extraPrefs: string[] = []): CaptureRow[] {
    const fields = [
      'frame.number',
      'frame.time_epoch',
      'eth.src',
      'ip.src',
      'ipv6.src',
      'ip.dst',
      'ipv6.dst',
      'vrrp.version',
      'vrrp.virt_rtr_id',
      'vrrp.prio',
      'vrrp.checksum.status',
      '_ws.expert.message',
      '_ws.malformed',
      'arp.isgratuitous',
      'arp.src.proto_ipv4',
      'icmpv6.type',
      'icmpv6.nd.na.target_address',
      'ip.ttl',
      'ipv6.hlim',
      'frame.protocols',
    ];
    const args = [
      '-r',
      this.pcap,
      '-n',
      '-o',
      'vrrp.v3_checksum_as_in_v2:FALSE',
      ...extraPrefs.flatMap((p) => ['-o', p]),
      '-T',
      'fields',
      '-E',
      'separator=\t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=|',
      ...fields.flatMap((f) => ['-e', f]),
    ];
    const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
    const rows: CaptureRow[] = [];
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      const c = line.split('\t');
      const get = (i: number) => c[i] ?? '';
      const protocols = get(19);
      const icmpType = get(15);
      const kind = protocols.includes('vrrp') ? 'vrrp' : protocols.includes('arp') ? 'arp' : icmpType === '136' ? 'na' : protocols;
      rows.push({
        frame: Number(get(0)),
        time: Number(get(1)),
        ethSrc: get(2).toLowerCase(),
        ipSrc: get(3) || get(4),
        ipDst: get(5) || get(6),
        kind,
        version: get(7) ? Number(get(7)) : undefined,
        vrid: get(8) ? Number(get(8)) : undefined,
        prio: get(9) ? Number(get(9)) : undefined,
        checksumStatus: get(10) || undefined,
        expert: get(11),
        malformed: get(12) !== '',
        garp: get(13) !== '' && get(13) !== '0' && get(13).toLowerCase() !== 'false',
        target: get(14) || get(16) || undefined,
        ttl: get(17) ? Number(get(17)) : get(18) ? Number(get(18)) : undefined,
      });
    }
    return rows;
  }

  /** Stop everything we started (keepalived's VRRP children by their PID too), remove the lab. */
  async cleanup(): Promise<void> {
    await this.stopCapture().catch(() => undefined);
    for (const n of this.nodes.values()) {
      for (const p of n.pids()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await this.lab.cleanup();
    if (!process.env.KTS_KEEP_INTEROP) rmSync(this.dir, { recursive: true, force: true });
  }
}

function readPid(path: string): number | undefined {
  try {
    if (!existsSync(path)) return undefined;
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Summary of a node's frames for assertion messages. */
export function describeRows(rows: CaptureRow[]): string {
  return rows
    .slice(0, 8)
    .map(
      (r) =>
        `#${r.frame} ${r.kind} ${r.ipSrc}>${r.ipDst} v${r.version ?? '-'} prio ${r.prio ?? '-'} cksum ${r.checksumStatus ?? '-'} ${r.expert}`,
    )
    .join('\n');
}

/**
 * Why the interop tier cannot run here (root, ip, keepalived, tshark, tcpdump), or false. In CI a
 * missing piece is a failure, never a skip.
 */
export function interopSkipReason(): string | false {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const c of ['ip', 'keepalived', 'tshark', 'tcpdump']) if (!haveCommand(c)) missing.push(c);
  if (!missing.length) return false;
  const msg = `interop needs ${missing.join(', ')}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(msg);
  return msg;
}
