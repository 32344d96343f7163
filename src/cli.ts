#!/usr/bin/env node
// keepalived-ts: the command (package bin). Logic lives in src/cli/main.ts (unit-testable).
import { runCli } from './cli/main.js';

runCli(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`keepalived-ts: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
