// SMTP_CHECK: expect the 220 banner, send HELO helo_name, expect 250, send QUIT and read the
// reply. Multi-line replies ("220-...") are read to their last line (keepalived reads only the
// first line and so fails a multi-line greeting, which RFC 5321 allows: we accept it). Anything
// else is a failure with the server's words in the reason.
import { connectTcp, fail, readUntil, success, type Target } from './common.js';
import type { Probe, CancelSignal } from './scheduler.js';
import type { Socket } from 'node:net';

const MAX_REPLY = 64 * 1024;

/** One SMTP reply: its code and text, or why none came. */
async function reply(s: Socket, signal: CancelSignal, t: Target, buf: { data: string }): Promise<{ code: number; text: string } | string> {
  const complete = (consume = true): { code: number; text: string } | undefined => {
    // a reply ends with a line "NNN text" (a hyphen after the code means more lines follow)
    const lines = buf.data.split('\r\n');
    for (let i = 0; i < lines.length - 1; i++) {
      const m = /^(\d{3})([ -]?)(.*)$/.exec(lines[i]!);
      if (m && m[2] !== '-') {
        if (consume) buf.data = lines.slice(i + 1).join('\r\n');
        return { code: Number(m[1]), text: lines[i]! };
      }
    }
    return undefined;
  };
  let r = complete();
  if (r) return r;
  const why = await readUntil(s, signal, t.connectTimeoutMs, t.connectTimeoutMs * 2, (c) => {
    buf.data += c.toString('latin1');
    return buf.data.length > MAX_REPLY || complete(false) !== undefined;
  });
  if (buf.data.length > MAX_REPLY) return 'reply too long';
  r = complete();
  if (r) return r;
  return why === 'eof' ? 'connection closed' : why;
}

export function smtpProbe(t: Target, heloName: string): Probe {
  const svc = t.name;
  return async (signal) => {
    const s = await connectTcp(t, signal);
    if (!('destroy' in s)) {
      if (s.reason === 'aborted') return s;
      return fail(s.reason === 'timeout' ? `Connection timeout to server ${svc}.` : `Error connecting to server ${svc}. (${s.reason})`);
    }
    const buf = { data: '' };
    try {
      // keepalived 2.2.7's words for each step's failure (its log prefixes them with SMTP_CHECK)
      const steps: Array<[string | undefined, number, string]> = [
        [undefined, 220, `Bad greeting banner from server ${svc}.`],
        [`HELO ${heloName}\r\n`, 250, `Bad HELO response from server ${svc}.`],
        ['QUIT\r\n', 221, 'QUIT'],
      ];
      for (const [send, want, bad] of steps) {
        if (send) s.write(send);
        const r = await reply(s, signal, t, buf);
        if (typeof r === 'string') {
          // a server that hangs up on QUIT without a word has still done its job
          if (bad === 'QUIT' && r === 'connection closed') break;
          if (r === 'aborted') return fail('aborted');
          if (r === 'connection closed') return fail(`Read failure from server ${svc}.`);
          if (r === 'timeout') return fail(`Read timeout from server ${svc}.`);
          return fail(`Error reading data from remote SMTP server ${svc}. (${r})`);
        }
        // keepalived accepts any reply to QUIT; a bad banner or HELO reply is a failure
        if (bad !== 'QUIT' && r.code !== want) return fail(`${bad} ("${r.text.slice(0, 80)}")`);
      }
      return success('SMTP dialogue complete');
    } finally {
      s.destroy();
    }
  };
}
