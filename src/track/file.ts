/**
 * track_file (vrrp_track_file is keepalived's deprecated synonym).
 *
 * API:
 *   new TrackFile(opts: TrackFileOptions)
 *   .start(): Promise<void>   init_file handling, first read, then watch
 *   .stop(): void
 *   .value: number            last value read
 *   .read(): Promise<number>  re-read now (also emits 'value' on change)
 *   events: 'value' (value: number, previous: number)   only when the value changes
 *           'warning' (message: string)                  missing file, garbage content, ...
 *   parseTrackFileValue(text: string): { value: number; garbage: boolean }
 *
 * keepalived rules: the file holds a number in text, read like strtol (leading blanks, optional
 * sign, digits; anything after the number ignored). A missing/unreadable file or content with no
 * number reads as 0. `init_file [VALUE] [overwrite]` writes VALUE (default 0) at startup if the
 * file does not exist, or always with `overwrite`. What the value means (x weight, FAULT) is
 * priority.ts's trackFileContribution.
 *
 * Watching: fs.watch on the parent directory (editors and `echo > f` replace or truncate the
 * file; a directory watch sees creations, renames and writes), debounced; if fs.watch is
 * unavailable (some filesystems) we fall back to re-reading the file every `pollMs`.
 */
import { EventEmitter } from 'node:events';
import { promises as fsp, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface TrackFileOptions {
  name: string;
  path: string;
  /** kept for the tracker; default 1 */
  weight?: number;
  reverse?: boolean;
  initFile?: { value?: number; overwrite?: boolean };
  /** polling period of the fallback (default 1000 ms) */
  pollMs?: number;
  /** force the polling fallback (tests, exotic filesystems) */
  forcePoll?: boolean;
  /** debounce of change events (default 20 ms) */
  debounceMs?: number;
}

export interface TrackFileEvents {
  value: [value: number, previous: number];
  warning: [message: string];
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

export function parseTrackFileValue(text: string): { value: number; garbage: boolean } {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d+)/.exec(text);
  if (!m) return { value: 0, garbage: text.trim().length > 0 };
  let v = Number(m[2]);
  if (m[1] === '-') v = -v;
  // strtol saturates; keepalived then works on an int
  if (v > INT32_MAX) v = INT32_MAX;
  if (v < INT32_MIN) v = INT32_MIN;
  const rest = text.slice(m[0].length);
  return { value: v, garbage: !/^\s*$/.test(rest) };
}

export class TrackFile extends EventEmitter<TrackFileEvents> {
  readonly name: string;
  readonly path: string;
  readonly weight: number;
  readonly reverse: boolean;
  private _value = 0;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private debounce: NodeJS.Timeout | undefined;
  private stopped = true;
  private lastWarning = '';

  constructor(private readonly opts: TrackFileOptions) {
    super();
    this.name = opts.name;
    this.path = opts.path;
    this.weight = opts.weight ?? 1;
    this.reverse = opts.reverse ?? false;
  }

  get value(): number {
    return this._value;
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (this.opts.initFile) await this.initFile(this.opts.initFile);
    // watch first, then read: a change between the two cannot be missed
    this.startWatching();
    await this.read();
  }

  private startWatching(): void {
    if (!this.opts.forcePoll) {
      try {
        const base = basename(this.path);
        this.watcher = watch(dirname(this.path), { persistent: false }, (_ev, file) => {
          if (file === null || file === base) this.schedule();
        });
        this.watcher.on('error', (e) => {
          this.warn(`track_file ${this.name}: watch failed (${e.message}), polling instead`);
          this.watcher?.close();
          this.watcher = undefined;
          this.startPolling();
        });
        return;
      } catch (e) {
        this.warn(`track_file ${this.name}: cannot watch ${dirname(this.path)} (${(e as Error).message}), polling instead`);
      }
    }
    this.startPolling();
  }

  stop(): void {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private startPolling(): void {
    if (this.stopped || this.pollTimer) return;
    // the file is a few bytes: re-reading it is as cheap as a stat and has no mtime-granularity
    // blind spot; read() reports only changes
    this.pollTimer = setInterval(() => void this.read(), this.opts.pollMs ?? 1000);
    this.pollTimer.unref();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.read(), this.opts.debounceMs ?? 20);
  }

  private warn(msg: string): void {
    // repeated identical warnings (a file that stays missing) are reported once
    if (msg === this.lastWarning) return;
    this.lastWarning = msg;
    this.emit('warning', msg);
  }

  private async initFile(init: { value?: number; overwrite?: boolean }): Promise<void> {
    const text = `${init.value ?? 0}\n`;
    try {
      await fsp.writeFile(this.path, text, { flag: init.overwrite ? 'w' : 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') this.warn(`track_file ${this.name}: cannot initialise ${this.path}: ${(e as Error).message}`);
    }
  }

  /** Reads are serialised so that an older read can never overwrite a newer value. */
  read(): Promise<number> {
    const r = this.chain.then(() => this.readOnce());
    this.chain = r.then(
      () => undefined,
      () => undefined,
    );
    return r;
  }

  private async readOnce(): Promise<number> {
    let v = 0;
    try {
      const text = await fsp.readFile(this.path, 'utf8');
      const p = parseTrackFileValue(text);
      v = p.value;
      if (p.garbage) this.warn(`track_file ${this.name}: unexpected content in ${this.path}, read as ${v}`);
      else this.lastWarning = '';
    } catch (e) {
      this.warn(
        `track_file ${this.name}: cannot read ${this.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), value 0`,
      );
      v = 0;
    }
    if (v !== this._value) {
      const prev = this._value;
      this._value = v;
      if (!this.stopped) this.emit('value', v, prev);
    }
    return v;
  }
}
