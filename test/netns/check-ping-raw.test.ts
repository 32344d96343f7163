// PING_CHECK's raw ICMP socket (src/check/ping.ts) in a network-namespace lab: the probe is given a
// ping binary that does not exist, so every success below came from the raw socket, not a fork of
// iputils' ping. An echo to a live address succeeds (also with fwmark, bind_if on the right device),
// an absent one times out after connect_timeout, a bind_if naming no device fails at once, and an
// abort ends the attempt at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';

const PING_JS = join(new URL('.', import.meta.url).pathname, '../../src/check/ping.js');
const SCHED_JS = join(new URL('.', import.meta.url).pathname, '../../src/check/scheduler.js');

test('PING_CHECK: echo on a raw socket (no ping process), fwmark and bind_if, timeout, abort', {
  skip: !isRoot() && 'needs root',
  timeout: 60_000,
}, async (t) => {
  const lab = Lab.create();
  t.after(() => lab.cleanup());
  lab.addHost({ name: 'lb', addresses: ['192.0.2.10/24', '2001:db8::10/64'] });
  lab.addHost({ name: 'srv', addresses: ['192.0.2.21/24', '2001:db8::21/64'] });
  const dev = lab.host('lb').ifname;
  const script = `
import { pingProbe } from ${JSON.stringify(PING_JS)};
import { Cancel } from ${JSON.stringify(SCHED_JS)};
const t = (host, family = 4, ms = 700) => ({ host, port: 0, family, connectTimeoutMs: ms, name: host });
const run = async (name, target, o, abortNow = false) => {
  const c = new Cancel();
  const t0 = performance.now();
  const p = pingProbe(target, '/nonexistent/ping', o)(c, 0);
  if (abortNow) c.abort();
  const r = await p;
  console.log(JSON.stringify({ name, ...r, ms: Math.round(performance.now() - t0) }));
};
await run('v4', t('192.0.2.21'));
await run('v6', t('2001:db8::21', 6));
await run('mark', t('192.0.2.21'), { mark: 7 });
await run('device', t('192.0.2.21'), { device: ${JSON.stringify(dev)} });
await run('nodevice', t('192.0.2.21'), { device: 'kts-none0' });
await run('absent', t('192.0.2.99'));
await run('abort', t('192.0.2.99', 4, 5000), {}, true);
console.log('done');
`;
  const child = lab.spawn(lab.host('lb').ns, [process.execPath, '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => {
    out += String(b);
  });
  child.stderr!.on('data', (b) => {
    out += String(b);
  });
  assert.ok(await waitFor(() => out.includes('done'), 30_000), out);
  const r = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        const o = JSON.parse(l) as { name: string; ok: boolean; reason: string; ms: number };
        return [o.name, o];
      }),
  );
  for (const k of ['v4', 'v6', 'mark', 'device']) assert.deepEqual([k, r[k]!.ok, r[k]!.reason], [k, true, 'echo reply'], out);
  assert.equal(r.nodevice!.ok, false);
  assert.match(r.nodevice!.reason, /cannot set bind_if/);
  assert.deepEqual([r.absent!.ok, r.absent!.reason], [false, 'no echo reply']);
  assert.ok(r.absent!.ms >= 690 && r.absent!.ms < 2500, `absent after ${r.absent!.ms} ms (connect_timeout 700)`);
  assert.deepEqual([r.abort!.ok, r.abort!.reason], [false, 'aborted']);
  assert.ok(r.abort!.ms < 1000, `abort took ${r.abort!.ms} ms`);
});
