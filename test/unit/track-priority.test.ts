// Effective priority: keepalived.conf(5) vrrp_script "weight", track_script "weight ... reverse",
// track_file, vrrp_track_process, "priority" (owner 255).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectivePriority, statusContribution, trackFileContribution } from '../../src/track/priority.js';

const s = (name: string, up: boolean, weight: number, reverse = false) => ({ kind: 'status' as const, name, up, weight, reverse });
const f = (name: string, value: number, weight: number, reverse = false) => ({ kind: 'file' as const, name, value, weight, reverse });

test('weight 0 (track_script default): failure -> FAULT, and back', () => {
  assert.deepEqual(effectivePriority(100, [s('chk', false, 0)]), { fault: true, priority: 100, faultBy: ['chk'], delta: 0 });
  assert.deepEqual(effectivePriority(100, [s('chk', true, 0)]), { fault: false, priority: 100, faultBy: [], delta: 0 });
});

test('weight 0 reverse: FAULT while the tracked object is up', () => {
  assert.equal(effectivePriority(100, [s('chk', true, 0, true)]).fault, true);
  assert.equal(effectivePriority(100, [s('chk', false, 0, true)]).fault, false);
});

test('weight W > 0 added while healthy, nothing while failed', () => {
  assert.equal(effectivePriority(100, [s('a', true, 20)]).priority, 120);
  assert.equal(effectivePriority(100, [s('a', false, 20)]).priority, 100);
});

test('weight W < 0 subtracted while failed, nothing while healthy', () => {
  assert.equal(effectivePriority(100, [s('a', false, -30)]).priority, 70);
  assert.equal(effectivePriority(100, [s('a', true, -30)]).priority, 100);
});

test('reverse inverts the direction of the adjustment', () => {
  assert.equal(effectivePriority(100, [s('a', true, 20, true)]).priority, 80);
  assert.equal(effectivePriority(100, [s('a', false, -30, true)]).priority, 130);
  assert.deepEqual(statusContribution(false, 20, true), { fault: false, delta: 0 });
});

test('a script with no result yet: no weight applies; weight 0 is FAULT only with init_fail', () => {
  const init = (weight: number, initFail = false) => ({ kind: 'status' as const, name: 'i', up: undefined, weight, initFail });
  assert.deepEqual(effectivePriority(100, [init(20)]), { fault: false, priority: 100, faultBy: [], delta: 0 });
  assert.equal(effectivePriority(100, [init(-20, true)]).priority, 100);
  assert.equal(effectivePriority(100, [init(0)]).fault, false);
  assert.equal(effectivePriority(100, [init(0, true)]).fault, true);
});

test('several trackers sum, then clamp to 1..254', () => {
  assert.equal(effectivePriority(100, [s('a', true, 20), s('b', false, -5), s('c', true, -50)]).priority, 115);
  assert.equal(effectivePriority(250, [s('a', true, 20)]).priority, 254);
  assert.equal(effectivePriority(10, [s('a', false, -200)]).priority, 1);
});

test('an owner (255) never changes priority, but weight-0 failure still faults', () => {
  assert.equal(effectivePriority(255, [s('a', false, -50)]).priority, 255);
  assert.equal(effectivePriority(255, [s('a', true, 50)]).priority, 255);
  assert.equal(effectivePriority(255, [s('a', false, 0)]).fault, true);
});

test('track_file: weight 0 -> non-zero value is a failure; reverse inverts', () => {
  assert.deepEqual(trackFileContribution(0, 0), { fault: false, delta: 0 });
  assert.deepEqual(trackFileContribution(3, 0), { fault: true, delta: 0 });
  assert.deepEqual(trackFileContribution(-1, 0), { fault: true, delta: 0 });
  assert.deepEqual(trackFileContribution(0, 0, true), { fault: true, delta: 0 });
  assert.deepEqual(trackFileContribution(7, 0, true), { fault: false, delta: 0 });
});

test('track_file: value x weight added, negatives reduce, below -253 -> FAULT', () => {
  assert.equal(effectivePriority(100, [f('tf', 5, 2)]).priority, 110);
  assert.equal(effectivePriority(100, [f('tf', -5, 2)]).priority, 90);
  assert.equal(effectivePriority(100, [f('tf', 5, -2)]).priority, 90);
  assert.equal(effectivePriority(100, [f('tf', 5, 2, true)]).priority, 90);
  assert.equal(effectivePriority(100, [f('tf', -253, 1)]).fault, false);
  assert.equal(effectivePriority(100, [f('tf', -253, 1)]).priority, 1);
  assert.deepEqual(effectivePriority(100, [f('tf', -254, 1)]).faultBy, ['tf']);
  assert.equal(effectivePriority(100, [f('tf', 1000, 1)]).priority, 254);
});
