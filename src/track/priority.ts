/**
 * keepalived's effective-priority rules, as a pure function.
 *
 * API:
 *   effectivePriority(base: number, trackers: readonly TrackedInput[]): PriorityResult
 *     PriorityResult = { fault: boolean; priority: number; faultBy: string[]; delta: number }
 *   trackFileContribution(value, weight, reverse): { fault: boolean; delta: number }
 *
 * Rules (man 5 keepalived.conf: track_script / track_interface / track_process / track_file,
 * vrrp_script "weight", track_file "weight"):
 * - `weight 0` (the default for track_script/track_interface): a failure puts the instance in
 *   FAULT; `weight 0 reverse`: FAULT while the tracked object is *up*.
 * - `weight W`, W > 0: W is added to the priority while the object is healthy.
 * - `weight W`, W < 0: W is subtracted (|W|) while the object is failed.
 * - `reverse`: the direction of the adjustment is reversed (the contribution is negated).
 *   (Measured with keepalived 2.2.7: a succeeding script with `weight 20 reverse` gives 80 from
 *   100, a failing one with `weight -20 reverse` 120, `weight 0 reverse` + success FAULT.)
 * - A vrrp_script with no result yet contributes nothing; with weight 0 it is FAULT only if
 *   `init_fail` is set.
 * - track_file: value x weight; with weight 0, a non-zero value is a failure (FAULT) and 0 is OK
 *   (reverse inverts that); otherwise value x weight (negated by reverse) is added, and a result
 *   below -253 puts the instance in FAULT.
 * - The sum is clamped to 1..254 (src/vrrp/priority.ts, the one clamp); an address owner (base priority 255) never changes priority
 *   (but a weight-0 failure still means FAULT: keepalived requires weight 0 for owners).
 */

import { clampPriority } from '../vrrp/priority.js';

export type TrackedInput =
  | {
      /** script, interface, process, bfd: anything with an up/down status */
      kind: 'status';
      name: string;
      /** undefined: no result yet (a vrrp_script before its first run) */
      up: boolean | undefined;
      weight: number;
      reverse?: boolean;
      /** vrrp_script init_fail: an unknown status counts as failed for weight 0 */
      initFail?: boolean;
    }
  | {
      kind: 'file';
      name: string;
      /** the integer read from the file */
      value: number;
      weight: number;
      reverse?: boolean;
    };

export interface PriorityResult {
  fault: boolean;
  /** effective priority (1..254, or 255 for an owner) */
  priority: number;
  /** names of the trackers forcing FAULT */
  faultBy: string[];
  /** unclamped sum of the weight contributions */
  delta: number;
}

/** track_file: a contribution below this puts the instance in FAULT */
export const TRACK_FILE_FAULT_BELOW = -253;

export function statusContribution(
  up: boolean | undefined,
  weight: number,
  reverse = false,
  initFail = false,
): { fault: boolean; delta: number } {
  // no result yet: no weight applies; FAULT only with init_fail (keepalived 2.2.7, measured)
  if (up === undefined) return { fault: weight === 0 && initFail, delta: 0 };
  if (weight === 0) return { fault: reverse ? up : !up, delta: 0 };
  const sign = reverse ? -1 : 1;
  if (weight > 0) return { fault: false, delta: up ? sign * weight : 0 };
  return { fault: false, delta: up ? 0 : sign * weight };
}

export function trackFileContribution(value: number, weight: number, reverse = false): { fault: boolean; delta: number } {
  if (weight === 0) {
    const failed = value !== 0;
    return { fault: reverse ? !failed : failed, delta: 0 };
  }
  const delta = value * weight * (reverse ? -1 : 1);
  if (delta < TRACK_FILE_FAULT_BELOW) return { fault: true, delta };
  return { fault: false, delta };
}

export function effectivePriority(base: number, trackers: readonly TrackedInput[]): PriorityResult {
  let delta = 0;
  const faultBy: string[] = [];
  for (const t of trackers) {
    const c =
      t.kind === 'file' ? trackFileContribution(t.value, t.weight, t.reverse) : statusContribution(t.up, t.weight, t.reverse, t.initFail);
    if (c.fault) faultBy.push(t.name);
    else delta += c.delta;
  }
  const fault = faultBy.length > 0;
  const priority = clampPriority(base, base + delta);
  return { fault, priority, faultBy, delta };
}
