// INTEGRATION POINT: the daemon is another developer's later work. The CLI (src/cli.ts) calls
// runDaemon() for every run that is not -t / --dump-conf / -v / -h. Replace the body, keep the
// DaemonOptions contract (extend it compatibly).

export interface DaemonOptions {
  /** configuration file (-f), already resolved to an absolute path */
  configFile: string;
  /** -i: configuration id for conditional (@id) lines; defaults to the short hostname */
  configId: string;
  /** -n: stay in the foreground */
  dontFork: boolean;
  /** -l: log to the console as well */
  logConsole: boolean;
  /** -D: detailed log messages */
  logDetail: boolean;
  /** -p: pid file of the main process */
  pidFile: string;
  /** -P / -C: run only the VRRP or only the checker subsystem (both false: run both) */
  vrrpOnly: boolean;
  checkOnly: boolean;
}

/** Start the daemon. Not built yet: says so and returns exit code 1. */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  process.stderr.write(`keepalived-ts: the daemon is not built yet (config ${options.configFile})\n`);
  return 1;
}
