// keepalived-ts daemon notify scripts in network namespaces: notify_master / notify_backup /
// notify_stop and the generic "notify" (INSTANCE name state priority), run in transition order,
// the STOP ones before the daemon exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../helpers/netns.js';
import { Cluster, renderConfig, waitFor } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';
const VIP = '192.0.2.100';

test('notify scripts: specific then generic, in transition order; notify_stop runs before exit', { skip, timeout: 60_000 }, async () => {
  const c = Cluster.create([
    { name: 'n1', addresses: ['192.0.2.11/24'] },
    { name: 'n2', addresses: ['192.0.2.12/24'] },
  ]);
  try {
    const out = join(c.dir, 'notify.log');
    // each call appends one line: its own name and its arguments
    const script = c.writeFile('note.sh', `#!/bin/sh\necho "$(basename "$0") $*" >> '${out}'\n`, 0o755);
    const n1cfg = renderConfig({
      routerId: 'n1',
      instances: [
        {
          priority: 150,
          advertInt: 0.5,
          vips: [`${VIP}/24`],
          extra: [
            `notify_master "${script} to-master"`,
            `notify_backup "${script} to-backup"`,
            `notify_stop "${script} to-stop"`,
            `notify "${script}"`,
          ],
        },
      ],
    });
    const n1 = c.start('n1', n1cfg);
    const n2 = c.start('n2', renderConfig({ routerId: 'n2', instances: [{ priority: 100, advertInt: 0.5, vips: [`${VIP}/24`] }] }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
    assert.ok(await waitFor(() => lines().some((l) => l.includes('MASTER')), 5000), lines().join('\n'));
    // n2 may have been Master for a moment before n1 (start-up race): n1's own history only
    const exit = await n1.stop();
    assert.equal(exit.code, 0, n1.log());
    const got = lines();
    assert.deepEqual(
      got,
      [
        'note.sh to-backup',
        'note.sh INSTANCE VI_1 BACKUP 150',
        'note.sh to-master',
        'note.sh INSTANCE VI_1 MASTER 150',
        'note.sh to-stop',
        'note.sh INSTANCE VI_1 STOP 150',
      ],
      `${got.join('\n')}\n${n1.log()}`,
    );
    assert.ok(n2.running);
  } finally {
    await c.cleanup();
  }
});
