// Missing CAP_NET_RAW gives a clear, typed error (NetError "ENOCAP" naming the capability) rather
// than a bare "Operation not permitted". Real check: a child whose bounding set lacks cap_net_raw
// (setpriv); pure checks on faked /proc/self/status text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Lab, isRoot } from '../helpers/netns.js';
import { createRequire } from 'node:module';
import { Agent, PRELUDE, mod } from '../helpers/net-lab.js';
import {
  CAP_NET_ADMIN,
  CAP_NET_RAW,
  assertCapabilities,
  hasCapability,
  missingCapabilities,
  parseCapEff,
} from '../../src/net/capabilities.js';
import { NetError } from '../../src/net/errors.js';

function hasSetpriv(): boolean {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = !isRoot() ? 'needs root (network namespaces)' : !hasSetpriv() ? 'setpriv (util-linux) not installed' : false;

test('parseCapEff / hasCapability on faked /proc/self/status', () => {
  const full = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n';
  const noRaw = 'CapEff:\t000001ffffffdfff\n'; // bit 13 cleared
  const none = 'CapEff:\t0000000000000000\n';
  assert.equal(parseCapEff(full), 0x1ffffffffffn);
  assert.equal(parseCapEff('no such line'), undefined);
  assert.equal(hasCapability(CAP_NET_RAW, parseCapEff(full)), true);
  assert.equal(hasCapability(CAP_NET_RAW, parseCapEff(noRaw)), false);
  assert.equal(hasCapability(CAP_NET_ADMIN, parseCapEff(noRaw)), true);
  assert.deepEqual(missingCapabilities([CAP_NET_RAW, CAP_NET_ADMIN], parseCapEff(none)), [CAP_NET_RAW, CAP_NET_ADMIN]);
  assert.throws(
    () => assertCapabilities([CAP_NET_RAW, CAP_NET_ADMIN], 'open VRRP socket', parseCapEff(noRaw)),
    (e: unknown) => e instanceof NetError && e.code === 'ENOCAP' && /CAP_NET_RAW/.test(e.message) && !/CAP_NET_ADMIN/.test(e.message),
  );
  assert.doesNotThrow(() => assertCapabilities([CAP_NET_RAW], 'x', parseCapEff(full)));
});

test('without CAP_NET_RAW: VrrpSocket, GarpSender and NdiscSender fail with ENOCAP', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const code = `${PRELUDE}
import raw from ${JSON.stringify(createRequire(import.meta.url).resolve('@neuralegion/raw-socket'))};
import { VrrpSocket } from ${mod('vrrp-socket')};
import { GarpSender } from ${mod('garp')};
import { NdiscSender } from ${mod('ndisc')};
const res = {};
// Proof that the capability is really gone: the kernel refuses a raw socket.
try { raw.createSocket({ protocol: 112 }).close(); res.kernel = 'allowed'; } catch (e) { res.kernel = e.message; }
for (const [k, f] of [['vrrp', () => VrrpSocket.open({ ifname: 'vnet0', family: 4 })], ['garp', async () => GarpSender.open()], ['nd', () => NdiscSender.open('vnet0')]]) {
  try { await f(); res[k] = 'opened'; } catch (e) { res[k] = { name: e.name, code: e.code, message: e.message }; }
}
out(res);`;
    // setpriv drops cap_net_raw from the bounding set, so the exec'd node never gets it.
    const child = lab.spawn(
      a.ns,
      ['setpriv', '--inh-caps=-all', '--bounding-set=-net_raw', process.execPath, '--input-type=module', '-e', code],
      { cwd: '/' },
    );
    const ag = new Agent(child, 10_000);
    const res = await ag.waitLine(() => true, 15_000);
    assert.match(String(res.kernel), /Operation not permitted/);
    for (const k of ['vrrp', 'garp', 'nd']) {
      const e = res[k] as Record<string, string>;
      assert.equal(e.name, 'NetError', `${k}: ${JSON.stringify(e)}`);
      assert.equal(e.code, 'ENOCAP');
      assert.match(String(e.message), /missing capability CAP_NET_RAW/);
    }
  } finally {
    await lab.cleanup();
  }
});
