// Typed model: keepalived 2.2.7 defaults, units, addresses, inheritance from global_defs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText, type ParseResult } from '../../src/config/index.js';

const parse = (text: string, extra = {}): ParseResult =>
  parseConfigText(text, 'k.conf', { configId: 'x', fileExists: () => false, ...extra });
const inst = (body: string, globals = ''): ParseResult =>
  parse(
    `global_defs {\n${globals}\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  192.0.2.10/24\n }\n}\n`,
  );

test('vrrp_instance defaults: priority 100, advert_int 1 s, version 2, preempt, state BACKUP, garp 5/5', () => {
  const r = inst('');
  assert.deepEqual(r.diagnostics, []);
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.name, 'VI_1');
  assert.equal(v.priority, 100);
  assert.equal(v.advertIntervalCs, 100);
  assert.equal(v.version, 2);
  assert.equal(v.preempt, true);
  assert.equal(v.preemptDelayMs, 0);
  assert.equal(v.state, 'BACKUP');
  assert.equal(v.garpMasterDelayMs, 5000);
  assert.equal(v.garpMasterRepeat, 5);
  assert.equal(v.garpLowerPrioDelayMs, 5000);
  assert.equal(v.garpMasterRefreshMs, 0);
  assert.equal(v.downTimerAdverts, 3);
  assert.equal(v.accept, true);
  assert.equal(v.strictMode, false);
  assert.equal(v.family, 'inet');
  assert.deepEqual(v.mcastDstIp, { family: 'inet', address: '224.0.0.18', prefixLength: 32 });
  assert.equal(v.unicastTtl, 255);
  assert.equal(v.file, 'k.conf');
  assert.equal(v.line, 4);
});

test('virtual_ipaddress: address parsed with options (dev, label, scope, brd, no_track, preferred_lft)', () => {
  const r = parse(
    'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1/24 brd 192.0.2.255 dev eth1 label eth1:1 scope link no_track\n  192.0.2.2\n }\n virtual_ipaddress_excluded {\n  2001:DB8:0:0::1/64 dev eth0 -nodad preferred_lft forever\n }\n}\n',
  );
  const v = r.config.vrrpInstances[0]!;
  const [a, b] = v.virtualIpAddresses;
  assert.equal(a!.address, '192.0.2.1');
  assert.equal(a!.prefixLength, 24);
  assert.equal(a!.broadcast, '192.0.2.255');
  assert.equal(a!.dev, 'eth1');
  assert.equal(a!.label, 'eth1:1');
  assert.equal(a!.scope, 'link');
  assert.equal(a!.noTrack, true);
  assert.equal(a!.line, 5);
  assert.equal(b!.prefixLength, 32);
  const x = v.virtualIpAddressesExcluded[0]!;
  assert.equal(x.family, 'inet6');
  assert.equal(x.address, '2001:db8::1');
  assert.equal(x.noDad, true);
  assert.equal(x.preferredLft, 'forever');
});

test('advert_int: fractional seconds to centiseconds for VRRPv3 (version 3)', () => {
  const v = inst(' version 3\n advert_int 0.25').config.vrrpInstances[0]!;
  assert.equal(v.version, 3);
  assert.equal(v.advertIntervalCs, 25);
});

test('preempt_delay in ms; nopreempt; state MASTER; priority', () => {
  const v = inst(' priority 150\n nopreempt\n preempt_delay 4.12').config.vrrpInstances[0]!;
  assert.equal(v.preempt, false);
  assert.equal(v.preemptDelayMs, 4120);
  assert.equal(v.priority, 150);
});

test('state MASTER without priority means address owner (255), as keepalived', () => {
  const v = inst(' state MASTER').config.vrrpInstances[0]!;
  assert.equal(v.state, 'MASTER');
  assert.equal(v.priority, 255);
});

test('global_defs vrrp_garp_master_delay / vrrp_garp_master_repeat / vrrp_version are inherited; instance overrides', () => {
  const v = inst(
    ' garp_master_repeat 2',
    'vrrp_garp_master_delay 10\nvrrp_garp_master_repeat 3\nvrrp_version 3\nvrrp_garp_lower_prio_repeat 7',
  ).config.vrrpInstances[0]!;
  assert.equal(v.garpMasterDelayMs, 10_000);
  assert.equal(v.garpMasterRepeat, 2);
  assert.equal(v.garpLowerPrioDelayMs, 10_000);
  assert.equal(v.garpLowerPrioRepeat, 7);
  assert.equal(v.version, 3);
});

test('global_defs fields and defaults (router_id, notification_email, smtp_server, script_user, vrrp_mcast_group4)', () => {
  const r = parse(
    'global_defs {\n router_id R1\n notification_email {\n  a@example.com\n  b@example.com\n }\n smtp_server 192.0.2.5 2525\n script_user nobody nogroup\n enable_script_security\n vrrp_mcast_group4 224.0.0.19\n lvs_flush\n}\n',
  );
  const g = r.config.globalDefs;
  assert.equal(g.routerId, 'R1');
  assert.deepEqual(g.notificationEmail, ['a@example.com', 'b@example.com']);
  assert.deepEqual(g.smtpServer, { host: '192.0.2.5', port: 2525 });
  assert.deepEqual(g.scriptUser, { user: 'nobody', group: 'nogroup' });
  assert.equal(g.enableScriptSecurity, true);
  assert.equal(g.vrrpMcastGroup4.address, '224.0.0.19');
  assert.equal(g.smtpConnectTimeoutS, 30);
  assert.equal(g.vrrpVersion, 2);
  assert.deepEqual(g.other['lvs_flush'], []);
  const d = parse('').config.globalDefs;
  assert.equal(d.vrrpGarpMasterDelayS, 5);
  assert.equal(d.defaultInterface, 'eth0');
});

test('authentication: auth_type PASS, auth_pass truncated to 8 characters', () => {
  const r = inst(' authentication {\n  auth_type PASS\n  auth_pass 123456789\n }');
  assert.deepEqual(r.config.vrrpInstances[0]!.authentication, { authType: 'PASS', authPass: '12345678' });
  assert.ok(r.diagnostics.some((d) => d.message === 'Truncating auth_pass to 8 characters'));
});

test('unicast_peer with min_ttl/max_ttl turns on check_unicast_src; unicast_src_ip', () => {
  const v = inst(' unicast_src_ip 192.0.2.1\n unicast_peer {\n  192.0.2.2\n  192.0.2.3 min_ttl 10 max_ttl 250\n }').config
    .vrrpInstances[0]!;
  assert.equal(v.unicastPeers.length, 2);
  assert.equal(v.unicastPeers[1]!.minTtl, 10);
  assert.equal(v.unicastPeers[1]!.maxTtl, 250);
  assert.equal(v.checkUnicastSrc, true);
  assert.equal(v.sourceIp!.address, '192.0.2.1');
});

test('notify_master / notify scripts: quoted command split into argv, user and group', () => {
  const v = inst(` notify_master "/usr/bin/n.sh MASTER 'a b'" root wheel\n notify /bin/n2`).config.vrrpInstances[0]!;
  assert.deepEqual(v.notifyMaster, {
    command: "/usr/bin/n.sh MASTER 'a b'",
    argv: ['/usr/bin/n.sh', 'MASTER', 'a b'],
    user: 'root',
    group: 'wheel',
  });
  assert.deepEqual(v.notify!.argv, ['/bin/n2']);
});

test('vrrp_script defaults and values (interval, timeout, weight, rise, fall, init_fail)', () => {
  const r = parse(
    'vrrp_script chk {\n script "/bin/check x"\n interval 2\n weight -20 reverse\n fall 3\n init_fail\n}\nvrrp_script c2 {\n script /bin/true\n}\n',
  );
  const [a, b] = r.config.vrrpScripts;
  assert.equal(a!.intervalMs, 2000);
  assert.equal(a!.timeoutMs, 2000);
  assert.equal(a!.weight, -20);
  assert.equal(a!.reverse, true);
  assert.equal(a!.fall, 3);
  assert.equal(a!.rise, 1);
  assert.equal(a!.initFail, true);
  assert.deepEqual(a!.script.argv, ['/bin/check', 'x']);
  assert.equal(b!.intervalMs, 1000);
  assert.equal(b!.weight, 0);
});

test('track_script / track_interface / track_file / track_process entries with weight and reverse', () => {
  const r = parse(
    'vrrp_script s {\n script /bin/true\n}\ntrack_file f {\n file /tmp/f\n weight 3\n}\nvrrp_track_process p {\n process haproxy -f x\n quorum 2\n delay 1.5\n}\n' +
      'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n track_script {\n  s weight 10 reverse\n }\n track_interface {\n  eth1 weight -5\n  eth2\n }\n track_file {\n  f\n }\n track_process {\n  p weight 4 noreverse\n }\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n',
  );
  const v = r.config.vrrpInstances[0]!;
  assert.deepEqual(v.trackScripts, [{ name: 's', weight: 10, reverse: true }]);
  assert.deepEqual(v.trackInterfaces, [
    { name: 'eth1', weight: -5, reverse: false },
    { name: 'eth2', weight: 0, reverse: false },
  ]);
  assert.deepEqual(v.trackFiles, [{ name: 'f' }]);
  assert.deepEqual(v.trackProcesses, [{ name: 'p', weight: 4, reverse: false }]);
  const p = r.config.trackProcesses[0]!;
  assert.equal(p.process, 'haproxy');
  assert.deepEqual(p.parameters, ['-f', 'x']);
  assert.equal(p.quorum, 2);
  assert.equal(p.forkDelayMs, 1500);
  assert.equal(r.config.trackFiles[0]!.weight, 3);
});

test('vrrp_sync_group: members, notify, instances know their group, weighted tracking dropped', () => {
  const r = parse(
    'vrrp_script s {\n script /bin/true\n weight 10\n}\nvrrp_sync_group G {\n group {\n  A\n  B\n }\n notify_master /bin/m\n}\n' +
      'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n track_script {\n  s weight 5\n }\n virtual_ipaddress {\n 192.0.2.1\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n 192.0.2.2\n }\n}\n',
  );
  const g = r.config.vrrpSyncGroups[0]!;
  assert.deepEqual(g.group, ['A', 'B']);
  assert.equal(g.notifyMaster!.command, '/bin/m');
  assert.equal(r.config.vrrpInstances[0]!.syncGroup, 'G');
  assert.deepEqual(r.config.vrrpInstances[0]!.trackScripts, []);
  assert.ok(r.diagnostics.some((d) => d.message === '(A) ignoring tracked script s with weights due to SYNC group'));
});

test('virtual_routes / virtual_rules / static_ipaddress / static_routes parsed', () => {
  const r = parse(
    'static_ipaddress {\n 192.0.2.50/24 dev eth0 scope global track_group G1\n}\nstatic_routes {\n 198.51.100.0/24 via 192.0.2.1 dev eth0 table 100 metric 5\n}\nstatic_rules {\n from 192.0.2.0/24 table 1 preference 100\n}\n' +
      'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1\n }\n virtual_routes {\n  src 192.0.2.1 to 203.0.113.0/24 via 192.0.2.254 dev eth1\n  blackhole 203.0.113.128/25\n }\n virtual_rules {\n  to 2001:db8::/32 table 7 no_track preference 9\n }\n}\n',
  );
  assert.equal(r.config.staticIpAddresses[0]!.trackGroup, 'G1');
  const sr = r.config.staticRoutes[0]!;
  assert.equal(sr.destination!.address, '198.51.100.0');
  assert.equal(sr.via!.address, '192.0.2.1');
  assert.equal(sr.table, '100');
  assert.equal(sr.metric, 5);
  assert.equal(r.config.staticRules[0]!.preference, 100);
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.virtualRoutes[0]!.src!.address, '192.0.2.1');
  assert.equal(v.virtualRoutes[0]!.destination!.prefixLength, 24);
  assert.equal(v.virtualRoutes[1]!.type, 'blackhole');
  assert.equal(v.virtualRules[0]!.family, 'inet6');
  assert.equal(v.virtualRules[0]!.noTrack, true);
});

test('virtual_server with real_server and checkers (TCP_CHECK, HTTP_GET url, MISC_CHECK)', () => {
  const r = parse(
    'virtual_server 192.0.2.100 80 {\n delay_loop 6\n lb_algo rr\n lb_kind DR\n persistence_timeout 50\n protocol TCP\n sorry_server 192.0.2.200 80\n real_server 192.0.2.2 80 {\n  weight 3\n  TCP_CHECK {\n   connect_timeout 3\n   connect_port 8080\n  }\n  HTTP_GET {\n   url {\n    path /health\n    status_code 200\n   }\n   retry 3\n   delay_before_retry 2\n  }\n  MISC_CHECK {\n   misc_path "/bin/chk a"\n   misc_timeout 5\n  }\n }\n}\n' +
      'virtual_server fwmark 7 {\n real_server 192.0.2.3 0 {\n }\n}\nvirtual_server_group G {\n 192.0.2.1-10 80\n fwmark 3\n}\n',
  );
  const vs = r.config.virtualServers[0]!;
  assert.equal(vs.kind, 'address');
  assert.equal(vs.port, 80);
  assert.equal(vs.delayLoopMs, 6000);
  assert.equal(vs.lvsSched, 'rr');
  assert.equal(vs.lvsMethod, 'DR');
  assert.equal(vs.persistenceTimeoutS, 50);
  assert.equal(vs.sorryServer!.address.address, '192.0.2.200');
  const rs = vs.realServers[0]!;
  assert.equal(rs.weight, 3);
  assert.deepEqual(
    rs.checkers.map((c) => c.type),
    ['TCP_CHECK', 'HTTP_GET', 'MISC_CHECK'],
  );
  assert.equal(rs.checkers[0]!.connectTimeoutMs, 3000);
  assert.equal(rs.checkers[0]!.connectPort, 8080);
  assert.deepEqual(rs.checkers[1]!.urls, [{ path: '/health', status_code: '200' }]);
  assert.equal(rs.checkers[1]!.retry, 3);
  assert.equal(rs.checkers[1]!.delayBeforeRetryMs, 2000);
  assert.deepEqual(rs.checkers[2]!.miscPath!.argv, ['/bin/chk', 'a']);
  assert.equal(r.config.virtualServers[1]!.fwmark, 7);
  assert.equal(r.config.virtualServerGroups[0]!.entries[0]!.range, 10);
  assert.equal(r.config.virtualServerGroups[0]!.entries[1]!.fwmark, 3);
});

test('bfd_instance, garp_group, linkbeat_interfaces, interface_up_down_delays, track_group', () => {
  const r = parse(
    'bfd_instance B1 {\n neighbor_ip 192.0.2.9\n min_rx 50\n multiplier 3\n}\ngarp_group {\n garp_interval 0.5\n interfaces {\n  eth0\n  eth1\n }\n}\nlinkbeat_interfaces {\n eth0\n eth1 ETHTOOL\n}\ninterface_up_down_delays {\n eth0 1.5\n eth1 2 3\n}\ntrack_group TG {\n group {\n  VI_1\n }\n}\n',
  );
  const b = r.config.bfdInstances[0]!;
  assert.equal(b.minRxMs, 50);
  assert.equal(b.minTxMs, 10);
  assert.equal(b.multiplier, 3);
  assert.equal(r.config.garpGroups[0]!.garpIntervalMs, 500);
  assert.deepEqual(r.config.garpGroups[0]!.interfaces, ['eth0', 'eth1']);
  assert.deepEqual(r.config.linkbeatInterfaces, [{ name: 'eth0' }, { name: 'eth1', type: 'ETHTOOL' }]);
  assert.deepEqual(r.config.interfaceUpDownDelays, [
    { name: 'eth0', downDelayMs: 1500, upDelayMs: 1500 },
    { name: 'eth1', downDelayMs: 2000, upDelayMs: 3000 },
  ]);
  assert.deepEqual(r.config.trackGroups[0]!.group, ['VI_1']);
});
