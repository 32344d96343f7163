/**
 * smtp_alert: a minimal SMTP client for keepalived's state-change e-mails.
 *
 * API:
 *   sendMail(opts: SmtpOptions): Promise<SmtpResult>    never rejects; errors come back in the result
 *     SmtpResult { ok: boolean; stage?: SmtpStage; error?: string; transcript: string[];
 *                  accepted: string[]; rejected: string[] }
 *   vrrpAlert({ routerId, kind: 'INSTANCE'|'GROUP', name, state }): { subject, body }
 *   formatMessage(opts): string    the DATA payload (headers + body, dot-stuffed, CRLF)
 *
 * Conversation: greeting 220; EHLO <helo> (HELO if the server rejects EHLO; keepalived 2.2.7
 * itself sends only HELO, which every server accepts); MAIL FROM:<from>;
 * RCPT TO:<addr> for each notification_email (a refused recipient is reported, the others still
 * get the mail); DATA; the message; "."; QUIT. `smtp_connect_timeout` (default 30 s) bounds the
 * connection and every wait for a reply. Defaults follow keepalived: helo name = host name,
 * subject "[router_id] VRRP Instance VI_1 - Entering MASTER state", header "X-Mailer: Keepalived".
 */
import { Socket } from 'node:net';
import { hostname } from 'node:os';
import type { GlobalDefs } from '../config/model.js';

export interface SmtpOptions {
  /** smtp_server host (IPv4/IPv6 literal or name) */
  host: string;
  port?: number;
  /** smtp_helo_name (default: host name) */
  heloName?: string;
  /** notification_email_from */
  from: string;
  /** notification_email */
  to: string[];
  subject: string;
  body: string;
  /** smtp_connect_timeout in ms (default 30000) */
  timeoutMs?: number;
  date?: Date;
}

export type SmtpStage = 'connect' | 'greeting' | 'helo' | 'mail' | 'rcpt' | 'data' | 'message' | 'quit';

export interface SmtpResult {
  ok: boolean;
  stage?: SmtpStage;
  error?: string;
  transcript: string[];
  accepted: string[];
  rejected: string[];
}

export function vrrpAlert(a: {
  routerId: string;
  kind: 'INSTANCE' | 'GROUP';
  name: string;
  state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
}): { subject: string; body: string } {
  if (a.kind === 'GROUP') {
    return {
      subject: `[${a.routerId}] VRRP Group ${a.name} - Entering ${a.state} state`,
      body: `=> All VRRP group instances are now in ${a.state} state <=`,
    };
  }
  return {
    subject: `[${a.routerId}] VRRP Instance ${a.name} - Entering ${a.state} state`,
    body: a.state === 'MASTER' ? '=> VRRP Instance is now owning VRRP VIPs <=' : '=> VRRP Instance is no longer owning VRRP VIPs <=',
  };
}

function addr(a: string): string {
  const t = a.trim();
  return t.startsWith('<') ? t : `<${t}>`;
}

/** Strips CR/LF from header values: a configured string must not inject headers. */
function header(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}

export function formatMessage(o: Pick<SmtpOptions, 'from' | 'to' | 'subject' | 'body' | 'date'>): string {
  const lines = [
    `Date: ${(o.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `From: ${header(o.from)}`,
    `Subject: ${header(o.subject)}`,
    'X-Mailer: Keepalived',
    `To: ${o.to.map(header).join(', ')}`,
    '',
    ...o.body.split(/\r?\n/),
    '', // keepalived 2.2.7 ends the body with an empty line before the "." (measured)
  ];
  // dot-stuffing (RFC 5321 4.5.2)
  return lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n') + '\r\n';
}

interface Reply {
  code: number;
  text: string;
}

export function sendMail(opts: SmtpOptions): Promise<SmtpResult> {
  const transcript: string[] = [];
  const accepted: string[] = [];
  const rejected: string[] = [];
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const sock = new Socket();
  let buf = '';
  let pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  const replies: Reply[] = [];
  let failure: Error | undefined;
  let cur: string[] = [];

  const deliver = (): void => {
    if (!pending) return;
    if (failure) {
      const p = pending;
      pending = undefined;
      p.reject(failure);
    } else if (replies.length > 0) {
      const p = pending;
      pending = undefined;
      p.resolve(replies.shift()!);
    }
  };
  sock.setEncoding('latin1');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > 65536) {
      failure = new Error('reply too long');
      sock.destroy();
    }
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      transcript.push(`S: ${line}`);
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!m) {
        failure = new Error(`malformed reply "${line}"`);
        continue;
      }
      cur.push(m[3]!);
      if (m[2] !== '-') {
        replies.push({ code: Number(m[1]), text: cur.join('\n') });
        cur = [];
      }
    }
    deliver();
  });
  sock.on('error', (e) => {
    failure = e;
    deliver();
  });
  sock.on('close', () => {
    failure ??= new Error('connection closed by server');
    deliver();
  });

  const reply = (): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => {
        pending = undefined;
        reject(new Error(`timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      pending = {
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      deliver();
    });
  const send = (line: string): void => {
    transcript.push(`C: ${line}`);
    sock.write(`${line}\r\n`);
  };
  const expect = async (stage: SmtpStage, ok: (c: number) => boolean): Promise<Reply> => {
    const r = await reply();
    if (!ok(r.code)) throw Object.assign(new Error(`${r.code} ${r.text}`), { stage });
    return r;
  };

  let stage: SmtpStage = 'connect';
  const run = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      sock.connect({ host: opts.host, port: opts.port ?? 25 });
    });
    stage = 'greeting';
    await expect(stage, (c) => c === 220);
    stage = 'helo';
    const helo = header(opts.heloName ?? hostname());
    send(`EHLO ${helo}`);
    const e = await reply();
    if (e.code !== 250) {
      send(`HELO ${helo}`);
      await expect(stage, (c) => c === 250);
    }
    stage = 'mail';
    send(`MAIL FROM:${addr(header(opts.from))}`);
    await expect(stage, (c) => c === 250);
    stage = 'rcpt';
    for (const to of opts.to) {
      send(`RCPT TO:${addr(header(to))}`);
      const r = await reply();
      if (r.code === 250 || r.code === 251) accepted.push(to);
      else rejected.push(to);
    }
    if (accepted.length === 0) throw Object.assign(new Error('no recipient accepted'), { stage });
    stage = 'data';
    send('DATA');
    await expect(stage, (c) => c === 354);
    stage = 'message';
    const msg = formatMessage(opts);
    transcript.push(`C: <message ${msg.length} bytes>`);
    sock.write(`${msg}.\r\n`);
    await expect(stage, (c) => c === 250);
    stage = 'quit';
    send('QUIT');
    await reply().catch(() => undefined); // the mail is accepted; a missing 221 is not an error
  };

  return run().then(
    () => {
      sock.end();
      sock.destroy();
      return { ok: true, transcript, accepted, rejected };
    },
    (err: Error & { stage?: SmtpStage }) => {
      sock.destroy();
      return { ok: false, stage: err.stage ?? stage, error: err.message, transcript, accepted, rejected };
    },
  );
}

/**
 * An alert mail with global_defs' SMTP settings (smtp_server, notification_email[_from],
 * smtp_helo_name, smtp_connect_timeout); undefined when no server or no recipient is configured.
 * Used by the VRRP side's smtp_alert and the checkers' real-server alerts.
 */
export function sendAlertMail(g: GlobalDefs, subject: string, body: string): Promise<SmtpResult> | undefined {
  if (!g.smtpServer || g.notificationEmail.length === 0) return undefined;
  const routerId = g.routerId ?? hostname().split('.')[0] ?? 'keepalived-ts';
  return sendMail({
    host: g.smtpServer.host,
    port: g.smtpServer.port,
    heloName: g.smtpHeloName,
    from: g.notificationEmailFrom ?? `keepalived-ts@${routerId}`,
    to: [...g.notificationEmail],
    subject,
    body,
    timeoutMs: g.smtpConnectTimeoutS * 1000,
  });
}
