// The block families' shared pieces: the route/rule entry reader (blocks/routes-rules.ts), the
// track lists shared by instances and sync groups (blocks/trackers.ts TRACK_LISTS), and the
// instance settings handed to the VRRP core unread (model.ts CORE_SETTINGS, daemon/map.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORE_SETTINGS, parseConfigText, type ParseResult } from '../../src/config/index.js';
import { toCoreConfig } from '../../src/daemon/map.js';

const parse = (text: string): ParseResult =>
  parseConfigText(text, 'k.conf', { configId: 'x', fileExists: () => true, userExists: () => true });
const inst = (body: string, globals = ''): ParseResult =>
  parse(
    `global_defs {\n${globals}\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  192.0.2.10/24\n }\n}\n`,
  );

test('routes: the options routes and rules share (table, metric words, no_track, track_group, inet6, flags), locked metrics', () => {
  const r = parse(
    'static_routes {\n 192.0.2.0/24 via 198.51.100.1 table 100 priority 5 metric 7 no_track track_group G onlink mtu lock 1400\n inet6 default via 2001:db8::1 table main\n 192.0.2.0/24 metric\n}\n',
  );
  const [a, b, c] = r.config.staticRoutes;
  assert.equal(r.config.staticRoutes.length, 3, 'a route whose option lacks its value is kept');
  assert.equal(c!.metric, undefined);
  assert.equal(a!.table, '100');
  assert.equal(a!.metric, 7, 'the last metric word wins');
  assert.equal(a!.noTrack, true);
  assert.equal(a!.trackGroup, 'G');
  assert.deepEqual(a!.options, { onlink: '', mtu: 'lock 1400' });
  assert.equal(b!.family, 'inet6');
  assert.equal(b!.table, 'main');
  assert.deepEqual(
    b!.destination,
    { family: 'inet', address: '0.0.0.0', prefixLength: 0 },
    'inet6 sets the family, not the written destination',
  );
  const missing = r.diagnostics.filter((d) => d.category === 'missing-parameter');
  assert.deepEqual(
    missing.map((d) => [d.line, d.message]),
    [[4, "route option 'metric' requires a value"]],
  );
});

test('rules: lookup/table, preference words, flags, raw options; a rule without preference gets 16384, 16383...', () => {
  const r = parse(
    'static_rules {\n from 192.0.2.0/24 lookup 100 prio 10 not\n inet6 to 2001:db8::1 table 7 l3mdev\n from all table 5 fwmark 0x10/0xff order\n}\n',
  );
  const [a, b, c] = r.config.staticRules;
  assert.equal(a!.table, '100');
  assert.equal(a!.preference, 10);
  assert.deepEqual(a!.options, { not: '' });
  assert.equal(b!.family, 'inet6');
  assert.deepEqual(b!.options, { l3mdev: '' });
  assert.equal(b!.preference, 16384, 'first rule without preference');
  assert.equal(c!.from, undefined, "'all' is no address");
  assert.deepEqual(c!.options, { fwmark: '0x10/0xff' });
  assert.equal(c!.preference, 16383, 'second rule without preference');
  assert.ok(r.diagnostics.some((d) => d.message === "rule option 'order' requires a value"));
});

test('track_script / track_file / track_process / track_bfd: the same lists and weight ranges in a vrrp_instance and a vrrp_sync_group', () => {
  const scripts = 'vrrp_script s1 {\n script /bin/true\n}\nvrrp_script s2 {\n script /bin/true\n}\n';
  const tracks = ' track_script {\n  s1 weight 253\n  s2 weight 254\n }\n';
  const r = parse(
    `${scripts}vrrp_instance A {\n interface eth0\n virtual_router_id 1\n${tracks}}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n}\nvrrp_sync_group G {\n group {\n  A\n  B\n }\n${tracks} sync_group_tracking_weight\n}\n`,
  );
  const a = r.config.vrrpInstances.find((i) => i.name === 'A')!;
  assert.deepEqual(a.trackScripts, [{ name: 's1', weight: 253 }], 'weight 254 is out of track_script range (-253..253)');
  assert.deepEqual(r.config.vrrpSyncGroups[0]!.trackScripts, [{ name: 's1', weight: 253 }]);
  const range = r.diagnostics.filter((d) => d.message.includes('weight must be between [-253..253]'));
  assert.deepEqual(
    range.map((d) => d.message),
    [
      '(A) track script s2: weight must be between [-253..253] inclusive, ignoring...',
      '(G) track script s2: weight must be between [-253..253] inclusive, ignoring...',
    ],
  );
});

test('the instance settings in CORE_SETTINGS reach the core unchanged: garp delays inherited from global_defs in ms, nopreempt', () => {
  const r = inst(
    ' nopreempt\n priority 150\n advert_int 2\n garp_master_refresh 3\n down_timer_adverts 5\n lower_prio_no_advert\n',
    ' vrrp_garp_master_delay 7\n vrrp_garp_master_repeat 2',
  );
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.garpMasterDelayMs, 7000, 'the global delay in seconds, held in the core unit');
  assert.equal(v.garpLowerPrioDelayMs, 7000, 'garp_lower_prio_delay defaults to garp_master_delay');
  assert.equal(v.garpMasterRefreshMs, 3000);
  const core = toCoreConfig(v, r.config.globalDefs, '192.0.2.1');
  for (const k of CORE_SETTINGS) assert.deepEqual(core[k], v[k], k);
  assert.equal(core.preempt, false);
  assert.equal(core.garpMasterDelayMs, 7000);
  assert.equal(core.garpMasterRepeat, 2);
  assert.equal(core.advertIntervalCs, 200);
  assert.equal(core.downTimerAdverts, 5);
  assert.equal(core.lowerPrioNoAdvert, true);
});
