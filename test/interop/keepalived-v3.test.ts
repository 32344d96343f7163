// keepalived-ts and Debian's keepalived 2.2.7 in one VRRPv3 cluster (IPv4 and IPv6, multicast and
// unicast), both ways round: see test/helpers/interop-scenario.ts for what each case checks.
// advert_int 0.5: short, yet tolerant of a busy shared machine (0.25 flapped at load 15).
// Root, keepalived and tshark needed; outside CI a missing one skips with a message.
import { test } from 'node:test';
import { caseLabel, runScenario, type PairCase } from '../helpers/interop-scenario.js';
import assert from 'node:assert/strict';
import { configText, instanceBlock, interopSkipReason, InteropLab } from '../helpers/interop-lab.js';
import { waitFor } from '../helpers/netns.js';

const skip = interopSkipReason();
const cases: PairCase[] = [
  { version: 3, family: 4, advertInt: 0.5, impls: ['kts', 'ka'] },
  { version: 3, family: 4, advertInt: 0.5, impls: ['ka', 'kts'] },
  { version: 3, family: 6, advertInt: 0.5, impls: ['kts', 'ka'] },
  { version: 3, family: 6, advertInt: 0.5, impls: ['ka', 'kts'] },
  { version: 3, family: 4, unicast: true, advertInt: 0.5, impls: ['kts', 'ka'] },
  { version: 3, family: 4, unicast: true, advertInt: 0.5, impls: ['ka', 'kts'] },
];

for (const c of cases) {
  test(caseLabel(c), { skip, timeout: 60_000 }, async (t) => {
    const r = await runScenario(c, (s) => t.diagnostic(s));
    t.diagnostic(JSON.stringify(r.steps));
  });
}

// The complaint check bites: with a deliberately different advert_int (VRRPv2, where RFC 3768
// makes it an error; v3 just learns the Master's), keepalived must say so about our adverts, so
// an empty complaint list above means something.
test('keepalived complains about a keepalived-ts advert_int mismatch (the log check bites)', { skip, timeout: 60_000 }, async () => {
  const il = InteropLab.create();
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    il.addNode('n2', ['192.0.2.12/24']);
    const conf = (prio: number, adv: number) =>
      configText('mismatch', [instanceBlock({ version: 2, priority: prio, advertInt: adv, vips: ['192.0.2.100/24'] })]);
    il.start('n2', 'ka', conf(100, 1));
    assert.ok(await il.ready('n2'));
    il.start('n1', 'kts', conf(150, 2));
    const ok = await waitFor(() => il.complaints('n2').length > 0, 20_000, 100);
    assert.ok(
      ok,
      `keepalived logged no complaint; its log:\n${il.nodes
        .get('n2')!
        .log.map((l) => l.line)
        .join('\n')}`,
    );
    assert.match(il.complaints('n2').join('\n'), /interval/i);
  } finally {
    await il.cleanup();
  }
});

// advert_int 0.01 (keepalived's smallest): a keepalived-ts Master keeps a keepalived Backup quiet.
// Before src/daemon/timer.ts, an Adver_Timer that Node fired ~1 ms early was dropped by the core
// and our Master went silent after two adverts.
test('v3 advert_int 0.01: keepalived-ts Master keeps sending, keepalived stays Backup', { skip, timeout: 60_000 }, async () => {
  const il = InteropLab.create();
  try {
    il.addNode('n1', ['192.0.2.11/24']);
    il.addNode('n2', ['192.0.2.12/24']);
    const conf = (prio: number) =>
      configText('fast', [instanceBlock({ version: 3, priority: prio, advertInt: 0.01, vips: ['192.0.2.100/24'] })]);
    await il.startCapture();
    il.start('n1', 'kts', conf(150));
    assert.ok(await il.waitHolder('192.0.2.100', 'n1', ['n1'], 20_000), 'keepalived-ts did not become Master alone');
    il.start('n2', 'ka', conf(100));
    assert.ok(await il.ready('n2'));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    await il.stopCapture();
    const rows = il.dissect().filter((r) => r.kind === 'vrrp' && r.time * 1000 >= from);
    const m1 = il.mac('n1');
    const ours = rows.filter((r) => r.ethSrc === m1);
    const theirs = rows.filter((r) => r.ethSrc !== m1);
    // 3 s at 10 ms is 300 adverts; on a busy machine allow many late ones, not silence
    assert.ok(ours.length >= 100, `only ${ours.length} keepalived-ts adverts in 3 s at advert_int 0.01`);
    assert.ok(ours.every((r) => r.checksumStatus === '1' || r.checksumStatus === 'Good'));
    assert.deepEqual(il.holders('192.0.2.100', ['n1', 'n2']), ['n1']);
    // keepalived as Backup sends nothing unless it took over (a short blip under load is reported)
    assert.ok(theirs.length <= 10, `keepalived sent ${theirs.length} adverts: it took over from our Master`);
  } finally {
    await il.cleanup();
  }
});
