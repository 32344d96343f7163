/**
 * Reaping the orphans of scripts, as keepalived does.
 *
 * A notify script that starts a service in the background (`httpd &`) and exits leaves that
 * service orphaned. The kernel hands an orphan to the nearest "child subreaper" ancestor, or to
 * PID 1; whoever adopts it must wait for it when it dies, or it stays a zombie: `kill -0 $pid`
 * keeps succeeding and a check script believes the service is still up. In a container whose PID 1
 * reaps slowly (or never), that costs seconds of failover (or piles zombies up for ever).
 * So the daemon makes itself a subreaper and, on every SIGCHLD, reaps the children that are not
 * Node's own.
 *
 * Why not waitpid(-1): libuv waits for the children Node spawned one by one, by pid; a blanket
 * wait would take their exit status and their 'exit' event would never fire. We therefore keep the
 * set of pids Node spawned (every child_process spawn/exec/execFile/fork goes through
 * ChildProcess.prototype.spawn, which we wrap once; spawnSync waits for its child before returning,
 * so it never needs protecting), list our children from /proc, and wait by pid for the others only.
 * The wrap registers the pid in the same synchronous turn as the fork, and a sweep runs on the same
 * thread, so no sweep can see a Node child before it is registered. The pid leaves the set on the
 * child's 'exit' event, emitted after libuv has reaped it.
 *
 * API:
 *   startOrphanReaper(opts?): OrphanReaper   subreaper on, sweep on SIGCHLD (and every second as a
 *                                            backstop); throws ReaperError
 *   OrphanReaper { sweep(): ReapedChild[]; stop(): void; readonly reaped: number }
 *   listChildren(): number[]                 pids whose parent is this process
 *   protectedChildren(): ReadonlySet<number> the pids left to libuv (for tests)
 */
import { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadNativeAddon } from '../util/native-addon.js';

export interface ReapedChild {
  pid: number;
  /** exit status, or null when a signal ended it */
  code: number | null;
  /** number of the signal that ended it, or null */
  signal: number | null;
}

export interface ReaperAddon {
  setChildSubreaper(): void;
  isChildSubreaper(): boolean;
  /** waitid(P_PID, pid, WEXITED|WNOHANG): null if still running or not our child */
  reap(pid: number): ReapedChild | null;
}

export class ReaperError extends Error {
  override readonly name = 'ReaperError';
}

let addon: ReaperAddon | undefined;

/** The kts_reaper addon (native/reaper.c); KTS_REAPER_ADDON overrides the location (packaging). */
export function loadReaperAddon(): ReaperAddon {
  if (addon) return addon;
  const r = loadNativeAddon<ReaperAddon>('kts_reaper', 'KTS_REAPER_ADDON');
  if ('addon' in r) {
    addon = r.addon;
    return addon;
  }
  if ('broken' in r) throw new ReaperError(`${r.broken} exists but does not load: ${r.error.message}. Rebuild it with \`npm run install\``);
  throw new ReaperError(`the native addon kts_reaper is not built (looked in ${r.missing.join(', ')}). Build it with \`npm run install\``);
}

// pids of children Node spawned and libuv still has to wait for
const nodeChildren = new Set<number>();
// those of them that existed before the wrap (their 'exit' is not watched)
const earlyChildren = new Set<number>();
let wrapped = false;

function protectNodeChildren(): void {
  if (wrapped) return;
  wrapped = true;
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, ...a: unknown[]) => unknown };
  const original = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]): unknown {
    const r = original.apply(this, args);
    const pid = this.pid;
    if (pid !== undefined) {
      nodeChildren.add(pid);
      // 'exit' is emitted once libuv has reaped it: from then on the pid is not ours to protect
      this.once('exit', () => nodeChildren.delete(pid));
    }
    return r;
  };
  // Children spawned before the wrap (none in the daemon, but be safe): all of them are Node's,
  // since nothing could be adopted before we became a subreaper. They leave the set when they
  // no longer show up among our children.
  for (const pid of listChildren()) {
    nodeChildren.add(pid);
    earlyChildren.add(pid);
  }
}

export function protectedChildren(): ReadonlySet<number> {
  return nodeChildren;
}

// /proc/<pid>/task/<tid>/children exists with CONFIG_PROC_CHILDREN (Debian's kernels have it);
// otherwise fall back to reading every /proc/<pid>/stat for its parent pid.
let hasChildrenFile: boolean | undefined;

/** Pids of this process's children (any thread's). */
export function listChildren(): number[] {
  hasChildrenFile ??= existsSync(`/proc/self/task/${process.pid}/children`);
  const out: number[] = [];
  if (hasChildrenFile) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync('/proc/self/task');
    } catch {
      return out;
    }
    for (const t of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/self/task/${t}/children`, 'utf8');
      } catch {
        continue;
      } // thread gone
      for (const w of text.split(' ')) if (w) out.push(Number(w));
    }
    return out;
  }
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(e));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

export interface OrphanReaperOptions {
  addon?: ReaperAddon;
  /** called for each orphan reaped (the daemon logs it at debug level) */
  onReaped?: (c: ReapedChild) => void;
}

export interface OrphanReaper {
  /** reap every exited child that is not Node's own; returns what was reaped */
  sweep(): ReapedChild[];
  /** stop listening to SIGCHLD (the process stays a subreaper: prctl cannot be undone safely) */
  stop(): void;
  readonly reaped: number;
}

const BACKSTOP_MS = 1000;

/** Make this process a child subreaper and reap adopted orphans on every SIGCHLD. */
export function startOrphanReaper(opts: OrphanReaperOptions = {}): OrphanReaper {
  const a = opts.addon ?? loadReaperAddon();
  protectNodeChildren();
  try {
    a.setChildSubreaper();
  } catch (err) {
    throw new ReaperError(`cannot become a child subreaper: ${(err as Error).message}`);
  }
  let reaped = 0;
  const sweep = (): ReapedChild[] => {
    const got: ReapedChild[] = [];
    const children = listChildren();
    if (earlyChildren.size) {
      const live = new Set(children);
      for (const pid of earlyChildren)
        if (!live.has(pid)) {
          earlyChildren.delete(pid);
          nodeChildren.delete(pid);
        }
    }
    for (const pid of children) {
      if (nodeChildren.has(pid)) continue;
      let c: ReapedChild | null;
      try {
        c = a.reap(pid);
      } catch {
        continue;
      }
      if (!c) continue; // still running
      reaped++;
      got.push(c);
      opts.onReaped?.(c);
    }
    return got;
  };
  // SIGCHLD: Node allows a listener next to libuv's own (both are told); signals coalesce, so
  // each one sweeps every child.
  const onSigchld = (): void => void sweep();
  process.on('SIGCHLD', onSigchld);
  // A backstop only: proc(5) says a children list read while children come and go may miss one;
  // such a zombie would otherwise wait for the next SIGCHLD.
  const backstop = setInterval(sweep, BACKSTOP_MS).unref();
  sweep(); // orphans adopted before the listener was in place
  return {
    sweep,
    stop: () => {
      process.off('SIGCHLD', onSigchld);
      clearInterval(backstop);
    },
    get reaped() {
      return reaped;
    },
  };
}
