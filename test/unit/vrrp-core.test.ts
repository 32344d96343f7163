import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  VrrpCore,
  VrrpConfigError,
  coreConfig,
  masterDownIntervalMs,
  skewTimeMs,
  clampPriority,
  type VrrpCoreConfig,
  type VrrpDecision,
} from '../../src/vrrp/core.js';
import { compareAddresses, parseIPv6 } from '../../src/util/ip.js';
import type { ReceivedAdvert } from '../../src/vrrp/types.js';

const VIPS = ['203.0.113.10'];

function cfg(over: Partial<VrrpCoreConfig> = {}): VrrpCoreConfig {
  return coreConfig({ name: 'VI_1', vrid: 51, priority: 100, primaryAddress: '192.0.2.1', virtualAddresses: VIPS, ...over });
}

function adv(priority: number, src = '192.0.2.2', over: { intervalCs?: number; vrid?: number; version?: 2 | 3 } = {}): ReceivedAdvert {
  const version = over.version ?? (src.includes(':') ? 3 : 2);
  return {
    family: src.includes(':') ? 6 : 4,
    srcAddress: src,
    advert: {
      version,
      type: 1,
      vrid: over.vrid ?? 51,
      priority,
      advertIntervalCs: over.intervalCs ?? 100,
      addresses: VIPS,
      checksum: 0,
    },
  };
}

const kinds = (d: VrrpDecision[]) => d.map((x) => x.kind);
const find = <K extends VrrpDecision['kind']>(d: VrrpDecision[], k: K) =>
  d.filter((x): x is Extract<VrrpDecision, { kind: K }> => x.kind === k);
const logs = (d: VrrpDecision[]) => find(d, 'log').map((l) => l.message);

/** A Backup started at t=0. */
function backup(over: Partial<VrrpCoreConfig> = {}): VrrpCore {
  const c = new VrrpCore(cfg(over));
  c.handle({ type: 'startup', nowMs: 0 });
  return c;
}
/** A Master: started at 0, Master_Down_Timer expired. */
function master(over: Partial<VrrpCoreConfig> = {}): VrrpCore {
  const c = backup(over);
  const at = c.timerAt('masterDown')!;
  c.handle({ type: 'timerExpired', nowMs: at, timer: 'masterDown' });
  assert.equal(c.state, 'MASTER');
  return c;
}

test('RFC 3768 6.1: v2 Skew_Time = (256-Priority)/256 s and Master_Down_Interval = 3 x Adver_Int + Skew', () => {
  assert.equal(skewTimeMs(2, 100, 100), 609.375);
  assert.equal(masterDownIntervalMs(2, 100, 100), 3609.375);
  // v2 skew does not scale with the interval
  assert.equal(masterDownIntervalMs(2, 100, 300), 9609.375);
  assert.equal(skewTimeMs(2, 255, 100), 3.90625);
});

test('RFC 5798 6.1: v3 Skew_Time = ((256-Priority) x Master_Adver_Interval)/256 cs (to the microsecond, as keepalived)', () => {
  assert.equal(skewTimeMs(3, 100, 100), 609.375); // 156*100/256 = 60.9375 cs
  assert.equal(masterDownIntervalMs(3, 100, 100), 3609.375);
  assert.equal(skewTimeMs(3, 200, 50), 109.375); // 56*50/256 = 10.9375 cs
  assert.equal(masterDownIntervalMs(3, 200, 50), 1609.375);
  assert.equal(skewTimeMs(3, 100, 1), 6.093); // 6093.75 us, floored to the microsecond
});

test('keepalived down_timer_adverts replaces the 3 in Master_Down_Interval', () => {
  assert.equal(masterDownIntervalMs(3, 100, 100, 5), 5609.375);
  const c = backup({ downTimerAdverts: 1, version: 3 });
  assert.equal(c.timerAt('masterDown'), 1000 + 609.375);
});

test('RFC 5798 6.4.1: a non-owner starts as Backup with Master_Down_Timer = Master_Down_Interval', () => {
  const c = new VrrpCore(cfg());
  const d = c.handle({ type: 'startup', nowMs: 1000 });
  assert.equal(c.state, 'BACKUP');
  assert.deepEqual(find(d, 'armTimer'), [{ kind: 'armTimer', timer: 'masterDown', atMs: 1000 + 3609.375 }]);
  assert.ok(logs(d).includes('(VI_1) Entering BACKUP STATE (init)'));
  assert.deepEqual(find(d, 'notify'), [{ kind: 'notify', state: 'BACKUP', priority: 100 }]);
  assert.equal(find(d, 'sendAdvert').length, 0);
});

test('keepalived: state MASTER does not skip the Master_Down_Interval wait (measured on 2.2.7)', () => {
  const c = backup({ initialState: 'MASTER' });
  assert.equal(c.state, 'BACKUP');
  assert.equal(c.timerAt('masterDown'), 3609.375);
});

test('RFC 5798 6.4.1: the address owner (priority 255) becomes Master at once, sends an advert and announces', () => {
  const c = new VrrpCore(cfg({ priority: 255 }));
  const d = c.handle({ type: 'startup', nowMs: 0 });
  assert.equal(c.state, 'MASTER');
  assert.deepEqual(
    kinds(d).filter((k) => k !== 'log'),
    ['stateChanged', 'addAddresses', 'sendAdvert', 'announce', 'armTimer', 'armTimer', 'notify'],
  );
  assert.equal(find(d, 'sendAdvert')[0]!.priority, 255);
  assert.ok(logs(d).includes('(VI_1) Entering MASTER STATE'));
  assert.equal(c.timerAt('advert'), 1000);
});

test('RFC 5798 6.4.2: Master_Down_Timer expiry makes the Backup Master: VIPs, advert, GARP burst, advert timer', () => {
  const c = backup({ garpMasterRepeat: 3 });
  const d = c.handle({ type: 'timerExpired', nowMs: 3609.375, timer: 'masterDown' });
  assert.equal(c.state, 'MASTER');
  assert.deepEqual(find(d, 'addAddresses')[0]!.addresses, VIPS);
  assert.deepEqual(find(d, 'announce'), [{ kind: 'announce', count: 3, reason: 'master' }]);
  assert.equal(c.timerAt('advert'), 3609.375 + 1000);
  assert.deepEqual(logs(d).slice(0, 2), ['(VI_1) Receive advertisement timeout', '(VI_1) Entering MASTER STATE']);
  assert.deepEqual(find(d, 'notify'), [{ kind: 'notify', state: 'MASTER', priority: 100 }]);
});

test('RFC 5798 6.4.3: Adver_Timer expiry sends an advert and re-arms Advertisement_Interval', () => {
  const c = master();
  const t = c.timerAt('advert')!;
  const d = c.handle({ type: 'timerExpired', nowMs: t, timer: 'advert' });
  assert.deepEqual(find(d, 'sendAdvert'), [{ kind: 'sendAdvert', priority: 100, advertIntervalCs: 100 }]);
  assert.equal(c.timerAt('advert'), t + 1000);
});

test('sans-I/O: early or stale timer expiries are ignored', () => {
  const c = backup();
  assert.deepEqual(c.handle({ type: 'timerExpired', nowMs: 100, timer: 'masterDown' }), []);
  assert.equal(c.state, 'BACKUP');
  assert.deepEqual(c.handle({ type: 'timerExpired', nowMs: 99999, timer: 'advert' }), []);
  assert.equal(c.state, 'BACKUP');
});

test('RFC 5798 6.4.2: Backup receiving an advert with priority >= its own resets Master_Down_Timer', () => {
  const c = backup();
  c.handle({ type: 'advertReceived', nowMs: 2000, advert: adv(150) });
  assert.equal(c.timerAt('masterDown'), 2000 + 3609.375);
  c.handle({ type: 'advertReceived', nowMs: 3000, advert: adv(100, '192.0.2.0') }); // equal priority
  assert.equal(c.timerAt('masterDown'), 3000 + 3609.375);
});

test('RFC 5798 6.4.2: Backup with preempt discards a lower priority advert and takes over', () => {
  const c = backup({ priority: 200 });
  const d = c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(100) });
  assert.ok(logs(d).includes('(VI_1) received lower priority (100) advert from 192.0.2.2 - discarding'));
  assert.equal(c.timerAt('masterDown'), masterDownIntervalMs(2, 200, 100)); // unchanged since startup
  c.handle({ type: 'timerExpired', nowMs: c.timerAt('masterDown')!, timer: 'masterDown' });
  assert.equal(c.state, 'MASTER');
});

test('RFC 5798 6.4.2: Backup with nopreempt keeps following a lower priority Master', () => {
  const c = backup({ priority: 200, preempt: false });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(100) });
  assert.equal(c.timerAt('masterDown'), 1000 + masterDownIntervalMs(2, 200, 100));
});

test('RFC 5798 6.4.2: Backup receiving priority 0 sets Master_Down_Timer to Skew_Time', () => {
  const c = backup();
  const d = c.handle({ type: 'advertReceived', nowMs: 2000, advert: adv(0) });
  assert.equal(c.timerAt('masterDown'), 2000 + 609.375);
  assert.ok(logs(d).includes('(VI_1) Backup received priority 0 advertisement'));
});

test('RFC 5798 6.4.2: a v3 Backup learns Master_Adver_Interval from the Master', () => {
  const c = backup({ version: 3, priority: 100 });
  const d = c.handle({ type: 'advertReceived', nowMs: 0, advert: adv(200, '192.0.2.2', { version: 3, intervalCs: 50 }) });
  assert.equal(c.masterAdverIntervalCs, 50);
  assert.equal(c.timerAt('masterDown'), 1804.687); // 3 x 500 ms + 156 x 50 / 256 cs (to the microsecond)
  assert.ok(logs(d).includes('(VI_1) advertisement interval updated from 1000ms to 500ms by master'));
  // Becoming Master, it advertises at its own configured interval.
  c.handle({ type: 'timerExpired', nowMs: masterDownIntervalMs(3, 100, 50), timer: 'masterDown' });
  assert.equal(c.timerAt('advert'), masterDownIntervalMs(3, 100, 50) + 1000);
});

test('RFC 3768 7.1: a v2 advert with a different Adver Int is discarded (keepalived: interval mismatch)', () => {
  const c = backup();
  const d = c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(200, '192.0.2.2', { intervalCs: 200 }) });
  assert.equal(c.timerAt('masterDown'), 3609.375);
  assert.ok(logs(d).some((l) => l.includes("advertisement interval mismatch mine=1 sec rcv'd=2 sec")));
  assert.equal(c.stats.intervalErrors, 1);
});

test('adverts for another VRID or version, or with a bad source address, are dropped without crashing', () => {
  const c = backup();
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(200, '192.0.2.2', { vrid: 52 }) });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(200, '192.0.2.2', { version: 3 }) });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(200, 'not-an-address') });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: { srcAddress: '192.0.2.9' } as unknown as ReceivedAdvert });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(300) });
  assert.equal(c.timerAt('masterDown'), 3609.375);
  assert.equal(c.stats.droppedAdverts, 5);
  assert.deepEqual(
    c.handle({ type: 'bogus', nowMs: 5 } as never).map((d) => d.kind),
    ['log'],
  );
  assert.deepEqual(
    c.handle({ type: 'startup' } as never).map((d) => d.kind),
    ['log'],
  );
});

test('RFC 5798 6.4.3: Master yields to a higher priority advert: Backup, VIPs removed, no priority 0', () => {
  const c = master();
  const d = c.handle({ type: 'advertReceived', nowMs: 5000, advert: adv(150) });
  assert.equal(c.state, 'BACKUP');
  assert.deepEqual(find(d, 'removeAddresses')[0]!.addresses, VIPS);
  assert.equal(find(d, 'sendAdvert').length, 0);
  assert.equal(c.timerAt('advert'), undefined);
  assert.equal(c.timerAt('masterDown'), 5000 + 3609.375);
  assert.ok(logs(d).includes('(VI_1) Master received advert from 192.0.2.2 with higher priority 150, ours 100'));
  assert.ok(logs(d).includes('(VI_1) Entering BACKUP STATE'));
});

test('RFC 5798 6.4.3: equal priority, the higher primary address wins (numeric compare)', () => {
  // 192.0.2.10 > 192.0.2.9 numerically although "192.0.2.10" < "192.0.2.9" as strings
  const lo = master({ primaryAddress: '192.0.2.9' });
  const d = lo.handle({ type: 'advertReceived', nowMs: 5000, advert: adv(100, '192.0.2.10') });
  assert.equal(lo.state, 'BACKUP');
  assert.ok(logs(d).includes('(VI_1) Master received advert from 192.0.2.10 with same priority 100 but higher IP address than ours'));
  const hi = master({ primaryAddress: '192.0.2.10' });
  hi.handle({ type: 'advertReceived', nowMs: 5000, advert: adv(100, '192.0.2.9') });
  assert.equal(hi.state, 'MASTER');
});

test('RFC 5798 6.4.3: IPv6 tie-break compares link-local addresses numerically', () => {
  const base = { version: 3 as const, family: 6 as const, virtualAddresses: ['2001:db8::10'] };
  const lo = master({ ...base, primaryAddress: 'fe80::9' });
  lo.handle({ type: 'advertReceived', nowMs: 5000, advert: adv(100, 'fe80::a') });
  assert.equal(lo.state, 'BACKUP');
  const hi = master({ ...base, primaryAddress: 'fe80::1:0' });
  hi.handle({ type: 'advertReceived', nowMs: 5000, advert: adv(100, 'fe80::ffff') });
  assert.equal(hi.state, 'MASTER');
});

test('RFC 5798 6.4.3: Master receiving priority 0 sends an advert at once and resets Adver_Timer', () => {
  const c = master();
  const d = c.handle({ type: 'advertReceived', nowMs: 4000, advert: adv(0) });
  assert.equal(c.state, 'MASTER');
  assert.deepEqual(find(d, 'sendAdvert'), [{ kind: 'sendAdvert', priority: 100, advertIntervalCs: 100 }]);
  assert.equal(c.timerAt('advert'), 5000);
  assert.ok(logs(d).includes('(VI_1) Master received priority 0 message'));
});

test('keepalived: a Master hearing a lower priority forces a new election, re-announces, runs notify_master_rx_lower_pri', () => {
  const c = master({ garpLowerPrioRepeat: 2, garpLowerPrioDelayMs: 7000 });
  const d = c.handle({ type: 'advertReceived', nowMs: 4000, advert: adv(90) });
  assert.equal(c.state, 'MASTER');
  assert.ok(logs(d).includes('(VI_1) Received advert from 192.0.2.2 with lower priority 90, ours 100, forcing new election'));
  assert.deepEqual(find(d, 'sendAdvert'), [{ kind: 'sendAdvert', priority: 100, advertIntervalCs: 100 }]);
  assert.deepEqual(find(d, 'announce'), [{ kind: 'announce', count: 2, reason: 'lowerPrio' }]);
  assert.equal(c.timerAt('garpLowerPrioDelay'), 11000);
  assert.deepEqual(find(d, 'notifyMasterRxLowerPri'), [{ kind: 'notifyMasterRxLowerPri', from: '192.0.2.2', priority: 90 }]);
  const d2 = c.handle({ type: 'timerExpired', nowMs: 11000, timer: 'garpLowerPrioDelay' });
  assert.deepEqual(find(d2, 'announce'), [{ kind: 'announce', count: 2, reason: 'lowerPrioDelayed' }]);
});

test('keepalived lower_prio_no_advert: a Master stays silent on a lower priority advert (RFC behaviour)', () => {
  const c = master({ lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0 });
  const d = c.handle({ type: 'advertReceived', nowMs: 4000, advert: adv(90) });
  assert.equal(find(d, 'sendAdvert').length, 0);
  assert.equal(find(d, 'announce').length, 0);
  assert.ok(logs(d).includes('(VI_1) Received advert from 192.0.2.2 with lower priority 90, ours 100'));
});

test('keepalived higher_prio_send_advert: a Master sends one advert before yielding', () => {
  const c = master({ higherPrioSendAdvert: true });
  const d = c.handle({ type: 'advertReceived', nowMs: 4000, advert: adv(200) });
  assert.equal(c.state, 'BACKUP');
  assert.deepEqual(find(d, 'sendAdvert'), [{ kind: 'sendAdvert', priority: 100, advertIntervalCs: 100 }]);
  assert.ok(kinds(d).indexOf('sendAdvert') < kinds(d).indexOf('removeAddresses'));
});

test('keepalived: two address owners - the lower address, hearing the other owner first, also lowers itself and yields (measured)', () => {
  const lo = new VrrpCore(cfg({ priority: 255, primaryAddress: '192.0.2.1' }));
  lo.handle({ type: 'startup', nowMs: 0 });
  const d = lo.handle({ type: 'advertReceived', nowMs: 10, advert: adv(255, '192.0.2.2') });
  assert.equal(lo.state, 'BACKUP');
  assert.equal(lo.effectivePriority, 254);
  assert.ok(logs(d).includes('(VI_1) Master received advert from 192.0.2.2 with higher priority 255, ours 254'));
});

test('keepalived: two address owners - the higher address lowers itself to 254 and yields (measured on 2.2.7)', () => {
  const hi = new VrrpCore(cfg({ priority: 255, primaryAddress: '192.0.2.2' }));
  hi.handle({ type: 'startup', nowMs: 0 });
  const d = hi.handle({ type: 'advertReceived', nowMs: 10, advert: adv(255, '192.0.2.1') });
  assert.equal(hi.state, 'BACKUP');
  assert.equal(hi.effectivePriority, 254);
  assert.ok(logs(d)[0]!.includes('CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner'));
  assert.ok(logs(d).includes('(VI_1) Master received advert from 192.0.2.1 with higher priority 255, ours 254'));
  // it stays at 254: no preemption of the remaining owner
  hi.handle({ type: 'advertReceived', nowMs: 1010, advert: adv(255, '192.0.2.1') });
  assert.equal(hi.state, 'BACKUP');
});

test('RFC 5798 6.4.3 shutdown: a Master sends priority 0 and releases the VIPs', () => {
  const c = master();
  const d = c.handle({ type: 'shutdown', nowMs: 9000 });
  assert.equal(c.state, 'STOP');
  assert.deepEqual(find(d, 'sendAdvert'), [{ kind: 'sendAdvert', priority: 0, advertIntervalCs: 100 }]);
  assert.deepEqual(find(d, 'removeAddresses')[0]!.addresses, VIPS);
  assert.ok(logs(d).includes('(VI_1) sent 0 priority'));
  assert.equal(c.armedTimers().length, 0);
  assert.deepEqual(find(d, 'notify'), [{ kind: 'notify', state: 'STOP', priority: 100 }]);
  // a Backup shutting down sends nothing
  const b = backup();
  assert.equal(find(b.handle({ type: 'shutdown', nowMs: 1 }), 'sendAdvert').length, 0);
});

test('keepalived FAULT: a Master entering FAULT sends priority 0, releases VIPs; leaving FAULT waits as Backup', () => {
  const c = master({ priority: 255 });
  const d = c.handle({ type: 'faultChanged', nowMs: 5000, fault: true, reason: 'interface-down', source: 'eth0' });
  assert.equal(c.state, 'FAULT');
  assert.deepEqual(find(d, 'sendAdvert'), [{ kind: 'sendAdvert', priority: 0, advertIntervalCs: 100 }]);
  assert.ok(logs(d).includes('(VI_1): entering FAULT state (interface eth0 down)'));
  assert.ok(logs(d).includes('(VI_1) Entering FAULT STATE'));
  assert.equal(c.armedTimers().length, 0);
  // adverts are ignored in FAULT
  assert.deepEqual(c.handle({ type: 'advertReceived', nowMs: 5100, advert: adv(1) }), []);
  // two fault sources: FAULT lasts until both clear
  c.handle({ type: 'faultChanged', nowMs: 5200, fault: true, reason: 'tracker', source: 'chk' });
  c.handle({ type: 'faultChanged', nowMs: 6000, fault: false, reason: 'interface-down', source: 'eth0' });
  assert.equal(c.state, 'FAULT');
  const d2 = c.handle({ type: 'faultChanged', nowMs: 7000, fault: false, reason: 'tracker', source: 'chk' });
  assert.equal(c.state, 'BACKUP'); // even the owner waits (keepalived 2.2.7, measured)
  assert.equal(c.timerAt('masterDown'), 7000 + 3003.90625);
  assert.deepEqual(find(d2, 'notify'), [{ kind: 'notify', state: 'BACKUP', priority: 255 }]);
});

test('keepalived FAULT at startup: Entering FAULT STATE (init)', () => {
  const c = new VrrpCore(cfg());
  c.handle({ type: 'faultChanged', nowMs: 0, fault: true, reason: 'no-address' });
  const d = c.handle({ type: 'startup', nowMs: 0 });
  assert.equal(c.state, 'FAULT');
  assert.ok(logs(d).includes('(VI_1) Entering FAULT STATE (init)'));
});

test('keepalived tracking: effective priority clamped to 1..254, an owner never changes; skew follows it', () => {
  assert.equal(clampPriority(100, 300), 254);
  assert.equal(clampPriority(100, -20), 1);
  assert.equal(clampPriority(255, 10), 255);
  const c = backup();
  const d = c.handle({ type: 'priorityChanged', nowMs: 100, priority: 400 });
  assert.equal(c.effectivePriority, 254);
  assert.ok(logs(d).includes('(VI_1) Changing effective priority from 100 to 254'));
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(254, '192.0.2.200') });
  assert.equal(c.timerAt('masterDown'), 1000 + masterDownIntervalMs(2, 254, 100));
  const o = master({ priority: 255 });
  o.handle({ type: 'priorityChanged', nowMs: 100, priority: 50 });
  assert.equal(o.effectivePriority, 255);
});

test('keepalived tracking: a Master whose priority drops advertises it; a Backup now higher preempts', () => {
  const m = master({ priority: 150 });
  m.handle({ type: 'priorityChanged', nowMs: 5000, priority: 90 });
  const d = m.handle({ type: 'timerExpired', nowMs: m.timerAt('advert')!, timer: 'advert' });
  assert.equal(find(d, 'sendAdvert')[0]!.priority, 90);
  const b = backup({ priority: 100 });
  b.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(150) });
  b.handle({ type: 'advertReceived', nowMs: 2000, advert: adv(90) }); // discarded
  b.handle({ type: 'timerExpired', nowMs: 1000 + 3609.375, timer: 'masterDown' });
  assert.equal(b.state, 'MASTER');
});

test('keepalived garp_master_delay / garp_master_repeat / garp_master_refresh schedule the bursts', () => {
  const c = master({ garpMasterDelayMs: 5000, garpMasterRepeat: 5, garpMasterRefreshMs: 60000, garpMasterRefreshRepeat: 2 });
  const t0 = 3609.375;
  assert.equal(c.timerAt('garpMasterDelay'), t0 + 5000);
  assert.equal(c.timerAt('garpMasterRefresh'), t0 + 60000);
  const d = c.handle({ type: 'timerExpired', nowMs: t0 + 5000, timer: 'garpMasterDelay' });
  assert.deepEqual(find(d, 'announce'), [{ kind: 'announce', count: 5, reason: 'masterDelayed' }]);
  assert.equal(c.timerAt('garpMasterDelay'), undefined); // only one delayed burst
  const d2 = c.handle({ type: 'timerExpired', nowMs: t0 + 60000, timer: 'garpMasterRefresh' });
  assert.deepEqual(find(d2, 'announce'), [{ kind: 'announce', count: 2, reason: 'masterRefresh' }]);
  assert.equal(c.timerAt('garpMasterRefresh'), t0 + 120000);
  const none = master({ garpMasterDelayMs: 0 });
  assert.equal(none.timerAt('garpMasterDelay'), undefined);
  assert.equal(none.timerAt('garpMasterRefresh'), undefined);
});

test('keepalived vrrp_startup_delay: nothing happens until it expires', () => {
  const c = new VrrpCore(cfg({ startupDelayMs: 5500 }));
  const d = c.handle({ type: 'startup', nowMs: 0 });
  assert.equal(c.state, 'INIT');
  assert.deepEqual(find(d, 'armTimer'), [{ kind: 'armTimer', timer: 'startupDelay', atMs: 5500 }]);
  assert.deepEqual(c.handle({ type: 'advertReceived', nowMs: 100, advert: adv(200) }), []);
  c.handle({ type: 'timerExpired', nowMs: 5500, timer: 'startupDelay' });
  assert.equal(c.state, 'BACKUP');
  assert.equal(c.timerAt('masterDown'), 5500 + 3609.375);
});

test('keepalived preempt_delay: at startup the takeover waits Master_Down_Interval + preempt_delay', () => {
  const c = backup({ priority: 200, preemptDelayMs: 2000 });
  assert.equal(c.timerAt('masterDown'), masterDownIntervalMs(2, 200, 100) + 2000);
});

test('keepalived preempt_delay: a Backup follows a lower priority Master for preempt_delay before preempting', () => {
  const c = backup({ priority: 200, preemptDelayMs: 2000 });
  const mdi = masterDownIntervalMs(2, 200, 100);
  // lower priority Master heard within the delay: followed
  let last = 0;
  for (let t = 500; t <= 20000 && c.state === 'BACKUP'; t += 1000) {
    const at = c.timerAt('masterDown')!;
    if (at <= t) {
      c.handle({ type: 'timerExpired', nowMs: at, timer: 'masterDown' });
      break;
    }
    c.handle({ type: 'advertReceived', nowMs: t, advert: adv(100) });
    last = t;
  }
  assert.equal(c.state, 'MASTER');
  // the last advert it followed was inside the 2 s window, so the takeover came MDI after it
  assert.ok(last >= 2000 && last <= 2000 + mdi + 1000, `last advert ${last}`);
});

test('sync groups: forceState moves a Backup to Master and a Master to Backup', () => {
  const c = backup();
  c.handle({ type: 'forceState', nowMs: 10, state: 'MASTER', reason: 'sync group G1' });
  assert.equal(c.state, 'MASTER');
  const d = c.handle({ type: 'forceState', nowMs: 20, state: 'BACKUP', reason: 'sync group G1' });
  assert.equal(c.state, 'BACKUP');
  assert.deepEqual(find(d, 'removeAddresses')[0]!.addresses, VIPS);
});

test('bad configuration yields a typed VrrpConfigError listing every problem', () => {
  assert.throws(
    () => new VrrpCore(cfg({ vrid: 0, priority: 0, advertIntervalCs: 150, primaryAddress: 'x' })),
    (e: unknown) => e instanceof VrrpConfigError && e.problems.length === 4 && /vrid/.test(e.message),
  );
  assert.throws(() => new VrrpCore(cfg({ version: 2, family: 6, primaryAddress: 'fe80::1' })), VrrpConfigError);
});

test('address compare: numeric, IPv6 compression and embedded IPv4', () => {
  assert.equal(compareAddresses('192.0.2.10', '192.0.2.9'), 1);
  assert.equal(compareAddresses('10.0.0.1', '9.255.255.255'), 1);
  assert.equal(compareAddresses('fe80::1', 'fe80:0:0:0:0:0:0:1'), 0);
  assert.equal(compareAddresses('2001:db8::ffff', '2001:db8::1:0'), -1);
  assert.equal(parseIPv6('::ffff:192.0.2.1'), 0xffffc0000201n);
  assert.equal(parseIPv6('fe80::1%eth0'), 0xfe800000000000000000000000000001n);
  assert.equal(compareAddresses('192.0.2.1', 'fe80::1'), undefined);
  assert.equal(compareAddresses('1.2.3', '1.2.3.4'), undefined);
  assert.equal(parseIPv6('1::2::3'), undefined);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
});

test('keepalived: a Master hearing an equal priority from a lower address keeps Master and forces a new election', () => {
  const c = master({ primaryAddress: '192.0.2.20' });
  const d = c.handle({ type: 'advertReceived', nowMs: 4000, advert: adv(100, '192.0.2.3') });
  assert.equal(c.state, 'MASTER');
  assert.ok(logs(d).includes('(VI_1) Received advert from 192.0.2.3 with lower priority 100, ours 100, forcing new election'));
  assert.equal(find(d, 'sendAdvert').length, 1);
});

test('keepalived: an equal priority advert carrying our own address is only warned about', () => {
  const c = master();
  const d = c.handle({ type: 'advertReceived', nowMs: 4000, advert: adv(100, '192.0.2.1') });
  assert.equal(c.state, 'MASTER');
  assert.deepEqual(logs(d), ['(VI_1) WARNING - equal priority advert received from remote host with our IP address.']);
  assert.equal(find(d, 'sendAdvert').length, 0);
});

test('time never goes backwards for the core: a late event is handled as happening now', () => {
  const c = backup();
  c.handle({ type: 'advertReceived', nowMs: 5000, advert: adv(200) });
  const d = c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(200) });
  for (const a of find(d, 'armTimer')) assert.ok(a.atMs >= 5000);
});

// ---- reconfigure (a reload applied in place) -----------------------------------------------------

test('reconfigure: a Master keeps its state and timers; a new priority is carried by its next advert, nothing else happens', () => {
  const c = master();
  const advertAt = c.timerAt('advert')!;
  const garpAt = c.timerAt('garpMasterDelay')!;
  const d = c.handle({ type: 'reconfigure', nowMs: advertAt - 500, config: cfg({ priority: 120 }) });
  assert.equal(c.state, 'MASTER');
  assert.deepEqual(kinds(d), ['log'], 'only the priority change is said');
  assert.match(logs(d)[0]!, /Changing effective priority from 100 to 120/);
  assert.equal(c.timerAt('advert'), advertAt, 'advert schedule kept');
  assert.equal(c.timerAt('garpMasterDelay'), garpAt);
  const next = c.handle({ type: 'timerExpired', nowMs: advertAt, timer: 'advert' });
  assert.deepEqual(
    find(next, 'sendAdvert').map((s) => s.priority),
    [120],
  );
  assert.equal(c.stats.becameMaster, 1);
});

test('reconfigure: a Master lowered below a live Backup yields only when that Backup preempts (higher advert), never on its own', () => {
  const c = master();
  const d = c.handle({ type: 'reconfigure', nowMs: 5000, config: cfg({ priority: 50 }) });
  assert.equal(c.state, 'MASTER');
  assert.equal(find(d, 'removeAddresses').length, 0);
  assert.equal(find(d, 'sendAdvert').length, 0, 'no priority-0 advert, no extra advert');
  const y = c.handle({ type: 'advertReceived', nowMs: 5100, advert: adv(100) });
  assert.equal(c.state, 'BACKUP');
  assert.equal(find(y, 'removeAddresses').length, 1);
});

test('reconfigure: a Backup raised above a live Master (preempt) discards its next advert and takes over at Master_Down_Timer', () => {
  const c = backup({ version: 3 });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(150, '192.0.2.2', { version: 3 }) });
  const downAt = c.timerAt('masterDown')!;
  const d = c.handle({ type: 'reconfigure', nowMs: 1500, config: cfg({ version: 3, priority: 200 }) });
  assert.equal(c.state, 'BACKUP');
  assert.ok(!kinds(d).includes('stateChanged'));
  assert.equal(c.timerAt('masterDown'), downAt, 'Master_Down_Timer kept');
  const rx = c.handle({ type: 'advertReceived', nowMs: 2000, advert: adv(150, '192.0.2.2', { version: 3 }) });
  assert.match(logs(rx).join('\n'), /lower priority \(150\).*discarding/);
  c.handle({ type: 'timerExpired', nowMs: downAt, timer: 'masterDown' });
  assert.equal(c.state, 'MASTER');
});

test('reconfigure: nopreempt set in place keeps a higher Backup following the Master', () => {
  const c = backup({ priority: 200 });
  const d = c.handle({ type: 'reconfigure', nowMs: 100, config: cfg({ priority: 200, preempt: false }) });
  assert.deepEqual(kinds(d), []);
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(100) });
  assert.equal(c.timerAt('masterDown'), 1000 + masterDownIntervalMs(2, 200, 100), 'the lower Master is accepted');
});

test('reconfigure: a Master adds and removes virtual addresses by difference and announces only the new ones', () => {
  const c = master({ virtualAddresses: ['a', 'b'] });
  const d = c.handle({ type: 'reconfigure', nowMs: 5000, config: cfg({ virtualAddresses: ['b', 'c'] }) });
  assert.deepEqual(
    find(d, 'removeAddresses').map((x) => x.addresses),
    [['a']],
  );
  assert.deepEqual(
    find(d, 'addAddresses').map((x) => x.addresses),
    [['c']],
  );
  assert.deepEqual(
    find(d, 'announce').map((x) => [x.addresses, x.count]),
    [[['c'], 5]],
  );
  assert.ok(kinds(d).indexOf('addAddresses') < kinds(d).indexOf('announce'));
  assert.equal(c.state, 'MASTER');
  // a later takeover or release carries the new set
  const down = c.handle({ type: 'advertReceived', nowMs: 5100, advert: adv(200) });
  assert.deepEqual(
    find(down, 'removeAddresses').map((x) => x.addresses),
    [['b', 'c']],
  );
});

test('reconfigure: a Backup changing its addresses touches nothing now; it takes the new set when it becomes Master', () => {
  const c = backup({ virtualAddresses: ['a'] });
  const d = c.handle({ type: 'reconfigure', nowMs: 100, config: cfg({ virtualAddresses: ['a', 'b'] }) });
  assert.deepEqual(kinds(d), []);
  const m = c.handle({ type: 'timerExpired', nowMs: c.timerAt('masterDown')!, timer: 'masterDown' });
  assert.deepEqual(
    find(m, 'addAddresses').map((x) => x.addresses),
    [['a', 'b']],
  );
});

test('reconfigure: advert_int shortened on a Master brings its next advert forward; lengthened keeps the armed one', () => {
  const c = master({ version: 3 });
  const at = c.timerAt('advert')!; // became Master at t0, next advert at t0 + 1000
  const t0 = at - 1000;
  c.handle({ type: 'reconfigure', nowMs: t0 + 100, config: cfg({ version: 3, advertIntervalCs: 50 }) });
  assert.equal(c.timerAt('advert'), t0 + 600);
  const d = c.handle({ type: 'timerExpired', nowMs: t0 + 600, timer: 'advert' });
  assert.deepEqual(
    find(d, 'sendAdvert').map((s) => s.advertIntervalCs),
    [50],
  );
  assert.equal(c.timerAt('advert'), t0 + 1100);
  c.handle({ type: 'reconfigure', nowMs: t0 + 700, config: cfg({ version: 3, advertIntervalCs: 200 }) });
  assert.equal(c.timerAt('advert'), t0 + 1100, 'not delayed');
});

test('reconfigure: a v3 Backup keeps the interval it learned from the Master', () => {
  const c = backup({ version: 3 });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(150, '192.0.2.2', { version: 3, intervalCs: 500 }) });
  assert.equal(c.masterAdverIntervalCs, 500);
  c.handle({ type: 'reconfigure', nowMs: 1100, config: cfg({ version: 3, priority: 110 }) });
  assert.equal(c.masterAdverIntervalCs, 500);
  c.handle({ type: 'advertReceived', nowMs: 6000, advert: adv(150, '192.0.2.2', { version: 3, intervalCs: 500 }) });
  assert.equal(c.timerAt('masterDown'), 6000 + masterDownIntervalMs(3, 110, 500));
});

test("reconfigure: the trackers' adjustment follows the new base priority unless a priority is given", () => {
  const c = master();
  c.handle({ type: 'priorityChanged', nowMs: 10, priority: 80 }); // a failed tracker, weight -20
  assert.equal(c.effectivePriority, 80);
  c.handle({ type: 'reconfigure', nowMs: 20, config: cfg({ priority: 150 }) });
  assert.equal(c.effectivePriority, 130);
  c.handle({ type: 'reconfigure', nowMs: 30, config: cfg({ priority: 150 }), priority: 160 });
  assert.equal(c.effectivePriority, 160);
});

test('reconfigure: garp_master_refresh armed and cancelled in place', () => {
  const c = master();
  assert.equal(c.timerAt('garpMasterRefresh'), undefined);
  c.handle({ type: 'reconfigure', nowMs: 100, config: cfg({ garpMasterRefreshMs: 10_000 }) });
  assert.ok(c.timerAt('garpMasterRefresh')! >= 10_100);
  const d = c.handle({ type: 'reconfigure', nowMs: 200, config: cfg() });
  assert.deepEqual(
    find(d, 'cancelTimer').map((x) => x.timer),
    ['garpMasterRefresh'],
  );
});

test('reconfigure: what cannot change in place (VRID, version, family, name) or an invalid configuration is refused and changes nothing', () => {
  const c = master();
  for (const bad of [cfg({ vrid: 52 }), cfg({ version: 3 }), cfg({ name: 'VI_2' }), cfg({ priority: 0 })]) {
    const d = c.handle({ type: 'reconfigure', nowMs: 100, config: bad });
    assert.match(logs(d).join('\n'), /reconfiguration refused/);
    assert.equal(c.config.vrid, 51);
    assert.equal(c.config.priority, 100);
  }
  assert.equal(c.state, 'MASTER');
});

test('reconfigure: a v3 Backup whose Master advertises its own old interval keeps following it when its advert_int changes', () => {
  const c = backup({ version: 3, advertIntervalCs: 500 });
  c.handle({ type: 'advertReceived', nowMs: 1000, advert: adv(150, '192.0.2.2', { version: 3, intervalCs: 500 }) });
  c.handle({ type: 'reconfigure', nowMs: 1100, config: cfg({ version: 3, advertIntervalCs: 100 }) });
  assert.equal(c.masterAdverIntervalCs, 500, "still the Master's 5 s");
  // before any advert, our own interval is the one in force
  const fresh = backup({ version: 3, advertIntervalCs: 500 });
  fresh.handle({ type: 'reconfigure', nowMs: 10, config: cfg({ version: 3, advertIntervalCs: 100 }) });
  assert.equal(fresh.masterAdverIntervalCs, 100);
});
