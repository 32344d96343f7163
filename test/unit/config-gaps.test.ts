// The differences against keepalived 2.2.7 -t closed in issue 2 (A2), each as measured with
// `keepalived -t -l -f FILE` in a namespace: categories (hence exit codes), lines, wording.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configTestExitCode } from '../../src/cli/exit-codes.js';
import { resolveScript } from '../../src/config/build.js';
import { parseConfigText, type ParseOptions, type ParseResult } from '../../src/config/index.js';

const parse = (text: string, extra: ParseOptions = {}): ParseResult =>
  parseConfigText(text, 'k.conf', { configId: 'x', fileExists: () => false, ...extra });
const vi = (name: string, body: string, vip = '192.0.2.10/24'): string =>
  `vrrp_instance ${name} {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  ${vip}\n }\n}\n`;
const find = (r: ParseResult, re: RegExp) => r.diagnostics.find((d) => re.test(d.message));
const exit = (r: ParseResult): number => configTestExitCode(r.diagnostics);

test('errors keepalived reports from its own handlers are ordinary errors (exit 5), not aborted parses (2)', () => {
  const cases: [string, RegExp, number][] = [
    ['global_defs {\n router_id\n}\n', /^routerid name missing - ignoring$/, 2],
    ['global_defs {\n notification_email_from\n}\n', /^emailfrom missing - ignoring$/, 2],
    ['vrrp_instance {\n interface eth0\n}\n', /^vrrp_instance must have a name$/, 1],
    ['vrrp_sync_group {\n group {\n  A\n }\n}\n', /^vrrp_sync_group must have a name - skipping$/, 1],
    ['vrrp_script s {\n interval 2\n}\n', /^No script set for vrrp_script s - removing$/, 3],
    ['vrrp_track_process p {\n weight 1\n}\n', /^track process 'p' process name not specified$/, 3],
    ['track_file f {\n weight 1\n}\n', /^No file set for track_file f - ignoring$/, 3],
    ['bfd_instance b {\n min_rx 10\n}\n', /^Configuration error: BFD instance b has no neighbor address set, disabling instance$/, 3],
    [vi('A', ' authentication {\n  auth_type PASS\n }'), /^\(A\) Authentication specified but no password given\. Ignoring$/, 4],
  ];
  for (const [text, re, line] of cases) {
    const r = parse(text);
    const d = find(r, re);
    assert.ok(d, `${re} in ${JSON.stringify(r.diagnostics)}`);
    assert.equal(d.line, line, `${re}`);
    assert.notEqual(d.category, 'missing-parameter');
    assert.equal(exit(r), 5, `${re}: exit`);
  }
});

test('authentication without auth_pass is dropped, as keepalived ignores it', () => {
  const r = parse(vi('A', ' authentication {\n  auth_type PASS\n }'));
  assert.equal(r.config.vrrpInstances[0]!.authentication, undefined);
});

test('named blocks other than vrrp_instance / vrrp_sync_group without a name abort the parse (exit 2)', () => {
  for (const kw of ['vrrp_script', 'vrrp_track_process', 'track_file', 'vrrp_track_file']) {
    const r = parse(`${kw} {\n weight 1\n}\n`);
    assert.ok(find(r, new RegExp(`^\\*\\*\\* Configuration line starting \`${kw}\` is missing a parameter`)), kw);
    assert.equal(exit(r), 2, kw);
  }
});

test('garp_group without interface: keepalived says nothing (exit 0)', () => {
  const r = parse('garp_group {\n garp_interval 1\n}\n');
  assert.equal(exit(r), 0);
  assert.equal(r.config.garpGroups.length, 0);
});

test("duplicate VRID is named at the second instance's virtual_router_id line", () => {
  const r = parse(vi('A', ' priority 100') + vi('B', ' priority 100', '192.0.2.11/24'));
  const d = find(r, /^A and B both use VRID 51 with IPv4 on interface eth0$/);
  assert.ok(d);
  assert.equal(d.line, 11); // B opens at line 9; its virtual_router_id is line 11
});

test("unicast_peer of the other family: keepalived wording at the peer's line, peer dropped", () => {
  const r = parse(vi('A', ' unicast_src_ip 192.0.2.11\n unicast_peer {\n  192.0.2.12\n  2001:db8::12\n }'));
  const d = find(
    r,
    /^Configuration error: VRRP instance\[A\] and unicast peer address\[2001:db8::12\] MUST be of the same family !!! Skipping\.\.\.$/,
  );
  assert.ok(d);
  assert.equal(d.line, 7);
  assert.deepEqual(
    r.config.vrrpInstances[0]!.unicastPeers.map((p) => p.address),
    ['192.0.2.12'],
  );
  assert.equal(exit(r), 5);
});

test('an unknown sync-group member is named at its own line', () => {
  const r = parse('vrrp_sync_group G {\n group {\n  A\n  NOPE\n }\n}\n' + vi('A', ' priority 100'));
  const d = find(r, /^Virtual router NOPE specified in sync group G doesn't exist - ignoring$/);
  assert.ok(d);
  assert.equal(d.line, 4);
  assert.deepEqual(r.config.vrrpSyncGroups[0]!.group, ['A']);
  assert.equal('memberNodes' in r.config.vrrpSyncGroups[0]!, false, 'no parser state leaks into the model');
});

const vs = (body: string, checker = ''): string =>
  `virtual_server 192.0.2.100 80 {\n${body}\n protocol TCP\n real_server 192.0.2.11 80 {\n  weight 1\n${checker}\n }\n}\n`;

test('lb_algo / lvs_sched: the schedulers keepalived knows, case-sensitive; else its wording and wlc', () => {
  for (const s of ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']) {
    const r = parse(vs(` lb_algo ${s}\n lb_kind DR`));
    assert.equal(exit(r), 0, `${s}: ${JSON.stringify(r.diagnostics)}`);
    assert.equal(r.config.virtualServers[0]!.lvsSched, s);
  }
  for (const s of ['xyz', 'RR', 'Wlc']) {
    const r = parse(vs(` lvs_sched ${s}\n lb_kind DR`));
    const d = find(r, new RegExp(`^Invalid lvs_scheduler '${s}' - ignoring$`));
    assert.ok(d, s);
    assert.equal(d.line, 2);
    assert.ok(find(r, /^Virtual server \[192\.0\.2\.100\]:tcp:80: no scheduler set, setting default 'wlc'$/), s);
    assert.equal(r.config.virtualServers[0]!.lvsSched, 'wlc');
    assert.equal(exit(r), 5);
  }
});

test('lb_kind / lvs_method: NAT, DR, TUN only, case-sensitive', () => {
  assert.equal(parse(vs(' lb_algo rr\n lb_kind TUN')).config.virtualServers[0]!.lvsMethod, 'TUN');
  for (const m of ['XYZ', 'dr', 'Tun']) {
    const r = parse(vs(` lb_algo rr\n lvs_method ${m}`));
    assert.ok(find(r, new RegExp(`^PARSER : unknown \\[${m}\\] routing method for virtual server\\.$`)), m);
    assert.ok(find(r, /no forwarding method set, setting default NAT$/), m);
    assert.equal(r.config.virtualServers[0]!.lvsMethod, 'NAT');
  }
});

test('nb_get_retry: unknown in TCP_CHECK and the others, deprecated (but used) in HTTP_GET / SSL_GET', () => {
  for (const ck of ['TCP_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK']) {
    const r = parse(vs(' lb_algo rr\n lb_kind DR', `  ${ck} {\n   nb_get_retry 3\n  }`));
    const d = find(r, /^Unknown keyword 'nb_get_retry'$/);
    assert.ok(d, ck);
    assert.equal(d.line, 8);
    assert.equal(exit(r), 5);
  }
  const r = parse(vs(' lb_algo rr\n lb_kind DR', '  HTTP_GET {\n   url {\n    path /\n    status_code 200\n   }\n   nb_get_retry 4\n  }'));
  const d = find(r, /^nb_get_retry is deprecated - please use 'retry'$/);
  assert.ok(d);
  assert.equal(d.line, 12);
  assert.equal(exit(r), 5);
  assert.equal(r.config.virtualServers[0]!.realServers[0]!.checkers[0]!.retry, 4);
});

test('track_file: the tracked path is `path`; `file`/`line` are where it was configured', () => {
  const r = parse('\ntrack_file f {\n file /run/kts/flag\n weight 3\n}\n');
  const tf = r.config.trackFiles[0]!;
  assert.equal(tf.path, '/run/kts/flag');
  assert.equal(tf.file, 'k.conf');
  assert.equal(tf.line, 2);
  assert.equal(tf.weight, 3);
});

test('keepalived_ts_status_listen / keepalived_ts_watch_config (keepalived-ts extensions)', () => {
  const none = parse('global_defs {\n router_id a\n}\n');
  assert.equal(none.config.globalDefs.statusListen, undefined);
  assert.equal(none.config.globalDefs.watchConfig, false);
  for (const spec of ['127.0.0.1:9650', '[2001:db8::1]:9100', ':9650', 'localhost:1']) {
    const r = parse(`global_defs {\n keepalived_ts_status_listen ${spec}\n keepalived_ts_watch_config\n}\n`);
    assert.deepEqual(r.diagnostics, [], spec);
    assert.equal(r.config.globalDefs.statusListen, spec);
    assert.equal(r.config.globalDefs.watchConfig, true);
  }
  assert.equal(parse('global_defs {\n keepalived_ts_watch_config off\n}\n').config.globalDefs.watchConfig, false);
  for (const bad of ['9650', '127.0.0.1:0', '127.0.0.1:70000', 'host:port', '2001:db8::1:80']) {
    const r = parse(`global_defs {\n keepalived_ts_status_listen ${bad}\n}\n`);
    const d = find(r, /^keepalived_ts_status_listen '.*' invalid/);
    assert.ok(d, bad);
    assert.equal(d.category, 'invalid-value');
    assert.equal(d.line, 2);
    assert.equal(r.config.globalDefs.statusListen, undefined, bad);
  }
  const maybe = parse('global_defs {\n keepalived_ts_watch_config maybe\n}\n');
  assert.ok(find(maybe, /^invalid boolean 'maybe'/));
});

test('resolveScript: a bare name is looked up in PATH, a path is taken as it is', () => {
  const files = new Set(['/opt/b/tool', '/usr/bin/killall', '/scripts/x.sh']);
  const opts = { fileExists: (p: string) => files.has(p), searchPath: '/opt/a:/opt/b/' };
  assert.equal(resolveScript('tool', opts), '/opt/b/tool');
  assert.equal(resolveScript('killall', opts), undefined, 'not in this PATH');
  assert.equal(resolveScript('killall', { ...opts, searchPath: '/usr/bin' }), '/usr/bin/killall');
  assert.equal(resolveScript('/scripts/x.sh', opts), '/scripts/x.sh');
  assert.equal(resolveScript('/scripts/y.sh', opts), undefined);
  assert.equal(resolveScript('./tool', opts), undefined, 'a relative path is not searched');
  assert.equal(resolveScript('', opts), undefined);
});

test('script security: a bare command found in PATH counts; the violation names the vrrp_script line', () => {
  const text = '\nvrrp_script chk {\n script "killall -0 sshd"\n}\n' + vi('A', ' track_script {\n  chk\n }');
  const exists = (p: string): boolean => p === '/usr/bin/killall';
  const found = parse(text, { fileExists: exists, searchPath: '/usr/local/bin:/usr/bin' });
  const d = find(found, /^SECURITY VIOLATION - scripts are being executed but script_security not enabled\.$/);
  assert.ok(d);
  assert.equal(d.category, 'security');
  assert.equal(d.file, 'k.conf');
  assert.equal(d.line, 2);
  assert.equal(exit(found), 6);
  // not in PATH: keepalived disables the script instead (no security verdict)
  const missing = parse(text, { fileExists: exists, searchPath: '/nowhere' });
  assert.equal(find(missing, /SECURITY VIOLATION/), undefined);
  // enable_script_security: no violation
  const secure = parse('global_defs {\n enable_script_security\n}\n' + text, { fileExists: exists, searchPath: '/usr/bin' });
  assert.equal(find(secure, /SECURITY VIOLATION/), undefined);
});

test('a notify script is named at its own line', () => {
  const r = parse(vi('A', ' notify_master "/etc/kts/up.sh"'), { fileExists: (p) => p === '/etc/kts/up.sh' });
  const d = find(r, /^SECURITY VIOLATION/);
  assert.ok(d);
  assert.equal(d.line, 4);
});

test('a vrrp_script whose program cannot be found is disabled (tracked or not), except the "</dev/tcp/..." idiom', () => {
  const text = (cmd: string, track: boolean): string =>
    `vrrp_script chk {\n script "${cmd}"\n}\n` + vi('A', track ? ' track_script {\n  chk\n }' : ' priority 100');
  const opts: ParseOptions = { fileExists: (p) => p === '/usr/bin/killall' || p === '/etc/kts/chk.sh', searchPath: '/usr/bin' };
  for (const [cmd, track] of [
    ['/nonexistent/chk.sh', true],
    ['/nonexistent/chk.sh', false],
    ['nosuchcmd -x', true],
    ['<nosuch', true],
    ['nosuch/dir/x', true],
  ] as const) {
    const r = parse(text(cmd, track), opts);
    const d = find(r, /^Disabling track script chk since not found\/accessible$/);
    assert.ok(d, cmd);
    assert.equal(d.line, 1);
    assert.equal(exit(r), 5, cmd);
  }
  for (const cmd of ['</dev/tcp/127.0.0.1/80', 'killall -0 sshd', '/etc/kts/chk.sh']) {
    const r = parse('global_defs {\n enable_script_security\n script_user root\n}\n' + text(cmd, true), opts);
    assert.equal(find(r, /^Disabling/), undefined, cmd);
    assert.equal(exit(r), 0, `${cmd}: ${JSON.stringify(r.diagnostics)}`);
  }
});

test('enable_script_security without script_user: keepalived_script must exist, else scripts without a user are refused', () => {
  const text =
    'global_defs {\n enable_script_security\n}\nvrrp_script chk {\n script "/bin/true"\n}\n' +
    vi('A', ' track_script {\n  chk\n }\n notify_master "/bin/true"\n notify_backup "/bin/true" nobody');
  const base: ParseOptions = { fileExists: (p) => p === '/bin/true' };
  const missing = parse(text, { ...base, userExists: () => false });
  const lines = missing.diagnostics
    .filter((d) => d.message === 'Unable to set default user keepalived_script for script')
    .map((d) => d.line)
    .sort((a, b) => a - b);
  assert.deepEqual(lines, [6, 13], 'the vrrp_script closing line and notify_master; not notify_backup (own user)');
  assert.ok(find(missing, /^Unable to set default user for vrrp script chk - removing$/));
  assert.equal(missing.config.vrrpScripts.length, 0);
  assert.ok(find(missing, /^\(A\) track script chk not found, ignoring\.\.\.$/));
  assert.equal(exit(missing), 5);
  const present = parse(text, { ...base, userExists: (u) => u === 'keepalived_script' });
  assert.equal(find(present, /Unable to set default user/), undefined);
  assert.equal(present.config.vrrpScripts.length, 1);
  const withUser = parse(text.replace(' enable_script_security\n', ' enable_script_security\n script_user root\n'), {
    ...base,
    userExists: () => false,
  });
  assert.equal(find(withUser, /Unable to set default user/), undefined);
  const noSecurity = parse(text.replace(' enable_script_security\n', ''), { ...base, userExists: () => false });
  assert.equal(find(noSecurity, /Unable to set default user/), undefined, 'without enable_script_security root is used silently');
});

test('GARP delays and repeats: the ranges and wording keepalived 2.2.7 uses', () => {
  const g = (kw: string): ParseResult => parse(`global_defs {\n ${kw}\n}\n` + vi('A', ' priority 100'));
  const ok = g('vrrp_garp_master_delay 1000');
  assert.equal(exit(ok), 0);
  assert.equal(ok.config.globalDefs.vrrpGarpMasterDelayS, 1000);
  assert.equal(ok.config.vrrpInstances[0]!.garpMasterDelayMs, 1_000_000, 'inherited by the instance');
  const big = g('vrrp_garp_master_delay 5000');
  assert.ok(find(big, /^number '5000' outside range \[0, 4294\]$/));
  assert.ok(find(big, /^vrrp_garp_master_delay '5000' invalid - ignoring$/));
  assert.equal(big.config.globalDefs.vrrpGarpMasterDelayS, 5, 'the default stays');
  assert.equal(g('vrrp_garp_lower_prio_delay 256').config.globalDefs.vrrpGarpLowerPrioDelayS, 256);
  const zero = g('vrrp_garp_master_repeat 0');
  assert.ok(find(zero, /^vrrp_garp_master_repeat must be greater than 0, setting to 1$/));
  assert.equal(zero.config.globalDefs.vrrpGarpMasterRepeat, 1);
  assert.equal(exit(zero), 5);
  assert.ok(find(g('vrrp_garp_master_repeat -1'), /^negative number '-1'$/));
  assert.ok(find(g('vrrp_garp_master_repeat 5000000000'), /^number '5000000000' outside unsigned integer range$/));
  assert.ok(find(g('vrrp_garp_lower_prio_repeat 5000000000'), /^Invalid vrrp_garp_lower_prio_repeat '5000000000'$/));
  assert.equal(exit(g('vrrp_garp_lower_prio_repeat 0')), 0);
  const inst = parse(vi('A', ' garp_master_repeat 300\n garp_master_delay 4294'));
  assert.equal(exit(inst), 0);
  assert.equal(inst.config.vrrpInstances[0]!.garpMasterRepeat, 300);
  assert.equal(inst.config.vrrpInstances[0]!.garpMasterDelayMs, 4_294_000);
  const bad = parse(vi('A', ' garp_master_repeat 0\n garp_master_delay -1'));
  assert.ok(find(bad, /^\(A\): garp_master_repeat must be greater than 0, setting to 1$/));
  assert.ok(find(bad, /^\(A\): garp_master_delay '-1' invalid - ignoring$/));
  assert.equal(bad.config.vrrpInstances[0]!.garpMasterRepeat, 1);
});

test('checker scripts have their own SECURITY VIOLATION wording ("check scripts"), as keepalived\'s checker process', () => {
  const text = vs(' lb_algo rr\n lb_kind DR', '  MISC_CHECK {\n   misc_path "/bin/true"\n  }') + vi('A', ' notify_master "/bin/true"');
  const r = parse(text, { fileExists: (p) => p === '/bin/true' });
  const check = find(r, /^SECURITY VIOLATION - check scripts are being executed but script_security not enabled\.$/);
  const vrrp = find(r, /^SECURITY VIOLATION - scripts are being executed but script_security not enabled\.$/);
  assert.ok(check);
  assert.equal(check.line, 8);
  assert.ok(vrrp);
  assert.equal(vrrp.line, 15);
  assert.equal(exit(r), 6);
  const onlyCheck = parse(vs(' lb_algo rr\n lb_kind DR', '  MISC_CHECK {\n   misc_path "/bin/true"\n  }'), {
    fileExists: (p) => p === '/bin/true',
  });
  assert.equal(find(onlyCheck, /^SECURITY VIOLATION - scripts/), undefined);
});

test("MISC_CHECK under enable_script_security without keepalived_script: refused at the block's closing line, checker removed", () => {
  const text =
    'global_defs {\n enable_script_security\n}\n' + vs(' lb_algo rr\n lb_kind DR', '  MISC_CHECK {\n   misc_path "/bin/true"\n  }');
  const r = parse(text, { fileExists: (p) => p === '/bin/true', userExists: () => false });
  const d = find(r, /^Unable to set default user for misc script '\/bin\/true' - removing$/);
  assert.ok(d);
  assert.equal(d.line, 12);
  assert.equal(find(r, /^Unable to set default user keepalived_script for script$/)?.line, 12);
  assert.deepEqual(r.config.virtualServers[0]!.realServers[0]!.checkers, []);
  assert.equal(exit(r), 5);
  // its own user (keyword `user`, which may follow misc_path) needs no default user
  const own = parse(text.replace('misc_path "/bin/true"\n', 'misc_path "/bin/true"\n   user nobody\n'), {
    fileExists: (p) => p === '/bin/true',
    userExists: () => false,
  });
  assert.equal(find(own, /Unable to set default user/), undefined);
  assert.equal(own.config.virtualServers[0]!.realServers[0]!.checkers.length, 1);
  // a MISC_CHECK running as another user is not a root script: no security violation
  const noSec = parse(
    text.replace(' enable_script_security\n', '').replace('misc_path "/bin/true"\n', 'misc_path "/bin/true"\n   user nobody\n'),
    { fileExists: (p) => p === '/bin/true' },
  );
  assert.equal(find(noSec, /SECURITY VIOLATION/), undefined);
});
