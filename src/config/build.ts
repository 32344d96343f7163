// From the block tree to the typed model: each top-level block goes to its family's handler
// (blocks/*.ts) as the tree builder completes it; finish() applies defaults and keepalived's
// checks across blocks (unique names and VRIDs, sync group members, script security). Invalid
// vrrp_instances are dropped with an error, as keepalived ignores them.

import type {
  BfdInstance,
  GarpGroup,
  GlobalDefs,
  InterfaceUpDownDelay,
  KeepalivedConfig,
  LinkbeatInterface,
  RouteSpec,
  RuleSpec,
  TrackFile,
  TrackGroup,
  TrackProcess,
  VirtualIpAddress,
  VirtualServer,
  VirtualServerGroup,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
} from './model.js';
import type { ConfigNode } from './tree.js';
import { Ctx, familyName } from './values.js';
import { type Mutable, type Table, walk } from './blocks/common.js';
import { finishGlobal, GLOBAL_BLOCKS, type GlobalDraft } from './blocks/global.js';
import { type BuildOptions, checkInterfaces, DEFAULT_SCRIPT_USER, groupExists, resolveScript, userExists } from './blocks/host.js';
import { LVS_BLOCKS } from './blocks/lvs.js';
import { STATIC_BLOCKS } from './blocks/routes-rules.js';
import { finishSyncGroups, SYNC_GROUP_BLOCKS } from './blocks/sync-group.js';
import { TRACKER_BLOCKS } from './blocks/trackers.js';
import { finishInstance, type InstanceDraft, VRRP_INSTANCE_BLOCKS } from './blocks/vrrp-instance.js';

export { type BuildOptions, resolveScript } from './blocks/host.js';

/** The blocks read so far, before defaults and cross-checks (blocks/*.ts fill it). */
export interface ConfigDraft {
  global: GlobalDraft;
  vrrpScripts: (Mutable<VrrpScript> & { node: ConfigNode; hasScript: boolean })[];
  trackFiles: (Mutable<TrackFile> & { node: ConfigNode })[];
  trackProcesses: (Mutable<TrackProcess> & { node: ConfigNode })[];
  /** memberNodes: the line naming each member (keepalived names it when the member is unknown) */
  syncGroups: (Mutable<VrrpSyncGroup> & { node: ConfigNode; memberNodes: Map<string, ConfigNode> })[];
  instances: InstanceDraft[];
  garpGroups: GarpGroup[];
  trackGroups: TrackGroup[];
  staticIpAddresses: VirtualIpAddress[];
  staticRoutes: RouteSpec[];
  staticRules: RuleSpec[];
  linkbeatInterfaces: LinkbeatInterface[];
  interfaceUpDownDelays: InterfaceUpDownDelay[];
  bfdInstances: BfdInstance[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  ssl?: Record<string, string>;
}

const TOP: Table<ConfigDraft> = {
  ...TRACKER_BLOCKS,
  ...SYNC_GROUP_BLOCKS,
  ...VRRP_INSTANCE_BLOCKS,
  ...STATIC_BLOCKS,
  ...LVS_BLOCKS,
  ...GLOBAL_BLOCKS,
};

export function buildConfig(tree: readonly ConfigNode[], c: Ctx, opts: BuildOptions): KeepalivedConfig {
  const b = new ConfigBuilder(c, opts);
  for (const n of tree) b.take(n);
  return b.finish();
}

/**
 * The model built one top-level block at a time (take), as the tree builder completes them, so
 * that a large file's block tree is never all held at once; finish() runs the cross-checks.
 */
export class ConfigBuilder {
  private readonly d: ConfigDraft = {
    global: { vals: {}, other: {}, nodes: new Map() },
    vrrpScripts: [],
    trackFiles: [],
    trackProcesses: [],
    syncGroups: [],
    instances: [],
    garpGroups: [],
    trackGroups: [],
    staticIpAddresses: [],
    staticRoutes: [],
    staticRules: [],
    linkbeatInterfaces: [],
    interfaceUpDownDelays: [],
    bfdInstances: [],
    virtualServerGroups: [],
    virtualServers: [],
  };
  constructor(
    private readonly c: Ctx,
    private readonly opts: BuildOptions,
  ) {}
  take(n: ConfigNode): void {
    walk([n], TOP, this.d, this.c);
  }
  finish(): KeepalivedConfig {
    return finishConfig(this.d, this.c, this.opts);
  }
}

function finishConfig(d: ConfigDraft, c: Ctx, opts: BuildOptions): KeepalivedConfig {
  const g = finishGlobal(d.global);
  // interfaces may come and go: keepalived 2.2.7 says nothing of missing ones (measured)
  c.dynamicInterfaces = g.dynamicInterfaces;
  checkDefaultScriptUser(d, g, c, opts);
  // static addresses and routes: their interfaces must exist too
  for (const a of d.staticIpAddresses) {
    if (a.dev) checkInterfaces([a.dev], a, c, opts, (i) => `WARNING - interface ${i} for ip address ${a.address} doesn't exist`);
  }
  for (const r of d.staticRoutes) {
    if (r.dev) checkInterfaces([r.dev], r, c, opts, (i) => `WARNING - interface ${i} for VROUTE nexthop doesn't exist`);
  }

  const instances: VrrpInstance[] = [];
  // where each instance set its virtual_router_id (a duplicate VRID is reported there)
  const vridNode = new Map<VrrpInstance, ConfigNode>();
  // a VMAC name belongs to one instance; a later one gets the default name (measured: exit 5)
  const vmacNames = new Map<string, string>();
  for (const inst of d.instances) {
    const vn = inst.useVmac?.interfaceName;
    if (vn === undefined) continue;
    const owner = vmacNames.get(vn);
    if (owner === undefined) vmacNames.set(vn, inst.name);
    else {
      c.report(
        inst.set.get('use_vmac') ?? inst.node,
        `(${inst.name}) VRRP instance ${owner} is already using ${vn} - ignoring name`,
        'semantic',
        'warning',
      );
      const { interfaceName: _n, ...rest } = inst.useVmac!;
      inst.useVmac = rest;
    }
  }
  for (const inst of d.instances) {
    const v = finishInstance(inst, d, g, c, opts);
    if (!v) continue;
    instances.push(v);
    const n = inst.set.get('virtual_router_id');
    if (n) vridNode.set(v, n);
  }
  // instance names must be unique
  const seen = new Set<string>();
  const uniq: VrrpInstance[] = [];
  for (const v of instances) {
    if (seen.has(v.name)) {
      c.global(`vrrp instance ${v.name} already defined`, 'semantic', 'error', v, 'vrrp_instance');
      continue;
    }
    seen.add(v.name);
    uniq.push(v);
  }
  // VRID unique per interface, family and multicast group among multicast instances. Measured
  // (2.2.7): a unicast instance never conflicts, even with a multicast one or with another
  // unicast one that has the same peers; a conflict stops keepalived at start (exit 2).
  // Grouped by key first: configurations with tens of thousands of instances exist.
  const byKey = new Map<string, VrrpInstance[]>();
  for (const v of uniq) {
    if (v.unicastPeers.length > 0) continue;
    const k = `${v.virtualRouterId}|${v.family}|${v.interface ?? ''}`;
    const l = byKey.get(k);
    if (l) l.push(v);
    else byKey.set(k, [v]);
  }
  for (const l of byKey.values()) {
    for (let i = 0; i < l.length; i++) {
      for (let j = i + 1; j < l.length; j++) {
        const a = l[i]!;
        const b = l[j]!;
        if (a.mcastDstIp.address !== b.mcastDstIp.address) continue;
        c.global(
          `${a.name} and ${b.name} both use VRID ${a.virtualRouterId} with ${familyName(a.family)} on interface ${a.interface ?? '(none)'}`,
          'semantic',
          'error',
          vridNode.get(b) ?? b,
          'virtual_router_id',
        );
        c.permanent();
      }
    }
  }

  const { syncGroups, instances: finalInstances } = finishSyncGroups(d, uniq, seen, c, opts);

  // scripts configured without enable_script_security
  // a vrrp_script whose program cannot be found is disabled (tracked or not; measured: exit 5).
  // keepalived 2.2.7 skips the check for a command starting with "</" (the samples'
  // "</dev/tcp/127.0.0.1/80" idiom): neither disabled nor counted for security.
  // A warning (it still makes -t exit 5): the program may be installed later, and a daemon reload
  // should not be refused for it.
  for (const s of d.vrrpScripts) {
    const argv0 = s.script.argv[0] ?? '';
    if (argv0.startsWith('</') || resolveScript(argv0, opts) !== undefined) continue;
    c.global(`Disabling track script ${s.name} since not found/accessible`, 'semantic', 'warning', s, 'script');
  }
  // measured (2.2.7): every vrrp_script counts for script security, tracked or not, and also one
  // tracked only by a sync group that is dropped (exit 6)
  for (const s of d.vrrpScripts) c.scriptRuns(s.script.command, s.script.user, s);
  const runsAsRoot = !g.scriptUser || g.scriptUser.user === 'root';
  if (c.scriptsConfigured && runsAsRoot && !g.enableScriptSecurity) {
    // keepalived names no line; we name the first script that would run (a vrrp_script's block)
    // the VRRP and the checker process each report their own (measured wording for MISC_CHECK)
    for (const checker of [false, true]) {
      const first = c.scriptFiles.find((f) => f.checker === checker && resolveScript(f.path, opts) !== undefined);
      if (!first) continue;
      const what = checker ? 'check scripts' : 'scripts';
      c.global(
        `SECURITY VIOLATION - ${what} are being executed but script_security not enabled.`,
        'security',
        'warning',
        first.file ? first : undefined,
      );
    }
  }

  const stripNode = <T extends { node: ConfigNode }>(x: T): Omit<T, 'node'> => {
    const { node: _n, ...rest } = x;
    return rest;
  };
  return {
    globalDefs: g,
    vrrpScripts: d.vrrpScripts.map((s) => {
      const { hasScript: _h, ...rest } = stripNode(s);
      return rest;
    }),
    trackFiles: d.trackFiles.map(stripNode),
    trackProcesses: d.trackProcesses.map(stripNode),
    vrrpSyncGroups: syncGroups,
    vrrpInstances: finalInstances,
    garpGroups: d.garpGroups,
    trackGroups: d.trackGroups,
    staticIpAddresses: d.staticIpAddresses,
    staticRoutes: d.staticRoutes,
    staticRules: d.staticRules,
    linkbeatInterfaces: d.linkbeatInterfaces,
    interfaceUpDownDelays: d.interfaceUpDownDelays,
    bfdInstances: d.bfdInstances,
    virtualServerGroups: d.virtualServerGroups,
    virtualServers: d.virtualServers,
    ...(d.ssl ? { ssl: d.ssl } : {}),
  };
}

/**
 * With enable_script_security and no script_user, scripts run as keepalived_script; when that
 * user does not exist keepalived reports each script configured without its own user, and removes
 * such vrrp_scripts (measured; without enable_script_security it silently uses root).
 */
function checkDefaultScriptUser(d: ConfigDraft, g: GlobalDefs, c: Ctx, opts: BuildOptions): void {
  // (root is always there, even when a test's userExists says otherwise)
  const known = (u: string, grp?: string): boolean =>
    (u === 'root' || userExists(u, opts)) && (grp === undefined || grp === 'root' || groupExists(grp, opts));
  // measured (2.2.7, with or without enable_script_security): a vrrp_script whose own user or
  // group does not exist is removed; so are the ones without a user when script_user names an
  // unknown user or group
  const unusable = new Set<(typeof d.vrrpScripts)[number]>();
  for (const s of d.vrrpScripts) {
    if (s.script.user === undefined || known(s.script.user, s.script.group)) continue;
    const un = s.node.children?.find((k) => k.keyword === 'user') ?? s.node;
    c.report(un, `Unable to set uid/gid for script '${s.script.command}'`, 'semantic');
    unusable.add(s);
  }
  if (g.scriptUser && !known(g.scriptUser.user, g.scriptUser.group)) {
    const at = d.global.nodes.get('script_user');
    c.global('Error setting global script uid/gid', 'semantic', 'error', at, 'script_user');
    for (const s of d.vrrpScripts) {
      if (s.script.user !== undefined) continue;
      c.global(
        `Unable to set default user for vrrp script ${s.name} - removing`,
        'semantic',
        'error',
        { file: s.file, line: s.node.endLine },
        'vrrp_script',
      );
      unusable.add(s);
    }
  }
  if (unusable.size > 0) d.vrrpScripts = d.vrrpScripts.filter((s) => !unusable.has(s));
  if (!g.enableScriptSecurity || g.scriptUser) return;
  const noUser = d.vrrpScripts.filter((s) => s.script.user === undefined);
  if (c.defaultUserScripts.length === 0 && noUser.length === 0) return;
  if (userExists(DEFAULT_SCRIPT_USER, opts)) return;
  const refusedCheckers = new Set<object>();
  for (const w of c.defaultUserScripts) {
    c.global(`Unable to set default user ${DEFAULT_SCRIPT_USER} for script`, 'semantic', 'error', w);
    if (!w.misc) continue;
    c.global(`Unable to set default user for misc script '${w.misc.command}' - removing`, 'semantic', 'error', w, 'MISC_CHECK');
    refusedCheckers.add(w.misc.checker);
  }
  if (refusedCheckers.size > 0) {
    for (const vs of d.virtualServers) {
      for (const rs of [...vs.realServers, ...(vs.sorryServer ? [vs.sorryServer] : [])]) {
        (rs as { checkers: readonly object[] }).checkers = rs.checkers.filter((ck) => !refusedCheckers.has(ck));
      }
    }
  }
  for (const s of noUser) {
    // keepalived names the vrrp_script block's closing line
    const where = { file: s.file, line: s.node.endLine };
    c.global(`Unable to set default user ${DEFAULT_SCRIPT_USER} for script`, 'semantic', 'error', where, 'vrrp_script');
    c.global(`Unable to set default user for vrrp script ${s.name} - removing`, 'semantic', 'error', where, 'vrrp_script');
  }
  const removed = new Set(noUser);
  d.vrrpScripts = d.vrrpScripts.filter((s) => !removed.has(s));
}
