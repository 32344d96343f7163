// vrrp_sync_group: members, their shared tracking and notify scripts.
import type { ConfigDraft } from '../build.js';
import { pushAll } from '../values.js';
import { type Handler, listWords, nameOf, needChildren, type Table, walk } from './common.js';
import { TRACK_LISTS, trackInterfaceList } from './trackers.js';

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


// ---------------------------------------------------------------- top-level blocks

export const SYNC_GROUP_BLOCKS: Table<ConfigDraft> = {
  vrrp_sync_group: (n, d, c) => {
    const name = nameOf(n, c);
    if (name === undefined || !needChildren(n, c)) return;
    const g: ConfigDraft['syncGroups'][number] = {
      name, file: n.file, line: n.line, node: n, memberNodes: new Map(), group: [], trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], trackBfds: [],
      notifyPriorityChanges: false, smtpAlert: false, globalTracking: false, syncGroupTrackingWeight: false,
    };
    walk(n.children, VRRP_SYNC_GROUP, g, c);
    d.syncGroups.push(g);
  },
};
