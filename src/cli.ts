#!/usr/bin/env node
// keepalived-ts: the command (package bin). Logic lives in src/cli/main.ts (unit-testable).
// A plain `-t -f FILE` loads only the config test and the parser (no option parser, no daemon):
// Node's start-up plus module loading is most of what -t costs on a small file.
import { plainConfigTest } from './cli/config-test.js';

async function run(argv: string[]): Promise<number> {
  const test = plainConfigTest(argv);
  if (test) {
    const [{ runConfigTest, sysInterfaceExists }, { loadConfigApi }, { writeFileSync }] = await Promise.all([
      import('./cli/config-test.js'),
      import('./cli/config-api.js'),
      import('node:fs'),
    ]);
    return runConfigTest(
      { stderr: (s) => void process.stderr.write(s), loadConfigApi, interfaceExists: sysInterfaceExists, writeFile: (p, d) => writeFileSync(p, d) },
      test,
    );
  }
  return (await import('./cli/main.js')).runCli(argv);
}

run(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`keepalived-ts: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
