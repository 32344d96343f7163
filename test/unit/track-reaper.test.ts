// The kts_reaper addon and the reaper's bookkeeping, in this process (the orphan behaviour itself
// is tested where PID 1 never reaps: test/netns/track-reaper.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { listChildren, loadReaperAddon, protectedChildren, startOrphanReaper } from '../../src/track/reaper.js';

test('reap() refuses anything but one positive pid (never "any child" nor a group)', () => {
  const a = loadReaperAddon();
  for (const bad of [0, -1, -4242, 'x', undefined]) {
    assert.throws(
      () => a.reap(bad as number),
      (e: Error & { code?: string }) => e.code === 'EINVAL',
      String(bad),
    );
  }
  assert.equal(a.reap(1), null, 'PID 1 is not our child: null, not an error');
});

test("Node's own children are protected from the reaper and still get their exit status", async () => {
  const r = startOrphanReaper();
  try {
    assert.equal(loadReaperAddon().isChildSubreaper(), true);
    const c = spawn('/bin/sh', ['-c', 'sleep 0.2; exit 5'], { stdio: 'ignore' });
    assert.ok(c.pid && protectedChildren().has(c.pid));
    assert.ok(listChildren().includes(c.pid!), 'listed among our children');
    const code = await new Promise((res) => c.on('exit', res));
    assert.equal(code, 5);
    assert.equal(protectedChildren().has(c.pid!), false, 'released once libuv reaped it');
    assert.equal(r.reaped, 0, "nothing of Node's was reaped by us");
  } finally {
    r.stop();
  }
});
