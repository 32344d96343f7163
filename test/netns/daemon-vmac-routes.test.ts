// use_vmac (the VIP on a macvlan with the virtual MAC, adverts and GARPs from it), virtual_routes
// and virtual_rules following Mastership, static_ipaddress present while the daemon runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitFor } from '../helpers/netns.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

test('use_vmac, virtual_routes, virtual_rules and static_ipaddress in a real kernel', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = mkdtempSync(join(tmpdir(), 'kts-vmac-'));
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const o = lab.addHost({ name: 'obs', addresses: ['192.0.2.50/24'] });
    writeFileSync(
      join(dir, 'k.conf'),
      `static_ipaddress {
  198.51.100.77/32 dev vnet0
}
vrrp_instance VI_1 {
  interface vnet0
  virtual_router_id 33
  priority 150
  advert_int 1
  use_vmac
  virtual_ipaddress {
    192.0.2.100/24
  }
  virtual_routes {
    203.0.113.0/24 via 192.0.2.1 dev vnet0
  }
  virtual_rules {
    from 192.0.2.100/32 table 100 priority 1000
  }
}
`,
    );
    const cap = lab.spawn(o.ns, ['tcpdump', '-l', '-n', '-e', '-i', 'vnet0', 'ip proto 112 or arp']);
    let wire = '';
    cap.stdout!.on('data', (c: Buffer) => {
      wire += c.toString();
    });
    cap.stderr!.resume();
    await new Promise((r) => setTimeout(r, 800));
    const d = lab.spawn(h.ns, [process.execPath, cli, '-f', join(dir, 'k.conf'), '-n', '-l', '-p', join(dir, 'k.pid')]);
    let log = '';
    d.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
    });
    d.stdout!.resume();
    assert.ok(
      await waitFor(() => lab.exec(h.ns, ['ip', '-br', 'addr', 'show', 'dev', 'vnet0']).includes('198.51.100.77'), 10_000),
      `static address set at start:\n${log}`,
    );
    const vmacAddr = () => {
      try {
        return lab.exec(h.ns, ['ip', '-br', 'addr', 'show', 'dev', 'vrrp.33']);
      } catch {
        return '';
      }
    };
    assert.ok(await waitFor(() => vmacAddr().includes('192.0.2.100'), 10_000), `VIP on the VMAC:\n${log}`);
    const link = lab.exec(h.ns, ['ip', '-br', 'link', 'show', 'dev', 'vrrp.33']);
    assert.match(link, /00:00:5e:00:01:21/, 'virtual MAC for VRID 33');
    assert.ok(
      await waitFor(() => lab.exec(h.ns, ['ip', 'route', 'show', '203.0.113.0/24']).includes('via 192.0.2.1'), 5000),
      'virtual route added',
    );
    assert.match(lab.exec(h.ns, ['ip', 'rule', 'show']), /^1000:\s+from 192\.0\.2\.100 lookup 100/m, 'virtual rule added');
    await new Promise((r) => setTimeout(r, 1200));
    assert.match(
      wire,
      /00:00:5e:00:01:21 > 01:00:5e:00:00:12, .*192\.0\.2\.11 > 224\.0\.0\.18: VRRPv2, Advertisement, vrid 33, prio 150/,
      'adverts leave from the virtual MAC with the parent address',
    );
    assert.match(
      wire,
      /00:00:5e:00:01:21 > ff:ff:ff:ff:ff:ff, ethertype ARP .* tell 192\.0\.2\.100/,
      'gratuitous ARP from the virtual MAC',
    );

    d.kill('SIGTERM');
    assert.ok(await waitFor(() => d.exitCode !== null, 10_000));
    assert.equal(d.exitCode, 0);
    assert.equal(vmacAddr(), '', 'VMAC deleted at stop');
    assert.equal(lab.exec(h.ns, ['ip', 'route', 'show', '203.0.113.0/24']).trim(), '', 'virtual route removed');
    assert.doesNotMatch(lab.exec(h.ns, ['ip', 'rule', 'show']), /lookup 100/, 'virtual rule removed');
    assert.doesNotMatch(lab.exec(h.ns, ['ip', '-br', 'addr']), /198\.51\.100\.77|192\.0\.2\.100/, 'static and virtual addresses removed');
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
