// -s/--namespace NAME, as keepalived: run in the named network namespace. Node cannot setns(2) its
// own process, so the command runs itself again under `ip netns exec NAME` (which also applies
// /etc/netns/NAME, as for any command run there), passes signals on and exits with its code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Set in the process started inside the namespace: it is there already. */
export const NETNS_ENV = 'KEEPALIVED_TS_NETNS';

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

/** Why NAME cannot be used, or undefined. */
export function checkNamespace(name: string): string | undefined {
  // what ip-netns accepts as a name: a file name under /run/netns
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..')
    return `--namespace ${JSON.stringify(name)}: not a namespace name`;
  if (!existsSync(`/run/netns/${name}`)) return `network namespace ${name} does not exist (create it with: ip netns add ${name})`;
  return undefined;
}

/** Run `node script argv...` inside the namespace; resolves with its exit code. */
export function runInNamespace(name: string, script: string, argv: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...process.execArgv, script, ...argv], {
      stdio: 'inherit',
      env: { ...process.env, [NETNS_ENV]: name },
    });
    const pass = (sig: NodeJS.Signals) => () => {
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
    };
    const handlers = FORWARDED.map((sig) => [sig, pass(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    child.on('error', (err) => {
      process.stderr.write(`keepalived-ts: cannot run ip netns exec ${name}: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(code ?? (signal ? 128 + (({ SIGTERM: 15, SIGINT: 2, SIGKILL: 9 } as Record<string, number>)[signal] ?? 0) : 1));
    });
  });
}
