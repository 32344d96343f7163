import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrackFileValue, TrackFile } from '../../src/track/file.js';
import { effectivePriority } from '../../src/track/priority.js';
import { suiteTempDir } from '../helpers/tmp.js';

const tmp = suiteTempDir('track-file');

/** Resolves with the next 'value' event, or rejects after ms. */
function nextValue(tf: TrackFile, ms = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no value event')), ms);
    tf.once('value', (v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

test('values are read like strtol; missing/garbage content reads as 0', () => {
  assert.deepEqual(parseTrackFileValue('42\n'), { value: 42, garbage: false });
  assert.deepEqual(parseTrackFileValue('  -17  \n'), { value: -17, garbage: false });
  assert.deepEqual(parseTrackFileValue('+5'), { value: 5, garbage: false });
  assert.deepEqual(parseTrackFileValue('12abc'), { value: 12, garbage: true });
  assert.deepEqual(parseTrackFileValue('abc'), { value: 0, garbage: true });
  assert.deepEqual(parseTrackFileValue(''), { value: 0, garbage: false });
  assert.equal(parseTrackFileValue('99999999999').value, 2147483647);
  assert.equal(parseTrackFileValue('-99999999999').value, -2147483648);
});

test('init_file creates the file with VALUE only if missing, unless overwrite', async () => {
  const p = join(tmp.path(), 'init');
  const a = new TrackFile({ name: 'a', path: p, initFile: { value: 7 } });
  await a.start();
  a.stop();
  assert.equal(readFileSync(p, 'utf8').trim(), '7');
  assert.equal(a.value, 7);
  writeFileSync(p, '3\n');
  const b = new TrackFile({ name: 'b', path: p, initFile: { value: 9 } });
  await b.start();
  b.stop();
  assert.equal(b.value, 3, 'existing file kept');
  const c = new TrackFile({ name: 'c', path: p, initFile: { value: 9, overwrite: true } });
  await c.start();
  c.stop();
  assert.equal(c.value, 9);
  const d = new TrackFile({ name: 'd', path: join(tmp.path(), 'init0'), initFile: {} });
  await d.start();
  d.stop();
  assert.equal(readFileSync(join(tmp.path(), 'init0'), 'utf8').trim(), '0');
});

for (const forcePoll of [false, true]) {
  test(`changes are seen (${forcePoll ? 'polling fallback' : 'fs.watch'}): write, replace by rename, delete, garbage`, async () => {
    const p = join(tmp.path(), `watched-${forcePoll}`);
    writeFileSync(p, '1\n');
    const tf = new TrackFile({ name: 'w', path: p, weight: 10, forcePoll, pollMs: 50 });
    const warnings: string[] = [];
    tf.on('warning', (w) => warnings.push(w));
    await tf.start();
    try {
      assert.equal(tf.value, 1);
      let nv = nextValue(tf);
      writeFileSync(p, '5\n');
      assert.equal(await nv, 5);
      // value x weight into the priority (the daemon's use)
      assert.equal(effectivePriority(100, [{ kind: 'file', name: 'w', value: tf.value, weight: tf.weight }]).priority, 150);
      nv = nextValue(tf);
      writeFileSync(`${p}.tmp`, '-2\n');
      renameSync(`${p}.tmp`, p);
      assert.equal(await nv, -2);
      nv = nextValue(tf);
      unlinkSync(p);
      assert.equal(await nv, 0);
      assert.ok(
        warnings.some((w) => /cannot read/.test(w)),
        warnings.join('|'),
      );
      writeFileSync(p, '4\n');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(tf.value, 4);
      nv = nextValue(tf);
      writeFileSync(p, 'garbage\n');
      assert.equal(await nv, 0);
      assert.ok(warnings.some((w) => /unexpected content/.test(w)));
    } finally {
      tf.stop();
    }
  });
}

test('a missing file at start reads 0 and is picked up when created', async () => {
  const p = join(tmp.path(), 'late');
  const tf = new TrackFile({ name: 'late', path: p });
  await tf.start();
  try {
    assert.equal(tf.value, 0);
    const nv = nextValue(tf);
    writeFileSync(p, '8');
    assert.equal(await nv, 8);
  } finally {
    tf.stop();
  }
});
