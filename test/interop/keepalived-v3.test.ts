// keepalived-ts and Debian's keepalived 2.2.7 in one VRRPv3 cluster (IPv4 and IPv6, multicast and
// unicast), both ways round (advert_int 0.5: short, yet tolerant of a busy shared machine): see test/helpers/interop-scenario.ts for what each case checks.
// Root, keepalived and tshark needed; outside CI a missing one skips with a message.
import { test } from 'node:test';
import { caseLabel, runScenario, type PairCase } from '../helpers/interop-scenario.js';
import { interopSkipReason } from '../helpers/interop-lab.js';

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
