// The contract between the health checkers (src/check/) and the IPVS table manager (src/lvs/).
// Checkers decide whether a real server is alive; the table manager decides what that means for
// the kernel's table (remove, weight 0 with inhibit_on_failure, quorum, sorry server). Real and
// virtual servers are named by their objects in the typed model; after a reload the new model's
// objects are matched to the old ones by the side that keeps state (keepalived matches a real
// server by address and port, a checker by type and identical options).
import type { Checker, RealServer, VirtualServer } from '../config/model.js';

/** What the checkers report. The LVS table manager implements it. */
export interface RealServerSink {
  /** Every checker of `rs` now passes (alive) or one has failed for good (not alive). */
  setAlive(vs: VirtualServer, rs: RealServer, alive: boolean, reason: string): void;
  /** A dynamic weight changed (MISC_CHECK misc_dynamic exit code, FILE_CHECK track_file value). */
  setWeight(vs: VirtualServer, rs: RealServer, weight: number): void;
}

/** What the checkers need to be told. The checker scheduler implements it. */
export interface CheckerControl {
  /** ha_suspend: a virtual server's checkers run only while its address is local. */
  suspend(vs: VirtualServer, suspended: boolean): void;
  /** Apply a new configuration; real servers and checkers that stay keep their state. */
  reload(virtualServers: readonly VirtualServer[]): void;
  /** Stop every checker (at shutdown); resolves when no socket, timer or child is left. */
  stop(): Promise<void>;
}

/**
 * A real server's state before any check has run. keepalived adds every real server to the table
 * at start (alive) unless alpha mode is on (virtual_server, real_server or checker `alpha`): then
 * it starts down until each of its checkers has succeeded once. Without checkers: always alive.
 * (real_server `alpha` is read from RealServer.checkerDefaults.)
 * The checkers' side (src/check/) owns this rule; the table manager asks it.
 */
export function initialAlive(vs: VirtualServer, rs: RealServer): boolean {
  if (rs.checkers.length === 0) return true;
  const on = (v: string | undefined): boolean => v !== undefined && !/^(off|no|false|0)$/i.test(v);
  return !(on(vs.options['alpha']) || on(rs.checkerDefaults?.['alpha']) || rs.checkers.some((c: Checker) => on(c.options['alpha'])));
}
