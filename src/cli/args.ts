// Command-line parsing, keepalived-compatible (keepalived(8)): getopt_long's reading by normalize(), then readNormalized().
import { ExitCode } from './exit-codes.js';
import { checkListen, DEFAULT_STATUS_SOCKET } from '../daemon/status.js';

export const DEFAULT_CONFIG_FILE = '/etc/keepalived-ts/keepalived.conf';
export const DEFAULT_PID_FILE = '/run/keepalived-ts.pid';

export type CliAction = 'run' | 'config-test' | 'dump-conf' | 'version' | 'help' | 'status' | 'signum';

/** syslog facilities -S accepts (keepalived: 0-7 and local0-7 mean LOG_LOCALn; user; daemon) */
export const SYSLOG_FACILITY = {
  user: 1,
  daemon: 3,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

/** --signum=SIGFUNC: the signal keepalived-ts acts on for each of keepalived's functions. */
export const SIGNUM: Record<string, number | undefined> = {
  STOP: 15,
  RELOAD: 1,
  DATA: 10,
  STATS: 12,
  // keepalived's JSON signal is SIGRTMIN+2, which Node cannot catch: SIGUSR1 writes the JSON too
  JSON: 10,
  // keepalived clears its statistics on SIGRTMIN+29 (63); keepalived-ts has no such signal
  STATS_CLEAR: undefined,
};

export interface CliOptions {
  action: CliAction;
  /** -f/--use-file */
  configFile: string;
  /** -t/--config-test[=LOGFILE]: undefined = diagnostics to stderr */
  configTestLog?: string;
  /** -i/--config-id */
  configId?: string;
  /** -n/--dont-fork */
  dontFork: boolean;
  /** -l/--log-console */
  logConsole: boolean;
  /** -D/--log-detail */
  logDetail: boolean;
  /** -p/--pid */
  pidFile: string;
  /** -P/--vrrp */
  vrrpOnly: boolean;
  /** -C/--check */
  checkOnly: boolean;
  /** -I/--dont-release-ipvs: leave the IPVS table as it is at stop */
  dontReleaseIpvs: boolean;
  /** --single-process (keepalived-ts): VRRP and LVS in one process, no checker child */
  singleProcess: boolean;
  /** --status-listen HOST:PORT (keepalived-ts): serve /metrics and /status over TCP too; for `status`, where to ask */
  statusListen?: string;
  /** --status-socket PATH (keepalived-ts): the root-only Unix socket (default DEFAULT_STATUS_SOCKET); "none": no socket */
  statusSocket?: string;
  /** --json (keepalived-ts): `status` prints the JSON; the daemon logs JSON lines */
  json: boolean;
  /** --data-dir DIR (keepalived-ts): where SIGUSR1/SIGUSR2 write their files (default /tmp) */
  dataDir?: string;
  /** --watch-config (keepalived-ts): reload when the configuration files change */
  watchConfig: boolean;
  /** --notify-timeout SECONDS (keepalived-ts) */
  notifyTimeoutS?: number;
  /** -S/--log-facility: syslog facility number (default daemon, 3) */
  logFacility: number;
  /** -G/--no-syslog */
  noSyslog: boolean;
  /** -g/--log-file[=FILE]: log to this file as well */
  logFile?: string;
  /** -u/--umask=MASK */
  umask?: number;
  /** --signum=SIGFUNC */
  signum?: string;
  /** -s/--namespace NAME: run in this network namespace */
  namespace?: string;
  /** keepalived says "Unexpected argument(s)" for stray words and goes on; so do we. Also: each
   *  keepalived flag accepted but without effect here, said once. */
  warnings: string[];
}

export type ParseArgsResult = { ok: true; options: CliOptions } | { ok: false; exitCode: number; message: string };

/** Options we implement: long name -> short letter (if any), and whether it takes a value. */
interface OptSpec {
  short?: string;
  value: 'none' | 'required' | 'optional';
}
const OURS: Record<string, OptSpec> = {
  'use-file': { short: 'f', value: 'required' },
  'config-test': { short: 't', value: 'optional' },
  'config-id': { short: 'i', value: 'required' },
  'dont-fork': { short: 'n', value: 'none' },
  'log-console': { short: 'l', value: 'none' },
  'log-detail': { short: 'D', value: 'none' },
  pid: { short: 'p', value: 'required' },
  vrrp: { short: 'P', value: 'none' },
  check: { short: 'C', value: 'none' },
  'dont-release-ipvs': { short: 'I', value: 'none' },
  'dump-conf': { short: 'd', value: 'none' },
  version: { short: 'v', value: 'none' },
  help: { short: 'h', value: 'none' },
  // keepalived-ts's own (long only)
  'status-listen': { value: 'required' },
  'status-socket': { value: 'required' },
  json: { value: 'none' },
  'log-json': { value: 'none' },
  'data-dir': { value: 'required' },
  'watch-config': { value: 'none' },
  'notify-timeout': { value: 'required' },
  'single-process': { value: 'none' },
  // keepalived's, honoured
  'log-facility': { short: 'S', value: 'required' },
  'no-syslog': { short: 'G', value: 'none' },
  'log-file': { short: 'g', value: 'optional' },
  'flush-log-file': { value: 'none' },
  umask: { short: 'u', value: 'required' },
  signum: { value: 'required' },
  namespace: { short: 's', value: 'required' },
  // keepalived's, meaningless for one process without BFD: accepted silently, as they change nothing
  no_bfd: { short: 'B', value: 'none' },
  all: { value: 'none' },
  'dont-respawn': { short: 'R', value: 'none' },
};

/**
 * keepalived 2.2.7 flags that old DAEMON_ARGS lines carry and keepalived-ts accepts without acting
 * on them: each is said once at start (why, and what to use instead), so the service still starts.
 */
const ACCEPTED_UNUSED: Record<string, OptSpec & { why: string }> = {
  'release-vips': { short: 'X', value: 'none', why: 'VIPs are released as on any transition' },
  'dont-release-vrrp': { short: 'V', value: 'none', why: 'VIPs and routes are always removed at stop' },
  vrrp_pid: { short: 'r', value: 'required', why: 'one process: only the -p pid file is written' },
  checkers_pid: { short: 'c', value: 'required', why: "the checker child's pid file is named after -p (PIDFILE_checkers.pid)" },
  bfd_pid: { short: 'b', value: 'required', why: 'one process: only the -p pid file is written' },
  'address-monitoring': { short: 'a', value: 'none', why: 'address changes are not logged one by one' },
  snmp: { short: 'x', value: 'none', why: 'no SNMP agent: use the Prometheus metrics (--status-listen)' },
  'snmp-agent-socket': { short: 'A', value: 'required', why: 'no SNMP agent: use the Prometheus metrics (--status-listen)' },
  'core-dump': { short: 'm', value: 'none', why: 'no core dumps of the Node.js process' },
  'core-dump-pattern': { short: 'M', value: 'optional', why: 'no core dumps of the Node.js process' },
  'all-config': { short: 'e', value: 'none', why: 'a missing included file is reported as a warning' },
  perf: { value: 'optional', why: 'no perf profiling' },
  debug: { value: 'optional', why: 'no debug build: use -D' },
  'no-mem-check': { value: 'none', why: 'no memory checker' },
};
for (const [long, spec] of Object.entries(ACCEPTED_UNUSED)) OURS[long] = { short: spec.short, value: spec.value };

/**
 * keepalived 2.2.7 options that keepalived-ts refuses (long name -> short): -T (genhash mode) is
 * `keepalived-ts genhash` here.
 */
const KEEPALIVED_ONLY: Record<string, string | undefined> = {
  genhash: 'T',
};
const REFUSAL_HINT: Record<string, string> = {};

const shortToLong = new Map<string, string>();
for (const [long, s] of Object.entries(OURS)) if (s.short) shortToLong.set(s.short, long);
const keepalivedShort = new Map<string, string>();
for (const [long, s] of Object.entries(KEEPALIVED_ONLY)) if (s) keepalivedShort.set(s, long);

class UsageError extends Error {}

function unsupported(flag: string, long: string): UsageError {
  return new UsageError(`option ${flag} (--${long}) is a keepalived option that keepalived-ts does not support${REFUSAL_HINT[long] ?? ''}`);
}

/** -u: numeric as strtoul(..., 0) reads it (022 octal, 0x12 hex, 18 decimal). */
export function parseUmask(v: string): number | undefined {
  const n = /^0[0-7]*$/.test(v) ? parseInt(v, 8) : /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^[1-9]\d*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0o777 ? n : undefined;
}

/** -S: "0".."7" (LOG_LOCALn), "local0".."local7", "user", "daemon". */
export function parseFacility(v: string): number | undefined {
  if (/^[0-7]$/.test(v)) return 16 + Number(v);
  return (SYSLOG_FACILITY as Record<string, number>)[v];
}

/**
 * Rewrite argv into an unambiguous long form, the way getopt_long reads it: short clusters
 * (-nlD), attached values (-fFILE), and the optional argument of -t, which is only ever attached
 * (-tLOG or --config-test=LOG; "-t FILE" leaves FILE a stray argument, as keepalived does).
 */
function normalize(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = OURS[name];
      if (!spec) {
        if (name in KEEPALIVED_ONLY) throw unsupported(`--${name}`, name);
        throw new UsageError(`unknown option --${name}`);
      }
      if (spec.value === 'none' && eq >= 0) throw new UsageError(`option --${name} takes no value`);
      if (spec.value === 'optional') {
        out.push(eq < 0 ? `--${name}=` : a);
        continue;
      }
      if (spec.value === 'required' && eq < 0) {
        const v = argv[i + 1];
        if (v === undefined) throw new UsageError(`option --${name} needs a value`);
        out.push(`--${name}=${v}`);
        i++;
        continue;
      }
      out.push(a);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // a cluster of short options; a value-taking letter ends it
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const long = shortToLong.get(c);
        if (!long) {
          const k = keepalivedShort.get(c);
          if (k) throw unsupported(`-${c}`, k);
          throw new UsageError(`unknown option -${c}`);
        }
        const spec = OURS[long]!;
        const rest = a.slice(j + 1);
        if (spec.value === 'none') {
          out.push(`--${long}`);
          continue;
        }
        if (spec.value === 'optional') {
          out.push(`--${long}=${rest}`);
          break;
        }
        if (rest.length > 0) {
          out.push(`--${long}=${rest}`);
          break;
        }
        const v = argv[i + 1];
        if (v === undefined) throw new UsageError(`option -${c} (--${long}) needs a value`);
        out.push(`--${long}=${v}`);
        i++;
        break;
      }
      continue;
    }
    out.push(a);
  }
  return out;
}

export function usage(): string {
  return [
    'Usage: keepalived-ts [OPTION...]',
    '  -f, --use-file=FILE        configuration file (default ' + DEFAULT_CONFIG_FILE + ')',
    '  -t, --config-test[=FILE]   check the configuration and exit (diagnostics to stderr or FILE);',
    '                             exit code as keepalived 2.2.7: 0 ok, 5 errors, 6 scripts without',
    '                             enable_script_security, 4 configuration cannot run',
    '  -i, --config-id=ID         configuration id for @ID lines (default: short hostname)',
    '  -n, --dont-fork            stay in the foreground',
    '  -l, --log-console          log to the console',
    '  -D, --log-detail           detailed log messages',
    '  -p, --pid=FILE             pid file (default ' + DEFAULT_PID_FILE + ')',
    '  -S, --log-facility=([0-7]|local[0-7]|user|daemon)',
    '                             syslog facility (default daemon)',
    '  -G, --no-syslog            do not log to syslog',
    '  -g, --log-file[=FILE]      log to FILE as well (default /tmp/keepalived-ts.log)',
    '  -u, --umask=MASK           umask for the files the daemon creates (numeric)',
    '      --signum=SIGFUNC       print the signal number of STOP, RELOAD, DATA, STATS, JSON',
    '  -s, --namespace=NAME       run in the network namespace NAME (as ip netns exec NAME)',
    '  -B, -R, --all, --flush-log-file: accepted (one process, no BFD, lines are written at once)',
    '  -X -V -r -c -b -a -x -A -m -M -e --perf --debug --no-mem-check: accepted, said once, no effect',
    '  -P, --vrrp                 run only the VRRP subsystem',
    '  -C, --check                run only the health-checker subsystem',
    '  -I, --dont-release-ipvs    leave the IPVS table as it is when stopping',
    '  -d, --dump-conf            print the parsed configuration as JSON and exit',
    '  -v, --version              print the version and exit',
    '  -h, --help                 print this help and exit',
    '',
    'keepalived-ts additions:',
    '      --status-socket=PATH   the root-only Unix socket serving /status and /metrics',
    '                             (default ' + DEFAULT_STATUS_SOCKET + '; "none": no socket)',
    '      --status-listen=HOST:PORT  serve /metrics and /status over TCP too (for Prometheus)',
    '      --log-json             log JSON lines instead of text',
    '      --data-dir=DIR         where SIGUSR1 (keepalived-ts.data, .json) and SIGUSR2 (.stats) write (default /tmp)',
    '      --watch-config         reload when a configuration file changes (as SIGHUP does)',
    '      --notify-timeout=SECS  run limit of each notify script, then its process group is killed (default 30)',
    '      --single-process       VRRP and LVS in this one process (default with both: a checker child, as -C)',
    '  keepalived-ts status [--json] [--status-socket=PATH | --status-listen=HOST:PORT]',
    '                             print the instances of a running daemon (default: its socket)',
  ].join('\n');
}

/**
 * The normalized argv (each option `--name` or `--name=value`, stray words, `--` ending the
 * options) into name -> true | value, an array when repeated (str() takes the last, as getopt).
 * normalize() has already refused unknown options and misplaced values: what is left needs no
 * option library (yargs cost ~90 ms of CPU at every start, README: LVS).
 */
function readNormalized(norm: readonly string[]): Record<string, unknown> {
  const stray: string[] = [];
  const out: Record<string, unknown> = { _: stray };
  const put = (k: string, v: unknown) => {
    const o = out[k];
    out[k] = o === undefined ? v : Array.isArray(o) ? [...(o as unknown[]), v] : [o, v];
  };
  for (let i = 0; i < norm.length; i++) {
    const a = norm[i]!;
    if (a === '--') {
      stray.push(...norm.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq < 0) put(a.slice(2), true);
      else put(a.slice(2, eq), a.slice(eq + 1));
      continue;
    }
    stray.push(a);
  }
  return out;
}

/** Parse argv (without node and script); never throws, never exits. */
export function parseCliArgs(argv: readonly string[]): ParseArgsResult {
  let norm: string[];
  try {
    norm = normalize(argv);
  } catch (err) {
    return { ok: false, exitCode: ExitCode.usage, message: `keepalived-ts: ${(err as Error).message}\nTry 'keepalived-ts --help'.` };
  }
  const parsed = readNormalized(norm);
  const str = (k: string): string | undefined => {
    const v = parsed[k];
    // a repeated option gives an array: the last one wins, as with getopt
    if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
    return v === undefined ? undefined : String(v);
  };
  const bool = (k: string): boolean => parsed[k] === true || (Array.isArray(parsed[k]) && (parsed[k] as unknown[]).includes(true));
  let stray = ((parsed._ as unknown[]) ?? []).map(String);
  // `keepalived-ts status ...`: the one subcommand (keepalived has none, so no clash)
  const isStatus = stray[0] === 'status';
  if (isStatus) stray = stray.slice(1);
  const configFile = str('use-file');
  if (configFile === '') return { ok: false, exitCode: ExitCode.usage, message: 'keepalived-ts: option --use-file needs a value' };
  const configTest = str('config-test');
  let action: CliAction = 'run';
  if (bool('help')) action = 'help';
  else if (isStatus) action = 'status';
  else if (bool('version')) action = 'version';
  else if (str('signum') !== undefined) action = 'signum';
  else if (configTest !== undefined) action = 'config-test';
  else if (bool('dump-conf')) action = 'dump-conf';
  const options: CliOptions = {
    action,
    configFile: configFile ?? DEFAULT_CONFIG_FILE,
    dontFork: bool('dont-fork'),
    logConsole: bool('log-console'),
    logDetail: bool('log-detail'),
    pidFile: str('pid') || DEFAULT_PID_FILE,
    vrrpOnly: bool('vrrp'),
    checkOnly: bool('check'),
    dontReleaseIpvs: bool('dont-release-ipvs'),
    singleProcess: bool('single-process'),
    warnings: stray.length ? [`Unexpected argument(s): ${stray.join(' ')}`] : [],
    logFacility: SYSLOG_FACILITY.daemon,
    noSyslog: bool('no-syslog'),
    json: bool('json') || bool('log-json'),
    watchConfig: bool('watch-config'),
  };
  const listen = str('status-listen');
  if (listen !== undefined) {
    // refused here, before anything starts, rather than logged by a daemon running without metrics
    const why = checkListen(listen);
    if (why) return { ok: false, exitCode: ExitCode.usage, message: `keepalived-ts: ${why}` };
    options.statusListen = listen;
  }
  const socket = str('status-socket');
  if (socket !== undefined) {
    if (socket === '') return { ok: false, exitCode: ExitCode.usage, message: 'keepalived-ts: --status-socket needs a path (or "none")' };
    options.statusSocket = socket;
  }
  const dataDir = str('data-dir');
  if (dataDir !== undefined) options.dataDir = dataDir;
  const nt = str('notify-timeout');
  if (nt !== undefined) {
    const v = Number(nt);
    if (!Number.isFinite(v) || v <= 0)
      return {
        ok: false,
        exitCode: ExitCode.usage,
        message: `keepalived-ts: --notify-timeout needs a positive number of seconds (got "${nt}")`,
      };
    options.notifyTimeoutS = v;
  }
  if (configTest) options.configTestLog = configTest;
  const facility = str('log-facility');
  if (facility !== undefined) {
    const f = parseFacility(facility);
    // keepalived says so and goes on with the default
    if (f === undefined) options.warnings.push(`Invalid log facility '${facility}': using daemon`);
    else options.logFacility = f;
  }
  const logFile = str('log-file');
  // -g alone: keepalived's default file, under our name
  if (logFile !== undefined) options.logFile = logFile || '/tmp/keepalived-ts.log';
  const umask = str('umask');
  if (umask !== undefined) {
    const u = parseUmask(umask);
    if (u === undefined) options.warnings.push(`Invalid --umask option ${umask}: ignored`);
    else options.umask = u;
  }
  const namespace = str('namespace');
  if (namespace !== undefined) options.namespace = namespace;
  const signum = str('signum');
  if (signum !== undefined) options.signum = signum;
  for (const [long, spec] of Object.entries(ACCEPTED_UNUSED)) {
    if (parsed[long] !== undefined && parsed[long] !== false) {
      options.warnings.push(
        `option ${spec.short ? `-${spec.short} (--${long})` : `--${long}`} of keepalived is accepted and has no effect in keepalived-ts: ${spec.why}`,
      );
    }
  }
  const id = str('config-id');
  if (id !== undefined) options.configId = id;
  return { ok: true, options };
}
