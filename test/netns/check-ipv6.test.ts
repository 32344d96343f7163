// Health checkers over IPv6 in a network-namespace lab: TCP_CHECK and HTTP_GET to a real server at
// 2001:db8::20 and PING_CHECK (ICMPv6 echo) to 2001:db8::21; the address taken away makes each
// real server dead (logged with keepalived's [addr]:tcp:port form), put back makes it alive.
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
  rs?: string;
  alive?: boolean;
  msg?: string;
}

const SERVER = `
const net = require('node:net');
for (const port of [8001, 8002]) net.createServer((s) => {
  s.on('error', () => {});
  if (port === 8001) return s.end();
  s.once('data', () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n'));
}).listen(port, '2001:db8::20', () => { if (port === 8002) console.log('ready'); });
setTimeout(() => process.exit(0), 120000).unref();
`;

test('IPv6: TCP_CHECK, HTTP_GET and PING_CHECK (ICMPv6) follow their real servers', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-check6-'));
  const lab = Lab.create();
  const evs: Ev[] = [];
  let stop: () => Promise<void> = async () => undefined;
  t.after(async () => {
    await stop();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  lab.addHost({ name: 'lb', addresses: ['2001:db8::10/64'] });
  lab.addHost({ name: 'srv', addresses: ['2001:db8::20/64', '2001:db8::21/64'] });
  const srv = lab.host('srv');
  const server = lab.spawn(srv.ns, ['node', '-e', SERVER]);
  let out = '';
  server.stdout!.on('data', (c) => {
    out += String(c);
  });
  assert.ok(await waitFor(() => out.includes('ready'), 10_000), 'server ready');
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(
    conf,
    `
virtual_server 2001:db8::1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 2001:db8::20 8001 { TCP_CHECK { connect_timeout 1 } }
  real_server 2001:db8::20 8002 { HTTP_GET { url { path / } connect_timeout 1 } }
  real_server 2001:db8::21 80 { PING_CHECK { connect_timeout 1 } }
}
`,
  );
  const runner = lab.spawn(lab.host('lb').ns, ['node', RUNNER, conf], { stdio: ['pipe', 'pipe', 'pipe'] });
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
  const names = ['[2001:db8::20]:tcp:8001', '[2001:db8::20]:tcp:8002', '[2001:db8::21]:tcp:80'];
  const tr = (rs: string) => evs.filter((e) => e.ev === 'alive' && e.rs === rs);

  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(
    evs.filter((e) => e.ev === 'alive'),
    [],
    `healthy: ${evs.map((e) => e.msg).join('\n')}`,
  );
  for (const a of ['2001:db8::20/64', '2001:db8::21/64']) lab.exec(srv.ns, ['ip', 'addr', 'del', a, 'dev', srv.ifname]);
  assert.ok(
    await waitFor(() => names.every((n) => tr(n).length === 1), 25_000, 50),
    `dead: ${JSON.stringify(evs.filter((e) => e.ev !== 'log'))}`,
  );
  for (const n of names) assert.equal(tr(n)[0]!.alive, false);
  const logs = evs.map((e) => e.msg ?? '').join('\n');
  assert.match(logs, /TCP_CHECK on service \[2001:db8::20\]:tcp:8001 failed after 1 retries\./);
  assert.match(logs, /HTTP_CHECK on service \[2001:db8::20\]:tcp:8002 failed after 1 retries\./);
  assert.match(logs, /ICMP CHECK on service \[2001:db8::21\]:tcp:80 of \[2001:db8::1\]:tcp:80 failed after 1 retries\./);
  // the addresses back (nodad: usable at once); the listeners were bound to the address: restart
  for (const a of ['2001:db8::20/64', '2001:db8::21/64']) lab.exec(srv.ns, ['ip', 'addr', 'add', a, 'dev', srv.ifname, 'nodad']);
  server.kill('SIGKILL');
  out = '';
  const again = lab.spawn(srv.ns, ['node', '-e', SERVER]);
  again.stdout!.on('data', (c) => {
    out += String(c);
  });
  assert.ok(await waitFor(() => out.includes('ready'), 10_000), 'server ready again');
  assert.ok(
    await waitFor(() => names.every((n) => tr(n).length === 2), 25_000, 50),
    `alive: ${JSON.stringify(evs.filter((e) => e.ev !== 'log'))}`,
  );
  for (const n of names) assert.equal(tr(n)[1]!.alive, true);
  assert.match(evs.map((e) => e.msg ?? '').join('\n'), /ICMP connection to \[2001:db8::21\]:tcp:80 success\./);
});
