// A checker's effective timing: keepalived 2.2.7's per-type defaults (../shared/notes/lvs.md 4.2),
// overridden by the virtual_server's checker defaults (retry, delay_before_retry, warmup,
// connect_timeout written in the virtual_server block), then the real_server's, then the
// checker's own keywords.
import type { Checker, RealServer, VirtualServer } from '../config/model.js';

export interface CheckerTiming {
  /** retries after a failed attempt before the checker goes down (retry+1 failures in all) */
  readonly retry: number;
  readonly delayBeforeRetryMs: number;
  readonly delayLoopMs: number;
  /** the first run comes 1 s + random(0..warmup) after start; 0 = no jitter */
  readonly warmupMs: number;
  readonly connectTimeoutMs: number;
  /** MISC_CHECK: the period counts from the start of the previous run, not its end */
  readonly periodFromStart: boolean;
  /** TCP/SMTP keep cycling the retry counter while down (delay_before_retry and delay_loop
   *  alternate); UDP/PING/DNS/MISC retry only while up */
  readonly retryWhileDown: boolean;
  /** HTTP_GET/SSL_GET: re-check every max(delay_before_retry, delay_loop) while down, and a
   *  full pass of the urls after the failing one succeeded (two successes to come back) */
  readonly http: boolean;
  /** HTTP_GET/SSL_GET fast_recovery: one success brings the checker back */
  readonly fastRecovery: boolean;
  /** MISC_CHECK misc_timeout (default the virtual server's delay_loop) */
  readonly miscTimeoutMs: number;
}

/** A time as keepalived reads it: seconds, decimals allowed (`1.5`), in ms; undefined if bad. */
export function secondsMs(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+(\.\d+)?$/.test(v.trim())) return undefined;
  return Math.round(parseFloat(v) * 1000);
}

function int(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v.trim()) ? parseInt(v, 10) : undefined;
}

/** keyword written (present, with or without a value that is not a negation) */
export function flagOn(v: string | undefined): boolean {
  return v !== undefined && !/^(off|no|false|0)$/i.test(v.trim());
}

export function checkerTiming(ck: Checker, vs: VirtualServer, rs?: RealServer): CheckerTiming {
  const explicit = new Set(ck.explicit ?? []);
  const rd = rs?.checkerDefaults ?? {};
  // the nearest block that wrote the keyword: real_server, else virtual_server
  const inherited = (k: string) => rd[k] ?? vs.options[k];
  const delayLoopMs = ck.delayLoopMs ?? secondsMs(rd['delay_loop']) ?? vs.delayLoopMs;
  const http = ck.type === 'HTTP_GET' || ck.type === 'SSL_GET';
  const typeRetry = ck.type === 'DNS_CHECK' ? 3 : ck.type === 'MISC_CHECK' ? 0 : 1;
  const typeDbr = http ? 3000 : ck.type === 'DNS_CHECK' ? delayLoopMs : 1000;
  const retry = explicit.has('retry') || explicit.has('nb_get_retry') ? ck.retry : (int(inherited('retry')) ?? typeRetry);
  const delayBeforeRetryMs = explicit.has('delay_before_retry')
    ? ck.delayBeforeRetryMs
    : (secondsMs(inherited('delay_before_retry')) ?? typeDbr);
  const connectTimeoutMs = explicit.has('connect_timeout') ? ck.connectTimeoutMs : (secondsMs(inherited('connect_timeout')) ?? 5000);
  const warmupMs = ck.warmupMs ?? secondsMs(inherited('warmup')) ?? delayLoopMs;
  return {
    retry,
    delayBeforeRetryMs,
    delayLoopMs,
    warmupMs,
    connectTimeoutMs,
    periodFromStart: ck.type === 'MISC_CHECK',
    retryWhileDown: ck.type === 'TCP_CHECK' || ck.type === 'SMTP_CHECK',
    http,
    fastRecovery: http && ck.options['fast_recovery'] !== undefined && flagOn(ck.options['fast_recovery'] || 'on'),
    miscTimeoutMs: ck.miscTimeoutMs ?? vs.delayLoopMs,
  };
}
