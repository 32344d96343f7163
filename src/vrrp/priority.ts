/**
 * The one home of VRRP's priority bounds and of the effective-priority clamp, used by the core
 * (adverts, elections), the trackers' sum (src/track/priority.ts) and the config checks.
 *
 * keepalived 2.2.7 (vrrp_set_effective_priority): an address owner (base priority 255) never
 * changes priority; otherwise the tracked total is clamped to 1..254. Its arithmetic is integer
 * only (weights and track_file values are ints), so a fraction never arises there; were one to
 * reach us, C's integer conversion truncates toward zero, and so do we (Math.trunc, not round).
 */

/** priority of the address owner (RFC 5798 5.2.4) */
export const VRRP_PRIO_OWNER = 255;
/** lowest priority a running instance advertises (0 is reserved for resigning) */
export const MIN_PRIORITY = 1;
/** highest priority a non-owner can reach through tracking */
export const MAX_BACKUP_PRIORITY = VRRP_PRIO_OWNER - 1;

/**
 * Effective priority from a base priority and the tracked total (base + weights): an owner stays
 * 255; otherwise truncated and clamped to 1..254. A NaN total (no meaningful request) keeps the base.
 */
export function clampPriority(base: number, requested: number): number {
  if (base >= VRRP_PRIO_OWNER) return VRRP_PRIO_OWNER;
  if (Number.isNaN(requested)) return base;
  return Math.min(MAX_BACKUP_PRIORITY, Math.max(MIN_PRIORITY, Math.trunc(requested)));
}
