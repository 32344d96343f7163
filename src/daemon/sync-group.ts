// vrrp_sync_group: members go MASTER together and BACKUP / FAULT together (keepalived.conf(5)).
// A member's own transition drives the others; the group's notify runs when the whole group has
// arrived; a member is held in FAULT while another member is in FAULT for a reason of its own; the
// group's trackers count for every member. Every rule about groups lives here, with one lookup
// from a member to its group (groupOf).
import type { KeepalivedConfig, VrrpInstance } from '../config/model.js';
import type { VrrpState } from '../vrrp/core.js';
import type { Notifier, NotifyScript } from '../notify/queue.js';
import type { NotifyFifo } from '../notify/fifo.js';
import type { InstanceRunner } from './instance.js';

export type SyncGroup = KeepalivedConfig['vrrpSyncGroups'][number];
type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
type Tracked = Pick<VrrpInstance, 'trackScripts' | 'trackInterfaces' | 'trackProcesses' | 'trackFiles'>;

export interface SyncGroupDeps {
  /** the configuration in force (replaced by a reload) */
  config(): KeepalivedConfig;
  /** the running instances */
  runners(): readonly InstanceRunner[];
  log: { info(msg: string): void };
  notifier: Notifier;
  fifo(): NotifyFifo | undefined;
  /** resolve a notify line to a script (undefined: refused by script security) */
  script(line: string | undefined, user?: string, group?: string): NotifyScript | undefined;
  /** smtp_alert of the group */
  alert(name: string, state: NotifyState): void;
}

export class SyncGroups {
  /** the state each group last notified (kept across reloads, by name) */
  private readonly notified = new Map<string, VrrpState>();

  constructor(private readonly deps: SyncGroupDeps) {}

  /** The group an instance belongs to, if any (the one lookup). */
  groupOf(instance: string): SyncGroup | undefined {
    return this.deps.config().vrrpSyncGroups.find((g) => g.group.includes(instance));
  }

  private members(group: SyncGroup): InstanceRunner[] {
    return this.deps.runners().filter((m) => group.group.includes(m.name));
  }

  /** What an instance tracks, its group's trackers added (as if each member listed them). */
  trackedBy(instance: Tracked & { readonly name: string }): Tracked {
    const group = this.groupOf(instance.name);
    if (!group) return instance;
    return {
      trackScripts: [...instance.trackScripts, ...group.trackScripts],
      trackInterfaces: [...instance.trackInterfaces, ...group.trackInterfaces],
      trackProcesses: [...instance.trackProcesses, ...group.trackProcesses],
      trackFiles: [...instance.trackFiles, ...group.trackFiles],
    };
  }

  /** A member changed state: the others follow, and the group notifies once all have arrived. */
  follow(r: InstanceRunner, from: VrrpState, to: VrrpState): void {
    const group = this.groupOf(r.name);
    if (!group) return;
    const others = this.members(group).filter((m) => m !== r);
    const all = [r, ...others]; // r itself, even when a reload has just replaced it
    const why = `sync group ${group.name}`;
    if (to === 'FAULT' || from === 'FAULT') this.holdFaults(group);
    if (to === 'MASTER') for (const m of others) m.force('MASTER', why);
    if (to === 'BACKUP' && from === 'MASTER') for (const m of others) m.force('BACKUP', why);
    // group notify once every member is in the same state
    if (
      (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT' || to === 'STOP') &&
      all.every((m) => m.state === to) &&
      this.notified.get(group.name) !== to
    ) {
      this.notify(group, to);
    }
  }

  /**
   * keepalived's order of notifications in a sync group (measured on its notify_fifo, 2.2.7): the
   * group's initial BACKUP comes before its members' lines; a member going MASTER takes the other
   * members to MASTER first, its own line comes after theirs. Called just before a member's notify.
   */
  beforeMember(r: InstanceRunner, state: NotifyState): void {
    const group = this.groupOf(r.name);
    if (!group) return;
    if (state === 'BACKUP' && !this.notified.has(group.name)) {
      this.notify(group, 'BACKUP');
    } else if (state === 'MASTER') {
      // the others' cores are not the one being handled now: forcing them here re-enters nothing
      for (const m of this.members(group)) if (m !== r) m.force('MASTER', `sync group ${group.name}`);
    }
  }

  /** Every group's FAULT holds, after the trackers were recomputed (see holdFaults). */
  holdAllFaults(): void {
    for (const g of this.deps.config().vrrpSyncGroups) this.holdFaults(g);
  }

  /**
   * A member is held in FAULT by its group exactly while another member is in FAULT for a reason
   * of its own. Derived from the members' own faults each time (never propagated member to
   * member): propagating made two members hold each other in FAULT for ever once the first one
   * recovered (its own fault cleared, the group fault its partner had put back on it stayed).
   */
  private holdFaults(group: SyncGroup): void {
    const members = this.members(group);
    for (const m of members) {
      const others = members.some((o) => o !== m && o.inFaultOwn());
      m.force(others ? 'FAULT' : 'NOFAULT', group.name);
    }
  }

  private notify(group: SyncGroup, to: NotifyState): void {
    this.notified.set(group.name, to);
    if (to !== 'STOP') this.deps.log.info(`VRRP_Group(${group.name}) Syncing instances to ${to} state`);
    const s = (c: typeof group.notifyMaster) => (c ? this.deps.script(c.command, c.user, c.group) : undefined);
    void this.deps.notifier.notifyState({
      kind: 'GROUP',
      name: group.name,
      state: to,
      priority: 0,
      scripts: {
        master: s(group.notifyMaster),
        backup: s(group.notifyBackup),
        fault: s(group.notifyFault),
        stop: s(group.notifyStop),
        generic: s(group.notify),
      },
    });
    this.deps.fifo()?.group(group.name, to);
    if (group.smtpAlert) this.deps.alert(group.name, to);
  }
}
