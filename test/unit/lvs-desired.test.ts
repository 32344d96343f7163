// The desired table, pure: keepalived 2.2.7's service and destination rules (notes/lvs.md 3 and
// 4.4) and the quorum machine's edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.js';
import { VsRuntime, destOf, diffTable, rsKey, servicesOf, tableOf } from '../../src/lvs/desired.js';
import { FWD, SVC_FLAG, TUN_FLAG, TUN_TYPE } from '../../src/lvs/ipvs-schema.js';

const vsOf = (body: string, head = '192.0.2.1 80', groups = '') => {
  const c = parseConfigText(`${groups}virtual_server ${head} {\n lb_kind NAT\n protocol TCP\n${body}\n}\n`, 'k.conf', {
    configId: 'x',
    fileExists: () => false,
  }).config;
  return { vs: c.virtualServers[0]!, groups: c.virtualServerGroups };
};

test('services: port 0 forces persistence 360 s; granularity implies persistence; ops only for UDP / fwmark', () => {
  let { vs, groups } = vsOf(' real_server 198.51.100.1 80 { }', '192.0.2.1 0');
  assert.deepEqual([servicesOf(vs, groups)[0]!.flags, servicesOf(vs, groups)[0]!.timeout], [SVC_FLAG.PERSISTENT, 360]);
  ({ vs, groups } = vsOf(' persistence_granularity 255.255.0.0\n real_server 198.51.100.1 80 { }'));
  assert.deepEqual([servicesOf(vs, groups)[0]!.timeout, servicesOf(vs, groups)[0]!.netmask], [360, 16]);
  ({ vs, groups } = vsOf(' ops\n real_server 198.51.100.1 80 { }'));
  assert.equal(servicesOf(vs, groups)[0]!.flags, 0, 'ops ignored on TCP');
  ({ vs, groups } = vsOf(' ops\n real_server 198.51.100.1 80 { }', 'fwmark 3'));
  assert.equal(servicesOf(vs, groups)[0]!.flags, SVC_FLAG.ONEPACKET);
  ({ vs, groups } = vsOf(' lb_algo rr\n sh-port\n real_server 198.51.100.1 80 { }'));
  assert.equal(servicesOf(vs, groups)[0]!.flags, 0, 'sh-port only with sh');
  ({ vs, groups } = vsOf(' persistence_engine sip\n persistence_timeout 5\n real_server 198.51.100.1 80 { }'));
  assert.equal(servicesOf(vs, groups)[0]!.peName, 'sip');
});

test('groups: v4 ranges, IPv6 ranges in hex (the range end is a 16-bit group), full-address ends, subnets', () => {
  const { vs, groups } = vsOf(
    ' real_server 198.51.100.1 80 { }',
    'group G',
    'virtual_server_group G {\n 192.0.2.254-255 80\n 2001:db8::fe-101 80\n 2001:db8::a-c 80\n 192.0.2.255-192.0.3.1 80\n 203.0.113.8/30 80\n 2001:db8::ffff-2001:db8::1:0 80\n}\n',
  );
  assert.deepEqual(
    servicesOf(vs, groups).map((s) => s.address),
    [
      '192.0.2.254',
      '192.0.2.255',
      '2001:db8::fe',
      '2001:db8::ff',
      '2001:db8::100',
      '2001:db8::101',
      '2001:db8::a',
      '2001:db8::b',
      '2001:db8::c',
      '192.0.2.255',
      '192.0.3.0',
      '192.0.3.1',
      '203.0.113.8',
      '203.0.113.9',
      '203.0.113.10',
      '203.0.113.11',
      '2001:db8::ffff',
      '2001:db8::1:0',
    ],
  );
});

test('destinations: DR/TUN take the VS port, NAT without port the VS port, fwmark non-NAT 0; tunnel options', () => {
  const { vs } = vsOf(
    [
      ' real_server 198.51.100.1 8080 { lvs_method DR }',
      ' real_server 198.51.100.2 { }',
      ' real_server 198.51.100.3 8080 { lvs_method TUN type gre csum }',
      ' real_server 198.51.100.4 8080 { lvs_method TUN type gue port 6080 remcsum\n weight 9\n uthreshold 10\n lthreshold 2 }',
    ].join('\n'),
  );
  const d = vs.realServers.map((rs) => destOf(vs, rs, rs.weight));
  assert.deepEqual(
    d.map((x) => [x.port, x.fwdMethod]),
    [
      [80, FWD.DROUTE],
      [80, FWD.MASQ],
      [80, FWD.TUNNEL],
      [80, FWD.TUNNEL],
    ],
  );
  assert.deepEqual([d[2]!.tunType, d[2]!.tunFlags], [TUN_TYPE.GRE, TUN_FLAG.CSUM]);
  assert.deepEqual(
    [d[3]!.tunType, d[3]!.tunPort, d[3]!.tunFlags, d[3]!.weight, d[3]!.uThreshold, d[3]!.lThreshold],
    [TUN_TYPE.GUE, 6080, TUN_FLAG.REMCSUM, 9, 10, 2],
  );
  const f = vsOf(' lb_kind DR\n real_server 198.51.100.1 8080 { }\n real_server 198.51.100.2 8080 { lvs_method NAT }', 'fwmark 4').vs;
  assert.deepEqual(
    f.realServers.map((rs) => destOf(f, rs, 1).port),
    [0, 8080],
  );
});

test('quorum: clamped to the total weight, hysteresis to quorum - 1; starts down below quorum + hysteresis', () => {
  const { vs } = vsOf(' quorum 50\n hysteresis 60\n real_server 198.51.100.1 80 { weight 3 }\n real_server 198.51.100.2 80 { weight 4 }');
  const rt = new VsRuntime(vs);
  assert.deepEqual([rt.quorum, rt.hysteresis, rt.quorumUp], [7, 6, false]);
  const q = vsOf(' quorum 3\n hysteresis 1\n real_server 198.51.100.1 80 { weight 2 }\n real_server 198.51.100.2 80 { weight 2 }').vs;
  const r = new VsRuntime(q);
  assert.equal(r.quorumUp, true, '4 >= 3 + 1');
  assert.deepEqual(
    r.setAlive(rsKey(q, q.realServers[0]!), false),
    ['Removing service [198.51.100.1]:tcp:80 from VS [192.0.2.1]:tcp:80'],
    '2 is not < 3 - 1',
  );
  assert.deepEqual(r.setAlive(rsKey(q, q.realServers[1]!), false).slice(-1), ['Lost quorum 3-1=2 > 0 for VS [192.0.2.1]:tcp:80']);
  assert.deepEqual(
    r.setAlive(rsKey(q, q.realServers[1]!), true),
    ['Adding service [198.51.100.2]:tcp:80 to VS [192.0.2.1]:tcp:80'],
    '2 < 3 + 1: still down',
  );
  assert.deepEqual(r.setWeight(rsKey(q, q.realServers[1]!), 4).slice(-1), ['Gained quorum 3+1=4 <= 4 for VS [192.0.2.1]:tcp:80']);
});

test('quorum lost without a sorry server leaves the pool as it is', () => {
  const { vs } = vsOf(' quorum 2\n real_server 198.51.100.1 80 { }\n real_server 198.51.100.2 80 { }');
  const rt = new VsRuntime(vs);
  rt.setAlive(rsKey(vs, vs.realServers[0]!), false);
  assert.equal(rt.quorumUp, false);
  assert.deepEqual(
    rt.dests().map((d) => d.address),
    ['198.51.100.2'],
  );
});

test('diff: same tables give nothing; HASHED is not a difference', () => {
  const { vs, groups } = vsOf(' real_server 198.51.100.1 80 { }');
  const t = tableOf(servicesOf(vs, groups).map((service) => ({ service, dests: new VsRuntime(vs).dests() })));
  const hashed = tableOf(
    [...t.values()].map((e) => ({ service: { ...e.service, flags: e.service.flags | SVC_FLAG.HASHED }, dests: [...e.dests.values()] })),
  );
  assert.deepEqual(diffTable(t, hashed), []);
  assert.deepEqual(
    diffTable(new Map(), t).map((c) => c.op),
    ['addService', 'addDest'],
  );
  assert.deepEqual(
    diffTable(t, new Map()).map((c) => c.op),
    ['deleteService'],
  );
});
