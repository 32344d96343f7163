// A lab of network namespaces joined by a bridge, for tests that need a real kernel.
// Rules (DEVELOPERS.md): only namespaces we create, named "kts-<labid>-<host>"; every interface is
// created directly inside a namespace (nothing is ever added to the host's own interfaces);
// addresses only from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface HostSpec {
  /** short name, e.g. "n1" */
  name: string;
  /** interface name inside the host namespace (default "vnet0") */
  ifname?: string;
  /** addresses with prefix, e.g. ["192.0.2.11/24", "2001:db8::11/64"] */
  addresses?: string[];
}

export interface LabHost {
  name: string;
  /** full namespace name */
  ns: string;
  ifname: string;
  addresses: string[];
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class Lab {
  readonly id: string;
  readonly switchNs: string;
  readonly hosts = new Map<string, LabHost>();
  private readonly children = new Set<ChildProcess>();
  private portCount = 0;

  private constructor(id: string) {
    this.id = id;
    this.switchNs = `kts-${id}-sw`;
  }

  /** Create the switch namespace with bridge "br0". Call cleanup() in a finally / after hook. */
  static create(): Lab {
    const lab = new Lab(randomBytes(3).toString('hex'));
    ip(['netns', 'add', lab.switchNs]);
    lab.exec(lab.switchNs, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    // No STP / forwarding delay: ports forward at once, multicast flooded (no snooping surprises).
    lab.exec(lab.switchNs, ['ip', 'link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0', 'mcast_snooping', '0']);
    lab.exec(lab.switchNs, ['ip', 'link', 'set', 'br0', 'up']);
    lab.exec(lab.switchNs, ['ip', 'link', 'set', 'lo', 'up']);
    return lab;
  }

  /** Add a host namespace with one interface on the bridge. */
  addHost(spec: HostSpec): LabHost {
    const ns = `kts-${this.id}-${spec.name}`;
    const ifname = spec.ifname ?? 'vnet0';
    const port = `p${this.portCount++}`;
    ip(['netns', 'add', ns]);
    // Create the veth pair directly inside the two namespaces.
    ip(['link', 'add', 'name', port, 'netns', this.switchNs, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
    this.exec(this.switchNs, ['ip', 'link', 'set', port, 'master', 'br0']);
    this.exec(this.switchNs, ['ip', 'link', 'set', port, 'up']);
    this.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    this.exec(ns, ['sysctl', '-qw', `net.ipv6.conf.${ifname}.accept_dad=0`]);
    this.exec(ns, ['ip', 'link', 'set', ifname, 'up']);
    const addresses = spec.addresses ?? [];
    for (const a of addresses) {
      this.exec(ns, ['ip', 'addr', 'add', a, 'dev', ifname, ...(a.includes(':') ? ['nodad'] : [])]);
    }
    const host: LabHost = { name: spec.name, ns, ifname, addresses };
    this.hosts.set(spec.name, host);
    return host;
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  /** Run a command inside a namespace, synchronously; returns stdout. Throws on non-zero exit. */
  exec(ns: string, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): string {
    return execFileSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 10_000,
      input: opts.input,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  }

  /** Start a long-running process inside a namespace; it is killed (by PID) at cleanup. */
  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Addresses (without prefix) currently on an interface of a host. */
  addressesOf(name: string, family: 4 | 6 = 4): string[] {
    const h = this.host(name);
    const out = this.exec(h.ns, ['ip', '-j', `-${family}`, 'addr', 'show', 'dev', h.ifname]);
    const parsed = JSON.parse(out) as Array<{ addr_info?: Array<{ local: string }> }>;
    return parsed.flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
  }

  /** Set a host's interface up or down (link fault injection). */
  setLink(name: string, up: boolean): void {
    const h = this.host(name);
    this.exec(h.ns, ['ip', 'link', 'set', h.ifname, up ? 'up' : 'down']);
  }

  /** Kill every process we started (by PID), wait briefly, then delete our namespaces. */
  async cleanup(): Promise<void> {
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const deadline = Date.now() + 3000;
    while (this.children.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const h of this.hosts.values()) {
      try {
        ip(['netns', 'del', h.ns]);
      } catch {
        /* already gone */
      }
    }
    try {
      ip(['netns', 'del', this.switchNs]);
    } catch {
      /* already gone */
    }
  }
}

/** Poll a condition until true or the deadline passes (bounded loop). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
