// src/daemon/checkers.ts: the daemon starts the checkers once the table is programmed, so a
// SIGTERM (stop) or SIGHUP (reload) can come before or during their start. A stop must leave no
// checkers running after it; a reload during the start must not start a second set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/index.js';
import type { RealServer, VirtualServer } from '../../src/config/model.js';
import { CheckerSide } from '../../src/daemon/checkers.js';

// TCP_CHECK on a port nothing listens on: the first attempt (1 s after start, warmup 0) fails
// and, primed at start, takes the real server down at once: one setAlive(false) per checker set
const conf = (fifo?: string) =>
  parseConfigText(
    `
${fifo ? `global_defs {\n  lvs_notify_fifo ${fifo}\n}` : ''}
virtual_server 127.0.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 9 {
    TCP_CHECK {
      connect_port 9
      connect_timeout 1
      warmup 0
    }
  }
}
`,
    'k.conf',
  ).config;

function side() {
  const calls: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (m: string) => calls.push(`ERROR ${m}`), debug: () => undefined };
  const sink = {
    setAlive: (_v: VirtualServer, r: RealServer, alive: boolean) => void calls.push(`${r.address.address} ${alive}`),
    setWeight: () => undefined,
  };
  return { s: new CheckerSide(log, sink, 1000, () => new Set()), calls };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the checkers report through the sink (control: a start alone runs one set)', async () => {
  const { s, calls } = side();
  await s.start(conf());
  await sleep(1600);
  await s.stop();
  assert.deepEqual(calls, ['127.0.0.1 false']);
});

test('a stop before the start (SIGTERM while the table is programmed): nothing starts', async () => {
  const { s, calls } = side();
  const stopped = s.stop();
  await s.start(conf());
  await stopped;
  await sleep(1600);
  assert.deepEqual(calls, []);
  assert.deepEqual(s.snapshot(), []);
});

test('a reload while the start opens the fifo: one set of checkers, stopped by stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-ck-'));
  try {
    const { s, calls } = side();
    const started = s.start(conf(join(dir, 'fifo')));
    const reloaded = s.reload(conf(join(dir, 'fifo')));
    await Promise.all([started, reloaded]);
    await sleep(1600);
    await s.stop();
    assert.deepEqual(calls, ['127.0.0.1 false']);
    assert.equal(s.snapshot().length, 1);
    const n = calls.length;
    await sleep(1200);
    assert.equal(calls.length, n, 'a checker ran after stop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
