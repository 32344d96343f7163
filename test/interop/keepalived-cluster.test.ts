// Mixed 3-node clusters (VRRPv3, IPv4 multicast): keepalived-ts and keepalived interleaved by
// priority; the Master role walks down the priorities as Masters die, and a restarted top node
// preempts. See test/helpers/interop-scenario.ts for every check.
import { test } from 'node:test';
import { caseLabel, runScenario, type PairCase } from '../helpers/interop-scenario.js';
import { interopSkipReason } from '../helpers/interop-lab.js';

const skip = interopSkipReason();
const cases: PairCase[] = [
  { version: 3, family: 4, advertInt: 0.5, impls: ['kts', 'ka', 'kts'] },
  { version: 3, family: 4, advertInt: 0.5, impls: ['ka', 'kts', 'ka'] },
];

for (const c of cases) {
  test(caseLabel(c), { skip, timeout: 90_000 }, async (t) => {
    const r = await runScenario(c, (s) => t.diagnostic(s));
    t.diagnostic(JSON.stringify(r.steps));
  });
}
