// PING_CHECK: one ICMP / ICMPv6 echo. Node has no ICMP socket and the native addon is not ours to
// extend, so we run iputils' `ping -c1` (it uses an unprivileged ICMP datagram socket where
// net.ipv4.ping_group_range allows, else its raw-socket capability): exit 0 = an echo reply
// came back within the connect_timeout. The run is bounded and reaped by child.ts (the process
// group is killed if ping overstays its -W).
import { runCommand } from '../track/child.js';
import { fail, success, type Target } from './common.js';
import type { Probe } from './scheduler.js';

export const PING = '/usr/bin/ping';

export function pingArgs(t: Target): string[] {
  const secs = Math.max(0.001, t.connectTimeoutMs / 1000);
  const args = [t.family === 6 ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', secs.toFixed(3)];
  if (t.localAddress) args.push('-I', t.localAddress);
  args.push(t.host);
  return args;
}

export function pingProbe(t: Target, file = PING): Probe {
  return async (signal) => {
    const run = runCommand({ file, args: pingArgs(t), shell: false, line: `${file} ${pingArgs(t).join(' ')}` }, {
      timeoutMs: t.connectTimeoutMs + 1000,
      killGraceMs: 200,
    });
    const onAbort = () => run.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    const r = await run.result;
    signal.removeEventListener('abort', onAbort);
    if (r.kind === 'exit' && r.code === 0) return success('echo reply');
    if (r.kind === 'exit' && r.code === 1) return fail('no echo reply');
    if (r.kind === 'spawn-error') return fail(`cannot run ${file}: ${r.error ?? ''}`);
    if (r.kind === 'timeout') return fail('timeout');
    return fail(`ping failed (${r.kind} ${r.code ?? r.signal ?? ''})`);
  };
}
