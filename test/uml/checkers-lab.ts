// Runs INSIDE the UML guest, in the namespace kts-cc that checkers-compare.guest.ts creates: the
// two real servers and a watch on that namespace's IPVS table (IPVS is per namespace, so the test
// process outside cannot read it). One process, one clock for both the failure / restore moments
// and the table changes. stdin: `fail`, `heal`, `quit`; stdout: one JSON object a line:
//   {"ready":true}                   both servers listen, the table can be read
//   {"ack":"fail"|"heal","t":MS}     the moment the real servers failed / were restored
//   {"rs":["198.51.100.11",...],"t":MS}  the VS's destinations changed (also once at start)
// 198.51.100.11:80 is the TCP_CHECK target: failing = not listening (connect refused);
// 198.51.100.12:80 is the HTTP_GET target: failing = status 503 instead of 200.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { Ipvs, formatTable } from '../../src/lvs/ipvs-netlink.js';

const TCP_RS = '198.51.100.11', HTTP_RS = '198.51.100.12', VS = 'TCP 192.0.2.100:80';
const POLL_MS = 20;
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
let healthy = true;
const handler = (_q: IncomingMessage, s: ServerResponse) => {
  s.writeHead(healthy ? 200 : 503, { connection: 'close' });
  s.end(healthy ? 'ok\n' : 'down\n');
};
const tcp = createServer(handler);
const http = createServer(handler);
const listen = (srv: ReturnType<typeof createServer>, host: string) => new Promise<void>((r) => srv.listen(80, host, () => r()));

const ipvs = await Ipvs.open({ modprobe: false });
await listen(tcp, TCP_RS);
await listen(http, HTTP_RS);

let last: string | undefined;
let polling = true;
async function poll(): Promise<void> {
  while (polling) {
    const text = formatTable(await ipvs.dump());
    const block = text.split(/\n(?=\S)/).find((b) => b.startsWith(`${VS} `)) ?? '';
    const rs = [...block.matchAll(/-> ([\d.]+):80 /g)].map((m) => m[1]!).sort();
    const key = rs.join();
    if (key !== last) {
      last = key;
      out({ rs, t: Date.now() });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
const polled = poll();
out({ ready: true });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'fail') {
    healthy = false;
    tcp.close();
    tcp.closeAllConnections();
    out({ ack: 'fail', t: Date.now() });
  } else if (line === 'heal') {
    await listen(tcp, TCP_RS);
    healthy = true;
    out({ ack: 'heal', t: Date.now() });
  } else if (line === 'quit') break;
}
polling = false;
await polled;
ipvs.close();
tcp.close();
http.close();
