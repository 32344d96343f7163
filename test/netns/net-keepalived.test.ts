// The transport against the oracle: Debian's keepalived 2.2.7 in one namespace, our VrrpSocket in
// the other. We receive its adverts (IPv4 VRRPv2 and IPv6 VRRPv3, kernel-checked checksum), and
// it accepts ours: a higher-priority advert from us makes it leave MASTER and drop its VIP.
// (The adverts are built here by hand: the codec lives in src/vrrp, this only tests transport.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';

function hasKeepalived(): boolean {
  try {
    execFileSync('keepalived', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = !isRoot() ? 'needs root (network namespaces)' : !hasKeepalived() ? 'keepalived not installed' : false;

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** VRRPv2 advert, one IPv4 address, auth none, advert_int 1 s. */
function v2Advert(vrid: number, prio: number, vip: number[]): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x21;
  b[1] = vrid;
  b[2] = prio;
  b[3] = 1;
  b[4] = 0;
  b[5] = 1;
  Buffer.from(vip).copy(b, 8);
  b.writeUInt16BE(checksum(b), 6);
  return b;
}

/** VRRPv3 IPv6 advert, one address, 100 cs; the checksum is left to the kernel (IPV6_CHECKSUM). */
function v3Advert6(vrid: number, prio: number, vipHex: string): Buffer {
  const b = Buffer.alloc(24);
  b[0] = 0x31;
  b[1] = vrid;
  b[2] = prio;
  b[3] = 1;
  b.writeUInt16BE(100, 4);
  Buffer.from(vipHex, 'hex').copy(b, 8);
  return b;
}

function startKeepalived(lab: Lab, ns: string, conf: string): { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kts-net-ka-'));
  writeFileSync(join(dir, 'keepalived.conf'), conf);
  lab.spawn(ns, [
    'keepalived',
    '-n',
    '-l',
    '-D',
    '-G',
    '-P',
    '-f',
    join(dir, 'keepalived.conf'),
    '-p',
    join(dir, 'keepalived.pid'),
    '-r',
    join(dir, 'vrrp.pid'),
  ]);
  return { dir };
}

for (const family of [4, 6] as const) {
  test(`keepalived 2.2.7 interop, IPv${family}: its adverts reach us, ours make it back off`, { skip, timeout: 60_000 }, async () => {
    const lab = Lab.create();
    let dir: string | undefined;
    try {
      const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24', '2001:db8::11/64'] });
      const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24', '2001:db8::12/64'] });
      const vip = family === 4 ? '192.0.2.100' : '2001:db8::100';
      dir = startKeepalived(
        lab,
        b.ns,
        `global_defs { router_id kts_b }
vrrp_instance VI_1 {
  state MASTER
  interface vnet0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress { ${vip}/${family === 4 ? 24 : 64} }
}
`,
      ).dir;
      // Our receiver in a; also the sender of higher-priority adverts once told to.
      const ours = runIn(
        lab,
        a.ns,
        `${PRELUDE}
import { VrrpSocket } from ${mod('vrrp-socket')};
const s = await VrrpSocket.open({ ifname: 'vnet0', family: ${family} });
s.on('packet', (p) => out({ ev: 'packet', src: p.srcAddress, ttl: p.ttl, payload: p.data.subarray(p.payloadOffset).toString('hex') }));
out({ ev: 'ready' });
process.stdin.once('data', async (d) => {
  const advert = Buffer.from(d.toString().trim(), 'hex');
  for (let i = 0; i < 8; i++) { await s.send(advert); await new Promise((r) => setTimeout(r, 1000)); }
  s.close(); process.exit(0);
});`,
        40_000,
        { stdin: true },
      );
      ours.child.stdin?.on('error', () => undefined);
      await ours.waitLine((l) => l.ev === 'ready', 15_000);
      // keepalived becomes MASTER (no peer) and advertises.
      const pkt = await ours.waitLine((l) => l.ev === 'packet', 15_000);
      const payload = pkt.payload as string;
      assert.equal(payload.slice(0, 2), family === 4 ? '21' : '31', 'VRRPv2 over IPv4, VRRPv3 over IPv6');
      assert.equal(parseInt(payload.slice(2, 4), 16), 51);
      assert.equal(parseInt(payload.slice(4, 6), 16), 100);
      if (family === 4) {
        assert.equal(pkt.src, '192.0.2.12');
        assert.equal(pkt.ttl, 255);
        assert.equal(payload.slice(16, 24), 'c0000264');
      } else {
        assert.match(pkt.src as string, /^fe80::/);
        assert.equal(payload.slice(16, 48), '20010db8000000000000000000000100');
      }
      assert.ok(await waitFor(() => lab.addressesOf('b', family).includes(vip), 5000), 'keepalived holds the VIP as MASTER');

      // Now we advertise priority 200: keepalived must become BACKUP and remove its VIP.
      const advert = family === 4 ? v2Advert(51, 200, [192, 0, 2, 100]) : v3Advert6(51, 200, '20010db8000000000000000000000100');
      ours.child.stdin?.write(advert.toString('hex') + '\n');
      assert.ok(
        await waitFor(() => !lab.addressesOf('b', family).includes(vip), 6000, 100),
        'keepalived accepted our advert and released the VIP',
      );
    } finally {
      await lab.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
}
