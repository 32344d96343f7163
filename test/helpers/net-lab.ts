// Shared by the net-*.test.ts files: run a snippet of Node code inside a lab namespace (a process
// cannot switch network namespace, so each namespace gets its own child) and read its JSON lines.
// Not a test file itself; importing it has no side effect.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { Lab } from './netns.js';

/** dist/ root (this file compiles to dist/test/helpers/net-lab.js). */
export const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Import specifier for a compiled src/net module, for child snippets. */
export function mod(name: string): string {
  return JSON.stringify(resolve(DIST, 'src/net', name + '.js'));
}

export interface AgentResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Agent {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly done: Promise<AgentResult>;
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  private stdout = '';

  constructor(
    readonly child: ChildProcess,
    timeoutMs: number,
  ) {
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not JSON: keep in stdout only */
        }
        for (const w of this.waiters) w();
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    // Bounded: every child is killed (by PID) after timeoutMs.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    this.done = new Promise((res) => {
      child.once('exit', (code) => {
        clearTimeout(timer);
        for (const w of this.waiters) w();
        res({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Wait for a line matching pred (bounded). */
  async waitLine(pred: (l: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(`no matching line within ${timeoutMs} ms; stdout=${this.stdout} stderr=${this.stderr}`);
      }
      await new Promise<void>((r) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          r();
        };
        const t = setTimeout(done, Math.min(left, 200));
        this.waiters.add(done);
      });
    }
  }
}

/** Run `code` (an ES module body) with node inside namespace ns; stdin piped if asked. */
export function runIn(lab: Lab, ns: string, code: string, timeoutMs = 30_000, opts: { stdin?: boolean } = {}): Agent {
  const child = lab.spawn(ns, [process.execPath, '--input-type=module', '-e', code], opts.stdin ? { stdio: ['pipe', 'pipe', 'pipe'] } : {});
  return new Agent(child, timeoutMs);
}

/** Prelude for child snippets: out(obj) prints one JSON line. */
export const PRELUDE = 'const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");\n';
