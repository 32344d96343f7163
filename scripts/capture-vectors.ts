// Capture VRRP test vectors from Debian's keepalived 2.2.7, byte for byte.
//
// Run as root after `npm run build`:  node dist/scripts/capture-vectors.js [outDir]
// (scripts/capture-vectors.sh wraps this.)  Rerunnable: it rewrites test/fixtures/vrrp/*.json.
//
// One lab: host "ka" runs keepalived with several instances (one per scenario, distinct VRIDs),
// host "cap" runs tcpdump on its interface on the same bridge. After keepalived has been Master
// for a few adverts we stop it with SIGTERM (it then sends priority 0 for every instance), stop
// tcpdump, read the pcap ourselves and write one JSON fixture per scenario.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Lab, isRoot, waitFor } from '../test/helpers/netns.js';

interface Scenario {
  name: string;
  description: string;
  family: 4 | 6;
  version: 2 | 3;
  vrid: number;
  /** IP protocol carrying the advert (112 VRRP, 51 AH) */
  ipProtocol: number;
  /** what the advert must carry (from the instance config); priority 0 adverts differ only in priority */
  expected: { priority: number; advertIntervalCs: number; addresses: string[]; authType?: number; authPass?: string; unicast?: boolean };
  instance: string;
}

const KA_V4 = '192.0.2.1';
const CAP_V4 = '192.0.2.2';

const scenarios: Scenario[] = [
  {
    name: 'v2-noauth-multi-vip',
    expected: { priority: 100, advertIntervalCs: 100, addresses: ['192.0.2.101', '192.0.2.102', '198.51.100.7'], authType: 0 },
    description: 'VRRPv2, no authentication, three VIPs, multicast',
    family: 4,
    version: 2,
    vrid: 1,
    ipProtocol: 112,
    instance: `vrrp_instance V2_NOAUTH {
  state BACKUP
  interface vnet0
  virtual_router_id 1
  priority 100
  advert_int 1
  virtual_ipaddress {
    192.0.2.101/24
    192.0.2.102/24
    198.51.100.7/24
  }
}`,
  },
  {
    name: 'v2-auth-pass',
    expected: { priority: 150, advertIntervalCs: 200, addresses: ['192.0.2.110'], authType: 1, authPass: 'secret12' },
    description: 'VRRPv2, auth_type PASS, auth_pass longer than 8 characters (keepalived truncates to 8)',
    family: 4,
    version: 2,
    vrid: 2,
    ipProtocol: 112,
    instance: `vrrp_instance V2_PASS {
  state BACKUP
  interface vnet0
  virtual_router_id 2
  priority 150
  advert_int 2
  authentication {
    auth_type PASS
    auth_pass secret123
  }
  virtual_ipaddress {
    192.0.2.110/24
  }
}`,
  },
  {
    name: 'v2-auth-ah',
    expected: { priority: 120, advertIntervalCs: 100, addresses: ['192.0.2.160'], authType: 2, authPass: 'ahkey' },
    description: 'VRRPv2, auth_type AH (IPsec AH header, IP protocol 51, HMAC-MD5-96)',
    family: 4,
    version: 2,
    vrid: 6,
    ipProtocol: 51,
    instance: `vrrp_instance V2_AH {
  state BACKUP
  interface vnet0
  virtual_router_id 6
  priority 120
  advert_int 1
  authentication {
    auth_type AH
    auth_pass ahkey
  }
  virtual_ipaddress {
    192.0.2.160/24
  }
}`,
  },
  {
    name: 'v3-ipv4',
    expected: { priority: 200, advertIntervalCs: 50, addresses: ['192.0.2.130', '192.0.2.131'] },
    description: 'VRRPv3 over IPv4, multicast, advert_int 0.5 (50 cs), two VIPs',
    family: 4,
    version: 3,
    vrid: 3,
    ipProtocol: 112,
    instance: `vrrp_instance V3_V4 {
  version 3
  state BACKUP
  interface vnet0
  virtual_router_id 3
  priority 200
  advert_int 0.5
  virtual_ipaddress {
    192.0.2.130/24
    192.0.2.131/24
  }
}`,
  },
  {
    name: 'v3-ipv6',
    expected: { priority: 100, advertIntervalCs: 100, addresses: ['2001:db8::140', '2001:db8:1::141'] },
    description: 'VRRPv3 over IPv6, multicast ff02::12 from the link-local address, two VIPs',
    family: 6,
    version: 3,
    vrid: 4,
    ipProtocol: 112,
    instance: `vrrp_instance V3_V6 {
  version 3
  state BACKUP
  interface vnet0
  virtual_router_id 4
  priority 100
  advert_int 1
  virtual_ipaddress {
    2001:db8::140/64
    2001:db8:1::141/64
  }
}`,
  },
  {
    name: 'v2-unicast',
    expected: { priority: 90, advertIntervalCs: 100, addresses: ['192.0.2.150'], authType: 0, unicast: true },
    description: 'VRRPv2 unicast: unicast_src_ip 192.0.2.1, unicast_peer 192.0.2.2',
    family: 4,
    version: 2,
    vrid: 5,
    ipProtocol: 112,
    instance: `vrrp_instance V2_UNICAST {
  state BACKUP
  interface vnet0
  virtual_router_id 5
  priority 90
  advert_int 1
  unicast_src_ip ${KA_V4}
  unicast_peer {
    ${CAP_V4}
  }
  virtual_ipaddress {
    192.0.2.150/24
  }
}`,
  },
  {
    name: 'v3-ipv4-unicast',
    expected: { priority: 80, advertIntervalCs: 100, addresses: ['192.0.2.170'], unicast: true },
    description: 'VRRPv3 over IPv4 unicast: pseudo-header uses the unicast destination',
    family: 4,
    version: 3,
    vrid: 7,
    ipProtocol: 112,
    instance: `vrrp_instance V3_UNICAST {
  version 3
  state BACKUP
  interface vnet0
  virtual_router_id 7
  priority 80
  advert_int 1
  unicast_src_ip ${KA_V4}
  unicast_peer {
    ${CAP_V4}
  }
  virtual_ipaddress {
    192.0.2.170/24
  }
}`,
  },
];

/** Minimal pcap reader (classic libpcap format, either byte order). Returns link type + frames. */
function readPcap(buf: Buffer): { linkType: number; frames: Buffer[] } {
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error('not a pcap file');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  const frames: Buffer[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    off += 16;
    if (off + incl > buf.length) break;
    frames.push(buf.subarray(off, off + incl));
    off += incl;
  }
  return { linkType, frames };
}

/** Strip the link layer: Ethernet (1) or Linux cooked (113). Returns the IP packet or null. */
function ipOf(linkType: number, frame: Buffer): Buffer | null {
  if (linkType === 1) {
    const et = frame.readUInt16BE(12);
    if (et === 0x0800 || et === 0x86dd) return frame.subarray(14);
    return null;
  }
  if (linkType === 113) return frame.subarray(16);
  if (linkType === 101) return frame;
  return null;
}

async function main(): Promise<void> {
  if (!isRoot()) throw new Error('capture-vectors must run as root (network namespaces)');
  const outDir = resolve(process.argv[2] ?? 'test/fixtures/vrrp');
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'kts-capture-'));
  const lab = Lab.create();
  try {
    lab.addHost({ name: 'ka', addresses: [`${KA_V4}/24`, '2001:db8::1/64'] });
    const cap = lab.addHost({ name: 'cap', addresses: [`${CAP_V4}/24`, '2001:db8::2/64'] });
    const ka = lab.host('ka');
    const conf = `global_defs {
  router_id kts_capture
}
${scenarios.map((s) => s.instance).join('\n')}
`;
    const confPath = join(tmp, 'keepalived.conf');
    writeFileSync(confPath, conf);
    const pcapPath = join(tmp, 'capture.pcap');
    const tcpdump = lab.spawn(cap.ns, [
      'tcpdump',
      '-U',
      '-n',
      '-i',
      cap.ifname,
      '-w',
      pcapPath,
      '-s',
      '0',
      'ip proto 112 or ip proto 51 or ip6 proto 112',
    ]);
    let tcpdumpErr = '';
    tcpdump.stderr?.on('data', (d: Buffer) => {
      tcpdumpErr += d.toString();
    });
    if (!(await waitFor(() => tcpdumpErr.includes('listening on'), 5000))) throw new Error(`tcpdump did not start: ${tcpdumpErr}`);

    const kaArgs = [
      'keepalived',
      '-n',
      '-l',
      '-D',
      '-P',
      '-f',
      confPath,
      '-p',
      join(tmp, 'ka.pid'),
      '-r',
      join(tmp, 'vrrp.pid'),
      '-c',
      join(tmp, 'checker.pid'),
    ];
    const keepalived = lab.spawn(ka.ns, kaArgs);
    let kaLog = '';
    keepalived.stdout?.on('data', (d: Buffer) => {
      kaLog += d.toString();
    });
    keepalived.stderr?.on('data', (d: Buffer) => {
      kaLog += d.toString();
    });
    // Wait until every instance has become Master (logged as "Entering MASTER STATE").
    const allMaster = await waitFor(() => (kaLog.match(/Entering MASTER STATE/g) ?? []).length >= scenarios.length, 15000, 100);
    if (!allMaster) console.error(`warning: not every instance reached MASTER:\n${kaLog}`);
    await new Promise((r) => setTimeout(r, 3500)); // a few adverts from each Master
    // SIGTERM the parent by PID: it stops the VRRP child, which sends priority 0 adverts.
    const pid = keepalived.pid;
    if (pid !== undefined) {
      // `ip netns exec` execs keepalived in place, so the child's PID is keepalived's.
      process.kill(pid, 'SIGTERM');
    }
    await waitFor(() => keepalived.exitCode !== null || keepalived.signalCode !== null, 8000, 50);
    await new Promise((r) => setTimeout(r, 500));
    if (tcpdump.pid !== undefined) process.kill(tcpdump.pid, 'SIGINT');
    await waitFor(() => tcpdump.exitCode !== null || tcpdump.signalCode !== null, 5000, 50);

    const { linkType, frames } = readPcap(readFileSync(pcapPath));
    const stamp = new Date().toISOString();
    for (const s of scenarios) {
      const packets: Array<{ hex: string; priority: number }> = [];
      for (const f of frames) {
        const ip = ipOf(linkType, f);
        if (!ip) continue;
        let vrrp: Buffer;
        if (s.family === 4) {
          if (ip[0]! >> 4 !== 4 || ip[9]! !== s.ipProtocol) continue;
          const ihl = (ip[0]! & 15) * 4;
          // under AH the VRRP message follows the AH header (length (payload len + 2) * 4)
          vrrp = s.ipProtocol === 51 ? ip.subarray(ihl + (ip[ihl + 1]! + 2) * 4) : ip.subarray(ihl);
        } else {
          if (ip[0]! >> 4 !== 6 || ip[6]! !== s.ipProtocol) continue;
          vrrp = ip.subarray(40);
        }
        if (vrrp.length < 8 || vrrp[0]! >> 4 !== s.version || vrrp[1]! !== s.vrid) continue;
        // keep one normal advert per distinct byte string, plus the priority 0 ones
        const hex = ip.toString('hex');
        if (packets.some((p) => p.hex === hex)) continue;
        packets.push({ hex, priority: vrrp[2]! });
      }
      // keep at most 2 normal adverts and every priority-0 advert
      const normal = packets.filter((p) => p.priority !== 0).slice(0, 2);
      const zero = packets.filter((p) => p.priority === 0).slice(0, 2);
      const fixture = {
        name: s.name,
        description: s.description,
        capturedWith: 'Debian keepalived 2.2.7 (keepalived -n -l -D -P), tcpdump on a bridge peer; scripts/capture-vectors.ts',
        capturedAt: stamp,
        family: s.family,
        version: s.version,
        vrid: s.vrid,
        ipProtocol: s.ipProtocol,
        senderAddresses: { ipv4: KA_V4, ipv6LinkLocal: 'see packet source' },
        expected: s.expected,
        config: s.instance,
        /** full IP packets (IPv4 header included, or IPv6 fixed header included), hex */
        packets: [...normal, ...zero].map((p) => ({ hex: p.hex, priority: p.priority })),
      };
      if (fixture.packets.length === 0) console.error(`warning: no packet captured for ${s.name}`);
      writeFileSync(join(outDir, `${s.name}.json`), JSON.stringify(fixture, null, 2) + '\n');
      console.log(`${s.name}: ${normal.length} advert(s), ${zero.length} priority-0`);
    }
  } finally {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
