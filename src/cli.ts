#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=1
// keepalived-ts: the command (package bin). Logic lives in src/cli/main.ts (unit-testable).
// A plain `-t -f FILE` loads only the config test and the parser (no option parser, no daemon):
// Node's start-up plus module loading is most of what -t costs on a small file.
import { plainConfigTest } from './cli/config-test.js';
import { guardStdio, safeWrite } from './cli/output.js';

async function run(argv: string[]): Promise<number> {
  const test = plainConfigTest(argv);
  if (test) {
    const [{ runConfigTest, sysInterfaceExists, fsConfigFileProblem }, { loadConfigApi }, { writeFileSync }] = await Promise.all([
      import('./cli/config-test.js'),
      import('./cli/config-api.js'),
      import('node:fs'),
    ]);
    return runConfigTest(
      {
        stderr: (s) => safeWrite(process.stderr, s),
        loadConfigApi,
        interfaceExists: sysInterfaceExists,
        writeFile: (p, d) => writeFileSync(p, d),
        configFileProblem: fsConfigFileProblem,
      },
      test,
    );
  }
  return (await import('./cli/main.js')).runCli(argv);
}

guardStdio();
let settled = false;
// a command whose promise never settles (a bug) must not end looking like a success
process.once('beforeExit', () => {
  if (settled) return;
  safeWrite(process.stderr, 'keepalived-ts: internal error: the command ended without a result\n');
  process.exitCode = 2;
});
run(process.argv.slice(2))
  .finally(() => {
    settled = true;
  })
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // a bug of ours, not the user's input: one line; the stack only on request (bug reports)
      const e = err as Error;
      const detail = process.env.KEEPALIVED_TS_DEBUG ? `\n${e?.stack ?? ''}` : ' (set KEEPALIVED_TS_DEBUG=1 for the stack)';
      safeWrite(process.stderr, `keepalived-ts: internal error: ${e?.message ?? String(err)}${detail}\n`);
      process.exitCode = 2;
    },
  );
