// src/daemon/sync-group.ts on its own: members found by one lookup, followed, held in FAULT by
// the others' own faults, the group notified once all have arrived (the netns tier runs it for real:
// test/netns/syncgroup-move).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncGroups, type SyncGroup } from '../../src/daemon/sync-group.js';
import type { InstanceRunner } from '../../src/daemon/instance.js';
import type { KeepalivedConfig } from '../../src/config/model.js';
import type { Notifier } from '../../src/notify/queue.js';

interface FakeMember {
  name: string;
  state: string;
  ownFault: boolean;
  forced: string[];
  force(s: string, why: string): void;
  inFaultOwn(): boolean;
}

function member(name: string, state = 'BACKUP'): FakeMember {
  return {
    name,
    state,
    ownFault: false,
    forced: [],
    force(s, why) {
      this.forced.push(`${s} (${why})`);
    },
    inFaultOwn() {
      return this.ownFault;
    },
  };
}

function setup(group: Partial<SyncGroup> = {}) {
  const g = {
    name: 'G1',
    group: ['A', 'B'],
    trackScripts: [{ name: 'chk' }],
    trackInterfaces: [],
    trackFiles: [],
    trackProcesses: [],
    smtpAlert: true,
    ...group,
  } as unknown as SyncGroup;
  const config = { vrrpSyncGroups: [g] } as unknown as KeepalivedConfig;
  const runners = [member('A'), member('B'), member('C')];
  const notified: string[] = [];
  const alerts: string[] = [];
  const groups = new SyncGroups({
    config: () => config,
    runners: () => runners as unknown as InstanceRunner[],
    log: { info: () => undefined },
    notifier: {
      notifyState: (n: { name: string; state: string }) => {
        notified.push(`${n.name} ${n.state}`);
        return Promise.resolve();
      },
    } as unknown as Notifier,
    fifo: () => undefined,
    script: () => undefined,
    alert: (name, state) => alerts.push(`${name} ${state}`),
  });
  const [a, b, c] = runners as [FakeMember, FakeMember, FakeMember];
  return { groups, a, b, c, notified, alerts };
}

const asRunner = (m: FakeMember) => m as unknown as InstanceRunner;

test("sync group: one lookup from a member to its group; the group's trackers count for its members", () => {
  const { groups } = setup();
  assert.equal(groups.groupOf('A')?.name, 'G1');
  assert.equal(groups.groupOf('C'), undefined);
  const inst = { name: 'A', trackScripts: [{ name: 'own' }], trackInterfaces: [], trackFiles: [], trackProcesses: [] } as never;
  assert.deepEqual(
    groups.trackedBy(inst).trackScripts.map((t) => t.name),
    ['own', 'chk'],
  );
  const other = { name: 'C', trackScripts: [], trackInterfaces: [], trackFiles: [], trackProcesses: [] } as never;
  assert.equal(groups.trackedBy(other), other);
});

test('sync group: a member going MASTER takes the others; the group notifies (and alerts) once all are MASTER', () => {
  const { groups, a, b, c, notified, alerts } = setup();
  a.state = 'MASTER';
  groups.follow(asRunner(a), 'BACKUP', 'MASTER');
  assert.deepEqual(b.forced, ['MASTER (sync group G1)']);
  assert.deepEqual(c.forced, []);
  assert.deepEqual(notified, [], 'B is not MASTER yet');
  b.state = 'MASTER';
  groups.follow(asRunner(b), 'BACKUP', 'MASTER');
  assert.deepEqual(notified, ['G1 MASTER']);
  assert.deepEqual(alerts, ['G1 MASTER'], "the group's smtp_alert, not the instance's");
  groups.follow(asRunner(b), 'BACKUP', 'MASTER');
  assert.deepEqual(notified, ['G1 MASTER'], 'once per state');
});

test('sync group: a member is held in FAULT exactly while another is in FAULT for a reason of its own', () => {
  const { groups, a, b } = setup();
  a.ownFault = true;
  groups.holdAllFaults();
  assert.deepEqual(a.forced, ['NOFAULT (G1)']);
  assert.deepEqual(b.forced, ['FAULT (G1)']);
  a.ownFault = false;
  groups.holdAllFaults();
  assert.deepEqual(b.forced.at(-1), 'NOFAULT (G1)');
});

test("sync group: the group's initial BACKUP comes before its first member's", () => {
  const { groups, a, notified } = setup({ smtpAlert: false });
  groups.beforeMember(asRunner(a), 'BACKUP');
  assert.deepEqual(notified, ['G1 BACKUP']);
  groups.beforeMember(asRunner(a), 'BACKUP');
  assert.deepEqual(notified, ['G1 BACKUP']);
});
