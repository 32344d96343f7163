// Our encoded packets, dissected by tshark: valid VRRP, fields as encoded, checksum "Good".
// tshark validates the VRRP checksum by default; its preference vrrp.v3_checksum_as_in_v2
// switches VRRPv3-over-IPv4 validation to the form without pseudo-header.
// Needs only tshark (no root); in CI (CI=true) a missing tshark is a failure, not a skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIpv4Packet, encodeAdvert, type AdvertFields, type EncodeOptions } from '../../src/vrrp/packet.js';
import { parseIpv6Into } from '../../src/util/ip.js';
import { AuthType } from '../../src/vrrp/types.js';

const LINKTYPE_RAW = 101; // raw IP, version from the first nibble

/** A classic libpcap file (little-endian, microsecond timestamps) holding raw IP packets. */
export function pcapFile(packets: readonly Uint8Array[], linkType = LINKTYPE_RAW): Buffer {
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4); // version 2.4
  g.writeUInt16LE(4, 6);
  g.writeInt32LE(0, 8); // thiszone
  g.writeUInt32LE(0, 12); // sigfigs
  g.writeUInt32LE(65535, 16); // snaplen
  g.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [g];
  packets.forEach((p, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + i, 0);
    h.writeUInt32LE(0, 4);
    h.writeUInt32LE(p.length, 8);
    h.writeUInt32LE(p.length, 12);
    parts.push(h, Buffer.from(p));
  });
  return Buffer.concat(parts);
}

/** An IPv6 packet (fixed header only) around a payload. */
function ipv6Packet(src: string, dst: string, payload: Uint8Array, hopLimit = 255, nextHeader = 112): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x60;
  b.writeUInt16BE(payload.length, 4);
  b[6] = nextHeader;
  b[7] = hopLimit;
  assert.ok(parseIpv6Into(src, b, 8) && parseIpv6Into(dst, b, 24));
  b.set(payload, 40);
  return b;
}

function haveTshark(): boolean {
  return spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
}
const inCI = process.env.CI === 'true' || process.env.CI === '1';

interface Case {
  label: string;
  fields: AdvertFields;
  enc: EncodeOptions;
  /** tshark -o preferences to use */
  prefs: string[];
  ah?: { seq: number; key: string };
}

const V4 = { src: '192.0.2.1', dst: '224.0.0.18' };
const V6 = { src: 'fe80::1', dst: 'ff02::12' };
const cases: Case[] = [
  {
    label: 'v2 no auth, 3 VIPs',
    fields: { version: 2, vrid: 1, priority: 100, advertIntervalCs: 100, addresses: ['192.0.2.101', '192.0.2.102', '198.51.100.7'] },
    enc: { family: 4 },
    prefs: [],
  },
  {
    label: 'v2 PASS',
    fields: {
      version: 2,
      vrid: 2,
      priority: 150,
      advertIntervalCs: 300,
      addresses: ['192.0.2.110'],
      authType: AuthType.SimpleText,
      authData: 'secret12',
    },
    enc: { family: 4 },
    prefs: [],
  },
  {
    label: 'v2 priority 0',
    fields: { version: 2, vrid: 9, priority: 0, advertIntervalCs: 100, addresses: ['203.0.113.9'] },
    enc: { family: 4 },
    prefs: [],
  },
  {
    label: 'v2 AH',
    fields: { version: 2, vrid: 6, priority: 120, advertIntervalCs: 100, addresses: ['192.0.2.160'], authType: AuthType.IpAh },
    enc: { family: 4 },
    prefs: [],
    ah: { seq: 7, key: 'ahkey' },
  },
  {
    label: 'v3 IPv4 pseudo-header (keepalived default)',
    fields: { version: 3, vrid: 3, priority: 200, advertIntervalCs: 50, addresses: ['192.0.2.130', '192.0.2.131'] },
    enc: { family: 4, ...V4 },
    prefs: [],
  },
  {
    label: 'v3 IPv4 without pseudo-header',
    fields: { version: 3, vrid: 3, priority: 200, advertIntervalCs: 4095, addresses: ['192.0.2.130'] },
    enc: { family: 4, ...V4, checksumForm: 'v3-no-pseudo-header' },
    prefs: ['vrrp.v3_checksum_as_in_v2:TRUE'],
  },
  {
    label: 'v3 IPv4 unicast',
    fields: { version: 3, vrid: 7, priority: 80, advertIntervalCs: 100, addresses: ['192.0.2.170'] },
    enc: { family: 4, src: '192.0.2.1', dst: '192.0.2.2' },
    prefs: [],
  },
  {
    label: 'v3 IPv6, 2 VIPs',
    fields: { version: 3, vrid: 4, priority: 255, advertIntervalCs: 1, addresses: ['2001:db8::140', '2001:db8:1::141'] },
    enc: { family: 6, ...V6 },
    prefs: [],
  },
];

function packetFor(c: Case): Buffer {
  const e = encodeAdvert(c.fields, c.enc);
  if (!e.ok) assert.fail(`${c.label}: ${JSON.stringify(e)}`);
  if (c.enc.family === 6) return ipv6Packet(c.enc.src!, c.enc.dst!, e.bytes);
  const p = buildIpv4Packet({ src: c.enc.src ?? V4.src, dst: c.enc.dst ?? V4.dst }, e.bytes, c.ah);
  if (!p.ok) assert.fail(`${c.label}: ${JSON.stringify(p)}`);
  return p.bytes;
}

const FIELDS = [
  'vrrp.version',
  'vrrp.type',
  'vrrp.virt_rtr_id',
  'vrrp.prio',
  'vrrp.addr_count',
  'vrrp.checksum.status',
  'vrrp.adver_int',
  'vrrp.short_adver_int',
  'vrrp.ip_addr',
  'vrrp.ipv6_addr',
  'vrrp.auth_type',
  'vrrp.auth_string',
  'ah.spi',
  'ah.sequence',
  'ip.checksum.status',
];

function tshark(file: string, prefs: string[]): string[][] {
  const args = [
    '-r',
    file,
    '-o',
    'ip.check_checksum:TRUE',
    ...prefs.flatMap((p) => ['-o', p]),
    '-T',
    'fields',
    '-E',
    'separator=|',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ];
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
}

test('tshark dissects our encoded VRRP packets as valid, with correct checksums', { timeout: 120_000 }, (t) => {
  if (!haveTshark()) {
    if (inCI) assert.fail('tshark is not installed (CI must install the tshark package)');
    t.skip('tshark not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kts-codec-tshark-'));
  try {
    // group by preferences: one tshark run per preference set
    const groups = new Map<string, Case[]>();
    for (const c of cases) groups.set(c.prefs.join(' '), [...(groups.get(c.prefs.join(' ')) ?? []), c]);
    for (const [prefKey, group] of groups) {
      const file = join(dir, `g${groups.size}-${prefKey.length}.pcap`);
      writeFileSync(file, pcapFile(group.map(packetFor)));
      const rows = tshark(file, group[0]!.prefs);
      assert.equal(rows.length, group.length);
      group.forEach((c, i) => {
        const row = Object.fromEntries(FIELDS.map((f, k) => [f, rows[i]![k] ?? '']));
        const f = c.fields;
        const where = `${c.label}: ${JSON.stringify(row)}`;
        assert.equal(row['vrrp.version'], String(f.version), where);
        assert.equal(row['vrrp.type'], '1', where);
        assert.equal(row['vrrp.virt_rtr_id'], String(f.vrid), where);
        assert.equal(row['vrrp.prio'], String(f.priority), where);
        assert.equal(row['vrrp.addr_count'], String(f.addresses.length), where);
        assert.equal(row['vrrp.checksum.status'], '1', `checksum not Good: ${where}`); // 1 = Good
        if (f.version === 2) {
          assert.equal(row['vrrp.adver_int'], String(f.advertIntervalCs / 100), where);
          assert.equal(row['vrrp.auth_type'], String(f.authType ?? 0), where);
          if (f.authType === AuthType.SimpleText) assert.equal(row['vrrp.auth_string'], f.authData, where);
        } else {
          assert.equal(row['vrrp.short_adver_int'], String(f.advertIntervalCs), where);
        }
        assert.equal(c.enc.family === 4 ? row['vrrp.ip_addr'] : row['vrrp.ipv6_addr'], f.addresses.join(','), where);
        if (c.enc.family === 4) assert.equal(row['ip.checksum.status'], '1', `IP header checksum not Good: ${where}`);
        if (c.ah) {
          assert.equal(Number(row['ah.sequence']), c.ah.seq, where);
          assert.equal(Number(row['ah.spi']), 0xc0000201, where); // keepalived: SPI = source address
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tshark cross-check: a wrong checksum form is reported Bad (the check can fail)', { timeout: 60_000 }, (t) => {
  if (!haveTshark()) {
    if (inCI) assert.fail('tshark is not installed');
    t.skip('tshark not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kts-codec-tshark-'));
  try {
    const fields: AdvertFields = { version: 3, vrid: 3, priority: 200, advertIntervalCs: 100, addresses: ['192.0.2.130'] };
    const withPh = packetFor({ label: 'ph', fields, enc: { family: 4, ...V4 }, prefs: [] });
    const noPh = packetFor({ label: 'noph', fields, enc: { family: 4, ...V4, checksumForm: 'v3-no-pseudo-header' }, prefs: [] });
    const corrupt = Buffer.from(withPh);
    corrupt[27]! ^= 0x01; // VRRP checksum low byte
    const file = join(dir, 'x.pcap');
    writeFileSync(file, pcapFile([withPh, noPh, corrupt]));
    const statusDefault = tshark(file, []).map((r) => r[FIELDS.indexOf('vrrp.checksum.status')]);
    assert.deepEqual(statusDefault, ['1', '0', '0']); // Good, Bad, Bad
    const statusAsV2 = tshark(file, ['vrrp.v3_checksum_as_in_v2:TRUE']).map((r) => r[FIELDS.indexOf('vrrp.checksum.status')]);
    assert.deepEqual(statusAsV2, ['0', '1', '0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
