// keepalived-ts and Debian's keepalived 2.2.7 in one VRRPv2 cluster (IPv4, multicast and unicast,
// auth PASS), both ways round: see test/helpers/interop-scenario.ts for what each case checks.
// advert_int 1 (VRRPv2 has whole seconds only), so these are the slow cases.
import { test } from 'node:test';
import { caseLabel, runScenario, type PairCase } from '../helpers/interop-scenario.js';
import { interopSkipReason } from '../helpers/interop-lab.js';

const skip = interopSkipReason();
const cases: PairCase[] = [
  { version: 2, family: 4, authPass: 'interop1', advertInt: 1, impls: ['kts', 'ka'] },
  { version: 2, family: 4, authPass: 'interop1', advertInt: 1, impls: ['ka', 'kts'] },
  { version: 2, family: 4, unicast: true, advertInt: 1, impls: ['kts', 'ka'] },
  { version: 2, family: 4, unicast: true, advertInt: 1, impls: ['ka', 'kts'] },
];

for (const c of cases) {
  test(caseLabel(c), { skip, timeout: 90_000 }, async (t) => {
    const r = await runScenario(c, (s) => t.diagnostic(s));
    t.diagnostic(JSON.stringify(r.steps));
  });
}
