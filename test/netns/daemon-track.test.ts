// keepalived-ts daemons in network namespaces: track_script with a weight (priority moves the
// VIP) and with weight 0 (FAULT). The script checks a flag file the test creates and removes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig, startMasterPair } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const VIP = '192.0.2.100';

function setup(weight: number | undefined): { c: Cluster; flag: string; n1conf: string; n2conf: string } {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
  ]);
  const flag = join(c.dir, 'fail-n1');
  // fails (exit 1) while the flag file exists
  const script = c.writeFile('chk.sh', `#!/bin/sh\n[ ! -e '${flag}' ]\n`, 0o755);
  const n1conf = renderConfig({
    routerId: 'n1',
    scripts: [{ name: 'chk_service', script, interval: 1, fall: 1, rise: 1, weight }],
    instances: [{ priority: 150, advertInt: 0.5, vips: [`${VIP}/24`], trackScripts: [{ name: 'chk_service' }] }],
  });
  const n2conf = renderConfig({ routerId: 'n2', instances: [{ priority: 100, advertInt: 0.5, vips: [`${VIP}/24`] }] });
  return { c, flag, n1conf, n2conf };
}

test('track_script weight -60: failure drops the priority below the Backup, the VIP moves and comes back', {
  skip,
  timeout: 60_000,
}, async () => {
  const { c, flag, n1conf, n2conf } = setup(-60);
  try {
    const [n1, n2] = await startMasterPair(c, n1conf, n2conf);

    const f1 = n1.mark();
    const f2 = n2.mark();
    writeFileSync(flag, '');
    assert.ok(await n1.waitLine(/VRRP_Script\(chk_service\) failed/, 5000, f1), c.logs());
    assert.ok(await n1.waitLine(/Changing effective priority from 150 to 90/, 3000, f1), c.logs());
    assert.ok(await n2.waitState('VI_1', 'MASTER', 8000, f2), `n2 (100) did not preempt n1 (90)\n${c.logs()}`);
    assert.ok(await n1.waitState('VI_1', 'BACKUP', 5000, f1), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());
    assert.equal(n1.count(/Entering FAULT STATE/), 0, 'a weighted script never causes FAULT');

    const g1 = n1.mark();
    rmSync(flag);
    assert.ok(await n1.waitLine(/VRRP_Script\(chk_service\) succeeded/, 5000, g1), c.logs());
    assert.ok(await n1.waitLine(/Changing effective priority from 90 to 150/, 3000, g1), c.logs());
    assert.ok(await n1.waitState('VI_1', 'MASTER', 8000, g1), `n1 did not preempt back\n${c.logs()}`);
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
  } finally {
    await c.cleanup();
  }
});

test('track_script weight 0: failure puts the instance in FAULT, the Backup takes over', { skip, timeout: 60_000 }, async () => {
  const { c, flag, n1conf, n2conf } = setup(undefined);
  try {
    const [n1, n2] = await startMasterPair(c, n1conf, n2conf);

    const f1 = n1.mark();
    const f2 = n2.mark();
    writeFileSync(flag, '');
    assert.ok(await n1.waitState('VI_1', 'FAULT', 5000, f1), `n1 did not enter FAULT\n${c.logs()}`);
    // a Master entering FAULT resigns with priority 0: n2 takes over within Skew_Time + slack
    const master = await n2.waitState('VI_1', 'MASTER', 5000, f2);
    assert.ok(master, c.logs());
    assert.ok(n2.find(/Backup received priority 0 advertisement/, f2), `n1 left FAULT without a priority 0 advert\n${c.logs()}`);
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());

    const g1 = n1.mark();
    rmSync(flag);
    assert.ok(await n1.waitState('VI_1', 'BACKUP', 5000, g1), `n1 did not leave FAULT\n${c.logs()}`);
    assert.ok(await n1.waitState('VI_1', 'MASTER', 8000, g1), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
  } finally {
    await c.cleanup();
  }
});

test('track_interface: the tracked interface going down puts the instance in FAULT; up: it returns', {
  skip,
  timeout: 60_000,
}, async () => {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
  ]);
  try {
    // n1's uplink (vnet1, on the same bridge) is tracked with weight 0 (the default): down = FAULT
    c.addInterface('n1', 'vnet1', ['198.51.100.11/24']);
    const n1 = c.start(
      'n1',
      renderConfig({
        routerId: 'n1',
        instances: [{ priority: 150, advertInt: 0.5, vips: [`${VIP}/24`], extra: ['track_interface {', '    vnet1', '}'] }],
      }),
    );
    const n2 = c.start('n2', renderConfig({ routerId: 'n2', instances: [{ priority: 100, advertInt: 0.5, vips: [`${VIP}/24`] }] }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 5000), ['n1'], c.logs());

    const f1 = n1.mark();
    const f2 = n2.mark();
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'link', 'set', 'vnet1', 'down']);
    assert.ok(await n1.waitState('VI_1', 'FAULT', 5000, f1), `n1 did not enter FAULT\n${c.logs()}`);
    assert.ok(await n2.waitState('VI_1', 'MASTER', 5000, f2), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());

    const g1 = n1.mark();
    c.lab.exec(c.lab.host('n1').ns, ['ip', 'link', 'set', 'vnet1', 'up']);
    assert.ok(await n1.waitState('VI_1', 'MASTER', 8000, g1), `n1 did not return\n${c.logs()}`);
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
  } finally {
    await c.cleanup();
  }
});
