// The core's contract with its drivers (carryOut in src/vrrp/core.ts): urgent decisions at once,
// every advert first; words after, in the core's order; log lines carry a topic so that no driver
// matches their wording; fault sources are typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpCore, carryOut, coreConfig, isUrgent, type UrgentDecision, type VrrpDecision } from '../../src/vrrp/core.js';
import { runSeed } from '../../src/sim/sim.js';

function core(priority = 100): VrrpCore {
  return new VrrpCore(
    coreConfig({ name: 'VI_1', vrid: 51, priority, primaryAddress: '192.0.2.1', virtualAddresses: ['203.0.113.10'], garpMasterRepeat: 2 }),
  );
}

function takeover(): VrrpDecision[] {
  const c = core();
  c.handle({ type: 'startup', nowMs: 0 });
  return c.handle({ type: 'timerExpired', nowMs: c.timerAt('masterDown')!, timer: 'masterDown' });
}

test('contract: a takeover is advert, then addresses, GARP and timers in the core order; the words come back in order', () => {
  const decisions = takeover();
  // the core decides the address before the advert; the contract sends the advert first
  const core = decisions.filter(isUrgent).map((d) => d.kind);
  assert.ok(core.indexOf('addAddresses') < core.indexOf('sendAdvert'), `core order: ${core.join(' ')}`);
  const urgent: UrgentDecision['kind'][] = [];
  const words = carryOut(decisions, (d) => urgent.push(d.kind));
  assert.deepEqual(urgent.slice(0, 3), ['sendAdvert', 'addAddresses', 'announce']);
  assert.deepEqual(urgent.filter((k) => k === 'armTimer' || k === 'cancelTimer').length, urgent.length - 3);
  assert.deepEqual(
    words?.map((d) => d.kind),
    decisions.filter((d) => !isUrgent(d)).map((d) => d.kind),
  );
  assert.ok(words?.some((d) => d.kind === 'notify'));
  assert.ok(!words?.some((d) => isUrgent(d)));
});

test('contract: a Backup hearing its Master gets no words (no array is made)', () => {
  const c = core();
  c.handle({ type: 'startup', nowMs: 0 });
  const d = c.handle({
    type: 'advertReceived',
    nowMs: 10,
    advert: {
      family: 4,
      srcAddress: '192.0.2.2',
      advert: { version: 2, type: 1, vrid: 51, priority: 200, advertIntervalCs: 100, addresses: ['203.0.113.10'], checksum: 0 },
    },
  });
  let n = 0;
  assert.equal(
    carryOut(d, () => n++),
    undefined,
  );
  assert.equal(n, 1);
});

test('contract: log lines carry a topic (entering a state, advert timeout, a fault on)', () => {
  const topics = takeover().flatMap((d) => (d.kind === 'log' && d.topic ? [d.topic] : []));
  assert.deepEqual(topics, ['advertTimeout', 'enterMaster']);
  const c = core();
  c.handle({ type: 'startup', nowMs: 0 });
  const f = c.handle({ type: 'faultChanged', nowMs: 5, fault: true, reason: 'interface-down', source: 'eth0' });
  assert.deepEqual(
    f.flatMap((d) => (d.kind === 'log' && d.topic ? [d.topic] : [])),
    ['faultOn', 'enterFault'],
  );
});

test('fault sources are typed: kind and name', () => {
  const c = core();
  c.handle({ type: 'startup', nowMs: 0 });
  c.handle({ type: 'faultChanged', nowMs: 5, fault: true, reason: 'sync-group', source: 'G1' });
  c.handle({ type: 'faultChanged', nowMs: 6, fault: true, reason: 'tracker', source: 'trackers' });
  assert.deepEqual(c.faultSources, [
    { kind: 'sync-group', name: 'G1' },
    { kind: 'tracker', name: 'trackers' },
  ]);
  c.handle({ type: 'faultChanged', nowMs: 7, fault: false, reason: 'sync-group', source: 'G1' });
  assert.deepEqual(c.faultSources, [{ kind: 'tracker', name: 'trackers' }]);
  assert.equal(c.state, 'FAULT');
});

test("the simulator runs the contract: a new Master's advert is sent before its state change is seen", () => {
  // in the trace, a takeover's "Entering MASTER STATE" (a word) follows the arming of its advert
  // timer (urgent), whereas the core decides the state change first
  let checked = 0;
  for (let seed = 1; seed <= 20 && checked === 0; seed++) {
    const { trace } = runSeed(seed, { trace: true });
    for (let i = 0; i < trace.length; i++) {
      const m = /\] (r\d+) \(\w+\) Entering MASTER STATE/.exec(trace[i]!);
      if (!m) continue;
      const before = trace.slice(Math.max(0, i - 6), i).join('\n');
      assert.match(before, new RegExp(`${m[1]} arm advert at`), `urgent decisions before the words:\n${before}\n${trace[i]}`);
      checked++;
    }
  }
  assert.ok(checked > 0, 'some seed had a takeover');
});
