// The IPVS table manager against a fake kernel (same errors as the real one: EEXIST, ESRCH,
// ENOENT): start, reload (same file: not one write), stop, -I, quorum / sorry server, inhibit,
// adoption of an existing service, groups with ranges. The UML tier runs it on a real kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.js';
import type { KeepalivedConfig } from '../../src/config/model.js';
import { IpvsError, formatTable, type IpvsTableEntry } from '../../src/lvs/ipvs-netlink.js';
import { AF_INET, FWD, PROTO, destKey, serviceKey, type IpvsDest, type IpvsService, type IpvsTimeouts } from '../../src/lvs/ipvs-schema.js';
import { LvsManager, lvsGlobals, type IpvsClient } from '../../src/lvs/table.js';

class FakeIpvs implements IpvsClient {
  table = new Map<string, { service: IpvsService; dests: Map<string, IpvsDest> }>();
  timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  writes: string[] = [];
  async dump(): Promise<IpvsTableEntry[]> {
    return [...this.table.values()].map((e) => ({ service: { ...e.service, flags: e.service.flags | 2 }, dests: [...e.dests.values()] }));
  }
  async flush() {
    this.writes.push('flush');
    this.table.clear();
  }
  async getTimeouts() {
    return { ...this.timeouts };
  }
  async setTimeouts(t: IpvsTimeouts) {
    this.writes.push('timeouts');
    this.timeouts = { tcp: t.tcp || this.timeouts.tcp, tcpFin: t.tcpFin || this.timeouts.tcpFin, udp: t.udp || this.timeouts.udp };
  }
  private svc(s: IpvsService, op: string) {
    const e = this.table.get(serviceKey(s));
    if (!e) throw new IpvsError('ESRCH', op);
    return e;
  }
  async addService(s: IpvsService) {
    this.writes.push(`+S ${serviceKey(s)}`);
    if (this.table.has(serviceKey(s))) throw new IpvsError('EEXIST', 'add');
    this.table.set(serviceKey(s), { service: s, dests: new Map() });
  }
  async editService(s: IpvsService) {
    this.writes.push(`~S ${serviceKey(s)}`);
    this.svc(s, 'edit').service = s;
  }
  async deleteService(s: IpvsService) {
    this.writes.push(`-S ${serviceKey(s)}`);
    this.svc(s, 'del');
    this.table.delete(serviceKey(s));
  }
  async addDest(s: IpvsService, d: IpvsDest) {
    this.writes.push(`+D ${destKey(d)} w${d.weight}`);
    const e = this.svc(s, 'adddest');
    if (e.dests.has(destKey(d))) throw new IpvsError('EEXIST', 'adddest');
    e.dests.set(destKey(d), d);
  }
  async editDest(s: IpvsService, d: IpvsDest) {
    this.writes.push(`~D ${destKey(d)} w${d.weight}`);
    const e = this.svc(s, 'editdest');
    if (!e.dests.has(destKey(d))) throw new IpvsError('ENOENT', 'editdest');
    e.dests.set(destKey(d), d);
  }
  async deleteDest(s: IpvsService, d: Pick<IpvsDest, 'address' | 'port'>) {
    this.writes.push(`-D ${destKey(d)}`);
    if (!this.svc(s, 'deldest').dests.delete(destKey(d))) throw new IpvsError('ENOENT', 'deldest');
  }
  async text() {
    return formatTable(await this.dump());
  }
}

const logs: string[] = [];
const log = {
  info: (m: string) => logs.push(m),
  warn: (m: string) => logs.push(`WARN ${m}`),
  error: (m: string) => logs.push(`ERROR ${m}`),
  debug: () => {},
};

function conf(text: string): KeepalivedConfig {
  const r = parseConfigText(text, 'k.conf', { configId: 'x', fileExists: () => false });
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(
    errs.map((d) => d.message),
    [],
  );
  return r.config;
}

const BASE = `
virtual_server 192.0.2.100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.11 8080 { weight 2 }
  real_server 198.51.100.12 8080 { }
  real_server 198.51.100.13 8080 { inhibit_on_failure }
}
virtual_server 192.0.2.101 8080 {
  lb_algo wrr
  lb_kind DR
  protocol TCP
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  real_server 198.51.100.11 9999 { }
}
virtual_server fwmark 7 {
  lb_algo wlc
  lb_kind TUN
  real_server 198.51.100.21 { }
}
`;
const BASE_TABLE = [
  'FWM 7 inet wlc',
  '  -> 198.51.100.21:0 Tunnel 1',
  'TCP 192.0.2.100:80 rr',
  '  -> 198.51.100.11:8080 Masq 2',
  '  -> 198.51.100.12:8080 Masq 1',
  '  -> 198.51.100.13:8080 Masq 1',
  'TCP 192.0.2.101:8080 wrr persistent 600 mask 24',
  '  -> 198.51.100.11:8080 Route 1',
].join('\n');

test('start programs the table of the config (DR port forced to the VS port, fwmark TUN port 0)', async () => {
  const k = new FakeIpvs();
  const m = new LvsManager(k, log);
  await m.start(conf(BASE));
  assert.equal(await k.text(), BASE_TABLE);
});

test('reload with the same file: not one netlink write; a changed file: only the difference', async () => {
  const k = new FakeIpvs();
  const m = new LvsManager(k, log);
  await m.start(conf(BASE));
  k.writes = [];
  await m.reload(conf(BASE));
  assert.deepEqual(k.writes, []);
  const changed = BASE.replace('real_server 198.51.100.13 8080 { inhibit_on_failure }', 'real_server 198.51.100.15 8080 { }')
    .replace('weight 2', 'weight 3')
    .replace('lb_algo wrr', 'lb_algo lc');
  await m.reload(conf(changed));
  assert.deepEqual(
    k.writes.sort(),
    ['+D 198.51.100.15:8080 w1', '-D 198.51.100.13:8080', '~D 198.51.100.11:8080 w3', '~S TCP 192.0.2.101:8080'].sort(),
  );
  assert.match(await k.text(), /TCP 192\.0\.2\.101:8080 lc persistent 600/);
});

test('a real server that stays keeps its state across reload', async () => {
  const k = new FakeIpvs();
  const m = new LvsManager(k, log);
  const c1 = conf(BASE);
  await m.start(c1);
  const vs = c1.virtualServers[0]!;
  m.setAlive(vs, vs.realServers[1]!, false, 'test');
  await m.idle();
  assert.doesNotMatch(await k.text(), /198\.51\.100\.12:8080/);
  k.writes = [];
  await m.reload(conf(BASE));
  assert.deepEqual(k.writes, [], 'the dead RS stays out, nothing is written');
});

test('stop removes our services, a foreign one survives; -I leaves everything; lvs_flush_on_stop flushes', async () => {
  const foreign: IpvsService = {
    af: AF_INET,
    protocol: PROTO.UDP,
    address: '203.0.113.9',
    port: 53,
    schedName: 'rr',
    flags: 0,
    timeout: 0,
    netmask: 32,
  };
  for (const [opts, extra, expect] of [
    [{}, '', 'UDP 203.0.113.9:53 rr'],
    [{ dontRelease: true }, '', `${BASE_TABLE}\nUDP 203.0.113.9:53 rr`],
    [{}, 'global_defs { lvs_flush_on_stop }\n', ''],
  ] as const) {
    const k = new FakeIpvs();
    await k.addService(foreign);
    const m = new LvsManager(k, log, opts);
    await m.start(conf(extra + BASE));
    await m.stop();
    assert.equal(await k.text(), expect);
  }
});

test('inhibit_on_failure: weight 0 instead of removal, and back', async () => {
  const k = new FakeIpvs();
  const m = new LvsManager(k, log);
  const c = conf(BASE);
  await m.start(c);
  const vs = c.virtualServers[0]!;
  logs.length = 0;
  m.setAlive(vs, vs.realServers[2]!, false, 'test');
  await m.idle();
  assert.match(await k.text(), /198\.51\.100\.13:8080 Masq 0/);
  assert.deepEqual(logs, ['Disabling service [198.51.100.13]:tcp:8080 of VS [192.0.2.100]:tcp:80']);
  m.setAlive(vs, vs.realServers[2]!, true, 'test');
  await m.idle();
  assert.match(await k.text(), /198\.51\.100\.13:8080 Masq 1/);
});

test('quorum lost: the sorry server replaces the pool; regained: the pool comes back', async () => {
  const k = new FakeIpvs();
  const m = new LvsManager(k, log);
  const c = conf(`
virtual_server 192.0.2.102 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  quorum 2
  sorry_server 198.51.100.15 8080
  real_server 198.51.100.11 8080 { }
  real_server 198.51.100.12 8080 { }
}`);
  await m.start(c);
  const vs = c.virtualServers[0]!;
  logs.length = 0;
  m.setAlive(vs, vs.realServers[0]!, false, 'connection refused');
  await m.idle();
  assert.equal(await k.text(), 'TCP 192.0.2.102:80 rr\n  -> 198.51.100.15:8080 Masq 1');
  assert.deepEqual(logs, [
    'Removing service [198.51.100.11]:tcp:8080 from VS [192.0.2.102]:tcp:80',
    'Lost quorum 2-0=2 > 1 for VS [192.0.2.102]:tcp:80',
    'Adding sorry server [198.51.100.15]:tcp:8080 to VS [192.0.2.102]:tcp:80',
    'Removing alive servers from the pool for VS [192.0.2.102]:tcp:80',
  ]);
  assert.deepEqual(m.status().virtualServers[0]!.sorryActive, true);
  logs.length = 0;
  m.setAlive(vs, vs.realServers[0]!, true, 'ok');
  await m.idle();
  assert.equal(await k.text(), 'TCP 192.0.2.102:80 rr\n  -> 198.51.100.11:8080 Masq 1\n  -> 198.51.100.12:8080 Masq 1');
  assert.deepEqual(logs, [
    'Gained quorum 2+0=2 <= 2 for VS [192.0.2.102]:tcp:80',
    'Removing sorry server [198.51.100.15]:tcp:8080 from VS [192.0.2.102]:tcp:80',
    'Adding alive servers to the pool for VS [192.0.2.102]:tcp:80',
  ]);
});

test('start adopts an existing service of ours and corrects it (scheduler, weight, stale dest)', async () => {
  const k = new FakeIpvs();
  const svc: IpvsService = {
    af: AF_INET,
    protocol: PROTO.TCP,
    address: '192.0.2.100',
    port: 80,
    schedName: 'wlc',
    flags: 0,
    timeout: 0,
    netmask: 32,
  };
  await k.addService(svc);
  await k.addDest(svc, { address: '198.51.100.11', port: 8080, fwdMethod: FWD.MASQ, weight: 5, uThreshold: 0, lThreshold: 0 });
  await k.addDest(svc, { address: '198.51.100.99', port: 8080, fwdMethod: FWD.MASQ, weight: 1, uThreshold: 0, lThreshold: 0 });
  const m = new LvsManager(k, log);
  await m.start(conf(BASE));
  assert.equal(await k.text(), BASE_TABLE);
});

test('virtual_server_group: one service per address of a range, fwmark entries, shared RS list', async () => {
  const k = new FakeIpvs();
  const m = new LvsManager(k, log);
  await m.start(
    conf(`
virtual_server_group G {
  192.0.2.10-12 80
  fwmark 9
}
virtual_server group G {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.11 80 { weight 4 }
}`),
  );
  assert.equal(
    await k.text(),
    [
      'FWM 9 inet rr',
      '  -> 198.51.100.11:80 Masq 4',
      'TCP 192.0.2.10:80 rr',
      '  -> 198.51.100.11:80 Masq 4',
      'TCP 192.0.2.11:80 rr',
      '  -> 198.51.100.11:80 Masq 4',
      'TCP 192.0.2.12:80 rr',
      '  -> 198.51.100.11:80 Masq 4',
    ].join('\n'),
  );
});

test('lvs globals: lvs_flush, lvs_timeouts (restored at stop)', async () => {
  const c = conf(`global_defs {\n lvs_flush\n lvs_timeouts tcp 7200 udp 60\n}\n${BASE}`);
  assert.deepEqual(lvsGlobals(c), { flush: true, flushOnStop: 'no', timeouts: { tcp: 7200, tcpFin: 0, udp: 60 } });
  const k = new FakeIpvs();
  await k.addService({
    af: AF_INET,
    protocol: PROTO.UDP,
    address: '203.0.113.9',
    port: 53,
    schedName: 'rr',
    flags: 0,
    timeout: 0,
    netmask: 32,
  });
  const m = new LvsManager(k, log);
  await m.start(c);
  assert.equal(await k.text(), BASE_TABLE, 'lvs_flush removed the foreign service');
  assert.deepEqual(k.timeouts, { tcp: 7200, tcpFin: 120, udp: 60 });
  await m.stop();
  assert.deepEqual(k.timeouts, { tcp: 900, tcpFin: 120, udp: 300 });
});

test('LvsRunner: a kernel without IPVS is one clear line, status says unavailable, the sink is harmless', async () => {
  const { LvsRunner } = await import('../../src/lvs/index.js');
  logs.length = 0;
  const r = new LvsRunner(log, {
    open: async () => {
      throw new IpvsError('ENOIPVS', 'resolve generic netlink family IPVS', 'the kernel has no IPVS');
    },
  });
  const c = conf(BASE);
  await r.start(c);
  assert.deepEqual(logs, ['ERROR IPVS is not available: the kernel has no IPVS; LVS is disabled, VRRP keeps running']);
  assert.equal(r.status().state, 'unavailable');
  r.sink.setAlive(c.virtualServers[0]!, c.virtualServers[0]!.realServers[0]!, false, 'x');
  await r.reload(c);
  await r.stop();
  assert.equal(new LvsRunner(log).status().state, 'off');
});

test('LvsRunner: runs the manager on the kernel it opens; stop during start leaves nothing behind', async () => {
  const { LvsRunner } = await import('../../src/lvs/index.js');
  const k = new FakeIpvs();
  const r = new LvsRunner(log, {
    open: async () => Object.assign(k, { close: () => undefined, info: async () => ({ version: '1.2.1' }) }),
  });
  await r.start(conf(BASE));
  assert.equal(r.status().state, 'running');
  assert.equal(r.status().version, '1.2.1');
  assert.equal(r.status().virtualServers.length, 3);
  assert.ok(r.status().virtualServers[0]!.realServers.every((x) => x.alive && x.inTable));
  await r.stop();
  assert.equal(await k.text(), '');
  const k2 = new FakeIpvs();
  const r2 = new LvsRunner(log, {
    open: async () => {
      await new Promise((res) => setTimeout(res, 20));
      return Object.assign(k2, { close: () => undefined });
    },
  });
  const s = r2.start(conf(BASE));
  await r2.stop();
  await s;
  assert.equal(await k2.text(), '');
});

test('keepalived-ts status prints the LVS part of the snapshot', async () => {
  const { formatStatusTable } = await import('../../src/cli/status.js');
  const { LvsRunner } = await import('../../src/lvs/index.js');
  const k = new FakeIpvs();
  const r = new LvsRunner(log, {
    open: async () => Object.assign(k, { close: () => undefined, info: async () => ({ version: '1.2.1' }) }),
  });
  const c = conf(BASE);
  await r.start(c);
  r.sink.setAlive(c.virtualServers[0]!, c.virtualServers[0]!.realServers[1]!, false, 'test');
  await r.manager!.idle();
  const snap = {
    pid: 1,
    startedAtMs: 0,
    instances: [],
    trackers: [],
    notify: { queued: 0, ran: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, spawnErrors: 0 },
    reloads: { ok: 0, failed: 0, lastMs: 0, lastDurationMs: 0 },
    unknownVridPackets: 0,
    lvs: r.status(),
  };
  const text = formatStatusTable(snap, 0);
  assert.match(text, /LVS: IPVS 1\.2\.1/);
  assert.match(text, /\[192\.0\.2\.100\]:tcp:80 {2}quorum up \(3\/1\)/);
  assert.match(text, /\[198\.51\.100\.12\]:tcp:8080 {2}down {2}weight 1 {2}not in table/);
  await r.stop();
});

test('quorum_up / quorum_down run on each quorum transition', async () => {
  const { LvsRunner } = await import('../../src/lvs/index.js');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'kts-lvs-'));
  try {
    const out = join(dir, 'q');
    const c = conf(`
virtual_server 192.0.2.102 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  quorum 2
  quorum_up "/bin/sh -c 'echo up >> ${out}'"
  quorum_down "/bin/sh -c 'echo down >> ${out}'"
  real_server 198.51.100.11 8080 { }
  real_server 198.51.100.12 8080 { }
}`);
    const k = new FakeIpvs();
    const r = new LvsRunner(log, { open: async () => Object.assign(k, { close: () => undefined }) });
    await r.start(c);
    const vs = c.virtualServers[0]!;
    r.sink.setAlive(vs, vs.realServers[0]!, false, 'x');
    await r.scriptsIdle();
    r.sink.setAlive(vs, vs.realServers[1]!, false, 'x');
    r.sink.setAlive(vs, vs.realServers[0]!, true, 'x');
    r.sink.setAlive(vs, vs.realServers[1]!, true, 'x');
    await r.scriptsIdle();
    assert.equal(readFileSync(out, 'utf8'), 'down\nup\n');
    await r.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the SIGUSR1 data dump has an LVS section', async () => {
  const { formatData } = await import('../../src/daemon/status.js');
  const { LvsRunner } = await import('../../src/lvs/index.js');
  const k = new FakeIpvs();
  const r = new LvsRunner(log, { open: async () => Object.assign(k, { close: () => undefined }) });
  await r.start(conf(BASE));
  const snap = {
    pid: 1,
    startedAtMs: 0,
    instances: [],
    trackers: [],
    notify: { queued: 0, ran: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, spawnErrors: 0 },
    reloads: { ok: 0, failed: 0, lastMs: 0, lastDurationMs: 0 },
    unknownVridPackets: 0,
    lvs: r.status(),
  };
  const text = formatData(snap);
  assert.match(text, /------< LVS Topology >------/);
  assert.match(text, / VS = FWM 7\n {3}Services = FWM 7 inet\n/);
  assert.match(text, / {3}RS = \[198\.51\.100\.13\]:tcp:8080, up, weight 1, in table/);
  await r.stop();
});
