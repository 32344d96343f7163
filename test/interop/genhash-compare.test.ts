// `keepalived-ts genhash` against Debian's genhash (keepalived 2.2.7) on the same loopback HTTP
// server: the same request bytes (GET, User-Agent, Host with and without -V, the protocols) and the
// same digest printed, for a body with a Content-Length, one without, and a 1 MiB one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { runGenhash } from '../../src/cli/genhash.js';

const run = promisify(execFile);

test("genhash: same request and digest as keepalived's genhash", { timeout: 60_000 }, async (t) => {
  assert.ok(existsSync('/usr/bin/genhash'), "Debian's keepalived (genhash) must be installed for this tier");
  const requests: string[] = [];
  const bodies: Record<string, Buffer> = {
    '/small': Buffer.from('hello\n'),
    '/big': Buffer.alloc(1 << 20, 0x5a),
    '/nolen': Buffer.from('no length here\n'),
  };
  const srv = createServer((s) => {
    s.on('error', () => undefined);
    let req = '';
    s.on('data', (c) => {
      req += c.toString('latin1');
      if (!req.includes('\r\n\r\n')) return;
      requests.push(req);
      const path = /^GET (\S+)/.exec(req)?.[1] ?? '';
      const b = bodies[path] ?? Buffer.from('none');
      s.end(Buffer.concat([Buffer.from(`HTTP/1.0 200 OK\r\n${path === '/nolen' ? '' : `Content-Length: ${b.length}\r\n`}\r\n`), b]));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  const port = String((srv.address() as AddressInfo).port);
  for (const args of [
    ['-s', '127.0.0.1', '-p', port, '-u', '/small'],
    ['-s', '127.0.0.1', '-p', port, '-u', '/big'],
    ['-s', '127.0.0.1', '-p', port, '-u', '/nolen', '-V', 'www.example.test'],
    ['-s', '127.0.0.1', '-p', port, '-u', '/small', '-P', '1.1'],
    ['-s', '127.0.0.1', '-p', port, '-u', '/small', '-P', '1.0c'],
  ]) {
    requests.length = 0;
    const theirs = (await run('/usr/bin/genhash', args, { timeout: 10_000 })).stdout.trim();
    let ours = '';
    const code = await runGenhash(args, {
      stdout: (s) => {
        ours += s;
      },
      stderr: () => undefined,
    });
    assert.equal(code, 0);
    assert.equal(ours.trim(), theirs, `digest for ${args.join(' ')}`);
    assert.equal(requests.length, 2);
    assert.equal(requests[1], requests[0], `request bytes for ${args.join(' ')}`);
  }
});
