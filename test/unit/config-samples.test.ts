// Every sample shipped with Debian's keepalived 2.2.7 parses without a crash, and the model
// holds what keepalived runs (instance/virtual-server counts and key values checked by hand
// against the sample files and `keepalived -t`).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseConfigFile, type ParseResult } from '../../src/config/index.js';

const DIR = '/usr/share/doc/keepalived/samples';
const have = fs.existsSync(DIR);
const parse = (name: string, configId = 'main'): ParseResult =>
  parseConfigFile(path.join(DIR, name), { configId, fileExists: () => false });
const errors = (r: ParseResult) => r.diagnostics.filter((d) => d.severity === 'error');

test('every keepalived sample parses without an internal error', { skip: !have && `no ${DIR} (install Debian package keepalived)` }, () => {
  const files = fs.readdirSync(DIR).filter((f) => f.startsWith('keepalived.conf'));
  assert.ok(files.length >= 20);
  for (const f of files) {
    const r = parse(f);
    assert.ok(!r.diagnostics.some((d) => d.category === 'fatal'), `${f}: ${JSON.stringify(r.diagnostics)}`);
  }
});

test('samples keepalived -t accepts (exit 0) give no error here either', { skip: !have }, () => {
  for (const f of [
    'keepalived.conf.HTTP_GET.port',
    'keepalived.conf.IPv6',
    'keepalived.conf.PING_CHECK',
    'keepalived.conf.SMTP_CHECK',
    'keepalived.conf.UDP_CHECK',
    'keepalived.conf.inhibit',
    'keepalived.conf.misc_check',
    'keepalived.conf.misc_check_arg',
    'keepalived.conf.quorum',
    'keepalived.conf.sample',
    'keepalived.conf.status_code',
    'keepalived.conf.virtual_server_group',
    'keepalived.conf.virtualhost',
    'keepalived.conf.vrrp',
    'keepalived.conf.vrrp.scripts',
    'keepalived.conf.vrrp.sync',
  ]) {
    assert.deepEqual(errors(parse(f)), [], f);
  }
});

test('keepalived.conf.vrrp: 4 instances with their VRIDs, priorities and VIPs', { skip: !have }, () => {
  const r = parse('keepalived.conf.vrrp');
  const c = r.config;
  assert.equal(c.vrrpInstances.length, 4);
  const v = c.vrrpInstances[0]!;
  assert.equal(v.name, 'VI_1');
  assert.equal(v.state, 'MASTER');
  assert.equal(v.interface, 'eth0');
  assert.equal(v.virtualRouterId, 51);
  assert.equal(v.priority, 100);
  assert.equal(v.advertIntervalCs, 100);
  assert.deepEqual(v.authentication, { authType: 'PASS', authPass: '1111' });
  assert.deepEqual(
    v.virtualIpAddresses.map((a) => `${a.address}/${a.prefixLength}`),
    ['192.168.200.16/32', '192.168.200.17/32', '192.168.200.18/32', '192.168.200.18/32'],
  );
  assert.equal(v.virtualIpAddresses[3]!.label, 'eth0:1');
  assert.equal(c.globalDefs.routerId, 'LVS_DEVEL');
  assert.equal(c.globalDefs.smtpConnectTimeoutS, 30);
});

test('keepalived.conf.vrrp.lvs_syncd: sync group without group block is removed; unknown words warned', { skip: !have }, () => {
  const r = parse('keepalived.conf.vrrp.lvs_syncd');
  assert.equal(r.config.vrrpSyncGroups.length, 0);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.category === 'unknown-keyword').map((d) => [d.line, d.message]),
    [
      [4, "Unknown keyword 'VI_2'"],
      [5, "Unknown keyword 'VI_3'"],
    ],
  );
  assert.ok(r.diagnostics.some((d) => d.message === 'Sync group VG1 has no virtual router(s). removing'));
});

test('keepalived.conf.vrrp.rules: the invalid rule addresses are reported at their lines 11 and 26', { skip: !have }, () => {
  const r = parse('keepalived.conf.vrrp.rules');
  assert.deepEqual(
    errors(r).map((d) => d.line),
    [11, 26],
  );
});

test('keepalived.conf.SSL_GET: AH + state MASTER cleared to BACKUP (keepalived exits 5)', { skip: !have }, () => {
  const r = parse('keepalived.conf.SSL_GET');
  assert.ok(r.diagnostics.some((d) => d.message === '(VI_1) Initial state master is incompatible with AH authentication - clearing'));
  assert.equal(r.config.vrrpInstances[0]!.state, 'BACKUP');
});

test('keepalived.conf.conditional_conf with -i high / -i low picks the conditional lines', { skip: !have }, () => {
  const hi = parse('keepalived.conf.conditional_conf', 'high');
  const lo = parse('keepalived.conf.conditional_conf', 'low');
  assert.equal(hi.config.vrrpInstances[0]!.priority, 170);
  assert.equal(lo.config.vrrpInstances[0]!.priority, 85);
  assert.equal(hi.config.globalDefs.netNamespace, 'high');
  assert.equal(hi.config.vrrpScripts[0]!.script.command, '/etc/keepalived/scripts/check_high_VI_0.sh');
  assert.equal(hi.config.vrrpInstances[0]!.version, 3);
  // with any other id there is no script line: keepalived removes the script and its tracking
  const other = parse('keepalived.conf.conditional_conf', 'main');
  assert.ok(other.diagnostics.some((d) => d.message === 'No script set for vrrp_script check_VI_0 - removing' && d.line === 13));
  assert.ok(other.diagnostics.some((d) => d.message === '(VI_0) track script check_VI_0 not found, ignoring...' && d.line === 25));
});

test('keepalived.conf.virtual_server_group and fwmark: LVS model', { skip: !have }, () => {
  const g = parse('keepalived.conf.virtual_server_group').config;
  assert.ok(g.virtualServerGroups.length >= 1);
  assert.equal(g.virtualServers[0]!.kind, 'group');
  const f = parse('keepalived.conf.fwmark');
  assert.equal(f.config.virtualServers[0]!.kind, 'fwmark');
  assert.ok(f.diagnostics.some((d) => /protocol specified for fwmark/.test(d.message)));
});

test('keepalived.conf.vrrp.routes with only eth0/eth1 present: same lines as `keepalived -t` in such a namespace', { skip: !have }, () => {
  const r = parseConfigFile(path.join(DIR, 'keepalived.conf.vrrp.routes'), {
    configId: 'main',
    fileExists: () => false,
    interfaceExists: (i) => i === 'eth0' || i === 'eth1',
  });
  // recorded from: ip netns exec kts-x keepalived -t -l -f keepalived.conf.vrrp.routes (2.2.7)
  assert.deepEqual(
    r.diagnostics.map((d) => [d.line, d.message]),
    [
      [11, "WARNING - interface eth3 for VROUTE nexthop doesn't exist"],
      [23, "WARNING - interface eth2 for ip address 192.168.200.18 doesn't exist"],
      [28, "WARNING - interface eth2 for VROUTE nexthop doesn't exist"],
      [29, 'Warning - cannot track route 192.168.112.0/24 with no interface specified, not tracking'],
      [30, '"or" for routes is deprecated. Please use "nexthop"'],
      [30, 'Warning - cannot track route 192.168.113.0/24 with no interface specified, not tracking'],
      [31, 'Warning - cannot track route 192.168.113.1/32 with no interface specified, not tracking'],
      [32, '"gw" for routes is deprecated. Please use "via"'],
    ],
  );
  assert.ok(r.diagnostics.some((d) => d.category === 'bad-interface'));
});
