// Interop with Debian's keepalived 2.2.7, both directions (root; kts-* network namespaces):
//  1. keepalived's packets, captured live now (scripts/capture-vectors), decode and validate;
//  2. keepalived accepts OUR encoded adverts: each keepalived instance is a priority-100 Backup;
//     we send priority-200 adverts for it from a peer. An instance that accepts them stays BACKUP;
//     one that drops them takes over (Entering MASTER STATE) after its Master_Down_Interval.
//     Negative controls (corrupted checksum, wrong password) must take over: the check can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';
import {
  buildIpv4Packet,
  encodeAdvert,
  parseIpv6Packet,
  receiveIpv4,
  receiveIpv6,
  type AdvertFields,
  type EncodeOptions,
  type ReceiveOptions,
} from '../../src/vrrp/packet.js';
import { parseIpv6Into } from '../../src/util/ip.js';
import { AuthType } from '../../src/vrrp/types.js';

const root = join(import.meta.dirname, '..', '..', '..');
const inCI = process.env.CI === 'true' || process.env.CI === '1';
function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
function missing(): string[] {
  const m: string[] = [];
  if (!isRoot()) m.push('root');
  for (const c of ['ip', 'keepalived', 'tcpdump', 'python3']) if (!which(c)) m.push(c);
  return m;
}
function skipOrFail(t: { skip: (m: string) => void }): boolean {
  const m = missing();
  if (m.length === 0) return false;
  if (inCI) assert.fail(`cannot run (missing: ${m.join(', ')})`);
  t.skip(`missing: ${m.join(', ')}`);
  return true;
}

test('keepalived 2.2.7 packets captured now decode and validate', { timeout: 120_000 }, (t) => {
  if (skipOrFail(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'kts-codec-capture-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'dist', 'scripts', 'capture-vectors.js'), out], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(r.status, 0, `capture failed: ${r.stderr}`);
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 7, `fixtures written: ${files.join(', ')}`);
    for (const f of files) {
      const fx = JSON.parse(readFileSync(join(out, f), 'utf8')) as {
        name: string;
        family: 4 | 6;
        vrid: number;
        version: 2 | 3;
        expected: { addresses: string[]; advertIntervalCs: number; authType?: number; authPass?: string; unicast?: boolean };
        packets: Array<{ hex: string; priority: number }>;
      };
      assert.ok(fx.packets.length >= 2, `${fx.name}: packets captured`);
      for (const p of fx.packets) {
        const b = Buffer.from(p.hex, 'hex');
        const opts = {
          version: fx.version,
          vrids: fx.vrid,
          addresses: fx.expected.addresses,
          advertIntervalCs: fx.expected.advertIntervalCs,
          authType: fx.expected.authType as AuthType | undefined,
          authPass: fx.expected.authPass,
          unicast: fx.expected.unicast,
        };
        let res;
        if (fx.family === 4) res = receiveIpv4(b, opts);
        else {
          const ip = parseIpv6Packet(b);
          assert.ok(ip.ok);
          res = receiveIpv6(ip.payload, ip.src, ip.dst, opts, ip.hopLimit);
        }
        assert.ok(res.ok, `${fx.name}: ${JSON.stringify(res)}`);
        assert.equal(res.advert.priority, p.priority);
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

interface SendCase {
  name: string; // keepalived instance name
  vrid: number;
  instance: string; // extra lines of the vrrp_instance block
  fields: AdvertFields;
  enc: EncodeOptions;
  ah?: string; // AH key
  corrupt?: boolean;
  ttl?: number;
  dst: string;
  /** keepalived's virtual_ipaddress when it differs from what we send */
  vips?: string[];
  /** what keepalived must do with our adverts */
  expect: 'accept' | 'drop';
}

const KA4 = '192.0.2.1';
const PEER4 = '192.0.2.3';

function ipv6Packet(src: string, dst: string, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x60;
  b.writeUInt16BE(payload.length, 4);
  b[6] = 112;
  b[7] = 255;
  assert.ok(parseIpv6Into(src, b, 8) && parseIpv6Into(dst, b, 24));
  b.set(payload, 40);
  return b;
}

test('keepalived 2.2.7 accepts our encoded adverts (and rejects corrupted ones)', { timeout: 120_000 }, async (t) => {
  if (skipOrFail(t)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'kts-codec-ka-'));
  const lab = Lab.create();
  try {
    const ka = lab.addHost({ name: 'ka', addresses: [`${KA4}/24`, '2001:db8::1/64'] });
    const peer = lab.addHost({ name: 'peer', addresses: [`${PEER4}/24`, '2001:db8::3/64'] });
    lab.exec(peer.ns, ['ip', 'route', 'add', '224.0.0.0/4', 'dev', peer.ifname]);
    // the kernel adds the link-local address shortly after the link comes up
    let peerLL = '';
    await waitFor(
      () => {
        peerLL = lab.addressesOf('peer', 6).find((a) => a.startsWith('fe80:')) ?? '';
        return peerLL !== '' && lab.addressesOf('ka', 6).some((a) => a.startsWith('fe80:'));
      },
      5000,
      50,
    );
    assert.ok(peerLL, 'peer link-local address');

    const v4 = (vrid: number, extra: Partial<AdvertFields> = {}): AdvertFields => ({
      version: 2,
      vrid,
      priority: 200,
      advertIntervalCs: 100,
      addresses: [`192.0.2.${100 + vrid}`],
      ...extra,
    });
    const mc4 = { src: PEER4, dst: '224.0.0.18' };
    const cases: SendCase[] = [
      { name: 'V2_PLAIN', vrid: 11, instance: '', fields: v4(11), enc: { family: 4 }, dst: '224.0.0.18', expect: 'accept' },
      {
        name: 'V2_PASS',
        vrid: 12,
        instance: 'authentication {\n auth_type PASS\n auth_pass secret123\n }',
        fields: v4(12, { authType: AuthType.SimpleText, authData: 'secret12' }),
        enc: { family: 4 },
        dst: '224.0.0.18',
        expect: 'accept',
      },
      {
        name: 'V2_AH',
        vrid: 13,
        instance: 'authentication {\n auth_type AH\n auth_pass ahkey\n }',
        fields: v4(13, { authType: AuthType.IpAh }),
        enc: { family: 4 },
        ah: 'ahkey',
        dst: '224.0.0.18',
        expect: 'accept',
      },
      {
        name: 'V3_V4',
        vrid: 14,
        instance: 'version 3',
        fields: v4(14, { version: 3 }),
        enc: { family: 4, ...mc4 },
        dst: '224.0.0.18',
        expect: 'accept',
      },
      {
        name: 'V3_OLD_UNICAST',
        vrid: 16,
        instance: `version 3\n unicast_src_ip ${KA4}\n unicast_peer {\n ${PEER4}\n }`,
        fields: v4(16, { version: 3 }),
        enc: { family: 4, src: PEER4, dst: KA4, checksumForm: 'v3-old-unicast' },
        dst: KA4,
        expect: 'accept',
      },
      {
        name: 'V3_UNICAST',
        vrid: 21,
        instance: `version 3\n unicast_src_ip ${KA4}\n unicast_peer {\n ${PEER4}\n }`,
        fields: v4(21, { version: 3 }),
        enc: { family: 4, src: PEER4, dst: KA4 },
        dst: KA4,
        expect: 'accept',
      },
      {
        name: 'V3_V6',
        vrid: 17,
        instance: 'version 3',
        fields: { version: 3, vrid: 17, priority: 200, advertIntervalCs: 100, addresses: ['2001:db8::117'] },
        enc: { family: 6, src: peerLL, dst: 'ff02::12' },
        dst: 'ff02::12',
        expect: 'accept',
      },
      // measured on keepalived 2.2.7: it does not accept the v3-over-IPv4 checksum without pseudo-header
      {
        name: 'V3_NO_PSEUDO',
        vrid: 15,
        instance: 'version 3',
        fields: v4(15, { version: 3 }),
        enc: { family: 4, ...mc4, checksumForm: 'v3-no-pseudo-header' },
        dst: '224.0.0.18',
        expect: 'drop',
      },
      // address lists (measured on keepalived 2.2.7): a different count is dropped ("received an
      // unexpected ip number count"), and so is the same count with another address ("ip address
      // associated with VRID not present in MASTER advert")
      {
        name: 'V2_OTHER_COUNT',
        vrid: 20,
        instance: '',
        fields: v4(20, { addresses: ['198.51.100.20', '198.51.100.21'] }),
        enc: { family: 4 },
        dst: '224.0.0.18',
        expect: 'drop',
        vips: ['192.0.2.120'],
      },
      {
        name: 'V3_OTHER_COUNT',
        vrid: 22,
        instance: 'version 3',
        fields: v4(22, { version: 3, addresses: ['198.51.100.22', '198.51.100.23'] }),
        enc: { family: 4, ...mc4 },
        dst: '224.0.0.18',
        expect: 'drop',
        vips: ['192.0.2.122'],
      },
      {
        name: 'V2_OTHER_VIP',
        vrid: 23,
        instance: '',
        fields: v4(23, { addresses: ['198.51.100.23'] }),
        enc: { family: 4 },
        dst: '224.0.0.18',
        expect: 'drop',
        vips: ['192.0.2.123'],
      },
      {
        name: 'V3_OTHER_VIP',
        vrid: 24,
        instance: 'version 3',
        fields: v4(24, { version: 3, addresses: ['198.51.100.24'] }),
        enc: { family: 4, ...mc4 },
        dst: '224.0.0.18',
        expect: 'drop',
        vips: ['192.0.2.124'],
      },
      // v2 drops an advert whose interval differs from its own; a v3 Backup accepts (and learns) it
      {
        name: 'V2_OTHER_INT',
        vrid: 25,
        instance: '',
        fields: v4(25, { advertIntervalCs: 200 }),
        enc: { family: 4 },
        dst: '224.0.0.18',
        expect: 'drop',
      },
      {
        name: 'V3_OTHER_INT',
        vrid: 26,
        instance: 'version 3',
        fields: v4(26, { version: 3, advertIntervalCs: 150 }),
        enc: { family: 4, ...mc4 },
        dst: '224.0.0.18',
        expect: 'accept',
      },
      // multicast adverts must arrive with TTL 255
      { name: 'V2_TTL64', vrid: 27, instance: '', fields: v4(27), enc: { family: 4 }, dst: '224.0.0.18', ttl: 64, expect: 'drop' },
      // unicast without min_ttl/max_ttl: any TTL is accepted
      {
        name: 'V2_UNICAST_TTL64',
        vrid: 28,
        instance: `unicast_src_ip ${KA4}\n unicast_peer {\n ${PEER4}\n }`,
        fields: v4(28),
        enc: { family: 4 },
        dst: KA4,
        ttl: 64,
        expect: 'accept',
      },
      // negative controls
      { name: 'V2_BADSUM', vrid: 18, instance: '', fields: v4(18), enc: { family: 4 }, corrupt: true, dst: '224.0.0.18', expect: 'drop' },
      {
        name: 'V2_BADPASS',
        vrid: 19,
        instance: 'authentication {\n auth_type PASS\n auth_pass secret123\n }',
        fields: v4(19, { authType: AuthType.SimpleText, authData: 'wrong' }),
        enc: { family: 4 },
        dst: '224.0.0.18',
        expect: 'drop',
      },
    ];
    const conf = cases
      .map(
        (c) => `vrrp_instance ${c.name} {
  state BACKUP
  interface ${ka.ifname}
  virtual_router_id ${c.vrid}
  priority 100
  advert_int 1
  ${c.instance}
  virtual_ipaddress {
    ${(c.vips ?? c.fields.addresses).map((a) => `${a}/${c.enc.family === 6 ? 64 : 24}`).join('\n    ')}
  }
}`,
      )
      .join('\n');
    const confPath = join(tmp, 'keepalived.conf');
    writeFileSync(confPath, `global_defs {\n  router_id kts_codec\n}\n${conf}\n`);

    // our packets: 60 rounds (AH needs increasing sequence numbers)
    const rounds = 60;
    const streams = cases.map((c) => {
      const e = encodeAdvert(c.fields, c.enc);
      if (!e.ok) assert.fail(`${c.name}: ${JSON.stringify(e)}`);
      const packets: string[] = [];
      for (let r = 0; r < (c.ah ? rounds : 1); r++) {
        let pkt: Buffer;
        if (c.enc.family === 6) pkt = ipv6Packet(peerLL, c.dst, e.bytes);
        else {
          const p = buildIpv4Packet(
            { src: PEER4, dst: c.dst, id: r + 1, ttl: c.ttl },
            e.bytes,
            c.ah ? { seq: r + 1, key: c.ah } : undefined,
          );
          if (!p.ok) assert.fail(`${c.name}: ${JSON.stringify(p)}`);
          pkt = p.bytes;
          if (c.corrupt) pkt[27]! ^= 0x10;
        }
        packets.push(pkt.toString('hex'));
      }
      return { family: c.enc.family, dst: c.dst, ifname: peer.ifname, packets };
    });
    const sender = lab.spawn(peer.ns, ['python3', join(root, 'scripts', 'capture-send.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let senderOut = '';
    sender.stdout?.on('data', (d: Buffer) => {
      senderOut += d.toString();
    });
    sender.stderr?.on('data', (d: Buffer) => {
      senderOut += d.toString();
    });
    sender.stdin?.end(JSON.stringify({ duration: 9, interval: 0.25, streams }));
    await new Promise((r) => setTimeout(r, 300)); // our adverts are flowing before keepalived starts

    const kaProc = lab.spawn(ka.ns, [
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
    ]);
    let log = '';
    kaProc.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    kaProc.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    // Master_Down_Interval = 3 x 1 s + (256-100)/256 s = 3.6 s; wait well beyond it
    const started = await waitFor(() => (log.match(/Entering BACKUP STATE/g) ?? []).length >= cases.length, 10_000, 100);
    assert.ok(started, `keepalived did not start every instance:\n${log}`);
    await new Promise((r) => setTimeout(r, 5500));
    const masters = new Set(cases.filter((c) => log.includes(`(${c.name}) Entering MASTER STATE`)).map((c) => c.name));
    if (kaProc.pid !== undefined) process.kill(kaProc.pid, 'SIGTERM');
    // let keepalived finish its shutdown (it stops its VRRP child) before the lab SIGKILLs anything
    await waitFor(() => (kaProc.exitCode !== null || kaProc.signalCode !== null) && sender.exitCode !== null, 8000, 100);
    t.diagnostic(`sender: ${senderOut.trim()}; keepalived took over: ${[...masters].join(', ') || 'none'}`);
    // our own receive path gives the same verdict as keepalived on the same bytes, except where the
    // brief asks us to be more lenient: VRRPv3-over-IPv4 without pseudo-header (accepted, flagged)
    cases.forEach((c, i) => {
      const pkt = Buffer.from(streams[i]!.packets[0]!, 'hex');
      const opts: ReceiveOptions = {
        version: c.fields.version,
        vrids: c.vrid,
        advertIntervalCs: 100,
        addresses: c.vips ?? c.fields.addresses,
        unicast: c.dst === KA4,
        authType: c.ah ? AuthType.IpAh : c.instance.includes('PASS') ? AuthType.SimpleText : AuthType.None,
        authPass: c.ah ?? (c.instance.includes('PASS') ? 'secret123' : undefined),
      };
      const ours = c.enc.family === 4 ? receiveIpv4(pkt, opts) : receiveIpv6(pkt.subarray(40), peerLL, c.dst, opts, 255);
      if (c.name === 'V3_NO_PSEUDO') {
        assert.ok(ours.ok && ours.warnings.includes('no-pseudo-header-checksum'), `${c.name}: ${JSON.stringify(ours)}`);
        assert.equal(receiveIpv4(pkt, { ...opts, acceptNoPseudoHeader: false }).ok, false);
      } else {
        assert.equal(ours.ok, c.expect === 'accept', `${c.name}: our verdict ${JSON.stringify(ours)} differs from keepalived's`);
      }
    });
    for (const c of cases) {
      const tookOver = masters.has(c.name);
      assert.equal(
        tookOver,
        c.expect === 'drop',
        `${c.name}: keepalived ${tookOver ? 'took over (dropped our adverts)' : 'stayed BACKUP (accepted our adverts)'}, expected ${c.expect}\n${log
          .split('\n')
          .filter((l) => l.includes(c.name))
          .join('\n')}`,
      );
    }
  } finally {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});
