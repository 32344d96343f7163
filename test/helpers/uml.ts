// The UML tier's kit: Debian's user-mode-linux kernel (it builds IPVS and every scheduler as
// modules; this host's kernel has no IPVS) booted with the host's / as a read-only root.
// ../shared/notes/ipvs-uml.md explains the approach.
//
//   ensureUmlKit(): Promise<UmlKit>   fetches user-mode-linux + busybox-static with
//       `apt-get download` and unpacks them with `dpkg -x` into <repo>/.cache/uml (once), and
//       builds test/uml/xstate-shim.c (see there: UML 6.1 panics on hosts with AVX-512 / AMX
//       without it). Throws a clear error when it cannot (CI must then fail, not skip).
//   bootGuest(kit, command, opts): runs `command` with /bin/bash as the guest's only job, with the
//       IPVS modules, veth and dummy loaded and lo up; resolves with the console text and the
//       command's exit status (read from a marker line: the guest itself always exits 0).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const KIT_DIR = join(REPO_ROOT, '.cache', 'uml');
const EXIT_MARK = 'KTS-UML-EXIT';

export interface UmlKit {
  dir: string;
  kernel: string;
  busybox: string;
  shim: string;
  modules: string;
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0)
    throw new Error(
      `UML kit: \`${cmd} ${args.join(' ')}\` failed (${r.error?.message ?? `status ${r.status}`}): ${(r.stderr ?? '').trim().slice(-500)}`,
    );
}

export function ensureUmlKit(): UmlKit {
  const root = join(KIT_DIR, 'root');
  const kit: UmlKit = {
    dir: KIT_DIR,
    kernel: join(root, 'usr', 'bin', 'linux.uml'),
    busybox: join(root, 'bin', 'busybox'),
    shim: join(KIT_DIR, 'xstate-shim.so'),
    modules: '',
  };
  if (!existsSync(join(KIT_DIR, 'ready'))) {
    rmSync(KIT_DIR, { recursive: true, force: true });
    mkdirSync(join(KIT_DIR, 'debs'), { recursive: true });
    run('apt-get', ['download', 'user-mode-linux', 'busybox-static'], join(KIT_DIR, 'debs'));
    for (const deb of readdirSync(join(KIT_DIR, 'debs'))) run('dpkg', ['-x', join(KIT_DIR, 'debs', deb), root], KIT_DIR);
    run('cc', ['-O2', '-shared', '-fPIC', '-o', kit.shim, join(REPO_ROOT, 'test', 'uml', 'xstate-shim.c'), '-ldl'], KIT_DIR);
    writeFileSync(join(KIT_DIR, 'ready'), `${new Date().toISOString()}\n`);
  }
  const modRoot = join(root, 'usr', 'lib', 'uml', 'modules');
  const version = existsSync(modRoot) ? readdirSync(modRoot)[0] : undefined;
  if (!version || !existsSync(kit.kernel) || !existsSync(kit.busybox))
    throw new Error(`UML kit in ${KIT_DIR} is incomplete: delete it and rerun`);
  kit.modules = join(modRoot, version, 'kernel');
  return kit;
}

/** Modules in dependency order (modules.dep of the 6.1 UML kernel); schedulers after ip_vs. */
const MODULES = [
  'lib/crc-ccitt',
  'net/ipv6/ipv6',
  'net/ipv4/netfilter/nf_defrag_ipv4',
  'net/ipv6/netfilter/nf_defrag_ipv6',
  'net/netfilter/nf_conntrack',
  'net/netfilter/ipvs/ip_vs',
  ...['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'].map(
    (s) => `net/netfilter/ipvs/ip_vs_${s}`,
  ),
  'drivers/net/veth',
  'drivers/net/dummy',
  'net/llc/llc',
  'net/802/stp',
  'net/bridge/bridge',
];

export interface GuestResult {
  status: number;
  console: string;
  ms: number;
}

/** Boot the kernel, run `command` (bash) in the guest, power off. */
export function bootGuest(
  kit: UmlKit,
  command: string,
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<GuestResult> {
  const runDir = join(KIT_DIR, 'runs');
  mkdirSync(runDir, { recursive: true });
  const id = `${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const init = join(runDir, `init-${id}.sh`);
  const job = join(runDir, `job-${id}.sh`);
  const B = kit.busybox;
  const env = Object.entries({
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/tmp',
    NO_COLOR: '1',
    ...opts.env,
  })
    .map(([k, v]) => `export ${k}=${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    init,
    [
      `#!${B} sh`,
      `${B} mount -t proc proc /proc`,
      `${B} mount -t sysfs sys /sys`,
      `${B} mount -t devtmpfs dev /dev 2>/dev/null`,
      `${B} mount -t tmpfs tmpfs /run`,
      `${B} mount -t tmpfs tmpfs /tmp`,
      `for m in ${MODULES.join(' ')}; do [ -f ${kit.modules}/$m.ko ] && ${B} insmod ${kit.modules}/$m.ko; done`,
      // busybox applets would shadow real tools in sh: the job runs in bash with absolute paths
      `/bin/bash ${job} </dev/null 2>&1`,
      `echo "${EXIT_MARK} $?"`,
      `${B} poweroff -f`,
      '',
    ].join('\n'),
  );
  writeFileSync(job, ['set -u', env, '/usr/sbin/ip link set lo up', command, ''].join('\n'));
  chmodSync(init, 0o755);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      kit.kernel,
      ['mem=768M', 'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'ro', `init=${init}`, 'con=null', 'con0=null,fd:1', 'quiet'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LD_PRELOAD: kit.shim, TMPDIR: '/tmp' },
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot boot ${kit.kernel}: ${e.message}`));
    });
    child.on('close', () => {
      clearTimeout(timer);
      rmSync(init, { force: true });
      rmSync(job, { force: true });
      const m = new RegExp(`^${EXIT_MARK} (\\d+)`, 'm').exec(out);
      if (!m) {
        reject(new Error(`UML guest gave no exit marker within ${timeoutMs} ms (kernel panic or timeout); console:\n${out.slice(-4000)}`));
        return;
      }
      resolve({ status: Number(m[1]), console: out.slice(0, m.index), ms: Date.now() - start });
    });
  });
}
