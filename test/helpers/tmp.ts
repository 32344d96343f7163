// Temporary directories and scripts for tests: one place for what test files used to copy.
import { after, before } from 'node:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the system's temp dir, named kts-<prefix>-XXXXXX. World-readable
 * (0755): scripts in it may run as script_user / nobody, which must reach them. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kts-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** A temp directory made before a test file's tests and removed after them. `path()` is valid
 * inside tests (not at module load). */
export function suiteTempDir(prefix: string): { path(): string } {
  let dir: string | undefined;
  before(() => {
    dir = tempDir(prefix);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    path() {
      if (!dir) throw new Error('suiteTempDir: used outside a test');
      return dir;
    },
  };
}

/** Writes an executable shell script (a `#!/bin/sh` line is added unless the body has one). */
export function writeScript(path: string, body: string, mode = 0o755): string {
  writeFileSync(path, body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}
