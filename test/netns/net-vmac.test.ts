// use_vmac: a macvlan named vrrp.<VRID> (mode private) with MAC 00:00:5e:00:01:VRID on the
// instance interface; reuse of a matching leftover, refusal of a mismatching one, deletion; and
// a gratuitous ARP sent from the VMAC carries the VMAC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, isRoot, waitFor } from '../helpers/netns.js';
import { PRELUDE, mod, runIn } from '../helpers/net-lab.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

test('vmac: create vrrp.51 with 00:00:5e:00:01:33, reuse, conflict, delete', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
import { createVmac, deleteVmac, restoreSysctls } from ${mod('vmac')};
const r = Rtnl.open();
const first = await createVmac(r, { vrid: 51, family: 4, parent: 'vnet0' });
const again = await createVmac(r, { vrid: 51, family: 4, parent: 'vnet0' });
const parentLl = (await r.listAddresses({ ifindex: (await r.getLink('vnet0')).index, family: 6 })).find((a) => a.scope === 'link');
const v6 = await createVmac(r, { vrid: 51, family: 6, parent: 'vnet0', name: 'vrrp6.51' });
let conflict; try { await createVmac(r, { vrid: 52, family: 4, parent: 'vnet0', name: 'vrrp.51' }); } catch (e) { conflict = e.code; }
out({ ev: 'created', first, again, v6, conflict, parentLl: parentLl?.address });
await new Promise((res) => process.stdin.once('data', res));
restoreSysctls(first.sysctlChanges);
const del1 = await deleteVmac(r, 'vrrp.51');
const del2 = await deleteVmac(r, 'vrrp.51');
await deleteVmac(r, 'vrrp6.51');
out({ ev: 'deleted', del1, del2 });
r.close();`,
      30_000,
      { stdin: true },
    );
    r.child.stdin?.on('error', () => undefined);
    const c = await r.waitLine((l) => l.ev === 'created', 15_000);
    const first = c.first as Record<string, unknown>;
    assert.equal(first.name, 'vrrp.51');
    assert.equal(first.mac, '00:00:5e:00:01:33');
    assert.equal(first.created, true);
    assert.equal((c.again as Record<string, unknown>).created, false, 'a matching leftover is reused');
    assert.deepEqual((c.again as Record<string, unknown>).sysctlChanges, [], 'sysctls already set: nothing changed twice');
    const v6 = c.v6 as Record<string, unknown>;
    assert.equal(v6.mac, '00:00:5e:00:02:33');
    assert.equal(c.conflict, 'EEXIST');

    // IPv4 sysctls as keepalived 2.2.7 sets them (VMAC and parent).
    const sysctl = (dev: string, key: string): string => lab.exec(a.ns, ['cat', `/proc/sys/net/ipv4/conf/${dev}/${key}`]).trim();
    assert.deepEqual(
      ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries'].map((k) => sysctl('vrrp.51', k)),
      ['1', '1', '0', '1'],
    );
    assert.deepEqual(
      ['arp_ignore', 'arp_filter'].map((k) => sysctl('vnet0', k)),
      ['1', '1'],
    );
    // IPv6 VMAC: no kernel link-local from the shared MAC; the parent's link-local, nodad, deprecated.
    assert.ok(typeof c.parentLl === 'string' && (c.parentLl as string).startsWith('fe80::'));
    assert.equal(v6.linkLocal, c.parentLl);
    const v6addrs = JSON.parse(lab.exec(a.ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'vrrp6.51'])) as Array<{
      addr_info: Array<Record<string, unknown>>;
    }>;
    const lls = v6addrs[0]!.addr_info;
    assert.deepEqual(
      lls.map((x) => x.local),
      [c.parentLl],
      'only the copied link-local, none derived from 00:00:5e:00:02:33',
    );
    assert.equal(lls[0]!.nodad, true);
    assert.equal(lls[0]!.preferred_life_time, 0);
    const d6 = JSON.parse(lab.exec(a.ns, ['ip', '-d', '-j', 'link', 'show', 'vrrp6.51'])) as Array<Record<string, any>>;
    assert.equal(d6[0]!.inet6_addr_gen_mode, 'none');

    const d = JSON.parse(lab.exec(a.ns, ['ip', '-d', '-j', 'link', 'show', 'vrrp.51'])) as Array<Record<string, any>>;
    assert.equal(d[0]!.address, '00:00:5e:00:01:33');
    assert.equal(d[0]!.link, 'vnet0');
    assert.equal(d[0]!.linkinfo.info_kind, 'macvlan');
    assert.equal(d[0]!.linkinfo.info_data.mode, 'private');
    assert.ok((d[0]!.flags as string[]).includes('UP'));
    r.child.stdin?.write('go\n');
    const del = await r.waitLine((l) => l.ev === 'deleted', 15_000);
    assert.equal(del.del1, true);
    assert.equal(del.del2, false, 'deleting an absent VMAC is not an error');
    assert.deepEqual(
      ['arp_ignore', 'arp_filter'].map((k) => sysctl('vnet0', k)),
      ['0', '0'],
      'parent sysctls restored',
    );
    const links = JSON.parse(lab.exec(a.ns, ['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>;
    assert.ok(!links.some((l) => l.ifname.startsWith('vrrp')));
  } finally {
    await lab.cleanup();
  }
});

test('vmac: gratuitous ARP from the VMAC moves the neighbour entry to the virtual MAC', { skip, timeout: 60_000 }, async () => {
  const lab = Lab.create();
  try {
    const a = lab.addHost({ name: 'a', addresses: ['192.0.2.11/24'] });
    const b = lab.addHost({ name: 'b', addresses: ['192.0.2.12/24'] });
    lab.exec(b.ns, ['ip', 'neigh', 'replace', '192.0.2.100', 'lladdr', '02:00:00:00:00:99', 'dev', 'vnet0', 'nud', 'stale']);
    const r = runIn(
      lab,
      a.ns,
      `${PRELUDE}
import { Rtnl } from ${mod('netlink')};
import { createVmac } from ${mod('vmac')};
import { GarpSender } from ${mod('garp')};
const r = Rtnl.open();
const v = await createVmac(r, { vrid: 7, family: 4, parent: 'vnet0' });
await r.addAddress({ dev: v.name, address: '192.0.2.100/32' });
const g = GarpSender.open();
g.sendGratuitousArp(v.ifindex, '192.0.2.100', v.mac);
g.close(); r.close();
out({ ev: 'sent', mac: v.mac });`,
    );
    const s = await r.waitLine((l) => l.ev === 'sent', 15_000);
    assert.equal(s.mac, '00:00:5e:00:01:07');
    const mac = (): string | undefined =>
      (JSON.parse(lab.exec(b.ns, ['ip', '-j', 'neigh', 'show', '192.0.2.100']) || '[]') as Array<{ lladdr?: string }>)[0]?.lladdr;
    assert.ok(await waitFor(() => mac() === '00:00:5e:00:01:07', 5000), lab.exec(b.ns, ['ip', 'neigh']));
  } finally {
    await lab.cleanup();
  }
});
