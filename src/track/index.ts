/**
 * Health tracking for keepalived-ts (vrrp_script, track_file, vrrp_track_process and the
 * effective-priority rules). Self-contained: plain option objects in, events out; the daemon maps
 * the config model onto these options. See each module's header for its API.
 */
export * from './cmdline.js';
export * from './child.js';
export * from './script.js';
export * from './file.js';
export * from './process.js';
export * from './priority.js';
