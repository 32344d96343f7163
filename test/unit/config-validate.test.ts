// Validation: keepalived 2.2.7's cross-checks and messages (checked against `keepalived -t`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText, type ParseResult } from '../../src/config/index.js';

const parse = (text: string, extra = {}): ParseResult =>
  parseConfigText(text, 'k.conf', { configId: 'x', fileExists: () => false, ...extra });
const vi = (name: string, body: string, vip = '192.0.2.10/24'): string =>
  `vrrp_instance ${name} {\n interface eth0\n${body}\n virtual_ipaddress {\n  ${vip}\n }\n}\n`;
const msgs = (r: ParseResult): string[] => r.diagnostics.map((d) => d.message);

test('virtual_router_id missing: instance dropped with an error', () => {
  const r = parse(vi('C', ' priority 100'));
  assert.equal(r.config.vrrpInstances.length, 0);
  const d = r.diagnostics.find((x) => x.message === '(C) the virtual router id must be set');
  assert.ok(d);
  assert.equal(d.severity, 'error');
  assert.equal(d.line, 1);
});

test('virtual_router_id out of range 1-255', () => {
  const r = parse(vi('A', ' virtual_router_id 256'));
  assert.ok(msgs(r).includes("number '256' outside range [1, 255]"));
  assert.equal(r.config.vrrpInstances.length, 0);
});

test('priority outside 1-255: error and default 100 used', () => {
  for (const p of ['0', '256']) {
    const r = parse(vi('A', ` virtual_router_id 1\n priority ${p}`));
    assert.ok(msgs(r).includes(`number '${p}' outside range [1, 255]`));
    assert.ok(msgs(r).includes('(A) Priority not valid! must be between 1 & 255. Using default 100'));
    const d = r.diagnostics.find((x) => x.message.startsWith('(A) Priority'))!;
    assert.equal(d.line, 4);
    assert.equal(d.keyword, 'priority');
    assert.equal(r.config.vrrpInstances[0]!.priority, 100);
  }
});

test('advert_int VRRPv2: whole seconds, rounded with an error', () => {
  const r = parse(vi('A', ' virtual_router_id 1\n advert_int 1.5'));
  assert.ok(msgs(r).includes('(A) VRRPv2 advertisement interval 1.500000s must be an integer. rounding'));
  assert.equal(r.config.vrrpInstances[0]!.advertIntervalCs, 200);
  const r2 = parse(vi('A', ' virtual_router_id 1\n advert_int 0.4'));
  assert.equal(r2.config.vrrpInstances[0]!.advertIntervalCs, 100);
});

test('advert_int VRRPv3: must be < 40.96 s, set to 40.95 s', () => {
  const r = parse(vi('E', ' virtual_router_id 1\n version 3\n advert_int 41'));
  assert.ok(msgs(r).includes('(E) VRRPv3 advertisement interval 41.00s is out of range. Must be less than 40.96s. Setting to 40.95s'));
  assert.equal(r.config.vrrpInstances[0]!.advertIntervalCs, 4095);
});

test('IPv6 virtual_ipaddress forces VRRPv3 silently (even with version 2), 0.5 s allowed', () => {
  const r = parse(vi('D', ' virtual_router_id 1\n version 2\n advert_int 0.5', '2001:db8::1/64'));
  assert.deepEqual(r.diagnostics, []);
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.version, 3);
  assert.equal(v.family, 'inet6');
  assert.equal(v.advertIntervalCs, 50);
  assert.equal(v.mcastDstIp.address, 'ff02::12');
});

test('virtual_ipaddress of the other family is ignored with an error', () => {
  const r = parse('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.1/24\n  2001:db8::5\n }\n}\n');
  assert.ok(msgs(r).includes('(A): address family must match VRRP instance [2001:db8::5] - ignoring'));
  assert.equal(r.diagnostics[0]!.line, 6);
  assert.equal(r.config.vrrpInstances[0]!.virtualIpAddresses.length, 1);
});

test('virtual_router_id unique per interface and family', () => {
  const r = parse(
    vi('A', ' virtual_router_id 51') + vi('B', ' virtual_router_id 51', '192.0.2.11') + vi('C', ' virtual_router_id 51', '2001:db8::1'),
  );
  assert.deepEqual(msgs(r), ['A and B both use VRID 51 with IPv4 on interface eth0']);
  assert.equal(r.diagnostics[0]!.category, 'semantic');
});

test('no virtual_ipaddress: warning "No VIP specified"', () => {
  const r = parse('vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n');
  assert.deepEqual(msgs(r), ['(A) No VIP specified; at least one is sensible']);
  assert.equal(r.diagnostics[0]!.severity, 'warning');
});

test('track_script naming an unknown vrrp_script is ignored with a warning', () => {
  const r = parse(vi('D', ' virtual_router_id 1\n track_script {\n  nosuch\n }'));
  assert.ok(msgs(r).includes('(D) track script nosuch not found, ignoring...'));
  assert.deepEqual(r.config.vrrpInstances[0]!.trackScripts, []);
  const r2 = parse(vi('D', ' virtual_router_id 1\n track_file {\n  nf\n }\n track_process {\n  np\n }'));
  assert.ok(msgs(r2).includes('(D) track file nf not found, ignoring...'));
  assert.ok(msgs(r2).includes('(D) track process np not found, ignoring...'));
});

test('track_script weight outside -253..253 is refused', () => {
  const r = parse('vrrp_script chk {\n script /bin/true\n}\n' + vi('A', ' virtual_router_id 1\n track_script {\n  chk weight 300\n }'));
  assert.ok(msgs(r).includes("number '300' outside range [-254, 254]"));
  assert.ok(msgs(r).includes('(A) track script chk: weight must be between [-253..253] inclusive, ignoring...'));
  assert.deepEqual(r.config.vrrpInstances[0]!.trackScripts, []);
});

test('vrrp_script without script is removed (reported at its closing line)', () => {
  const r = parse('vrrp_script s {\n interval 1\n}\n');
  assert.equal(r.config.vrrpScripts.length, 0);
  assert.equal(r.diagnostics[0]!.message, 'No script set for vrrp_script s - removing');
  assert.equal(r.diagnostics[0]!.line, 3);
});

test('vrrp_strict: authentication refused, accept off', () => {
  const r = parse(
    'global_defs {\n vrrp_strict\n}\n' + vi('A', ' virtual_router_id 1\n authentication {\n  auth_type PASS\n  auth_pass x\n }'),
  );
  assert.ok(msgs(r).includes('(A) Strict mode does not support authentication. Ignoring.'));
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.authentication, undefined);
  assert.equal(v.accept, false);
  assert.equal(v.strictMode, true);
});

test('nopreempt with priority 255 / with state MASTER is cleared', () => {
  const r = parse(
    vi('A', ' virtual_router_id 1\n state MASTER\n nopreempt') + vi('B', ' virtual_router_id 2\n state MASTER\n priority 200\n nopreempt'),
  );
  assert.ok(msgs(r).includes('(A) nopreempt is incompatible with priority 255. resetting nopreempt'));
  assert.ok(msgs(r).includes('(B) Warning - nopreempt will not work with initial state MASTER - clearing'));
  assert.equal(r.config.vrrpInstances[0]!.preempt, true);
  assert.equal(r.config.vrrpInstances[1]!.preempt, true);
});

test('AH authentication with state MASTER: state cleared to BACKUP', () => {
  const r = parse(vi('A', ' virtual_router_id 1\n state MASTER\n priority 100\n authentication {\n  auth_type AH\n  auth_pass x\n }'));
  assert.ok(msgs(r).includes('(A) Initial state master is incompatible with AH authentication - clearing'));
  assert.equal(r.config.vrrpInstances[0]!.state, 'BACKUP');
});

test('interfaces must exist (interfaceExists option): interface, track_interface, VIP dev', () => {
  const r = parse(vi('A', ' virtual_router_id 1\n track_interface {\n  eth9\n }', '192.0.2.1 dev eth7'), {
    interfaceExists: (i: string) => i === 'eth0',
  });
  const bad = r.diagnostics.filter((d) => d.category === 'bad-interface').map((d) => d.message);
  assert.deepEqual(bad, ["(A) tracked interface eth9 doesn't exist", "WARNING - interface eth7 for ip address 192.0.2.1 doesn't exist"]);
  const r2 = parse(vi('A', ' virtual_router_id 1'), { interfaceExists: () => false });
  assert.ok(msgs(r2).includes("WARNING - interface eth0 for vrrp_instance A doesn't exist"));
  assert.ok(parse(vi('A', ' virtual_router_id 1')).diagnostics.every((d) => d.category !== 'bad-interface'));
});

test('scripts without enable_script_security: SECURITY VIOLATION (category security)', () => {
  const text = vi('A', ' virtual_router_id 1\n notify_master /bin/true');
  const r = parse(text, { fileExists: () => true });
  const d = r.diagnostics.find((x) => x.category === 'security');
  assert.ok(d);
  assert.equal(d.message, 'SECURITY VIOLATION - scripts are being executed but script_security not enabled.');
  assert.ok(
    !parse('global_defs {\n enable_script_security\n}\n' + text, { fileExists: () => true }).diagnostics.some(
      (x) => x.category === 'security',
    ),
  );
  // keepalived drops scripts whose file does not exist: no violation then
  assert.ok(!parse(text, { fileExists: () => false }).diagnostics.some((x) => x.category === 'security'));
});

test('vrrp_sync_group: unknown member ignored, single member warned', () => {
  const r = parse('vrrp_sync_group G {\n group {\n  A\n  Z\n }\n}\n' + vi('A', ' virtual_router_id 1'));
  assert.ok(msgs(r).includes("Virtual router Z specified in sync group G doesn't exist - ignoring"));
  assert.ok(msgs(r).includes("Sync group G has only 1 virtual router(s) - this probably isn't what you want"));
  assert.deepEqual(r.config.vrrpSyncGroups[0]!.group, ['A']);
});

test('invalid numbers and addresses yield typed errors, never exceptions', () => {
  const r = parse(vi('A', ' virtual_router_id abc\n unicast_peer {\n  300.1.1.1\n }', 'not-an-ip'));
  assert.ok(r.diagnostics.some((d) => d.message === "invalid number 'abc'"));
  assert.ok(
    r.diagnostics.some((d) => d.message === 'Configuration error: VRRP instance[A] malformed unicast peer address[300.1.1.1]. Skipping...'),
  );
  assert.ok(r.diagnostics.some((d) => d.message === 'VRRP parsed invalid IP not-an-ip. skipping IP...'));
  for (const d of r.diagnostics) {
    assert.ok(d.line > 0 || d.message.includes('virtual router id'));
    assert.ok(['error', 'warning', 'info'].includes(d.severity));
  }
});

test('diagnostics are in file order with file:line:column and keyword', () => {
  const r = parse('global_defs {\n bogus 1\n}\n' + vi('A', ' virtual_router_id 1\n priority 0'));
  const lines = r.diagnostics.map((d) => d.line);
  assert.deepEqual(
    lines,
    [...lines].sort((a, b) => a - b),
  );
  assert.equal(r.diagnostics[0]!.message, "Unknown keyword 'bogus'");
  assert.equal(r.diagnostics[0]!.column, 2);
  assert.equal(r.diagnostics[0]!.keyword, 'bogus');
});

test('vrrp_strict + accept with VRRPv2 is reset (RFC3768 has no accept mode)', () => {
  const r = parse('global_defs {\n vrrp_strict\n}\n' + vi('A', ' virtual_router_id 1\n accept\n unicast_peer {\n  192.0.2.7\n }'));
  assert.deepEqual(msgs(r), ['(A) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting']);
  assert.equal(r.diagnostics[0]!.line, 7);
  assert.equal(r.config.vrrpInstances[0]!.accept, false);
  assert.equal(r.config.vrrpInstances[0]!.unicastPeers.length, 1);
});

test('authentication with version 3 is ignored with an error', () => {
  const r = parse(vi('B', ' virtual_router_id 1\n version 3\n authentication {\n  auth_type PASS\n  auth_pass x\n }'));
  assert.deepEqual(msgs(r), ['(B) VRRP version 3 does not support authentication. Ignoring.']);
  assert.equal(r.config.vrrpInstances[0]!.authentication, undefined);
});

test('no interface and no unicast_peer: "(A) Unknown interface!" and the instance is dropped', () => {
  const r = parse('vrrp_instance A {\n virtual_router_id 1\n unicast_peer {\n }\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n');
  assert.deepEqual(msgs(r), ['(A) Unknown interface!']);
  assert.equal(r.config.vrrpInstances.length, 0);
  // a unicast peer does not make up for it (measured, 2.2.7: "(A) Unknown interface!", and
  // exit 2 at start): the error is one that refuses the file
  const r2 = parse('vrrp_instance A {\n virtual_router_id 1\n unicast_peer {\n 192.0.2.2\n }\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n');
  assert.deepEqual(msgs(r2), ['(A) Unknown interface!']);
  assert.equal(r2.diagnostics[0]!.permanent, true);
  assert.equal(r2.config.vrrpInstances.length, 0);
});

test('advert_int 0 / preempt_delay 2000: keepalived range messages, in keepalived order', () => {
  const r = parse(vi('B', ' virtual_router_id 1\n advert_int 0\n preempt_delay 2000'));
  assert.deepEqual(msgs(r), [
    "number '0' outside range [0.010000, 255.000000]",
    '(B) Advert interval (0) not valid! Must be > 0 - ignoring',
    "number '2000' outside range [0.000000, 1000.000000]",
    '(B) Preempt_delay not valid! must be between 0-1000',
  ]);
  assert.equal(r.config.vrrpInstances[0]!.advertIntervalCs, 100);
});

test('SECURITY VIOLATION: every vrrp_script counts, tracked or not (measured, 2.2.7); non-root user no', () => {
  const scr = 'vrrp_script s {\n script /bin/true\n}\n';
  const sec = (r: ParseResult) => r.diagnostics.some((d) => d.category === 'security');
  assert.equal(sec(parse(scr + vi('A', ' virtual_router_id 1'), { fileExists: () => true })), true);
  assert.equal(sec(parse(scr + vi('A', ' virtual_router_id 1\n track_script {\n  s\n }'), { fileExists: () => true })), true);
  assert.equal(sec(parse(vi('A', ' virtual_router_id 1\n notify_master /bin/true nobody'), { fileExists: () => true })), false);
  assert.equal(
    sec(
      parse('global_defs {\n script_user nobody\n}\n' + vi('A', ' virtual_router_id 1\n notify_master /bin/true'), {
        fileExists: () => true,
      }),
    ),
    false,
  );
});

test('formatKeepalivedStyle gives keepalived -t lines', async () => {
  const { formatKeepalivedStyle } = await import('../../src/config/index.js');
  const r = parse(vi('A', ' virtual_router_id 1\n priority 0'));
  assert.deepEqual(r.diagnostics.map(formatKeepalivedStyle), [
    "(k.conf: Line 4) number '0' outside range [1, 255]",
    '(k.conf: Line 4) (A) Priority not valid! must be between 1 & 255. Using default 100',
  ]);
});

test('keepalived fix-ups: use_vmac+unicast sets vmac_xmit_base, untrackable route, rule preference 16384.., duplicate instance, own track_interface', () => {
  const r = parse(
    'vrrp_instance A {\n interface eth0\n virtual_router_id 51\n use_vmac\n unicast_peer {\n  192.0.2.9\n }\n track_interface {\n  eth0\n }\n virtual_ipaddress {\n  192.0.2.1/24\n }\n virtual_routes {\n  198.51.100.0/24 via 192.0.2.254\n }\n virtual_rules {\n  from 192.0.2.0/24 table 100\n  from 192.0.2.0/25 table 101\n }\n}\n' +
      vi('A', ' virtual_router_id 52'),
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.line, d.message]),
    [
      [15, 'Warning - cannot track route 198.51.100.0/24 with no interface specified, not tracking'],
      [18, 'Rule has no preference specified - setting to 16384. This is probably not what you want.'],
      [19, 'Rule has no preference specified - setting to 16383. This is probably not what you want.'],
      [21, '(A) unicast with use_vmac requires vmac_xmit_base - setting'],
      [22, 'vrrp instance A already defined'],
      [0, '(A) Ignoring track_interface eth0 since own interface'],
    ],
  );
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.vmacXmitBase, true);
  assert.equal(v.virtualRoutes[0]!.noTrack, true);
  assert.deepEqual(
    v.virtualRules.map((x) => x.preference),
    [16384, 16383],
  );
  assert.deepEqual(v.trackInterfaces, []);
  assert.equal(r.config.vrrpInstances.length, 1);
});

test('keepalived wording: version, auth_type, mcast_dst_ip, VIP prefix too long, missing parameter', () => {
  const r = parse(
    'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version 4\n authentication {\n  auth_type FOO\n  auth_pass abc\n }\n mcast_dst_ip 192.0.2.1\n virtual_ipaddress {\n  192.0.2.1/33\n }\n priority\n}\n',
  );
  assert.deepEqual(
    r.diagnostics.map((d) => [d.line, d.message]),
    [
      [4, "number '4' outside range [2, 3]"],
      [4, '(A): Version must be either 2 or 3'],
      [6, "(A) unknown authentication type 'FOO'"],
      [9, '(A) mcast_dst_ip 192.0.2.1 not multicast. Skipping...'],
      [11, "number '33' outside range [0, 32]"],
      [11, 'Invalid address prefix len 33 for address 192.0.2.1/33 - using 32'],
      [13, '*** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2'],
    ],
  );
  const v = r.config.vrrpInstances[0]!;
  assert.equal(v.virtualIpAddresses[0]!.prefixLength, 32);
  assert.equal(v.authentication, undefined);
  assert.equal(v.mcastDstIp.address, '224.0.0.18');
});

test('virtual_server without protocol / lb_algo / lb_kind: keepalived 2.2.7 errors and defaults (UDP, wlc, NAT)', () => {
  const r = parse('virtual_server 192.0.2.10 80 {\n real_server 192.0.2.20 80 {\n  weight -1\n }\n}\n');
  assert.deepEqual(msgs(r), [
    'Virtual server [192.0.2.10]:none:80: no protocol set - defaulting to UDP',
    "Virtual server [192.0.2.10]:udp:80: no scheduler set, setting default 'wlc'",
    'Virtual server [192.0.2.10]:udp:80: no forwarding method set, setting default NAT',
    "negative number '-1'",
    'Real server weight -1 is outside range 0-2147483647',
  ]);
  const vs = r.config.virtualServers[0]!;
  assert.equal(vs.protocol, 'UDP');
  assert.equal(vs.lvsSched, 'wlc');
  assert.equal(vs.lvsMethod, 'NAT');
  assert.equal(vs.realServers[0]!.weight, 1);
});

test('judgeConfig: what keepalived 2.2.7 stops on at start (exit 2, 6 without a main file), the rest runs', async () => {
  const { judgeConfig, parseConfigFile } = await import('../../src/config/index.js');
  const runs = judgeConfig(parse(vi('A', ' virtual_router_id 1\n priority 0')).diagnostics);
  assert.deepEqual([runs.run, runs.exitCode, runs.refusing.length], [true, 0, 0], 'an ordinary error is fixed up');
  for (const text of [
    vi('A', ' virtual_router_id 300'),
    vi('A', ' virtual_router_id 1\n priority'),
    vi('A', ' virtual_router_id 1') + vi('B', ' virtual_router_id 1'),
  ]) {
    const v = judgeConfig(parse(text).diagnostics);
    assert.equal(v.run, false, text);
    assert.equal(v.exitCode, 2, text);
    assert.match(v.message, /^configuration refused, keepalived would not run it: k\.conf:\d+/, text);
  }
  const none = judgeConfig(parseConfigFile('/nonexistent/kts-no-such.conf').diagnostics);
  assert.deepEqual([none.run, none.exitCode], [false, 6]);
});
