#!/usr/bin/env node
// Runs every test tier in one `node --test` invocation (one summary for CI to read).
// Tiers: unit, sim (pure code) and netns, interop (root, network namespaces, Debian's keepalived),
// uml (Debian's user-mode-linux kernel for a real IPVS: apt-get download + dpkg -x, a C compiler).
// Off CI, the root tiers are left out with a loud message when not root; in CI (CI=true) a tier
// that cannot run is a failure, never a silent skip.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist', 'test');
const onlyArg = process.argv.slice(2);
const tiers = onlyArg.length ? onlyArg : ['unit', 'sim', 'netns', 'interop', 'uml'];
const isRoot = process.getuid?.() === 0;
const inCI = process.env.CI === 'true' || process.env.CI === '1';

function hasTests(dir) {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.test.js'));
}
function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const dirs = [];
const problems = [];
// The N-API addons (gratuitous ARP, orphan reaper, the checkers' connect, the VRRP receive) are built by `npm ci` / `npm install`; without
// them the daemon runs without GARP or without reaping, and the namespace tiers would test
// something else than what ships.
for (const addon of ['kts_packet.node', 'kts_reaper.node', 'kts_connect.node', 'kts_vrrp_rx.node']) {
  if (!existsSync(join(root, 'native', 'build', 'Release', addon))) {
    problems.push(`native/build/Release/${addon} is missing: run \`npm ci\` (or \`npm install\`), which builds it`);
  }
}
for (const tier of tiers) {
  const dir = join(dist, tier);
  if (!hasTests(dir)) {
    if (tier === 'unit' || tier === 'sim') problems.push(`tier ${tier}: no compiled tests in ${dir}`);
    else console.log(`# tier ${tier}: no tests yet`);
    continue;
  }
  if (tier === 'netns' || tier === 'interop') {
    const missing = [];
    if (!isRoot) missing.push('root');
    if (!which('ip')) missing.push('iproute2');
    if (tier === 'interop' && !which('keepalived')) missing.push('keepalived');
    if (missing.length) {
      const msg = `tier ${tier} cannot run here (missing: ${missing.join(', ')})`;
      if (inCI) problems.push(msg);
      else console.log(`# SKIPPED ${msg}; CI runs it`);
      continue;
    }
  }
  if (tier === 'uml') {
    // the kit is fetched on first use (test/helpers/uml.ts); the guest tests call ipvsadm and
    // keepalived as references
    const missing = ['apt-get', 'dpkg', 'cc', 'ipvsadm', 'keepalived'].filter((c) => !which(c));
    if (missing.length) {
      const msg = `tier uml cannot run here (missing: ${missing.join(', ')})`;
      if (inCI) problems.push(msg);
      else console.log(`# SKIPPED ${msg}; CI runs it`);
      continue;
    }
  }
  dirs.push(dir);
}
if (problems.length) {
  for (const p of problems) console.error(`error: ${p}`);
  process.exit(1);
}
// One test file at a time by default: the namespace tiers measure timing (advert gaps, failover)
// and two heavy files side by side on a 2-core machine starve each other's event loops.
const args = ['--test', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 1}`, ...dirs];
console.log(`# node ${args.join(' ')}`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
