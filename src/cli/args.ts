// Command-line parsing, keepalived-compatible (keepalived(8)), with yargs.
import yargs from 'yargs';
import { ExitCode } from './exit-codes.js';

export const DEFAULT_CONFIG_FILE = '/etc/keepalived-ts/keepalived.conf';
export const DEFAULT_PID_FILE = '/run/keepalived-ts.pid';

export type CliAction = 'run' | 'config-test' | 'dump-conf' | 'version' | 'help' | 'status';

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
  /** --status-listen HOST:PORT (keepalived-ts): serve /metrics and /status; for `status`, where to ask */
  statusListen?: string;
  /** --json (keepalived-ts): `status` prints the JSON; the daemon logs JSON lines */
  json: boolean;
  /** --data-dir DIR (keepalived-ts): where SIGUSR1/SIGUSR2 write their files (default /tmp) */
  dataDir?: string;
  /** --watch-config (keepalived-ts): reload when the configuration files change */
  watchConfig: boolean;
  /** --notify-timeout SECONDS (keepalived-ts) */
  notifyTimeoutS?: number;
  /** keepalived says "Unexpected argument(s)" for stray words and goes on; so do we */
  warnings: string[];
}

export type ParseArgsResult =
  | { ok: true; options: CliOptions }
  | { ok: false; exitCode: number; message: string };

/** Options we implement: long name -> short letter (if any), and whether it takes a value. */
interface OptSpec { short?: string; value: 'none' | 'required' | 'optional' }
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
  json: { value: 'none' },
  'log-json': { value: 'none' },
  'data-dir': { value: 'required' },
  'watch-config': { value: 'none' },
  'notify-timeout': { value: 'required' },
};

/** keepalived 2.2.7 options that keepalived-ts does not implement (long name -> short). */
const KEEPALIVED_ONLY: Record<string, string | undefined> = {
  'no_bfd': 'B', all: undefined, 'log-facility': 'S', 'log-file': 'g', 'flush-log-file': undefined,
  'no-syslog': 'G', 'release-vips': 'X', 'dont-release-vrrp': 'V',
  'dont-respawn': 'R', 'vrrp_pid': 'r', genhash: 'T', 'checkers_pid': 'c',
  'address-monitoring': 'a', 'bfd_pid': 'b', namespace: 's', 'all-config': 'e', snmp: 'x',
  'snmp-agent-socket': 'A', umask: 'u', 'core-dump': 'm', 'core-dump-pattern': 'M', signum: undefined,
  perf: undefined, debug: undefined, 'no-mem-check': undefined,
};

const shortToLong = new Map<string, string>();
for (const [long, s] of Object.entries(OURS)) if (s.short) shortToLong.set(s.short, long);
const keepalivedShort = new Map<string, string>();
for (const [long, s] of Object.entries(KEEPALIVED_ONLY)) if (s) keepalivedShort.set(s, long);

class UsageError extends Error {}

function unsupported(flag: string, long: string): UsageError {
  return new UsageError(`option ${flag} (--${long}) is a keepalived option that keepalived-ts does not support`);
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
    if (a === '--') { out.push(...argv.slice(i)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = OURS[name];
      if (!spec) {
        if (name in KEEPALIVED_ONLY) throw unsupported(`--${name}`, name);
        throw new UsageError(`unknown option --${name}`);
      }
      if (spec.value === 'none' && eq >= 0) throw new UsageError(`option --${name} takes no value`);
      if (spec.value === 'optional') { out.push(eq < 0 ? `--${name}=` : a); continue; }
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
        if (spec.value === 'none') { out.push(`--${long}`); continue; }
        if (spec.value === 'optional') { out.push(`--${long}=${rest}`); break; }
        if (rest.length > 0) { out.push(`--${long}=${rest}`); break; }
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
    '  -P, --vrrp                 run only the VRRP subsystem',
    '  -C, --check                run only the health-checker subsystem',
    '  -I, --dont-release-ipvs    leave the IPVS table as it is when stopping',
    '  -d, --dump-conf            print the parsed configuration as JSON and exit',
    '  -v, --version              print the version and exit',
    '  -h, --help                 print this help and exit',
    '',
    'keepalived-ts additions:',
    '      --status-listen=HOST:PORT  serve Prometheus metrics (/metrics) and the state as JSON (/status)',
    '      --log-json             log JSON lines instead of text',
    '      --data-dir=DIR         where SIGUSR1 (keepalived-ts.data, .json) and SIGUSR2 (.stats) write (default /tmp)',
    '      --watch-config         reload when a configuration file changes (as SIGHUP does)',
    '      --notify-timeout=SECS  run limit of each notify script, then its process group is killed (default 30)',
    '  keepalived-ts status [--json] [--status-listen=HOST:PORT]',
    '                             print the instances of a running daemon (default 127.0.0.1:9650)',
  ].join('\n');
}

/** Parse argv (without node and script); never throws, never exits. */
export function parseCliArgs(argv: readonly string[]): ParseArgsResult {
  let norm: string[];
  try {
    norm = normalize(argv);
  } catch (err) {
    return { ok: false, exitCode: ExitCode.usage, message: `keepalived-ts: ${(err as Error).message}\nTry 'keepalived-ts --help'.` };
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = yargs(norm)
      .scriptName('keepalived-ts')
      .exitProcess(false)
      .help(false)
      .version(false)
      .strictOptions()
      .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false })
      .option('use-file', { type: 'string' })
      .option('config-test', { type: 'string' })
      .option('config-id', { type: 'string' })
      .option('dont-fork', { type: 'boolean' })
      .option('log-console', { type: 'boolean' })
      .option('log-detail', { type: 'boolean' })
      .option('pid', { type: 'string' })
      .option('vrrp', { type: 'boolean' })
      .option('check', { type: 'boolean' })
      .option('dont-release-ipvs', { type: 'boolean' })
      .option('dump-conf', { type: 'boolean' })
      .option('version', { type: 'boolean' })
      .option('help', { type: 'boolean' })
      .option('status-listen', { type: 'string' })
      .option('json', { type: 'boolean' })
      .option('log-json', { type: 'boolean' })
      .option('data-dir', { type: 'string' })
      .option('watch-config', { type: 'boolean' })
      .option('notify-timeout', { type: 'string' })
      .fail((msg, err) => { throw err ?? new UsageError(msg); })
      .parseSync() as Record<string, unknown>;
  } catch (err) {
    return { ok: false, exitCode: ExitCode.usage, message: `keepalived-ts: ${(err as Error).message}\nTry 'keepalived-ts --help'.` };
  }
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
    warnings: stray.length ? [`Unexpected argument(s): ${stray.join(' ')}`] : [],
    json: bool('json') || bool('log-json'),
    watchConfig: bool('watch-config'),
  };
  const listen = str('status-listen');
  if (listen !== undefined) options.statusListen = listen;
  const dataDir = str('data-dir');
  if (dataDir !== undefined) options.dataDir = dataDir;
  const nt = str('notify-timeout');
  if (nt !== undefined) {
    const v = Number(nt);
    if (!Number.isFinite(v) || v <= 0) return { ok: false, exitCode: ExitCode.usage, message: `keepalived-ts: --notify-timeout needs a positive number of seconds (got "${nt}")` };
    options.notifyTimeoutS = v;
  }
  if (configTest) options.configTestLog = configTest;
  const id = str('config-id');
  if (id !== undefined) options.configId = id;
  return { ok: true, options };
}
