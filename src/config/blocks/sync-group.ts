// vrrp_sync_group: members, their shared tracking and notify scripts; the checks of members.
import type { ConfigDraft } from '../build.js';
import type { TrackedObject, VrrpInstance, VrrpSyncGroup } from '../model.js';
import { type Ctx, pushAll } from '../values.js';
import { type Handler, listWords, nameOf, needChildren, strip, type Table, walk } from './common.js';
import { type BuildOptions, checkInterfaces } from './host.js';
import { checkTrackNames, TRACK_LISTS, trackInterfaceList, weightsOf } from './trackers.js';

// ---------------------------------------------------------------- vrrp_sync_group

type SyncDraft = ConfigDraft['syncGroups'][number];
const syncScript =
  (k: 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notify'): Handler<SyncDraft> =>
  (n, g, c) => {
    const s = c.script(n);
    if (s) g[k] = s;
  };
export const VRRP_SYNC_GROUP: Table<SyncDraft> = {
  group: (n, g, c) => {
    pushAll(g.group, listWords(n, c));
    for (const ch of n.children ?? []) {
      for (const w of [ch.keyword, ...ch.args]) if (!g.memberNodes.has(w)) g.memberNodes.set(w, ch);
    }
  },
  track_interface: (n, g, c) => void pushAll(g.trackInterfaces, trackInterfaceList(n, c, g.name)),
  ...TRACK_LISTS,
  notify_master: syncScript('notifyMaster'),
  notify_backup: syncScript('notifyBackup'),
  notify_fault: syncScript('notifyFault'),
  notify_stop: syncScript('notifyStop'),
  notify: syncScript('notify'),
  notify_deleted: (n, g, c) => {
    if (n.args.length === 0) g.notifyDeleted = true;
    else {
      const s = c.script(n);
      if (s) g.notifyDeleted = s;
    }
  },
  notify_priority_changes: (n, g, c) => {
    const v = c.bool(n);
    if (v !== undefined) g.notifyPriorityChanges = v;
  },
  smtp_alert: (n, g, c) => {
    const v = c.bool(n);
    if (v !== undefined) g.smtpAlert = v;
  },
  global_tracking: (n, g, c) => {
    g.globalTracking = true;
    c.report(n, `global_tracking is deprecated - use tracking on the sync group`, 'semantic', 'warning');
  },
  sync_group_tracking_weight: (_n, g) => {
    g.syncGroupTrackingWeight = true;
  },
};

// ---------------------------------------------------------------- cross-checks

/**
 * The sync groups keepalived keeps: members must be instances (`seen`: their names) and in one
 * group only, a group without members is removed; a member cannot track with weights unless
 * sync_group_tracking_weight (keepalived drops such tracking).
 */
export function finishSyncGroups(
  d: ConfigDraft,
  instances: readonly VrrpInstance[],
  seen: ReadonlySet<string>,
  c: Ctx,
  opts: BuildOptions,
): { syncGroups: VrrpSyncGroup[]; instances: VrrpInstance[] } {
  // sync groups: members must exist; an instance in one group only
  const inGroup = new Map<string, string>();
  const syncGroups: VrrpSyncGroup[] = [];
  for (const sg of d.syncGroups) {
    const members: string[] = [];
    for (const m of sg.group) {
      if (!seen.has(m)) {
        c.global(
          `Virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`,
          'semantic',
          'warning',
          sg.memberNodes.get(m) ?? sg,
          'group',
        );
        continue;
      }
      if (inGroup.has(m)) {
        c.global(
          `VRRP instance ${m} cannot be in more than one sync group (${inGroup.get(m)}, ${sg.name}) - ignoring`,
          'semantic',
          'error',
          sg,
          'group',
        );
        continue;
      }
      inGroup.set(m, sg.name);
      members.push(m);
    }
    if (members.length === 0) {
      c.global(`Sync group ${sg.name} has no virtual router(s). removing`, 'semantic', 'warning', sg, 'vrrp_sync_group');
      continue;
    }
    if (members.length === 1)
      c.global(
        `Sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`,
        'semantic',
        'warning',
        sg,
        'vrrp_sync_group',
      );
    checkTrackNames(sg.name, sg.trackScripts, sg.trackFiles, sg.trackProcesses, sg.trackBfds, d, c);
    checkInterfaces(
      sg.trackInterfaces.map((t) => t.name),
      sg,
      c,
      opts,
      (i) => `(${sg.name}) tracked interface ${i} doesn't exist`,
    );
    const { node: _n, memberNodes: _m, ...rest } = sg;
    syncGroups.push({
      ...rest,
      group: members,
      trackScripts: strip(sg.trackScripts),
      trackFiles: strip(sg.trackFiles),
      trackProcesses: strip(sg.trackProcesses),
      trackBfds: strip(sg.trackBfds),
    });
  }
  const sgByName = new Map(d.syncGroups.map((x) => [x.name, x] as const));
  const finalInstances = instances.map((v) => {
    const sgName = inGroup.get(v.name);
    if (!sgName) return v;
    const sg = sgByName.get(sgName)!;
    if (!sg.syncGroupTrackingWeight) {
      // members of a sync group cannot track with weights: keepalived drops such tracking
      // (its weight is the entry's, else the tracked object's own weight)
      const sets = weightsOf(d);
      const drop = (l: readonly TrackedObject[], weights: Map<string, number>, what: string): TrackedObject[] =>
        l.filter((t) => {
          if ((t.weight ?? weights.get(t.name) ?? 0) === 0) return true;
          c.global(`(${v.name}) ignoring ${what} ${t.name} with weights due to SYNC group`, 'semantic', 'error', v, 'vrrp_sync_group');
          return false;
        });
      return {
        ...v,
        syncGroup: sgName,
        trackScripts: drop(v.trackScripts, sets.scripts, 'tracked script'),
        trackFiles: drop(v.trackFiles, sets.files, 'tracked file'),
        trackProcesses: drop(v.trackProcesses, sets.procs, 'tracked process'),
      };
    }
    return { ...v, syncGroup: sgName };
  });
  return { syncGroups, instances: finalInstances };
}

// ---------------------------------------------------------------- top-level blocks

export const SYNC_GROUP_BLOCKS: Table<ConfigDraft> = {
  vrrp_sync_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const g: ConfigDraft['syncGroups'][number] = {
      name,
      file: n.file,
      line: n.line,
      node: n,
      memberNodes: new Map(),
      group: [],
      trackInterfaces: [],
      trackScripts: [],
      trackFiles: [],
      trackProcesses: [],
      trackBfds: [],
      notifyPriorityChanges: false,
      smtpAlert: false,
      globalTracking: false,
      syncGroupTrackingWeight: false,
    };
    walk(n.children, VRRP_SYNC_GROUP, g, c);
    d.syncGroups.push(g);
  },
};
