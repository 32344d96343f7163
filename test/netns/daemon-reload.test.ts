// SIGHUP reload in a real kernel: unchanged instances are untouched (no advert gap, no address
// removed, no state change, no notify), a changed instance is updated without a flap, a broken
// file keeps the old configuration running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Lab, waitFor } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const N = 20;

function config(opts: { prio?: (i: number) => number; extraVip?: number; drop?: number; notify: string }): string {
  let s = 'global_defs {\n  router_id reload_test\n}\n';
  for (let i = 1; i <= N; i++) {
    if (opts.drop === i) continue;
    s += `vrrp_instance VI_${i} {\n  interface vnet0\n  virtual_router_id ${i}\n  priority ${opts.prio?.(i) ?? 150}\n  advert_int 1\n`;
    s += `  notify ${opts.notify}\n  virtual_ipaddress {\n    203.0.113.${i}/24\n`;
    if (opts.extraVip === i) s += `    198.51.100.${i}/24\n`;
    s += '  }\n}\n';
  }
  return s;
}

interface Node {
  proc: ChildProcess;
  log: () => string;
}

function startNode(lab: Lab, ns: string, conf: string, dir: string): Node {
  const proc = lab.spawn(ns, [process.execPath, cli, '-f', conf, '-n', '-l', '-p', join(dir, 'kts.pid')]);
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  proc.stdout!.resume();
  return { proc, log: () => log };
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

test('reload: 100 reloads of an unchanged configuration with 20 Master instances change nothing; one changed instance leaves the other 19 untouched; a broken file is refused', {
  timeout: 120_000,
}, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-reload-'));
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const notifyLog = join(dir, 'notify.log');
    const notify = join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$@" >> ${notifyLog}\n`);
    chmodSync(notify, 0o755);
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, config({ notify }));
    const node = startNode(lab, h.ns, conf, dir);
    const allVips = () => lab.addressesOf('n1').filter((a) => a.startsWith('203.0.113.')).length;
    assert.ok(await waitFor(() => allVips() === N, 20_000, 100), `all ${N} instances become Master:\n${node.log()}`);
    assert.ok(
      await waitFor(() => existsSync(notifyLog) && count(readFileSync(notifyLog, 'utf8'), /MASTER/g) === N, 10_000, 100),
      'one notify MASTER per instance',
    );

    // Watch the wire and the kernel while reloading.
    const capture = lab.spawn(h.ns, ['tcpdump', '-l', '-n', '-tt', '-i', 'vnet0', 'ip proto 112']);
    let wire = '';
    capture.stdout!.on('data', (c: Buffer) => {
      wire += c.toString();
    });
    capture.stderr!.resume();
    const monitor = lab.spawn(h.ns, ['ip', 'monitor', 'address']);
    let kernel = '';
    monitor.stdout!.on('data', (c: Buffer) => {
      kernel += c.toString();
    });
    await new Promise((r) => setTimeout(r, 1500));
    const notifyBefore = readFileSync(notifyLog, 'utf8');
    const entering = count(node.log(), /Entering/g);

    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      node.proc.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 60));
    }
    assert.ok(await waitFor(() => count(node.log(), /Reload done/g) >= 1, 10_000), 'reloads happen');
    await new Promise((r) => setTimeout(r, 1500));
    const reloadMs = Date.now() - t0;

    // adverts: per VRID, no gap longer than advert_int + slack while reloading
    const times = new Map<number, number[]>();
    for (const line of wire.split('\n')) {
      const m = /^(\d+\.\d+) IP 192\.0\.2\.11 > 224\.0\.0\.18: VRRPv2, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
      if (!m) continue;
      const list = times.get(Number(m[2])) ?? [];
      list.push(Number(m[1]) * 1000);
      times.set(Number(m[2]), list);
    }
    assert.equal(times.size, N, `adverts seen for every VRID (${times.size}):\n${wire.slice(0, 3000)}`);
    let worst = 0;
    for (const [, ts] of times) for (let i = 1; i < ts.length; i++) worst = Math.max(worst, ts[i]! - ts[i - 1]!);
    assert.ok(worst <= 1000 + 300, `largest advert gap ${worst.toFixed(0)} ms during ${reloadMs} ms of reloads`);
    assert.doesNotMatch(kernel, /Deleted/, 'no address removed');
    assert.equal(count(node.log(), /Entering/g), entering, 'no state change');
    assert.equal(readFileSync(notifyLog, 'utf8'), notifyBefore, 'no notify');
    assert.match(node.log(), /Reload done in [\d.]+ ms: 20 unchanged, 0 changed/);

    // One instance changed (priority and an extra VIP): the other 19 untouched, no flap of its VIP.
    kernel = '';
    writeFileSync(conf, config({ notify, prio: (i) => (i === 7 ? 160 : 150), extraVip: 7 }));
    node.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /19 unchanged, 1 changed \(VI_7\)/.test(node.log()), 10_000), `one changed:\n${node.log().slice(-2000)}`);
    assert.ok(await waitFor(() => lab.addressesOf('n1').includes('198.51.100.7'), 5000), 'the added VIP appears');
    assert.doesNotMatch(kernel, /Deleted/, 'no address removed by the change');
    assert.equal(allVips(), N);
    assert.equal(readFileSync(notifyLog, 'utf8'), notifyBefore, 'no notify: VI_7 stays MASTER');

    // Removing an instance releases its address; a broken file is refused with its line.
    writeFileSync(conf, config({ notify, prio: (i) => (i === 7 ? 160 : 150), extraVip: 7, drop: 20 }));
    node.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => !lab.addressesOf('n1').includes('203.0.113.20'), 5000), 'removed instance releases its VIP');
    writeFileSync(conf, config({ notify }) + 'vrrp_instance BROKEN {\n  virtual_router_id 300\n');
    node.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => /Reload aborted/.test(node.log()), 5000), 'broken file refused');
    assert.match(node.log(), /keepalived\.conf:\d+(:\d+)?: error:/, 'error names file and line');
    assert.equal(allVips(), N - 1, 'still running the previous configuration');

    node.proc.kill('SIGTERM');
    assert.ok(await waitFor(() => node.proc.exitCode !== null, 10_000), 'stops on SIGTERM');
    assert.equal(node.proc.exitCode, 0);
    assert.equal(allVips(), 0, 'no VIP left after stop');
  } finally {
    await lab.cleanup();
  }
});

test('reload: keepalived_ts_watch_config (as --watch-config) reloads when the file (or an included one) changes, through the SIGHUP path', {
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-watch-'));
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const conf = join(dir, 'keepalived.conf');
    const inc = join(dir, 'vips.conf');
    writeFileSync(inc, '    203.0.113.1/24\n');
    // the keyword (global_defs) instead of --watch-config
    writeFileSync(
      conf,
      `global_defs {\n  keepalived_ts_watch_config\n}\nvrrp_instance VI_1 {\n  interface vnet0\n  virtual_router_id 9\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    include ${inc}\n  }\n}\n`,
    );
    const proc = lab.spawn(h.ns, [process.execPath, cli, '-f', conf, '-n', '-l', '-p', join(dir, 'kts.pid')]);
    let log = '';
    proc.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    proc.stdout!.resume();
    assert.ok(await waitFor(() => lab.addressesOf('n1').includes('203.0.113.1'), 15_000, 100), `Master:\n${log}`);
    assert.match(log, /watching 2 configuration file\(s\)/);
    writeFileSync(inc, '    203.0.113.1/24\n    203.0.113.2/24\n');
    assert.ok(
      await waitFor(() => lab.addressesOf('n1').includes('203.0.113.2'), 10_000, 100),
      `the included file's change is applied:\n${log}`,
    );
    assert.match(log, /Reloading configuration \(configuration file changed\)/);
    assert.equal(count(log, /Entering MASTER STATE/g), 1, 'no state change');
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
