// One clamp of the effective priority (src/vrrp/priority.ts), shared by the trackers' sum and the
// core: keepalived 2.2.7 clamps an integer total to 1..254 (an owner stays 255); a fraction is
// truncated as C's integer conversion does (before: the trackers truncated, the core rounded).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectivePriority } from '../../src/track/priority.js';
import { clampPriority as coreClamp } from '../../src/vrrp/core.js';
import { clampPriority, MAX_BACKUP_PRIORITY, MIN_PRIORITY, VRRP_PRIO_OWNER } from '../../src/vrrp/priority.js';

test('one clamp: bounds, owner, truncation', () => {
  assert.equal(coreClamp, clampPriority);
  assert.equal(clampPriority(100, 300), MAX_BACKUP_PRIORITY);
  assert.equal(clampPriority(100, -20), MIN_PRIORITY);
  assert.equal(clampPriority(VRRP_PRIO_OWNER, 10), VRRP_PRIO_OWNER);
  assert.equal(clampPriority(100, 150.7), 150);
  assert.equal(clampPriority(100, 0.5), 1);
  assert.equal(clampPriority(100, Number.NaN), 100);
});

test('the trackers and the core agree on every total', () => {
  for (const base of [1, 50, 100, 254, 255]) {
    for (const w of [-300, -254, -99.5, -1, 0, 1, 2.5, 154, 155, 300]) {
      const r = effectivePriority(base, [{ kind: 'status', name: 's', up: true, weight: w }]);
      assert.equal(r.priority, clampPriority(base, base + r.delta), `${base} ${w}`);
    }
  }
});
