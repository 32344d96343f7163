// lvs_sync_daemon: parsing (new and old forms, ranges, defaults) and who runs which daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.js';
import type { IpvsDaemon } from '../../src/lvs/ipvs-schema.js';
import { SyncDaemonDriver, parseSyncDaemon, type SyncDaemonClient } from '../../src/lvs/sync-daemon.js';

const VI = 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 42\n priority 100\n virtual_ipaddress { 192.0.2.10/24 }\n}\n';
const conf = (g: string) => parseConfigText(`global_defs {\n ${g}\n}\n${VI}`, 'k.conf', { configId: 'x', fileExists: () => false }).config;

test('parse: new form, old positional form, defaults from the instance, refusals', () => {
  assert.deepEqual(parseSyncDaemon(conf('lvs_sync_daemon eth0 inst VI_1 maxlen 1400 port 8848 ttl 2 group 224.0.0.81')).spec, {
    ifname: 'eth0',
    instance: 'VI_1',
    syncId: 42,
    maxLen: 1400,
    port: 8848,
    ttl: 2,
    group: '224.0.0.81',
  });
  assert.deepEqual(parseSyncDaemon(conf('lvs_sync_daemon eth0 VI_1 7')).spec, { ifname: 'eth0', instance: 'VI_1', syncId: 7 });
  assert.deepEqual(parseSyncDaemon(conf('lvs_sync_daemon eth0 id 9')).spec, { ifname: 'eth0', syncId: 9 });
  assert.match(parseSyncDaemon(conf('lvs_sync_daemon eth0 id 300')).error!, /id must be 0\.\.255/);
  assert.match(parseSyncDaemon(conf('lvs_sync_daemon eth0 group 192.0.2.1')).error!, /not a multicast address/);
  assert.match(parseSyncDaemon(conf('lvs_sync_daemon eth0 inst VI_9')).error!, /VI_9 not found/);
  assert.deepEqual(parseSyncDaemon(conf('router_id x')), {});
});

class FakeClient implements SyncDaemonClient {
  running = new Map<number, IpvsDaemon>();
  async addDaemon(d: IpvsDaemon) {
    if (this.running.has(d.state)) throw new Error('EEXIST');
    this.running.set(d.state, d);
  }
  async deleteDaemon(s: number) {
    if (!this.running.delete(s)) throw new Error('ESRCH');
  }
  close() {}
}
const log = { info: () => {}, warn: () => {}, error: (m: string) => assert.fail(m), debug: () => {} };

test("without an instance: master and backup for the daemon's life", async () => {
  const k = new FakeClient();
  const d = new SyncDaemonDriver(async () => k, log);
  await d.start(conf('lvs_sync_daemon eth0 id 3'));
  assert.deepEqual([...k.running.keys()].sort(), [1, 2]);
  await d.vrrpState('VI_1', 'MASTER');
  assert.deepEqual([...k.running.keys()].sort(), [1, 2]);
  await d.stop();
  assert.equal(k.running.size, 0);
});

test('with an instance: backup until MASTER, then master; back to backup when it leaves MASTER; reload restarts a changed daemon', async () => {
  const k = new FakeClient();
  const d = new SyncDaemonDriver(async () => k, log);
  await d.start(conf('lvs_sync_daemon eth0 inst VI_1'));
  assert.deepEqual([...k.running.keys()], [2]);
  await d.vrrpState('VI_1', 'MASTER');
  assert.deepEqual([...k.running.keys()], [1]);
  assert.equal(k.running.get(1)!.syncId, 42);
  await d.vrrpState('VI_1', 'FAULT');
  assert.deepEqual([...k.running.keys()], [2]);
  await d.reload(conf('lvs_sync_daemon eth0 inst VI_1'));
  assert.deepEqual([...k.running.keys()], [2]);
  await d.reload(conf('lvs_sync_daemon eth0 inst VI_1 id 5'));
  assert.equal(k.running.get(2)!.syncId, 5);
  await d.reload(conf('router_id x'));
  assert.equal(k.running.size, 0);
  await d.stop();
});

test("-P runs only the inst form, -C only the other (keepalived's VRRP and checker processes)", async () => {
  for (const [role, g, want] of [
    ['vrrp', 'lvs_sync_daemon eth0 id 3', []],
    ['lvs', 'lvs_sync_daemon eth0 id 3', [1, 2]],
    ['vrrp', 'lvs_sync_daemon eth0 inst VI_1', [2]],
    ['lvs', 'lvs_sync_daemon eth0 inst VI_1', []],
  ] as const) {
    const k = new FakeClient();
    const d = new SyncDaemonDriver(async () => k, log, role);
    await d.start(conf(g));
    assert.deepEqual([...k.running.keys()].sort(), want, `${role}: ${g}`);
    await d.stop();
  }
});
