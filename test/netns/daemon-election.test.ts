// keepalived-ts daemons in network namespaces: election, failover (kill -9, SIGTERM), steady adverts.
// Each test builds its own Lab (isolated namespaces) and tears it down in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { mdiV3, nodes, vipConf, VIP, Cluster, sleep, waitFor } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

const conf = vipConf;

const threeNodes = (): Cluster => nodes(3);

test('election: the highest priority becomes Master, the VIP is only there', { skip, timeout: 60_000 }, async () => {
  const c = threeNodes();
  try {
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.5 }));
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 0.5 }));
    const n3 = c.start('n3', conf('n3', { priority: 50, advertInt: 0.5 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), `n1 never Master\n${c.logs()}`);
    const holders = await c.waitHolder(VIP, 'n1', 5000);
    assert.deepEqual(holders, ['n1'], c.logs());
    // stable: a few advert intervals later nothing has moved
    await sleep(2000);
    assert.deepEqual(c.holders(VIP), ['n1'], c.logs());
    assert.equal(n1.lastState(), 'MASTER');
    assert.equal(n2.lastState(), 'BACKUP', c.logs());
    assert.equal(n3.lastState(), 'BACKUP', c.logs());
    // The daemons start a few hundred ms apart on a loaded machine, so a lower node may time out
    // first and be Master briefly (keepalived does the same); once n1 rules, nothing moves.
    const settled = [n1, n2, n3].map((n) => n.count(/Entering \w+ STATE/));
    await sleep(2000);
    assert.deepEqual(
      [n1, n2, n3].map((n) => n.count(/Entering \w+ STATE/)),
      settled,
      c.logs(),
    );
    assert.deepEqual(c.holders(VIP), ['n1'], c.logs());
  } finally {
    await c.cleanup();
  }
});

const twoNodes = (): Cluster => nodes(2);

/** The MAC address of a host's lab interface. */
function macOf(c: Cluster, host: string): string {
  const h = c.lab.host(host);
  return (JSON.parse(c.lab.exec(h.ns, ['ip', '-j', 'link', 'show', 'dev', h.ifname])) as Array<{ address: string }>)[0]!.address;
}

/** The MAC a host's neighbour table holds for an address, if any. */
function neighMac(c: Cluster, host: string, addr: string): string | undefined {
  const h = c.lab.host(host);
  const rows = JSON.parse(c.lab.exec(h.ns, ['ip', '-j', 'neigh', 'show', addr, 'dev', h.ifname])) as Array<{ lladdr?: string }>;
  return rows[0]?.lladdr;
}

test('failover on kill -9: the Backup takes over after Master_Down_Interval; its GARP moves a client', {
  skip,
  timeout: 60_000,
}, async () => {
  const c = twoNodes();
  try {
    c.lab.addHost({ name: 'client', addresses: ['192.0.2.50/24'] });
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.5 }));
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 0.5 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 20_000), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 5000), ['n1'], c.logs());
    await sleep(1200); // n2 has heard several adverts
    // the client talks to the VIP: its neighbour table maps it to n1
    c.lab.exec(c.lab.host('client').ns, ['ping', '-c', '1', '-W', '2', VIP]);
    assert.equal(neighMac(c, 'client', VIP), macOf(c, 'n1'));

    const from = n2.mark();
    const killedAt = Date.now();
    await n1.kill9();
    const master = await n2.waitState('VI_1', 'MASTER', 10_000, from);
    assert.ok(master, `n2 never took over\n${c.logs()}`);
    const took = master.t - killedAt;
    const mdi = mdiV3(100, 50); // 1500 + 304.7 ms
    // The last advert reached n2 at most one interval before the kill: the Backup may not act
    // before MDI - advert_int, and must act soon after MDI (slack for a loaded 2-core machine).
    assert.ok(took >= mdi - 500 - 50, `failover after ${took} ms is earlier than Master_Down_Interval ${mdi} ms allows`);
    assert.ok(took <= mdi + 1500, `failover after ${took} ms, Master_Down_Interval is ${mdi} ms`);
    // a crashed Master leaves its VIP behind (nobody removed it); a reboot would clear it
    assert.ok(c.holders(VIP).includes('n2'), c.logs());
    assert.ok(c.holders(VIP).includes('n1'), 'kill -9 cannot clean up: the stale VIP is still on n1');
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'vnet0']);
    assert.deepEqual(c.holders(VIP), ['n2']);
    console.log(`# kill -9 failover: ${took} ms (Master_Down_Interval ${mdi} ms)`);
    // n2's gratuitous ARP updated the client's entry without the client sending anything
    const mac2 = macOf(c, 'n2');
    assert.ok(
      await waitFor(() => neighMac(c, 'client', VIP) === mac2, 2000),
      `client still maps ${VIP} to ${neighMac(c, 'client', VIP)}, n2 is ${mac2}`,
    );
  } finally {
    await c.cleanup();
  }
});

test('graceful stop (SIGTERM): priority 0 advert, takeover within Skew_Time; VIPs removed, exit 0', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  const VIP2 = '192.0.2.101';
  try {
    const vips = [`${VIP}/24`, `${VIP2}/24`];
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 1, vips }));
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 1, vips }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 20_000), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 5000), ['n1'], c.logs());
    assert.deepEqual(c.holders(VIP2), ['n1']);
    await sleep(1500);

    const from = n2.mark();
    const stoppedAt = Date.now();
    const exit = await n1.stop();
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${n1.log()}`);
    assert.ok(n1.find(/Stopped/), n1.log());
    const master = await n2.waitState('VI_1', 'MASTER', 10_000, from);
    assert.ok(master, c.logs());
    assert.ok(n2.find(/Backup received priority 0 advertisement/, from), `no priority 0 advert seen by n2\n${c.logs()}`);
    const took = master.t - stoppedAt;
    const mdi = mdiV3(100, 100); // 3000 + 609.4 ms
    const skew = 600;
    // Skew_Time + slack, far below Master_Down_Interval
    assert.ok(took <= skew + 1200, `takeover ${took} ms after SIGTERM; Skew_Time ${skew} ms, MDI ${mdi} ms`);
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());
    assert.deepEqual(c.holders(VIP2), ['n2']);
    assert.equal(c.lab.addressesOf('n1').filter((a) => a === VIP || a === VIP2).length, 0, 'n1 left a VIP behind');
    console.log(`# graceful handover: ${took} ms (Skew_Time ${skew} ms, Master_Down_Interval ${mdi} ms)`);

    // the last node stops too: no VIP anywhere, exit 0, pid file gone
    const exit2 = await n2.stop();
    assert.equal(exit2.code, 0, n2.log());
    assert.deepEqual(c.holders(VIP), []);
    assert.deepEqual(c.holders(VIP2), []);
    assert.equal(c.lab.exec(c.lab.host('n2').ns, ['sh', '-c', `test -e ${n2.pidFile} && echo present || echo gone`]).trim(), 'gone');
  } finally {
    await c.cleanup();
  }
});

test('a Master keeps advertising every advert_int (no lost timer)', { skip, timeout: 60_000 }, async () => {
  const c = twoNodes();
  try {
    const n1 = c.start('n1', conf('n1', { priority: 150, advertInt: 0.2 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    // count n1's adverts as seen from n2's namespace for 4 s (~20 expected)
    const cap = await c.capture('n2', 4, 'ip proto 112');
    const adverts = cap.filter((l) => /192\.0\.2\.11 > 224\.0\.0\.18: VRRPv3, Advertisement, vrid 51, prio 150/.test(l)).length;
    assert.ok(adverts >= 14 && adverts <= 24, `${adverts} adverts in 4 s at advert_int 0.2 s\n${cap.join('\n')}\n${c.logs()}`);
    console.log(`# ${adverts} adverts in 4 s at advert_int 0.2`);
  } finally {
    await c.cleanup();
  }
});
