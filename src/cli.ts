#!/usr/bin/env node
// keepalived-ts: the command (package bin). Logic lives in src/cli/main.ts (unit-testable).
import { runCli } from './cli/main.js';
import { guardStdio, safeWrite } from './cli/output.js';

guardStdio();
let settled = false;
// a command whose promise never settles (a bug) must not end looking like a success
process.once('beforeExit', () => {
  if (settled) return;
  safeWrite(process.stderr, 'keepalived-ts: internal error: the command ended without a result\n');
  process.exitCode = 2;
});
runCli(process.argv.slice(2)).finally(() => { settled = true; }).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    // a bug of ours, not the user's input: one line; the stack only on request (bug reports)
    const e = err as Error;
    const detail = process.env.KEEPALIVED_TS_DEBUG ? `\n${e?.stack ?? ''}` : ' (set KEEPALIVED_TS_DEBUG=1 for the stack)';
    safeWrite(process.stderr, `keepalived-ts: internal error: ${e?.message ?? String(err)}${detail}\n`);
    process.exitCode = 2;
  },
);
