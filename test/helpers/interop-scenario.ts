// The interop scenario shared by test/interop/keepalived-*.test.ts: two (or three) nodes, some
// keepalived-ts and some Debian keepalived, the same configuration; the highest priority must
// win, a SIGKILLed Master must be replaced, a restarted one must preempt back, a gracefully
// stopped (SIGTERM: priority 0) Master must be replaced quickly; and afterwards keepalived must
// have logged no complaint and tshark must find every frame a keepalived-ts node sent valid.
import assert from 'node:assert/strict';
import { configText, describeRows, instanceBlock, InteropLab, type Impl, type CaptureRow } from './interop-lab.js';

export interface PairCase {
  version: 2 | 3;
  family: 4 | 6;
  unicast?: boolean;
  authPass?: string;
  advertInt: number;
  /** implementations of the nodes, highest priority first (2 or 3 nodes) */
  impls: Impl[];
}

export interface ScenarioResult {
  rows: CaptureRow[];
  /** per-step measured milliseconds, for the test's diagnostic output */
  steps: Record<string, number>;
}

const PRIOS = [150, 100, 50];

export function caseLabel(c: PairCase): string {
  return `v${c.version} IPv${c.family} ${c.unicast ? 'unicast' : 'multicast'}${c.authPass ? ' PASS' : ''} advert_int ${c.advertInt}: ${c.impls.map((i, k) => `${i}(${PRIOS[k]})`).join(' + ')}`;
}

/** Run the whole scenario; throws (assertion errors) on the first thing that goes wrong. */
export async function runScenario(c: PairCase, log: (s: string) => void = () => undefined): Promise<ScenarioResult> {
  const il = InteropLab.create();
  const names = c.impls.map((_, i) => `n${i + 1}`);
  const v4 = (i: number) => `192.0.2.${11 + i}`;
  const v6 = (i: number) => `2001:db8::${11 + i}`;
  const vip = c.family === 4 ? '192.0.2.100' : '2001:db8::100';
  const vipCidr = c.family === 4 ? `${vip}/24` : `${vip}/64`;
  const adv = c.advertInt * 1000;
  // RFC Master_Down_Interval for the lowest priority node, plus room for a loaded machine
  const downMs = 3 * adv + adv; // (3 + skew<1) x advert_int
  const slack = Number(process.env.KTS_INTEROP_SLACK_MS ?? 5000); // the machine is shared: be patient
  const steps: Record<string, number> = {};
  try {
    names.forEach((n, i) => il.addNode(n, [`${v4(i)}/24`, `${v6(i)}/64`]));
    const conf = (i: number) =>
      configText(`interop_${names[i]}`, [
        instanceBlock({
          version: c.version,
          priority: PRIOS[i]!,
          advertInt: c.advertInt,
          vips: [vipCidr],
          authPass: c.authPass,
          vrid: 51,
          ...(c.unicast
            ? {
                unicastSrc: c.family === 4 ? v4(i) : v6(i),
                unicastPeers: names.map((_, k) => (c.family === 4 ? v4(k) : v6(k))).filter((_, k) => k !== i),
              }
            : {}),
        }),
      ]);
    await il.startCapture();
    const startAll = Date.now();
    // lowest priority first, so the higher ones find a running Backup (and Master) to talk to
    for (let i = names.length - 1; i >= 0; i--) il.start(names[i]!, c.impls[i]!, conf(i));
    for (const n of names) assert.ok(await il.ready(n), `${n} did not start`);
    assert.ok(
      await il.waitHolder(vip, 'n1', names, downMs + 2 * slack),
      `n1 (${c.impls[0]}, priority 150) should hold ${vip}; holders: ${il.holders(vip, names).join(',') || 'none'}`,
    );
    steps.startToMaster = Date.now() - startAll;
    await sleep(Math.max(3 * adv, 300)); // a few adverts in steady state: no flapping
    assert.deepEqual(il.holders(vip, names), ['n1'], 'exactly one holder in steady state');

    // SIGKILL the Master: the next priority takes over after Master_Down_Interval
    const killed = await il.kill('n1', 'SIGKILL');
    il.dropVips('n1', [vipCidr]);
    assert.ok(
      await il.waitHolder(vip, 'n2', names, downMs + slack),
      `after SIGKILL of n1, n2 (${c.impls[1]}) should hold ${vip}; holders: ${il.holders(vip, names).join(',') || 'none'}`,
    );
    steps.failover = Date.now() - killed;
    log(`failover to n2 after ${steps.failover} ms`);

    // restart n1: it preempts (priority 150 > 100)
    const restarted = Date.now();
    il.start('n1', c.impls[0]!, conf(0));
    assert.ok(await il.ready('n1'));
    assert.ok(
      await il.waitHolder(vip, 'n1', names, downMs + 2 * slack),
      `restarted n1 (${c.impls[0]}) should preempt; holders: ${il.holders(vip, names).join(',') || 'none'}`,
    );
    steps.preempt = Date.now() - restarted;
    await sleep(Math.max(3 * adv, 300));

    // graceful stop of the Master: priority 0 advert, the Backup takes over within about skew time
    const stopped = await il.kill('n1', 'SIGTERM');
    assert.ok(
      await il.waitHolder(vip, 'n2', names, adv + slack),
      `after SIGTERM of n1, n2 should hold ${vip}; holders: ${il.holders(vip, names).join(',') || 'none'}`,
    );
    steps.gracefulHandover = Date.now() - stopped;
    assert.ok(!il.holders(vip, ['n1']).length, 'a gracefully stopped node releases its VIP');

    if (names.length === 3) {
      // and the third node takes over from the second
      const k2 = await il.kill('n2', 'SIGKILL');
      il.dropVips('n2', [vipCidr]);
      assert.ok(
        await il.waitHolder(vip, 'n3', names, downMs + slack),
        `after n2 died, n3 (${c.impls[2]}) should hold ${vip}; holders: ${il.holders(vip, names).join(',') || 'none'}`,
      );
      steps.failover2 = Date.now() - k2;
    }
    await sleep(Math.max(2 * adv, 200));
    await il.stopCapture();

    // keepalived said nothing bad about anybody's packets
    for (const [i, n] of names.entries()) {
      if (c.impls[i] !== 'ka') continue;
      const bad = il.complaints(n);
      assert.deepEqual(bad, [], `keepalived on ${n} complained:\n${bad.join('\n')}`);
    }

    // tshark: every frame a keepalived-ts node sent is valid; VRRP ones have a good checksum
    const rows = il.dissect();
    const macs = new Map(names.map((n) => [il.mac(n), n] as const));
    let ourAdverts = 0;
    for (const [i, n] of names.entries()) {
      if (c.impls[i] !== 'kts') continue;
      const mac = il.mac(n);
      const mine = rows.filter((r) => r.ethSrc === mac);
      const vrrp = mine.filter((r) => r.kind === 'vrrp');
      ourAdverts += vrrp.length;
      const bad = vrrp.filter((r) => r.malformed || !isGood(r.checksumStatus) || r.version !== c.version || r.vrid !== 51 || r.ttl !== 255);
      assert.deepEqual(
        bad.map((r) => r.frame),
        [],
        `${n} sent invalid VRRP frames:\n${describeRows(bad)}`,
      );
      const other = mine.filter((r) => r.malformed || /malformed|bad checksum|incorrect/i.test(r.expert));
      assert.deepEqual(
        other.map((r) => r.frame),
        [],
        `${n} sent malformed frames:\n${describeRows(other)}`,
      );
      // it was Master at some point: it announced the VIP
      const wasMaster = i < 2;
      if (wasMaster) {
        const ann = mine.filter((r) =>
          c.family === 4 ? r.kind === 'arp' && r.garp && r.target === vip : r.kind === 'na' && r.target === vip,
        );
        assert.ok(ann.length > 0, `${n} never announced ${vip} (gratuitous ARP / unsolicited NA)`);
      }
      if (i === 0)
        assert.ok(
          vrrp.some((r) => r.prio === 0),
          `${n} sent no priority 0 advert on SIGTERM`,
        );
      if (c.unicast) {
        assert.ok(
          vrrp.every((r) => !/^(224\.|ff02:)/.test(r.ipDst)),
          `${n} sent multicast adverts in unicast mode`,
        );
      }
    }
    assert.ok(ourAdverts > 0, 'no keepalived-ts advert was captured');
    // keepalived's own adverts pass the same check (the check is not vacuous)
    for (const r of rows.filter((x) => x.kind === 'vrrp' && c.impls[names.indexOf(macs.get(x.ethSrc) ?? '')] === 'ka')) {
      assert.ok(isGood(r.checksumStatus), `tshark disagrees with keepalived's own checksum on frame ${r.frame} (${r.checksumStatus})`);
    }
    return { rows, steps };
  } catch (err) {
    // the nodes' own words make a failure readable
    if (err instanceof Error) {
      for (const [n, node] of il.nodes) {
        err.message +=
          `\n--- ${n} (${node.impl}) log tail:\n` +
          node.log
            .slice(-25)
            .map((l) => `${new Date(l.t).toISOString().slice(11, 23)} ${l.line}`)
            .join('\n');
      }
    }
    throw err;
  } finally {
    await il.cleanup();
  }
}

export function isGood(status: string | undefined): boolean {
  return status === '1' || status === 'Good';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
