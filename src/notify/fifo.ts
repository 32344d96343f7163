/**
 * notify_fifo / vrrp_notify_fifo / lvs_notify_fifo writer (+ the optional *_notify_fifo_script).
 *
 * API:
 *   const f = new NotifyFifo({ path, uid?, gid?, script?: { line, uid?, gid? } })
 *   await f.open(): Promise<FifoError | undefined>   creates the fifo if missing (mkfifo, 0600,
 *                                   chown uid/gid), opens it, starts the script (fifo path appended
 *                                   as its last argument, keepalived's convention)
 *   f.write(line: string): boolean  queue one line ("\n" added); false when not open
 *   f.instance(name, state, priority) / f.group(name, state, priority = 0) / f.virtualServer(vs, up) /
 *   f.realServer(rs, vs, up)        keepalived's line formats (below)
 *   await f.close(): Promise<void>  SIGTERM to the script (as keepalived does), close the fifo
 *   formatInstanceLine / formatGroupLine / formatVsLine / formatRsLine: the pure formatters
 *   events: 'error' is never emitted; problems arrive as 'warning' (message)
 *
 * Line formats (keepalived.conf(5), samples/sample_notify_fifo.sh, and measured from keepalived
 * 2.2.7 in a network namespace: a sync group G1 of VI_1 going up then stopped wrote
 * GROUP "G1" BACKUP 0 / INSTANCE "VI_1" BACKUP 100 / INSTANCE "VI_1" MASTER 100 /
 * GROUP "G1" MASTER 0 / INSTANCE "VI_1" STOP 100 / GROUP "G1" STOP 0):
 *   INSTANCE "VI_1" MASTER 100        (also BACKUP, FAULT, STOP, DELETED, MASTER_RX_LOWER_PRI,
 *                                      MASTER_PRIORITY / BACKUP_PRIORITY with notify_priority_changes)
 *   GROUP "G1" BACKUP 0               (keepalived 2.2.7 appends 0 to group lines)
 *   VS [192.0.2.15]:tcp:80 UP
 *   RS [192.0.2.4]:tcp:80 [192.0.2.15]:tcp:80 DOWN
 *
 * The fifo is opened O_RDWR|O_NONBLOCK, like keepalived opens it read-write: opening never waits
 * for a reader, writes never block the event loop, and a reader that goes away and comes back
 * does not make us lose the fifo. Lines are written whole and in order (one stream).
 */
import { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, constants as C, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { isCommandLineError, prepareCommand } from '../track/cmdline.js';
import { runCommand, type RunningCommand } from '../track/child.js';

export type FifoInstanceState =
  | 'MASTER'
  | 'BACKUP'
  | 'FAULT'
  | 'STOP'
  | 'DELETED'
  | 'MASTER_RX_LOWER_PRI'
  | 'MASTER_PRIORITY'
  | 'BACKUP_PRIORITY';

export function formatInstanceLine(name: string, state: FifoInstanceState, priority: number): string {
  return `INSTANCE "${name}" ${state} ${priority}`;
}

/** keepalived 2.2.7 writes a priority on group lines too, always 0 (measured) */
export function formatGroupLine(name: string, state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', priority = 0): string {
  return `GROUP "${name}" ${state} ${priority}`;
}

/** vs/rs as keepalived prints them, e.g. "[192.0.2.15]:tcp:80" or "FWM 5" */
export function formatVsLine(vs: string, up: boolean): string {
  return `VS ${vs} ${up ? 'UP' : 'DOWN'}`;
}

export function formatRsLine(rs: string, vs: string, up: boolean): string {
  return `RS ${rs} ${vs} ${up ? 'UP' : 'DOWN'}`;
}

export interface NotifyFifoOptions {
  path: string;
  uid?: number;
  gid?: number;
  /** notify_fifo_script: started after the fifo is open, fifo path as last argument */
  script?: { line: string; uid?: number; gid?: number };
  env?: NodeJS.ProcessEnv;
}

export interface FifoError {
  error: 'not-a-fifo' | 'mkfifo-failed' | 'open-failed' | 'bad-script';
  message: string;
}

export interface NotifyFifoEvents {
  warning: [message: string];
}

export class NotifyFifo extends EventEmitter<NotifyFifoEvents> {
  private stream: Socket | undefined;
  private script: RunningCommand | undefined;

  constructor(private readonly opts: NotifyFifoOptions) {
    super();
  }

  get path(): string {
    return this.opts.path;
  }

  /** pid of the running notify_fifo_script, if any */
  get scriptPid(): number | undefined {
    return this.script?.pid;
  }

  async open(): Promise<FifoError | undefined> {
    const path = this.opts.path;
    let exists = false;
    try {
      const st = statSync(path);
      if (!st.isFIFO()) return { error: 'not-a-fifo', message: `notify fifo ${path} exists and is not a fifo` };
      exists = true;
    } catch {
      /* missing: create it */
    }
    if (!exists) {
      try {
        // node has no mkfifo(3); coreutils' mkfifo is always present where keepalived runs
        execFileSync('mkfifo', ['-m', '0600', '--', path], { stdio: 'ignore' });
      } catch (e) {
        return { error: 'mkfifo-failed', message: `cannot create notify fifo ${path}: ${(e as Error).message}` };
      }
    }
    if (this.opts.uid !== undefined || this.opts.gid !== undefined) {
      try {
        chownSync(path, this.opts.uid ?? -1, this.opts.gid ?? -1);
      } catch (e) {
        this.emit('warning', `cannot chown notify fifo ${path}: ${(e as Error).message}`);
      }
    }
    let fd: number;
    try {
      fd = openSync(path, C.O_RDWR | C.O_NONBLOCK);
    } catch (e) {
      return { error: 'open-failed', message: `cannot open notify fifo ${path}: ${(e as Error).message}` };
    }
    try {
      const s = new Socket({ fd, readable: false, writable: true });
      s.on('error', (e) => this.emit('warning', `notify fifo ${path}: ${e.message}`));
      this.stream = s;
    } catch (e) {
      closeSync(fd);
      return { error: 'open-failed', message: `cannot use notify fifo ${path}: ${(e as Error).message}` };
    }
    if (this.opts.script) {
      const cmd = prepareCommand(this.opts.script.line, [path]);
      if (isCommandLineError(cmd)) return { error: 'bad-script', message: `notify_fifo_script: ${cmd.message}` };
      this.script = runCommand(cmd, { uid: this.opts.script.uid, gid: this.opts.script.gid, env: this.opts.env });
      void this.script.result.then((r) => {
        if (this.script && r.kind !== 'killed') {
          this.emit('warning', `notify_fifo_script ${this.opts.script?.line} ended (${r.kind} ${r.code ?? r.signal ?? r.error ?? ''})`);
        }
        this.script = undefined;
      });
    }
    return undefined;
  }

  write(line: string): boolean {
    if (!this.stream || this.stream.destroyed) return false;
    this.stream.write(line.endsWith('\n') ? line : `${line}\n`);
    return true;
  }

  instance(name: string, state: FifoInstanceState, priority: number): boolean {
    return this.write(formatInstanceLine(name, state, priority));
  }

  group(name: string, state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', priority = 0): boolean {
    return this.write(formatGroupLine(name, state, priority));
  }

  virtualServer(vs: string, up: boolean): boolean {
    return this.write(formatVsLine(vs, up));
  }

  realServer(rs: string, vs: string, up: boolean): boolean {
    return this.write(formatRsLine(rs, vs, up));
  }

  /** Pending lines are flushed, the script gets SIGTERM (then SIGKILL after the grace). */
  async close(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      // a fifo nobody reads can stay full: give the flush a bounded time
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000);
        s.end(() => {
          clearTimeout(t);
          s.destroy();
          resolve();
        });
      });
    }
    const sc = this.script;
    if (sc) {
      sc.kill();
      await sc.result;
    }
  }
}
