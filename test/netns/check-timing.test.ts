// keepalived's start and reload timing for a dead real server (../shared/notes/lvs.md 4.3, measured
// with keepalived 2.2.7, delay_loop 1): at start a dead real server leaves 1.0-2.0 s after the
// checkers start (its first check, 1 s + random(warmup = delay_loop), and the first failure is
// final); a dead real server added by a reload needs retry+1 failures: 2.0-3.0 s here (keepalived
// measured 2.4-2.9 s); the real server that stays keeps its state (no new transition).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Lab, waitFor } from '../helpers/netns.js';

const HERE = new URL('.', import.meta.url).pathname;
const RUNNER = join(HERE, '../helpers/check-runner.js');

interface Ev {
  ev: string;
  t: number;
  rs?: string;
  alive?: boolean;
}

const conf = (ports: number[]) => `
virtual_server 203.0.113.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
${ports.map((p) => `  real_server 192.0.2.20 ${p} {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }`).join('\n')}
}
`;

test('a dead real server: out 1.0-2.0 s after start; added by a reload: after retry+1 failures', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-checkt-'));
  const lab = Lab.create();
  const evs: Ev[] = [];
  let stop: () => Promise<void> = async () => undefined;
  t.after(async () => {
    await stop();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  lab.addHost({ name: 'lb', addresses: ['192.0.2.10/24'] });
  lab.addHost({ name: 'srv', addresses: ['192.0.2.20/24'] }); // nothing listens: connections refused
  const c1 = join(dir, 'k1.conf');
  const c2 = join(dir, 'k2.conf');
  writeFileSync(c1, conf([8001]));
  writeFileSync(c2, conf([8001, 8002]));
  const runner = lab.spawn(lab.host('lb').ns, ['node', RUNNER, c1], { stdio: ['pipe', 'pipe', 'pipe'] });
  createInterface({ input: runner.stdout! }).on('line', (l) => {
    try {
      evs.push(JSON.parse(l) as Ev);
    } catch {
      /* not ours */
    }
  });
  stop = async () => {
    if (runner.exitCode !== null) return;
    runner.stdin!.write('stop\n');
    await waitFor(() => evs.some((e) => e.ev === 'stopped'), 5000);
  };
  const dead = (p: number) => evs.find((e) => e.ev === 'alive' && e.rs === `[192.0.2.20]:tcp:${p}` && e.alive === false);
  assert.ok(await waitFor(() => dead(8001) !== undefined, 5000), 'the dead real server is reported');
  const t1 = dead(8001)!.t;
  assert.ok(t1 >= 1000 && t1 <= 2000 + 150, `dead ${t1} ms after start (keepalived: 1.0-2.0 s)`);
  runner.stdin!.write(`reload ${c2}\n`);
  assert.ok(await waitFor(() => dead(8002) !== undefined, 6000), 'the new dead real server is reported');
  const t0 = evs.find((e) => e.ev === 'reloaded')!.t;
  const t2 = dead(8002)!.t - t0;
  assert.ok(t2 >= 2000 - 50 && t2 <= 3000 + 150, `new real server dead ${t2} ms after the reload (retry+1 failures: 2.0-3.0 s)`);
  assert.equal(
    evs.filter((e) => e.ev === 'alive' && e.rs === '[192.0.2.20]:tcp:8001').length,
    1,
    'the kept real server: no new transition',
  );
});
