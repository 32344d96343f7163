import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatGroupLine, formatInstanceLine, formatRsLine, formatVsLine, NotifyFifo } from '../../src/notify/fifo.js';
import { suiteTempDir } from '../helpers/tmp.js';

const tmp = suiteTempDir('notify-fifo');

test("keepalived's fifo line formats", () => {
  assert.equal(formatInstanceLine('VI_1', 'MASTER', 100), 'INSTANCE "VI_1" MASTER 100');
  assert.equal(formatInstanceLine('VI_2', 'MASTER_RX_LOWER_PRI', 0), 'INSTANCE "VI_2" MASTER_RX_LOWER_PRI 0');
  // measured from keepalived 2.2.7: group lines carry a 0 priority
  assert.equal(formatGroupLine('G1', 'BACKUP'), 'GROUP "G1" BACKUP 0');
  assert.equal(formatVsLine('[192.0.2.15]:tcp:80', true), 'VS [192.0.2.15]:tcp:80 UP');
  assert.equal(formatRsLine('[192.0.2.4]:tcp:80', '[192.0.2.15]:tcp:80', false), 'RS [192.0.2.4]:tcp:80 [192.0.2.15]:tcp:80 DOWN');
});

test('the fifo is created if missing and a reader gets the lines in order', async () => {
  const path = join(tmp.path(), 'vrrp_notify_fifo');
  const f = new NotifyFifo({ path });
  assert.equal(await f.open(), undefined);
  try {
    assert.ok(statSync(path).isFIFO());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const rl = createInterface({ input: createReadStream(path) });
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      rl.on('line', (l) => {
        got.push(l);
        if (got.length === 4) resolve();
      }),
    );
    f.instance('VI_1', 'BACKUP', 100);
    f.instance('VI_1', 'MASTER', 100);
    f.group('G1', 'MASTER');
    f.instance('VI_1', 'FAULT', 0);
    await Promise.race([all, sleep(3000)]);
    assert.deepEqual(got, ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100', 'GROUP "G1" MASTER 0', 'INSTANCE "VI_1" FAULT 0']);
    rl.close();
  } finally {
    await f.close();
  }
});

test('writing with no reader never blocks the event loop', async () => {
  const path = join(tmp.path(), 'noreader');
  const f = new NotifyFifo({ path });
  assert.equal(await f.open(), undefined);
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) f.instance('VI_1', 'MASTER', i); // > 64 KiB pipe buffer
  const tick = performance.now();
  await sleep(10);
  assert.ok(performance.now() - tick < 500, 'event loop stalled');
  assert.ok(tick - t0 < 500);
  const c0 = performance.now();
  await f.close();
  assert.ok(performance.now() - c0 < 2000, 'close is bounded even with a full fifo');
});

test('notify_fifo_script is started with the fifo path as last argument and stopped on close', async () => {
  const path = join(tmp.path(), 'scripted');
  const log = join(tmp.path(), 'script.log');
  const reader = join(tmp.path(), 'reader.sh');
  writeFileSync(reader, `#!/bin/sh\necho "args: $*" > ${log}\nwhile read line; do echo "$line" >> ${log}; done < "$2"\n`, { mode: 0o755 });
  const f = new NotifyFifo({ path, script: { line: `${reader} first` } });
  assert.equal(await f.open(), undefined);
  const pid = f.scriptPid;
  assert.ok(pid);
  f.instance('VI_1', 'MASTER', 100);
  f.group('G1', 'MASTER');
  let text = '';
  for (let i = 0; i < 60 && !text.includes('GROUP'); i++) {
    await sleep(50);
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      /* not yet */
    }
  }
  assert.equal(text, `args: first ${path}\nINSTANCE "VI_1" MASTER 100\nGROUP "G1" MASTER 0\n`);
  await f.close();
  await sleep(100);
  let alive = true;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    alive = !/\) [ZX] /.test(st);
  } catch {
    alive = false;
  }
  assert.equal(alive, false, 'notify_fifo_script still running after close');
});

test('an existing non-fifo path is a typed error', async () => {
  const path = join(tmp.path(), 'regular');
  writeFileSync(path, 'x');
  const f = new NotifyFifo({ path });
  const err = await f.open();
  assert.equal(err?.error, 'not-a-fifo');
  assert.equal(f.write('x'), false);
  const g = new NotifyFifo({ path: join(tmp.path(), 'no', 'such', 'dir', 'fifo') });
  assert.equal((await g.open())?.error, 'mkfifo-failed');
});
