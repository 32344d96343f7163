// The demo's client: runs inside the client namespace, requests the VIP every 100 ms (bounded by
// --seconds) and prints one JSON line per request: {t, ok, body}.
import http from 'node:http';

const url = process.argv[2] ?? 'http://192.0.2.100/';
const seconds = Number(process.argv[3] ?? 60);
const deadline = Date.now() + seconds * 1000;

function once(): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 250, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ ok: res.statusCode === 200, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, body: e.message }));
  });
}

while (Date.now() < deadline) {
  const started = Date.now();
  const r = await once();
  process.stdout.write(JSON.stringify({ t: started, ...r }) + '\n');
  const wait = 100 - (Date.now() - started);
  if (wait > 0) await new Promise((res) => setTimeout(res, wait));
}
