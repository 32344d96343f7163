// Per-process figures the benchmarks share: CPU from schedstat, RSS, a least-squares slope.
import { readdirSync, readFileSync } from 'node:fs';

/** ns on the CPU of every thread of a process (schedstat's first field), or undefined if gone. */
export function cpuNs(pid: number): number | undefined {
  try {
    let sum = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        sum += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* thread gone */
      }
    }
    return sum;
  } catch {
    return undefined;
  }
}

/** VmRSS in kB, 0 if gone. */
export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n,
    my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx ? sxy / sxx : NaN;
}
