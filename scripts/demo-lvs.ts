// npm run demo:lvs: the LVS half of the seed on a real IPVS kernel, for machines without one.
// Boots Debian's user-mode-linux kernel (test/helpers/uml.ts fetches it into .cache/uml) and runs
// test/uml/seed-lvs.guest.ts inside: two directors (VRRP + IPVS DR) in front of two HTTP real
// servers, a client asking the VIP, the Master killed, the Backup serving. Prints the guest's
// console (directors' logs on failure, the failover time on success).
import { join } from 'node:path';
import { bootGuest, ensureUmlKit } from '../test/helpers/uml.js';

const kit = ensureUmlKit();
const guest = join(import.meta.dirname, '..', 'test', 'uml', 'seed-lvs.guest.js');
console.log('booting the UML kernel (real IPVS) and running the two-director LVS scenario...');
const r = await bootGuest(kit, `cd /tmp && ${process.execPath} --test --test-reporter=spec ${guest}`, { timeoutMs: 240_000 });
console.log(
  r.console
    .split('\n')
    .filter((l) => !/^(SELinux|mmapper|Failed to initialize ubd|Warning: tempdir|Checking )/.test(l))
    .join('\n'),
);
console.log(r.status === 0 ? `done in ${(r.ms / 1000).toFixed(1)} s` : `the scenario failed (status ${r.status})`);
process.exit(r.status === 0 ? 0 : 1);
