// What instances and sync groups track: vrrp_script, track_file, vrrp_track_process, bfd_instance,
// track_group blocks, the track_* lists that name them (with weights), and the check that each
// tracked name exists.
import type { BfdInstance, TrackedInterface, TrackedObject } from '../model.js';
import type { ConfigDraft } from '../build.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, makeScript, pushAll } from '../values.js';
import { intField, listWords, type Mutable, timerMsField, nameOf, needBlock, needChildren, type Table, walk } from './common.js';

// ---------------------------------------------------------------- track lists

export function trackedList(
  n: ConfigNode,
  c: Ctx,
  min: number,
  max: number,
  what: string,
  owner: string,
  isInterface = false,
): (TrackedObject & { node: ConfigNode })[] {
  const rangeMsg = (e: ConfigNode, v: string): string =>
    isInterface
      ? `(${owner}) weight ${v} for ${e.keyword} must be between [${min}..${max}] inclusive. Ignoring...`
      : `(${owner}) ${what} ${e.keyword}: weight must be between [${min}..${max}] inclusive, ignoring...`;
  const out: (TrackedObject & { node: ConfigNode })[] = [];
  for (const e of needBlock(n, c)) {
    const t: { name: string; weight?: number; reverse?: boolean; node: ConfigNode } = { name: e.keyword, node: e };
    let ok = true;
    for (let i = 0; i < e.args.length; i++) {
      const w = e.args[i]!;
      if (w === 'weight') {
        const s = e.args[i + 1];
        if (s === undefined) {
          c.report(e, `weight requires a value`, 'missing-parameter');
          ok = false;
          break;
        }
        // keepalived parses -254..254 then applies the narrower per-type range
        const v = c.intText(e, s, -254, 254, i + 1);
        i++;
        if (v === undefined) {
          c.report(e, rangeMsg(e, s), 'invalid-value', 'error');
          ok = false;
          break;
        }
        if (v < min || v > max) {
          c.report(e, rangeMsg(e, s), 'invalid-value', 'error');
          ok = false;
          break;
        }
        t.weight = v;
      } else if (w === 'reverse') t.reverse = true;
      else if (w === 'noreverse' || w === 'no_reverse') t.reverse = false;
      else {
        c.report(e, `(${owner}) unknown ${what} option '${w}'`, 'unknown-keyword', 'warning', i);
      }
    }
    if (ok) out.push(t);
  }
  return out;
}

export function trackInterfaceList(n: ConfigNode, c: Ctx, owner: string): TrackedInterface[] {
  return trackedList(n, c, -253, 253, 'track interface', owner, true).map((t) => ({
    name: t.name,
    weight: t.weight ?? 0,
    reverse: t.reverse ?? false,
  }));
}

/** What a vrrp_instance and a vrrp_sync_group track, by name; weights and reverse as written. */
interface TrackLists {
  name: string;
  trackScripts: (TrackedObject & { node: ConfigNode })[];
  trackFiles: (TrackedObject & { node: ConfigNode })[];
  trackProcesses: (TrackedObject & { node: ConfigNode })[];
  trackBfds: (TrackedObject & { node: ConfigNode })[];
}
/**
 * track_script / track_file / track_process / track_bfd blocks, the same in vrrp_instance and
 * vrrp_sync_group: NAME [weight W] [reverse|noreverse]. keepalived's weight ranges differ by kind;
 * an entry without weight takes the tracked object's own (vrrp_script weight, track_file weight...).
 */
export const TRACK_LISTS: Table<TrackLists> = {
  track_script: (n, t, c) => void pushAll(t.trackScripts, trackedList(n, c, -253, 253, 'track script', t.name)),
  track_file: (n, t, c) => void pushAll(t.trackFiles, trackedList(n, c, -254, 254, 'track file', t.name)),
  track_process: (n, t, c) => void pushAll(t.trackProcesses, trackedList(n, c, -254, 254, 'track process', t.name)),
  track_bfd: (n, t, c) => void pushAll(t.trackBfds, trackedList(n, c, -253, 253, 'track bfd', t.name)),
};

// ---------------------------------------------------------------- vrrp_script, track_file, vrrp_track_process

type ScriptDraft = ConfigDraft['vrrpScripts'][number];
export const VRRP_SCRIPT: Table<ScriptDraft> = {
  script: (n, s, c) => {
    // a vrrp_script only runs when something tracks it: counted for security in build.ts
    const sc = c.script(n, 0, false);
    if (sc) {
      s.script = sc;
      s.hasScript = true;
    }
  },
  interval: (n, s, c) => {
    const v = c.timerMs(n, 0, 0, 4_294_967);
    if (v !== undefined) s.intervalMs = v === 0 ? 1000 : v;
  },
  timeout: timerMsField('timeoutMs', 0, 4_294_967),
  weight: (n, s, c) => {
    const v = c.int(n, 0, -253, 253);
    if (v !== undefined) s.weight = v;
    else c.report(n, `(${s.name}): vrrp script weight must be between [-253..253] inclusive, ignoring...`, 'invalid-value');
    if (n.args[1] === 'reverse') s.reverse = true;
    else if (n.args[1] !== undefined && n.args[1] !== 'noreverse')
      c.report(n, `(${s.name}) unknown weight option '${n.args[1]}'`, 'invalid-value', 'error', 1);
  },
  rise: intField('rise', 1, 0x7fffffff),
  fall: intField('fall', 1, 0x7fffffff),
  user: (n, s, c) => {
    const u = c.need(n, 0);
    if (u !== undefined) s.script = { ...s.script, user: u, ...(n.args[1] !== undefined ? { group: n.args[1] } : {}) };
  },
  init_fail: (_n, s) => {
    s.initFail = true;
  },
};

type TrackFileDraft = ConfigDraft['trackFiles'][number];
export const TRACK_FILE: Table<TrackFileDraft> = {
  file: (n, f, c) => {
    const s = c.need(n, 0);
    if (s !== undefined) f.path = s;
  },
  weight: (n, f, c) => {
    const v = c.int(n, 0, -2147483647, 2147483647);
    if (v !== undefined) f.weight = v;
    if (n.args[1] === 'reverse') f.reverse = true;
  },
  init_file: (n, f, c) => {
    let value = 0;
    let overwrite = false;
    for (const a of n.args) {
      if (a === 'overwrite') overwrite = true;
      else {
        const v = c.intText(n, a, -2147483648, 2147483647);
        if (v !== undefined) value = v;
      }
    }
    f.initFile = { value, overwrite };
  },
};

type TrackProcessDraft = ConfigDraft['trackProcesses'][number];
export const VRRP_TRACK_PROCESS: Table<TrackProcessDraft> = {
  process: (n, p, c) => {
    const s = c.need(n, 0);
    if (s === undefined) return;
    p.process = s;
    p.parameters = n.args.slice(1);
  },
  param_match: (n, p, c) => {
    // measured (2.2.7): param_match alone is accepted without a word (exact matching stays)
    const s = n.args[0];
    if (s === 'initial' || s === 'partial') p.paramMatch = s;
    else if (s !== undefined) c.report(n, `unknown param_match '${s}'`, 'invalid-value');
  },
  weight: (n, p, c) => {
    const v = c.int(n, 0, -254, 254);
    if (v !== undefined) p.weight = v;
    if (n.args[1] === 'reverse') p.reverse = true;
  },
  quorum: intField('quorum', 1, 65535),
  quorum_max: intField('quorumMax', 0, 65535),
  fork_delay: timerMsField('forkDelayMs', 0, 65535),
  terminate_delay: timerMsField('terminateDelayMs', 0, 65535),
  delay: (n, p, c) => {
    const v = c.timerMs(n, 0, 0, 65535);
    if (v !== undefined) {
      p.delayMs = v;
      p.forkDelayMs = v;
      p.terminateDelayMs = v;
    }
  },
  full_command: (_n, p) => {
    p.fullCommand = true;
  },
};

export const TRACK_GROUP: Table<{ group: string[] }> = {
  group: (n, g, c) => void pushAll(g.group, listWords(n, c)),
};

export const BFD_INSTANCE: Table<Mutable<BfdInstance>> = {
  neighbor_ip: (n, b, c) => {
    const a = c.addr(n, 0, false);
    if (a) b.neighborIp = a;
  },
  source_ip: (n, b, c) => {
    const a = c.addr(n, 0, false);
    if (a) b.sourceIp = a;
  },
  min_rx: intField('minRxMs', 1, 1000),
  min_tx: intField('minTxMs', 1, 1000),
  idle_tx: intField('idleTxMs', 1000, 10000),
  multiplier: intField('multiplier', 1, 255),
  passive: (_n, b) => {
    b.passive = true;
  },
  ttl: intField('ttl', 1, 255),
  hoplimit: intField('ttl', 1, 255),
  max_hops: intField('maxHops', 0, 255),
  vrrp: (_n, b) => {
    b.vrrp = true;
  },
  checker: (_n, b) => {
    b.checker = true;
  },
  weight: intField('weight', -253, 253),
};

function trackFile(n: ConfigNode, d: ConfigDraft, c: Ctx): void {
  const name = nameOf(n, c);
  if (name === undefined || !needChildren(n, c)) return;
  const f: ConfigDraft['trackFiles'][number] = { name, file: n.file, line: n.line, node: n, path: '', weight: 1, reverse: false };
  walk(n.children, TRACK_FILE, f, c);
  if (f.path === '') {
    c.global(`No file set for track_file ${name} - ignoring`, 'semantic', 'error', { file: n.file, line: n.endLine }, n.keyword);
    return;
  }
  d.trackFiles.push(f);
}

export function weightsOf(d: ConfigDraft): { scripts: Map<string, number>; files: Map<string, number>; procs: Map<string, number> } {
  return {
    scripts: new Map(d.vrrpScripts.map((x) => [x.name, x.weight])),
    files: new Map(d.trackFiles.map((x) => [x.name, x.weight])),
    procs: new Map(d.trackProcesses.map((x) => [x.name, x.weight])),
  };
}

const nameSetCache = new WeakMap<ConfigDraft, { scripts: Set<string>; files: Set<string>; procs: Set<string>; bfds: Set<string> }>();
/** names of the tracked objects, computed once per configuration (large configs) */
function nameSets(d: ConfigDraft): { scripts: Set<string>; files: Set<string>; procs: Set<string>; bfds: Set<string> } {
  let s = nameSetCache.get(d);
  if (!s) {
    s = {
      scripts: new Set(d.vrrpScripts.map((x) => x.name)),
      files: new Set(d.trackFiles.map((x) => x.name)),
      procs: new Set(d.trackProcesses.map((x) => x.name)),
      bfds: new Set(d.bfdInstances.map((x) => x.name)),
    };
    nameSetCache.set(d, s);
  }
  return s;
}

export function checkTrackNames(
  owner: string,
  scripts: (TrackedObject & { node?: ConfigNode })[],
  files: (TrackedObject & { node?: ConfigNode })[],
  procs: (TrackedObject & { node?: ConfigNode })[],
  bfds: (TrackedObject & { node?: ConfigNode })[],
  d: ConfigDraft,
  c: Ctx,
): void {
  const filter = (l: (TrackedObject & { node?: ConfigNode })[], known: (n: string) => boolean, what: string): void => {
    for (let k = l.length - 1; k >= 0; k--) {
      const t = l[k]!;
      if (known(t.name)) continue;
      if (t.node) c.report(t.node, `(${owner}) ${what} ${t.name} not found, ignoring...`, 'semantic', 'warning');
      else c.global(`(${owner}) ${what} ${t.name} not found, ignoring...`, 'semantic', 'warning');
      l.splice(k, 1);
    }
  };
  const sets = nameSets(d);
  filter(scripts, (n) => sets.scripts.has(n), 'track script');
  filter(files, (n) => sets.files.has(n), 'track file');
  filter(procs, (n) => sets.procs.has(n), 'track process');
  filter(bfds, (n) => sets.bfds.has(n), 'track bfd');
}

// ---------------------------------------------------------------- top-level blocks

export const TRACKER_BLOCKS: Table<ConfigDraft> = {
  vrrp_script: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const s: ConfigDraft['vrrpScripts'][number] = {
      name,
      file: n.file,
      line: n.line,
      node: n,
      hasScript: false,
      script: makeScript(''),
      intervalMs: 1000,
      timeoutMs: 0,
      weight: 0,
      reverse: false,
      rise: 1,
      fall: 1,
      initFail: false,
    };
    walk(n.children, VRRP_SCRIPT, s, c);
    if (!s.hasScript) {
      // keepalived reports this at the block's closing line
      c.global(`No script set for vrrp_script ${name} - removing`, 'semantic', 'error', { file: n.file, line: n.endLine }, 'vrrp_script');
      return;
    }
    if (s.timeoutMs === 0) s.timeoutMs = s.intervalMs;
    if (d.vrrpScripts.length < 10_000 && d.vrrpScripts.some((x) => x.name === name))
      c.report(n, `vrrp_script ${name} already defined`, 'semantic');
    d.vrrpScripts.push(s);
  },
  track_file: (n, d, c) => trackFile(n, d, c),
  vrrp_track_file: (n, d, c) => trackFile(n, d, c),
  vrrp_track_process: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const p: ConfigDraft['trackProcesses'][number] = {
      name,
      file: n.file,
      line: n.line,
      node: n,
      process: '',
      parameters: [],
      weight: 0,
      reverse: false,
      quorum: 1,
      forkDelayMs: 0,
      terminateDelayMs: 0,
      delayMs: 0,
      fullCommand: false,
    };
    walk(n.children, VRRP_TRACK_PROCESS, p, c);
    if (p.process === '') {
      c.global(
        `track process '${name}' process name not specified`,
        'semantic',
        'error',
        { file: n.file, line: n.endLine },
        'vrrp_track_process',
      );
      return;
    }
    if (p.quorumMax !== undefined && p.quorumMax < p.quorum) c.report(n, `(${name}) quorum_max must be >= quorum`, 'invalid-value');
    d.trackProcesses.push(p);
  },
  track_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const g = { group: [] as string[] };
    walk(n.children, TRACK_GROUP, g, c);
    d.trackGroups.push({ name, file: n.file, line: n.line, group: g.group });
  },
  bfd_instance: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const b: { -readonly [K in keyof BfdInstance]: BfdInstance[K] } = {
      name,
      file: n.file,
      line: n.line,
      minRxMs: 10,
      minTxMs: 10,
      idleTxMs: 1000,
      multiplier: 5,
      passive: false,
      ttl: 255,
      maxHops: 0,
      vrrp: false,
      checker: false,
      weight: 0,
    };
    walk(n.children, BFD_INSTANCE, b, c);
    if (!b.neighborIp) {
      c.global(
        `Configuration error: BFD instance ${name} has no neighbor address set, disabling instance`,
        'semantic',
        'error',
        { file: n.file, line: n.endLine },
        'bfd_instance',
      );
      return;
    }
    if (!b.vrrp && !b.checker) b.vrrp = b.checker = true;
    d.bfdInstances.push(b);
  },
};
