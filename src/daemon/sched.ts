// Process scheduling, as keepalived applies it to its children: vrrp_priority / checker_priority
// (nice, -20..19), vrrp_rt_priority / checker_rt_priority (SCHED_RR 1..99) and
// vrrp_rlimit_rttime / checker_rlimit_rttime (RLIMIT_RTTIME, us). The VRRP process takes the
// vrrp_ values, the checker process (-C, the checker child) the checker_ ones; keepalived's
// default is no change, and so is ours.
//
// Node is threaded (V8's platform and GC helpers, libuv's pool) and Linux keeps the nice value
// and the scheduling policy per thread: every thread that exists is set (/proc/self/task), and
// threads started later inherit from the thread that starts them. SCHED_RR and RLIMIT_RTTIME go
// through util-linux's chrt and prlimit (as the logger does through logger(1)): no native code.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { GlobalDefs } from '../config/model.js';

export type SchedRole = 'vrrp' | 'checker';

export interface SchedLog {
  info(m: string): void;
  warn(m: string): void;
}

/** What a role asks for in global_defs (undefined: leave as it is). */
export interface SchedWanted {
  nice?: number;
  rtPriority?: number;
  rlimitRttimeUs?: number;
}

export function schedWanted(g: GlobalDefs, role: SchedRole): SchedWanted {
  return role === 'vrrp'
    ? { nice: g.vrrpProcessPriority, rtPriority: g.vrrpRtPriority, rlimitRttimeUs: g.vrrpRlimitRttimeUs }
    : { nice: g.checkerProcessPriority, rtPriority: g.checkerRtPriority, rlimitRttimeUs: g.checkerRlimitRttimeUs };
}

/** The checker child's nice without checker_priority: its parent's before vrrp_priority. */
export const BASE_NICE_ENV = 'KEEPALIVED_TS_BASE_NICE';

function baseNiceFromEnv(): number | undefined {
  const v = process.env[BASE_NICE_ENV];
  delete process.env[BASE_NICE_ENV]; // not for scripts
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

function threads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [process.pid];
  }
}

/**
 * Applies a role's values at start and again on reload (only what changed; a keyword removed
 * puts back what the process had at start). Failures are warnings: the daemon runs on.
 */
export class ProcessScheduling {
  private nice = getPriority(0);
  private applied: SchedWanted = {};

  /**
   * `baseNice`: the nice value without the keyword. A checker child is given its parent's from
   * before vrrp_priority (BASE_NICE_ENV): it would inherit vrrp_priority otherwise, which
   * keepalived's checker process (a child of an unchanged parent) does not.
   */
  constructor(
    private readonly role: SchedRole,
    private readonly log: SchedLog,
    readonly baseNice = baseNiceFromEnv() ?? getPriority(0),
  ) {}

  apply(g: GlobalDefs): void {
    const want = schedWanted(g, this.role);
    const name = this.role === 'vrrp' ? 'vrrp' : 'checker';
    const nice = want.nice ?? this.baseNice;
    if (nice !== this.nice) {
      try {
        for (const tid of threads()) {
          try {
            setPriority(tid, nice);
          } catch (err) {
            // a thread that ended since the listing
            if ((err as NodeJS.ErrnoException).code !== 'ESRCH' && tid === process.pid) throw err;
          }
        }
        this.nice = nice;
        if (want.nice !== undefined) this.log.info(`${name} process priority (nice) set to ${nice}`);
      } catch (err) {
        this.log.warn(`${name}_priority ${nice}: cannot set the process priority: ${(err as Error).message}`);
      }
    }
    if (want.rtPriority !== this.applied.rtPriority) {
      // chrt -a: every thread of the process; SCHED_OTHER (priority 0) when the keyword is gone.
      // -R (SCHED_RESET_ON_FORK): what this process starts (the checker child, scripts) does not
      // inherit SCHED_RR, as keepalived's checker process does not inherit vrrp_rt_priority
      const args =
        want.rtPriority !== undefined
          ? ['-a', '-R', '-r', '-p', String(want.rtPriority), String(process.pid)]
          : ['-a', '-o', '-p', '0', String(process.pid)];
      try {
        execFileSync('chrt', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
        if (want.rtPriority !== undefined) this.log.info(`${name} process real-time priority set to ${want.rtPriority} (SCHED_RR)`);
      } catch (err) {
        const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
        this.log.warn(
          `${name}_rt_priority ${want.rtPriority ?? 'off'}: cannot change the scheduling policy (${why}); running with the default scheduler`,
        );
      }
    }
    if (want.rlimitRttimeUs !== this.applied.rlimitRttimeUs || want.rtPriority !== this.applied.rtPriority) {
      // only with an RT priority, and only when asked for: keepalived's 10 ms default would kill
      // Node (a GC pause or a large reload's parse runs longer than that without a blocking call).
      // soft: SIGXCPU (logged below), hard a second later: SIGKILL, as the limit is meant
      const us = want.rtPriority !== undefined ? want.rlimitRttimeUs : undefined;
      const limit = us !== undefined ? `${us}:${us + 1_000_000}` : 'unlimited:unlimited';
      if (us !== undefined || this.applied.rlimitRttimeUs !== undefined) {
        try {
          execFileSync('prlimit', ['--pid', String(process.pid), `--rttime=${limit}`], {
            stdio: ['ignore', 'ignore', 'pipe'],
            timeout: 5000,
          });
          if (us !== undefined) {
            this.log.info(`${name} process real-time limit set to ${us} us`);
            if (process.listenerCount('SIGXCPU') === 0) {
              let last = 0;
              process.on('SIGXCPU', () => {
                if (Date.now() - last < 1000) return;
                last = Date.now();
                this.log.warn(`${name}_rlimit_rttime: ran ${us} us without blocking under SCHED_RR (SIGXCPU)`);
              });
            }
          }
        } catch (err) {
          const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
          this.log.warn(`${name}_rlimit_rttime ${us ?? 'off'}: cannot set RLIMIT_RTTIME (${why})`);
        }
      }
    }
    this.applied = { ...want, rlimitRttimeUs: want.rtPriority !== undefined ? want.rlimitRttimeUs : undefined };
  }
}
