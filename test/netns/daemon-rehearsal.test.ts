// The takeover rehearsal (InstanceRunner.rehearse): right after start, a Backup runs its takeover
// 50 times on a shadow core, with every advert, netlink request and gratuitous ARP built but
// none sent (the netlink request goes to an interface that does not exist). Here we check that
// it ran and that nothing leaked: no advert or ARP from the Backup on the wire, no address event
// in its namespace, no state change, the Master undisturbed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/netns.js';
import { nodes, vipConf, VIP, sleep } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

test('rehearsal: a Backup rehearses its takeover at start and nothing reaches the wire or the kernel', {
  skip,
  timeout: 60_000,
}, async () => {
  const c = nodes(2);
  try {
    const n1 = c.start('n1', vipConf('n1', { priority: 150, advertInt: 1 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), `n1 never Master\n${c.logs()}`);
    const lab = c.lab;
    const h2 = lab.host('n2');
    const mac2 = (JSON.parse(lab.exec(h2.ns, ['ip', '-j', 'link', 'show', 'dev', h2.ifname])) as Array<{ address: string }>)[0]!.address;
    // everything n2 puts on the wire, and every address event in its namespace, from before it starts
    const wire = c.capture('n2', 5, `ether src ${mac2} and (ip proto 112 or arp)`, undefined, ['-e']);
    const mon = lab.spawn(h2.ns, ['timeout', '5', 'ip', 'monitor', 'address']);
    const monDone = new Promise((r) => mon.once('exit', r)); // attached now: it may end before we wait
    let monOut = '';
    mon.stdout?.setEncoding('utf8').on('data', (d: string) => {
      monOut += d;
    });
    await sleep(500);
    const n2 = c.start('n2', vipConf('n2', { priority: 100, advertInt: 1 }), { args: ['-D'] });
    const line = await n2.waitLine(/takeover rehearsed/, 10_000);
    assert.ok(line, `n2 logged its rehearsal\n${n2.log()}`);
    assert.match(
      line.text,
      /takeover rehearsed: 50 rounds/,
      'every step ran as expected (the kernel refused the rehearsed address with ENODEV)',
    );
    const frames = await wire;
    assert.deepEqual(frames, [], `n2 sent nothing: ${frames.join('\n')}`);
    await monDone;
    assert.doesNotMatch(monOut, new RegExp(VIP.replaceAll('.', '\\.')), `no VIP event in n2's namespace: ${monOut}`);
    assert.equal(n2.count(/Entering MASTER STATE/), 0, n2.log());
    assert.equal(n2.lastState(), 'BACKUP');
    assert.deepEqual(c.holders(VIP), ['n1']);
    assert.equal(n1.count(/Entering BACKUP STATE/, 0) <= 1, true, 'n1 only went through BACKUP at its own start');
  } finally {
    await c.cleanup();
  }
});
