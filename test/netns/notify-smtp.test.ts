// smtp_alert in a real daemon: a small SMTP sink on the namespace's loopback receives keepalived's
// state-change mails (one conversation per transition: HELO/EHLO, MAIL FROM, RCPT TO for each
// notification_email, DATA), with keepalived's subjects, in transition order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Lab, waitFor } from '../helpers/netns.js';
import { cleanupDir, startDaemon, stopDaemon, tempDir, type DaemonHandle } from '../fixtures/seed/helpers.js';

// The sink: accepts everything, prints one JSON line per message {cmds, data}. Bounded life.
const SINK = `
import net from 'node:net';
const srv = net.createServer((s) => {
  const cmds = []; let data = null; let buf = '';
  s.write('220 sink ESMTP\\r\\n');
  s.on('data', (c) => {
    buf += c.toString();
    for (;;) {
      if (data !== null) {
        const end = buf.indexOf('\\r\\n.\\r\\n');
        if (end < 0) return;
        data += buf.slice(0, end); buf = buf.slice(end + 5);
        process.stdout.write(JSON.stringify({ cmds, data }) + '\\n');
        data = null; s.write('250 queued\\r\\n'); continue;
      }
      const i = buf.indexOf('\\r\\n'); if (i < 0) return;
      const line = buf.slice(0, i); buf = buf.slice(i + 2); cmds.push(line);
      const v = line.slice(0, 4).toUpperCase();
      if (v === 'DATA') { data = ''; s.write('354 go ahead\\r\\n'); }
      else if (v === 'QUIT') { s.end('221 bye\\r\\n'); }
      else s.write('250 ok\\r\\n');
    }
  });
  s.on('error', () => {});
});
srv.listen(2525, '127.0.0.1', () => process.stderr.write('listening\\n'));
setTimeout(() => process.exit(0), 90000).unref();
`;

interface Mail {
  cmds: string[];
  data: string;
}

test("smtp_alert: one mail per transition to the sink, keepalived's subjects, every recipient", { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = tempDir('smtp');
  let d: DaemonHandle | undefined;
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const sinkJs = join(dir, 'sink.mjs');
    writeFileSync(sinkJs, SINK);
    const sink = lab.spawn(h.ns, [process.execPath, sinkJs]);
    const mails: Mail[] = [];
    createInterface({ input: sink.stdout! }).on('line', (l) => {
      try {
        mails.push(JSON.parse(l) as Mail);
      } catch {
        /* partial */
      }
    });
    let ready = false;
    sink.stderr!.on('data', (c: Buffer) => {
      if (c.toString().includes('listening')) ready = true;
    });
    assert.ok(await waitFor(() => ready, 10_000, 20), 'SMTP sink listening');
    mkdirSync(join(dir, 'tz'));
    writeFileSync(join(dir, 'tz', 'v'), '0\n');
    const conf = join(dir, 'k.conf');
    writeFileSync(
      conf,
      `global_defs {
  router_id lb01
  notification_email {
    admin@example.com
    oncall@example.org
  }
  notification_email_from keepalived@example.com
  smtp_server 127.0.0.1 2525
  smtp_connect_timeout 5
}
track_file tz {
  file "${dir}/tz/v"
}
vrrp_instance VI_1 {
  interface vnet0
  virtual_router_id 80
  priority 100
  advert_int 1
  smtp_alert
  virtual_ipaddress {
    192.0.2.180/24
  }
  track_file {
    tz weight 0
  }
}
`,
    );
    d = startDaemon(lab, h.ns, conf, join(dir, 'k.pid'));
    const subjects = () => mails.map((m) => /^Subject: (.*)$/m.exec(m.data.replace(/\r/g, ''))?.[1] ?? '?');
    const why = () => `\n${d!.log()}\nmails: ${JSON.stringify(subjects())}`;
    assert.ok(
      await waitFor(() => subjects().includes('[lb01] VRRP Instance VI_1 - Entering MASTER state'), 15_000, 50),
      `MASTER mail${why()}`,
    );
    writeFileSync(join(dir, 'tz', 'v'), '1\n');
    assert.ok(
      await waitFor(() => subjects().includes('[lb01] VRRP Instance VI_1 - Entering FAULT state'), 10_000, 50),
      `FAULT mail${why()}`,
    );
    const s = subjects();
    assert.deepEqual(
      s.filter((x) => /MASTER|FAULT/.test(x)),
      ['[lb01] VRRP Instance VI_1 - Entering MASTER state', '[lb01] VRRP Instance VI_1 - Entering FAULT state'],
      `in transition order${why()}`,
    );
    const master = mails[s.indexOf('[lb01] VRRP Instance VI_1 - Entering MASTER state')]!;
    assert.ok(
      master.cmds.some((c) => /^(HELO|EHLO) /i.test(c)),
      'greets',
    );
    assert.ok(master.cmds.includes('MAIL FROM:<keepalived@example.com>'), `MAIL FROM: ${master.cmds.join(' | ')}`);
    assert.ok(
      master.cmds.includes('RCPT TO:<admin@example.com>') && master.cmds.includes('RCPT TO:<oncall@example.org>'),
      `both recipients: ${master.cmds.join(' | ')}`,
    );
    assert.match(master.data, /VRRP Instance is now owning VRRP VIPs/);
    assert.match(d.log(), /SMTP alert successfully sent/);
    console.log(`# smtp_alert: ${mails.length} mails: ${s.join('; ')}`);
  } finally {
    if (d) await stopDaemon(d).catch(() => undefined);
    cleanupDir(dir);
    await lab.cleanup();
  }
});
