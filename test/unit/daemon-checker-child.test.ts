// The checker child's command line and files (src/daemon/checker-child.ts): the parent's LVS-side
// flags pass on, the VRRP-only ones and --status-listen do not; the CLI reads them back as -C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerChildArgs, checkerPidFile } from '../../src/daemon/checker-child.js';
import { parseCliArgs } from '../../src/cli/args.js';

test("checker child: pid file beside the main one, keepalived's checkers naming", () => {
  assert.equal(checkerPidFile('/run/keepalived-ts.pid'), '/run/keepalived-ts_checkers.pid');
  assert.equal(checkerPidFile('/tmp/x'), '/tmp/x_checkers');
});

test("checker child: its arguments parse as -n -C with the parent's logging, -I, umask and files", () => {
  const args = checkerChildArgs({
    configFile: '/etc/k.conf',
    configId: 'lb01',
    pidFile: '/run/k_checkers.pid',
    statusSocket: '/run/k_checkers.sock',
    logConsole: true,
    logDetail: true,
    dontReleaseIpvs: true,
    logJson: true,
    logFacility: 21,
    noSyslog: true,
    logFile: '/var/log/k.log',
    umask: 0o27,
    dataDir: '/var/tmp',
    notifyTimeoutS: 7,
  });
  const r = parseCliArgs(args);
  assert.ok(r.ok);
  const o = r.options;
  assert.deepEqual(
    [o.action, o.dontFork, o.checkOnly, o.vrrpOnly, o.configFile, o.configId, o.pidFile, o.statusSocket, o.statusListen],
    ['run', true, true, false, '/etc/k.conf', 'lb01', '/run/k_checkers.pid', '/run/k_checkers.sock', undefined],
  );
  assert.deepEqual(
    [o.logConsole, o.logDetail, o.dontReleaseIpvs, o.json, o.logFacility, o.noSyslog, o.logFile, o.umask, o.dataDir, o.notifyTimeoutS],
    [true, true, true, true, 21, true, '/var/log/k.log', 0o27, '/var/tmp', 7],
  );
  assert.deepEqual(o.warnings, []);
  const plain = parseCliArgs(
    checkerChildArgs({ configFile: '/k', configId: 'h', pidFile: '/p', statusSocket: '/s', logConsole: false, logDetail: false }),
  );
  assert.ok(plain.ok);
  assert.deepEqual(
    [plain.options.logConsole, plain.options.noSyslog, plain.options.logFile, plain.options.umask],
    [false, false, undefined, undefined],
  );
});
