// Script security in a real daemon: with enable_script_security, a script that runs as root and
// that a non-root user can modify (world-writable) is refused with keepalived's messages and
// never run - notify scripts and a tracked vrrp_script alike - while a safe script runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, waitFor } from '../helpers/netns.js';
import { cleanupDir, sleep, startDaemon, stopDaemon, tempDir, writeScript, type DaemonHandle } from '../fixtures/seed/helpers.js';

test('script security: world-writable scripts run as root are refused, logged, not run; safe ones run', { timeout: 60_000 }, async () => {
  const lab = Lab.create();
  const dir = tempDir('secu');
  let d: DaemonHandle | undefined;
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    const mark = (n: string) => join(dir, `${n}.ran`);
    writeScript(join(dir, 'good.sh'), `touch ${mark('good')}\n`, 0o755);
    writeScript(join(dir, 'bad.sh'), `touch ${mark('bad')}\n`, 0o777);
    writeScript(join(dir, 'chkbad.sh'), `touch ${mark('chkbad')}\nexit 1\n`, 0o777);
    const conf = join(dir, 'k.conf');
    writeFileSync(
      conf,
      `global_defs {
  enable_script_security
  script_user root
}
vrrp_script chk_bad {
  script "${dir}/chkbad.sh"
  interval 1
  weight -10
}
vrrp_instance VI_S {
  interface vnet0
  virtual_router_id 60
  priority 100
  advert_int 1
  virtual_ipaddress {
    192.0.2.160/24
  }
  track_script {
    chk_bad
  }
  notify_backup "${dir}/good.sh"
  notify_master "${dir}/bad.sh"
}
`,
    );
    d = startDaemon(lab, h.ns, conf, join(dir, 'k.pid'));
    const why = () => `\n${d!.log()}`;
    assert.ok(await waitFor(() => lab.addressesOf('n1').includes('192.0.2.160'), 15_000, 50), `VI_S becomes MASTER${why()}`);
    assert.ok(await waitFor(() => existsSync(mark('good')), 5000, 50), `the safe notify_backup ran${why()}`);
    await sleep(1500); // time for a refused script to (wrongly) run
    assert.equal(existsSync(mark('bad')), false, 'the world-writable notify_master never ran');
    assert.equal(existsSync(mark('chkbad')), false, 'the world-writable vrrp_script never ran');
    const log = d.log();
    assert.match(log, new RegExp(`Unsafe permissions found for script '${dir}/bad\\.sh'`), `refusal of bad.sh logged${why()}`);
    assert.match(log, /Disabling track script chk_bad due to insecure/, `refusal of chk_bad logged${why()}`);
    assert.doesNotMatch(log, /SECURITY VIOLATION/, 'no SECURITY VIOLATION warning with enable_script_security');
    assert.doesNotMatch(log, /good\.sh/, 'the safe script is not complained about');
    // the disabled tracker applies no weight: the priority stays 100
    assert.doesNotMatch(log, /Changing effective priority/, `a refused vrrp_script changes no priority${why()}`);
  } finally {
    if (d) await stopDaemon(d).catch(() => undefined);
    cleanupDir(dir);
    await lab.cleanup();
  }
});
