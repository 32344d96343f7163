// vrrp_/checker_ priority, rt_priority, rlimit_rttime: parsed with keepalived 2.2.7's words and
// verdicts (each case measured with `keepalived -t -l -f FILE`), and which process takes which
// (src/daemon/sched.ts; test/netns/daemon-checker-child checks them applied in /proc); the -C
// process logs as keepalived's checker process (Keepalived_healthcheckers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configTestExitCode } from '../../src/cli/exit-codes.js';
import { parseConfigText } from '../../src/config/index.js';
import { daemonLogOptions, type DaemonOptions } from '../../src/daemon/index.js';
import { schedWanted } from '../../src/daemon/sched.js';
import { hasVrrpPart, LazyVrrp } from '../../src/daemon/vrrp-side.js';

const parse = (g: string) =>
  parseConfigText(
    `global_defs {\n  ${g}\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 5\n priority 100\n virtual_ipaddress { 192.0.2.1 }\n}\n`,
    'k.conf',
    { configId: 'x', fileExists: () => false },
  );

test('priority keywords: values, messages and -t exit codes as keepalived 2.2.7', () => {
  const ok = parse(
    'vrrp_priority -5\n  checker_priority 10\n  vrrp_rt_priority 50\n  checker_rt_priority 2\n  vrrp_rlimit_rttime 20000\n  checker_rlimit_rttime 1',
  );
  assert.deepEqual(ok.diagnostics, []);
  assert.equal(configTestExitCode(ok.diagnostics), 0, '-t accepts them');
  const g = ok.config.globalDefs;
  assert.deepEqual(schedWanted(g, 'vrrp'), { nice: -5, rtPriority: 50, rlimitRttimeUs: 20000 });
  assert.deepEqual(schedWanted(g, 'checker'), { nice: 10, rtPriority: 2, rlimitRttimeUs: 1 });
  assert.equal(g.other.vrrp_priority, undefined, 'typed, not kept raw');
  const cases: [string, string[], number, number | undefined][] = [
    ['vrrp_priority 30', ["number '30' outside range [-20, 19]", 'Invalid vrrp process priority specified'], 5, undefined],
    ['checker_priority abc', ["invalid number 'abc'", 'Invalid checker process priority specified'], 5, undefined],
    ['vrrp_priority', ['No vrrp process priority specified'], 5, undefined],
    ['vrrp_rt_priority 0', ['vrrp process real-time priority 0 less than minimum 1 - setting to minimum'], 5, 1],
    ['vrrp_rt_priority 100', ['vrrp process real-time priority 100 greater than maximum 99 - setting to maximum'], 5, 99],
    ['vrrp_rt_priority abc', ["invalid number 'abc'", "vrrp process real-time priority 'abc' invalid"], 5, undefined],
    ['vrrp_rt_priority', ['No vrrp process real-time priority specified'], 5, undefined],
    ['vrrp_rlimit_rttime 0', ["number '0' outside range [1, 4294967295]", 'Invalid vrrp real-time limit - 0'], 5, undefined],
    ['vrrp_rlimit_rttime -1', ["negative number '-1'", 'Invalid vrrp real-time limit - -1'], 5, undefined],
    [
      'vrrp_rlimit_rttime',
      ['*** Configuration line starting `vrrp_rlimit_rttime` is missing a parameter after keyword `vrrp_rlimit_rttime` at word position 2'],
      2,
      undefined,
    ],
  ];
  for (const [line, messages, code, value] of cases) {
    const r = parse(line);
    assert.deepEqual(
      r.diagnostics.map((d) => d.message),
      messages,
      line,
    );
    assert.ok(
      r.diagnostics.every((d) => d.line === 2),
      line,
    );
    assert.equal(configTestExitCode(r.diagnostics), code, line);
    const w = schedWanted(r.config.globalDefs, 'vrrp');
    assert.equal(line.includes('rt_priority') ? w.rtPriority : line.includes('rlimit') ? w.rlimitRttimeUs : w.nice, value, line);
  }
});

test('-C logs as Keepalived_healthcheckers (syslog tag, console prefix); the other modes as Keepalived_vrrp', () => {
  const o = (x: Partial<DaemonOptions>): DaemonOptions => ({
    configFile: '/k.conf',
    configId: 'x',
    dontFork: true,
    logConsole: true,
    logDetail: false,
    pidFile: '',
    vrrpOnly: false,
    checkOnly: false,
    ...x,
  });
  assert.equal(daemonLogOptions(o({ checkOnly: true }), {}, false).ident, 'Keepalived_healthcheckers');
  assert.equal(daemonLogOptions(o({}), {}, false).ident, undefined, 'the logger default, Keepalived_vrrp');
  assert.equal(daemonLogOptions(o({ vrrpOnly: true }), {}, false).ident, undefined);
});

test('an LVS-only process stands in for the VRRP side until a reload brings a VRRP part', async () => {
  const lvsOnly = parseConfigText('virtual_server 192.0.2.1 80 {\n  real_server 192.0.2.2 80 {\n  }\n}\n', 'k.conf', {
    configId: 'x',
    fileExists: () => false,
  }).config;
  assert.equal(hasVrrpPart(lvsOnly), false);
  assert.equal(hasVrrpPart(parse('').config), true);
  const side = new LazyVrrp(lvsOnly, { log: undefined as never });
  await side.start();
  assert.equal(side.loaded, false, 'daemon.ts not loaded');
  const s = side.snapshot();
  assert.deepEqual([s.pid, s.instances, s.trackers, s.unknownVridPackets], [process.pid, [], [], 0]);
  assert.deepEqual(await side.reload(lvsOnly), { unchanged: [], changed: [], added: [], removed: [] });
  assert.equal(side.reloads.ok, 1);
  side.reloads.failed++;
  assert.equal(side.snapshot().reloads.failed, 1);
  await side.stop();
});
