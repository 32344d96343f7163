// Without -n, keepalived forks into the background (sysvinit, OpenRC, a start by hand). Node cannot
// fork(2) a running process: the command starts itself again as a detached child (a new session,
// no terminal, stdio on /dev/null) and waits on a pipe until that child says it is ready (its
// sockets open, its pid file written) or why it could not start. The command's exit code is then
// keepalived's: 0 once the daemon runs, the daemon's own code (1, 3...) when it did not start.
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

/** Set in the daemon child: the fd of the pipe to the waiting parent. */
export const READY_FD_ENV = 'KEEPALIVED_TS_READY_FD';

/** How long the parent waits for the child to be ready (a start normally takes well under 1 s). */
export const READY_TIMEOUT_MS = 60_000;

export interface ForkResult {
  code: number;
  /** the child's pid (whether it is running or not) */
  pid?: number;
  /** what the child said went wrong, or why the parent gave up */
  message?: string;
}

/** Start `node script argv...` in the background and wait until it is ready or has failed. */
export function forkDaemon(script: string, argv: readonly string[], timeoutMs = READY_TIMEOUT_MS): Promise<ForkResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
      detached: true, // setsid(): a session of its own, as daemon(3)
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, [READY_FD_ENV]: '3' },
    });
    let said = '';
    let done = false;
    const finish = (r: ForkResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // the daemon lives on without us
      child.unref();
      (child.stdio[3] as unknown as { destroy?: () => void } | null)?.destroy?.();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        finish({
          code: 1,
          pid: child.pid,
          message: `the daemon (pid ${child.pid}) did not say it was ready within ${timeoutMs / 1000} s; it may still be starting`,
        }),
      timeoutMs,
    );
    child.on('error', (err) => finish({ code: 1, message: `cannot start the daemon: ${err.message}` }));
    const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
    pipe?.on('data', (c: Buffer) => {
      said += c.toString('utf8');
      if (/^ready$/m.test(said)) finish({ code: 0, pid: child.pid });
    });
    pipe?.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      const fatal = said
        .split('\n')
        .filter((l) => l.startsWith('fatal '))
        .map((l) => l.slice(6));
      finish({
        code: code || 1,
        pid: child.pid,
        message: fatal.length
          ? fatal.join('\n')
          : `the daemon exited during its start (${signal ? `signal ${signal}` : `exit code ${code}`})`,
      });
    });
  });
}

/** In the daemon child: the channel to the waiting parent (undefined when started with -n). */
export function readyChannel(env: NodeJS.ProcessEnv = process.env): { ready(): void; fatal(msg: string): void } | undefined {
  const v = env[READY_FD_ENV];
  if (v === undefined) return undefined;
  // not inherited by notify scripts and other children
  delete env[READY_FD_ENV];
  let fd: number | undefined = Number(v);
  if (!Number.isInteger(fd) || fd < 3) return undefined;
  const send = (line: string) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, line + '\n');
    } catch {
      fd = undefined; /* the parent is gone */
    }
  };
  return {
    ready() {
      send('ready');
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          /* closed */
        }
        fd = undefined;
      }
    },
    fatal(msg) {
      send(`fatal ${msg.replace(/\n/g, ' ')}`);
    },
  };
}
