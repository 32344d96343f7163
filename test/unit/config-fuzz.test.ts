// Fuzz: random bytes and random mutations of valid configurations never make the parser throw
// or hang; every diagnostic stays well formed. Bounded in time; seeded for reproducibility.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseConfigText, type ParseOptions, type ParseResult } from '../../src/config/index.js';
import { Prng } from '../../src/util/prng.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../../test/fixtures/config/unit/full.conf');
const SAMPLES = '/usr/share/doc/keepalived/samples';
const SEED = Number(process.env.KTS_FUZZ_SEED ?? 0x5eed);
const ITER = Number(process.env.KTS_FUZZ_ITER ?? 3000);

/** every seeded test uses the simulator's PRNG (src/sim/prng.ts) */
function rng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

const corpus: string[] = [fs.readFileSync(FIXTURE, 'utf8')];
if (fs.existsSync(SAMPLES)) {
  for (const f of fs.readdirSync(SAMPLES).filter((x) => x.startsWith('keepalived.conf')))
    corpus.push(fs.readFileSync(path.join(SAMPLES, f), 'utf8'));
}

const TOKENS = [
  '{',
  '}',
  '"',
  "'",
  '\\',
  '\n',
  '#',
  '!',
  '@',
  '@^',
  '$X=',
  '${X}',
  '$X',
  '~SEQ(X,1,5)',
  '~LST(X,a,b)',
  '~SEQx(',
  'include x',
  'includea *',
  '${_RANDOM 1 9}',
  'vrrp_instance',
  'priority',
  '999999999999',
  '-1',
  '0.0001',
  '2001:db8::1/129',
  'virtual_ipaddress {',
  '\t',
  '\0',
  '\u00e9',
  '\\x41',
];

function mutate(text: string, r: () => number): string {
  let s = text;
  const n = 1 + Math.floor(r() * 8);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 5);
    if (op === 0) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(r() * 20));
    else if (op === 1) s = s.slice(0, pos) + TOKENS[Math.floor(r() * TOKENS.length)] + s.slice(pos);
    else if (op === 2) s = s.slice(0, pos) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(pos);
    else if (op === 3) {
      const a = Math.floor(r() * s.length);
      s = s.slice(0, pos) + s.slice(a, a + Math.floor(r() * 80)) + s.slice(pos);
    } else s = s.slice(0, pos) + s.slice(pos).split('\n').slice(1).join('\n');
  }
  return s;
}

function check(r: ParseResult): void {
  assert.ok(r.config && Array.isArray(r.config.vrrpInstances));
  for (const d of r.diagnostics) {
    assert.ok(typeof d.message === 'string' && d.message.length > 0);
    assert.ok(Number.isInteger(d.line) && d.line >= 0);
    assert.ok(Number.isInteger(d.column) && d.column >= 0);
    assert.ok(['error', 'warning', 'info'].includes(d.severity));
  }
  for (const v of r.config.vrrpInstances) {
    assert.ok(v.virtualRouterId >= 1 && v.virtualRouterId <= 255);
    assert.ok(v.priority >= 1 && v.priority <= 255);
    assert.ok(v.advertIntervalCs >= 1 && v.advertIntervalCs < 4096);
  }
}

// includes resolve to other corpus texts (and to the including text: loops must be bounded)
function opts(r: () => number, self: () => string): ParseOptions {
  return {
    configId: 'main',
    fileExists: () => false,
    interfaceExists: (i) => i.length % 2 === 0,
    readFile: () => (r() < 0.5 ? self() : corpus[Math.floor(r() * corpus.length)]!),
    glob: (p) => (r() < 0.3 ? [] : [p, p + '.2']),
  };
}

test(`fuzz: ${ITER} random mutations of valid configs and random bytes never crash or hang (seed ${SEED})`, () => {
  const r = rng(SEED);
  const deadline = Date.now() + 60_000;
  let worst = 0;
  let done = 0;
  for (let i = 0; i < ITER && Date.now() < deadline; i++) {
    let text: string;
    if (i % 4 === 0) {
      const len = Math.floor(r() * 2000);
      const bytes = Buffer.alloc(len);
      for (let k = 0; k < len; k++) bytes[k] = Math.floor(r() * 256);
      text = bytes.toString('latin1');
    } else {
      text = mutate(corpus[Math.floor(r() * corpus.length)]!, r);
    }
    const t0 = Date.now();
    let res: ParseResult;
    try {
      res = parseConfigText(
        text,
        `fuzz-${i}.conf`,
        opts(r, () => text),
      );
    } catch (e) {
      assert.fail(`iteration ${i} threw: ${e instanceof Error ? e.stack : String(e)}\n--- input ---\n${text.slice(0, 2000)}`);
    }
    check(res);
    assert.ok(
      !res.diagnostics.some((d) => d.category === 'fatal' && d.message.startsWith('internal')),
      `iteration ${i}: internal error ${JSON.stringify(res.diagnostics.find((d) => d.message.startsWith('internal')))}`,
    );
    const took = Date.now() - t0;
    if (took > worst) {
      worst = took;
      if (took > 2000) console.log(`# slow iteration ${i}: ${took} ms, ${res.files.length} files, ${res.diagnostics.length} diagnostics`);
    }
    done++;
  }
  assert.ok(done >= Math.min(ITER, 500), `only ${done} iterations in time`);
  assert.ok(worst < 5_000, `slowest parse took ${worst} ms`);
});

test('fuzz: the unmutated corpus parses with no internal error', () => {
  for (const text of corpus) {
    const res = parseConfigText(text, 'c.conf', { configId: 'main', fileExists: () => false, readFile: () => '', glob: () => [] });
    check(res);
    assert.ok(!res.diagnostics.some((d) => d.category === 'fatal'));
  }
});
