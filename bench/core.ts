// Throughput of the sans-I/O VRRP core, alone and behind the codec (decode + validate + step).
// Run: npm run build && node dist/bench/core.js [--ms 1000]
import { VrrpCore, coreConfig, type VrrpCoreConfig } from '../src/vrrp/core.js';
import { buildIpv4Packet, encodeAdvert, receiveIpv4, receiveIpv6, type Received } from '../src/vrrp/packet.js';
import { AuthType, type ReceivedAdvert } from '../src/vrrp/types.js';

const msArg = process.argv.indexOf('--ms');
const BUDGET_MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 1000;
const VIPS4 = ['203.0.113.10', '203.0.113.11'];
const VIPS6 = ['2001:db8::10'];

/** Run fn in batches until the budget is spent; returns operations per second. */
function measure(name: string, fn: (i: number) => void): number {
  for (let i = 0; i < 20000; i++) fn(i); // warm-up
  let n = 0;
  const t0 = performance.now();
  let el = 0;
  while (el < BUDGET_MS) {
    for (let k = 0; k < 10000; k++) fn(n++);
    el = performance.now() - t0;
  }
  const rate = (n / el) * 1000;
  console.log(`${name.padEnd(58)} ${(rate / 1e6).toFixed(2).padStart(6)} M/s  (${((el / n) * 1e3).toFixed(3)} us each)`);
  return rate;
}

function rx(priority: number, src: string, version: 2 | 3 = 2): ReceivedAdvert {
  return {
    family: src.includes(':') ? 6 : 4,
    srcAddress: src,
    advert: { version, type: 1, vrid: 51, priority, advertIntervalCs: 100, addresses: VIPS4, checksum: 0 },
  };
}

function started(over: Partial<VrrpCoreConfig>, toMaster: boolean): VrrpCore {
  const c = new VrrpCore(
    coreConfig({ name: 'VI_1', vrid: 51, priority: 100, primaryAddress: '192.0.2.1', virtualAddresses: VIPS4, ...over }),
  );
  c.handle({ type: 'startup', nowMs: 0 });
  if (toMaster) c.handle({ type: 'timerExpired', nowMs: c.timerAt('masterDown')!, timer: 'masterDown' });
  return c;
}

console.log(`# keepalived-ts core bench, node ${process.version}, ${BUDGET_MS} ms per figure`);

// 1. Backup receiving its Master's adverts (the common case: reset Master_Down_Timer).
{
  const c = started({}, false);
  const a = rx(200, '192.0.2.2');
  let t = 0;
  measure('core: Backup receives a higher-priority advert', () => {
    c.handle({ type: 'advertReceived', nowMs: (t += 1), advert: a });
  });
}
// 2. Backup v3 IPv6 (address compare on 128-bit values).
{
  const c = started({ version: 3, family: 6, primaryAddress: 'fe80::1', virtualAddresses: VIPS6 }, false);
  const a = rx(200, 'fe80::2', 3);
  let t = 0;
  measure('core: Backup v3/IPv6 receives a higher-priority advert', () => {
    c.handle({ type: 'advertReceived', nowMs: (t += 1), advert: a });
  });
}
// 3. Master hearing a lower priority (keepalived forces a new election: advert + GARP decisions).
{
  const c = started({}, true);
  const a = rx(50, '192.0.2.2');
  let t = 10000;
  measure('core: Master receives a lower-priority advert', () => {
    c.handle({ type: 'advertReceived', nowMs: (t += 1), advert: a });
  });
}
// 4. Master's own Adver_Timer.
{
  const c = started({}, true);
  measure('core: Master Adver_Timer step', () => {
    const at = c.timerAt('advert')!;
    c.handle({ type: 'timerExpired', nowMs: at, timer: 'advert' });
  });
}

// 5. Decode + validate + step, VRRPv2 IPv4 with auth PASS (a whole IPv4 packet off a raw socket).
{
  const payload = encodeAdvert(
    { version: 2, vrid: 51, priority: 200, advertIntervalCs: 100, addresses: VIPS4, authType: AuthType.SimpleText, authData: 'secret' },
    { family: 4 },
  );
  if (!payload.ok) throw new Error(`encode: ${payload.error}`);
  const pkt = buildIpv4Packet({ src: '192.0.2.2', dst: '224.0.0.18' }, payload.bytes);
  if (!pkt.ok) throw new Error(`ip: ${pkt.error}`);
  const c = started({}, false);
  const opts = {
    version: 2 as const,
    vrids: 51,
    authType: AuthType.SimpleText,
    authPass: 'secret',
    advertIntervalCs: 100,
    addresses: VIPS4,
  };
  let t = 0;
  let bad = 0;
  measure('codec+core: v2 IPv4 PASS decode + validate + Backup step', () => {
    const r = receiveIpv4(pkt.bytes, opts);
    if (!r.ok) {
      bad++;
      return;
    }
    c.handle({ type: 'advertReceived', nowMs: (t += 1), advert: toReceived(r) });
  });
  if (bad) throw new Error(`${bad} packets dropped: the bench packet is wrong`);
}
// 6. Same for VRRPv3 over IPv6 (checksum with pseudo-header).
{
  const payload = encodeAdvert(
    { version: 3, vrid: 51, priority: 200, advertIntervalCs: 100, addresses: VIPS6 },
    { family: 6, src: 'fe80::2', dst: 'ff02::12' },
  );
  if (!payload.ok) throw new Error(`encode: ${payload.error}`);
  const c = started({ version: 3, family: 6, primaryAddress: 'fe80::1', virtualAddresses: VIPS6 }, false);
  const opts = { version: 3 as const, vrids: 51, advertIntervalCs: 100, addresses: VIPS6 };
  let t = 0;
  let bad = 0;
  measure('codec+core: v3 IPv6 decode + validate + Backup step', () => {
    const r = receiveIpv6(payload.bytes, 'fe80::2', 'ff02::12', opts);
    if (!r.ok) {
      bad++;
      return;
    }
    c.handle({ type: 'advertReceived', nowMs: (t += 1), advert: toReceived(r) });
  });
  if (bad) throw new Error(`${bad} packets dropped: the bench packet is wrong`);
}

function toReceived(r: Received): ReceivedAdvert {
  return r.ttl === undefined
    ? { advert: r.advert, family: r.family, srcAddress: r.src, dstAddress: r.dst }
    : { advert: r.advert, family: r.family, srcAddress: r.src, dstAddress: r.dst, ttl: r.ttl };
}
