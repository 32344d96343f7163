// The UML tier: boots Debian's user-mode-linux kernel (real IPVS) once per guest test file
// (test/uml/*.guest.ts) and runs that file inside with node --test; the file's TAP result is
// the test's result. See test/helpers/uml.ts and ../shared/notes/ipvs-uml.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bootGuest, ensureUmlKit } from '../helpers/uml.js';

const here = import.meta.dirname;
const only = process.env.KTS_UML_ONLY;
const guests = readdirSync(here)
  .filter((f) => f.endsWith('.guest.js') && (!only || f.includes(only)))
  .sort();

test('UML kit: kernel, busybox and the xstate shim are ready', () => {
  const kit = ensureUmlKit();
  assert.ok(kit.modules.endsWith('kernel'));
  assert.ok(guests.length > 0, `no guest test files in ${here}`);
});

for (const g of guests) {
  test(`in a UML guest: ${g}`, { timeout: 300_000 }, async () => {
    const kit = ensureUmlKit();
    const file = join(here, g);
    const r = await bootGuest(kit, `cd /tmp && ${process.execPath} --test --test-reporter=spec ${file}`, { timeoutMs: 240_000 });
    if (r.status !== 0) assert.fail(`${g} failed in the guest (status ${r.status}, ${r.ms} ms):\n${r.console.slice(-8000)}`);
    const pass = /ℹ pass (\d+)/.exec(r.console);
    assert.ok(pass && Number(pass[1]) > 0, `no passing test reported by ${g}:\n${r.console.slice(-3000)}`);
    if (process.env.KTS_UML_VERBOSE) console.log(r.console);
    console.log(`# ${g}: ${pass![1]} passed in the guest, boot+run ${r.ms} ms`);
  });
}
