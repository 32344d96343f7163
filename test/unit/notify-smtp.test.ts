import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { formatMessage, sendMail, vrrpAlert } from '../../src/notify/smtp.js';

interface Sink {
  server: Server;
  port: number;
  commands: string[];
  messages: string[];
  close(): Promise<void>;
}

/** A small SMTP sink on 127.0.0.1; `reply` may override the answer to a command. */
async function sink(opts: { greet?: boolean; reply?: (cmd: string) => string | undefined } = {}): Promise<Sink> {
  const commands: string[] = [];
  const messages: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.setEncoding('latin1');
    let buf = '';
    let inData = false;
    if (opts.greet !== false) s.write('220 sink.example ESMTP ready\r\n');
    s.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          messages.push(buf.slice(0, end + 2));
          buf = buf.slice(end + 5);
          inData = false;
          s.write('250 2.0.0 queued\r\n');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const cmd = buf.slice(0, i);
        buf = buf.slice(i + 2);
        commands.push(cmd);
        const custom = opts.reply?.(cmd);
        if (custom !== undefined) {
          s.write(custom);
          continue;
        }
        const verb = cmd.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO') s.write('250-sink.example hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT') s.write('250 ok\r\n');
        else if (verb === 'DATA') {
          inData = true;
          s.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') s.end('221 bye\r\n');
        else s.write('502 unknown\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    commands,
    messages,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test('vrrp alert subjects and bodies are keepalived-like', () => {
  assert.deepEqual(vrrpAlert({ routerId: 'LVS_DEVEL', kind: 'INSTANCE', name: 'VI_1', state: 'MASTER' }), {
    subject: '[LVS_DEVEL] VRRP Instance VI_1 - Entering MASTER state',
    body: '=> VRRP Instance is now owning VRRP VIPs <=',
  });
  assert.equal(
    vrrpAlert({ routerId: 'r', kind: 'INSTANCE', name: 'VI_1', state: 'BACKUP' }).body,
    '=> VRRP Instance is no longer owning VRRP VIPs <=',
  );
  assert.equal(vrrpAlert({ routerId: 'r', kind: 'GROUP', name: 'G1', state: 'FAULT' }).subject, '[r] VRRP Group G1 - Entering FAULT state');
});

test('full SMTP conversation: EHLO, MAIL FROM, RCPT TO per address, DATA, QUIT', async () => {
  const s = await sink({ reply: (c) => (c === 'RCPT TO:<bad@example.org>' ? '550 5.1.1 no such user\r\n' : undefined) });
  try {
    const { subject, body } = vrrpAlert({ routerId: 'lb1', kind: 'INSTANCE', name: 'VI_1', state: 'MASTER' });
    const r = await sendMail({
      host: '127.0.0.1',
      port: s.port,
      heloName: 'lb1.example.org',
      from: 'keepalived@example.org',
      to: ['ops@example.org', 'bad@example.org', '<oncall@example.org>'],
      subject,
      body: `${body}\n.leading dot line`,
      timeoutMs: 2000,
      date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.accepted, ['ops@example.org', '<oncall@example.org>']);
    assert.deepEqual(r.rejected, ['bad@example.org']);
    assert.deepEqual(s.commands, [
      'EHLO lb1.example.org',
      'MAIL FROM:<keepalived@example.org>',
      'RCPT TO:<ops@example.org>',
      'RCPT TO:<bad@example.org>',
      'RCPT TO:<oncall@example.org>',
      'DATA',
      'QUIT',
    ]);
    assert.equal(s.messages.length, 1);
    const msg = s.messages[0]!;
    assert.ok(msg.includes('Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\n'));
    assert.ok(msg.includes('From: keepalived@example.org\r\n'));
    assert.ok(msg.includes('X-Mailer: Keepalived\r\n'));
    assert.ok(msg.includes('Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n'));
    assert.ok(msg.includes('\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n..leading dot line\r\n'), JSON.stringify(msg));
  } finally {
    await s.close();
  }
});

test('HELO is used when the server refuses EHLO', async () => {
  const s = await sink({ reply: (c) => (c.startsWith('EHLO') ? '500 what\r\n' : undefined) });
  try {
    const r = await sendMail({
      host: '127.0.0.1',
      port: s.port,
      heloName: 'h',
      from: 'a@b',
      to: ['c@d'],
      subject: 's',
      body: 'b',
      timeoutMs: 2000,
    });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(s.commands.slice(0, 2), ['EHLO h', 'HELO h']);
  } finally {
    await s.close();
  }
});

test('errors are reported, not thrown: refused connection, silent server (timeout), rejected sender', async () => {
  const closed = await sink();
  const port = closed.port;
  await closed.close();
  const refused = await sendMail({ host: '127.0.0.1', port, from: 'a@b', to: ['c@d'], subject: 's', body: 'b', timeoutMs: 1000 });
  assert.equal(refused.ok, false);
  assert.equal(refused.stage, 'connect');
  assert.match(refused.error ?? '', /ECONNREFUSED/);

  const silent = await sink({ greet: false });
  try {
    const t0 = performance.now();
    const r = await sendMail({ host: '127.0.0.1', port: silent.port, from: 'a@b', to: ['c@d'], subject: 's', body: 'b', timeoutMs: 300 });
    const took = performance.now() - t0;
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'greeting');
    assert.match(r.error ?? '', /timeout/);
    assert.ok(took >= 280 && took < 2000, `took ${took}`);
  } finally {
    await silent.close();
  }

  const picky = await sink({ reply: (c) => (c.startsWith('MAIL') ? '553 sender rejected\r\n' : undefined) });
  try {
    const r = await sendMail({ host: '127.0.0.1', port: picky.port, from: 'a@b', to: ['c@d'], subject: 's', body: 'b', timeoutMs: 1000 });
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'mail');
    assert.match(r.error ?? '', /553/);
  } finally {
    await picky.close();
  }

  const noRcpt = await sink({ reply: (c) => (c.startsWith('RCPT') ? '550 no\r\n' : undefined) });
  try {
    const r = await sendMail({ host: '127.0.0.1', port: noRcpt.port, from: 'a@b', to: ['c@d'], subject: 's', body: 'b', timeoutMs: 1000 });
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'rcpt');
    assert.ok(!noRcpt.commands.includes('DATA'));
  } finally {
    await noRcpt.close();
  }
});

test('header values cannot inject extra headers', () => {
  const m = formatMessage({ from: 'a@b', to: ['c@d'], subject: 'x\r\nBcc: evil@example.org', body: 'b', date: new Date(0) });
  assert.ok(!/\r\nBcc:/.test(m));
});
