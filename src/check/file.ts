// FILE_CHECK: track_file NAME [weight W [reverse]] on a real server. Event driven (inotify via
// fs.watch on the file's directory, polling if that is refused), no timers of its own.
// The file's integer value v: with weight 0, v != 0 takes the checker down; otherwise v x W
// (negated with reverse) is added to the real server's weight, and a result <= -2^31 takes it
// down. A file that is missing or holds no number is a failure with the reason logged (the
// value is unknown: better out of the table than at a guessed weight).
import { EventEmitter } from 'node:events';
import { watch, promises as fsp, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseTrackFileValue } from '../track/file.js';

export interface FileCheckState {
  readonly up: boolean;
  /** added to the real server's weight while up */
  readonly offset: number;
  readonly reason: string;
}

export interface FileCheckEvents {
  state: [s: FileCheckState];
}

export class FileCheck extends EventEmitter<FileCheckEvents> {
  state: FileCheckState | undefined;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly weight: number,
    readonly reverse: boolean,
    private readonly pollMs = 1000,
  ) {
    super();
  }

  /** Watch, then read once (a change between the two cannot be missed). */
  start(): Promise<void> {
    try {
      const base = basename(this.path);
      this.watcher = watch(dirname(this.path), { persistent: false }, (_ev, f) => {
        if (f === null || f === base) this.schedule();
      });
      this.watcher.on('error', () => this.startPolling());
    } catch {
      this.startPolling();
    }
    return this.read();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private startPolling(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.stopped || this.poll) return;
    this.poll = setInterval(() => void this.read(), this.pollMs);
    this.poll.unref();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.read(), 20);
  }

  /** serialised: an older read never overwrites a newer one */
  read(): Promise<void> {
    this.chain = this.chain.then(() => this.readOnce()).catch(() => undefined);
    return this.chain;
  }

  private async readOnce(): Promise<void> {
    let s: FileCheckState;
    try {
      const text = await fsp.readFile(this.path, 'utf8');
      const p = parseTrackFileValue(text);
      if (!/^\s*[+-]?\d/.test(text)) s = { up: false, offset: 0, reason: `${this.path} holds no number` };
      else s = this.judge(p.value);
    } catch (e) {
      s = { up: false, offset: 0, reason: `cannot read ${this.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
    if (this.stopped) return;
    const prev = this.state;
    this.state = s;
    if (!prev || prev.up !== s.up || prev.offset !== s.offset || (!s.up && prev.reason !== s.reason)) this.emit('state', s);
  }

  judge(v: number): FileCheckState {
    if (this.weight === 0) return v === 0 ? { up: true, offset: 0, reason: 'value 0' } : { up: false, offset: 0, reason: `value ${v}` };
    const offset = v * this.weight * (this.reverse ? -1 : 1);
    if (offset <= -2147483648)
      return { up: false, offset: 0, reason: `value ${v} x weight ${this.weight}${this.reverse ? ' reverse' : ''}` };
    return { up: true, offset, reason: `value ${v}` };
  }
}
