// Runs INSIDE the UML guest, in the namespace kts-cc that checkers-compare.guest.ts creates: a watch
// on that namespace's IPVS table (IPVS is per namespace, so the test process outside cannot read
// it). The targets themselves are test/helpers/check-targets.js, started beside it.
// stdin: `quit`; stdout: one JSON object a line:
//   {"ready":true}                              the table can be read
//   {"rs":["198.51.100.11:8001",...],"t":MS}    the VS's destinations changed (also once at start)
// t is Date.now(): the same clock as the test's failure / restore marks (one machine).
import { createInterface } from 'node:readline';
import { Ipvs, formatTable } from '../../src/lvs/ipvs-netlink.js';

const VS = 'TCP 192.0.2.100:80';
const POLL_MS = 20;
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const ipvs = await Ipvs.open({ modprobe: false });
let last: string | undefined;
let polling = true;
async function poll(): Promise<void> {
  while (polling) {
    const text = formatTable(await ipvs.dump());
    const block = text.split(/\n(?=\S)/).find((b) => b.startsWith(`${VS} `)) ?? '';
    const rs = [...block.matchAll(/-> ([\d.]+:\d+) /g)].map((m) => m[1]!).sort();
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
for await (const line of createInterface({ input: process.stdin })) if (line === 'quit') break;
polling = false;
await polled;
ipvs.close();
