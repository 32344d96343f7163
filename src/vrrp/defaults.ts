// keepalived 2.2.7's defaults for the GARP timing, written once: the core's coreConfig (for the
// simulator, benches and tests) and the config's global_defs defaults (src/config/blocks/global.ts)
// both read them. A module of its own so that `-t`, which loads only the parser, stays small.
export const KEEPALIVED_GARP_DEFAULTS = {
  garpMasterDelayMs: 5000,
  garpMasterRepeat: 5,
  garpMasterRefreshMs: 0,
  garpMasterRefreshRepeat: 1,
} as const;
