/**
 * Notifications for keepalived-ts: ordered notify script queues, notify fifos, script security,
 * SMTP alerts. Self-contained; see each module's header for its API.
 */
export * from './queue.js';
export * from './fifo.js';
export * from './security.js';
export * from './smtp.js';
