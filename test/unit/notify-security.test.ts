import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkScriptSecurity, evaluateScripts, lookupGroup, lookupUser, resolveScriptUser } from '../../src/notify/security.js';
import { suiteTempDir, writeScript } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;
const rootOnly = { skip: isRoot ? false : 'needs root (files owned by other users)' };
const ROOT = { uid: 0, gid: 0 };
const tmp = suiteTempDir('notify-sec');

function script(rel: string, mode = 0o755): string {
  return writeScript(join(tmp.path(), rel), 'exit 0', mode);
}
function subdir(rel: string, mode: number): string {
  const p = join(tmp.path(), rel);
  mkdirSync(p, { recursive: true });
  chmodSync(p, mode);
  return p;
}

test('a root-owned script in root-owned 0755 directories is accepted', rootOnly, () => {
  const p = script('safe.sh');
  assert.deepEqual(checkScriptSecurity(`${p} arg "x y"`, ROOT), { ok: true, path: p });
});

test('world-writable or group-writable (non-root group) script is refused', rootOnly, () => {
  const ww = script('ww.sh', 0o757);
  const r = checkScriptSecurity(ww, ROOT);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.error === 'insecure' && /world-writable/.test(r.reason), JSON.stringify(r));
  const gw = script('gw.sh', 0o775);
  chownSync(gw, 0, 65534);
  const g = checkScriptSecurity(gw, ROOT);
  assert.ok(!g.ok && g.error === 'insecure' && /group 65534/.test(g.reason));
  chownSync(gw, 0, 0);
  assert.equal(checkScriptSecurity(gw, ROOT).ok, true, 'group root may write');
});

test('a script owned by a non-root user is refused for root, accepted for that user', rootOnly, () => {
  const p = script('nobody.sh');
  chownSync(p, 65534, 65534);
  const r = checkScriptSecurity(p, ROOT);
  assert.ok(!r.ok && r.error === 'insecure' && /owned by uid 65534/.test(r.reason));
  assert.equal(checkScriptSecurity(p, { uid: 65534, gid: 65534 }).ok, true);
});

test('any parent directory writable by non-root makes it insecure; a sticky world-writable dir does not', rootOnly, () => {
  const d = subdir('open/inner', 0o755);
  chmodSync(join(tmp.path(), 'open'), 0o777);
  const p = join(d, 'x.sh');
  writeFileSync(p, '#!/bin/sh\n', { mode: 0o755 });
  const r = checkScriptSecurity(p, ROOT);
  assert.ok(!r.ok && r.error === 'insecure' && r.reason.includes(join(tmp.path(), 'open')), JSON.stringify(r));
  chmodSync(join(tmp.path(), 'open'), 0o1777);
  assert.equal(checkScriptSecurity(p, ROOT).ok, true, 'sticky: entries only replaceable by their (root) owner');
  const owned = subdir('ownedby', 0o755);
  chownSync(owned, 65534, 65534);
  const q = join(owned, 'q.sh');
  writeFileSync(q, '#!/bin/sh\n', { mode: 0o755 });
  assert.equal(checkScriptSecurity(q, ROOT).ok, false);
});

test('symlinks are resolved: a safe-looking link to a script in an unsafe place is refused', rootOnly, () => {
  const bad = subdir('badplace', 0o777);
  const target = join(bad, 't.sh');
  writeFileSync(target, '#!/bin/sh\n', { mode: 0o755 });
  const safe = subdir('safeplace', 0o755);
  const link = join(safe, 'link.sh');
  symlinkSync(target, link);
  const r = checkScriptSecurity(link, ROOT);
  assert.ok(!r.ok && r.error === 'insecure' && r.reason.includes(bad), JSON.stringify(r));
  // and the reverse: a link sitting in a writable directory can be swapped
  const good = script('good.sh');
  const link2 = join(bad, 'link2.sh');
  symlinkSync(good, link2);
  assert.equal(checkScriptSecurity(link2, ROOT).ok, false);
});

test('missing, non-executable and PATH-searched scripts', () => {
  const missing = checkScriptSecurity(join(tmp.path(), 'nope.sh'), ROOT);
  assert.ok(!missing.ok && missing.error === 'not-found');
  const noexec = script('noexec.sh', 0o644);
  const r = checkScriptSecurity(noexec, ROOT);
  assert.ok(!r.ok && r.error === 'not-executable', JSON.stringify(r));
  const bare = checkScriptSecurity('sh -c true', ROOT, { pathEnv: '/nonexistent:/usr/bin:/bin' });
  assert.ok(bare.ok, JSON.stringify(bare));
  assert.ok(bare.ok && /\/(usr\/)?bin\/sh$/.test(bare.path));
  const none = checkScriptSecurity('no-such-cmd-kts', ROOT, { pathEnv: '/usr/bin' });
  assert.ok(!none.ok && none.error === 'not-found');
  const bad = checkScriptSecurity('"oops', ROOT);
  assert.ok(!bad.ok && bad.error === 'bad-line');
});

test('enable_script_security refuses insecure scripts; without it they run with the SECURITY VIOLATION warning', rootOnly, () => {
  const good = script('ok.sh');
  const ww = script('ww2.sh', 0o777);
  const scripts = [
    { name: 'vrrp_script chk_ok', line: good, ...ROOT },
    { name: 'vrrp_script chk_ww', vrrpScript: 'chk_ww', line: ww, ...ROOT },
    { name: 'notify_master VI_1', line: `${ww} master`, ...ROOT },
    { name: 'vrrp_script chk_missing', line: join(tmp.path(), 'missing.sh'), ...ROOT },
  ];
  const on = evaluateScripts(scripts, true);
  assert.deepEqual([...on.allowed], ['vrrp_script chk_ok']);
  assert.deepEqual([...on.refused.keys()], ['vrrp_script chk_ww', 'notify_master VI_1', 'vrrp_script chk_missing']);
  assert.equal(on.insecureCount, 2);
  // keepalived 2.2.7 -t prints "Disabling track script chk due to insecure" for a vrrp_script
  assert.ok(
    on.messages.some((m) => m.startsWith('Disabling track script chk_ww due to insecure')),
    on.messages.join('\n'),
  );
  assert.ok(
    on.messages.some((m) => m.startsWith(`Unsafe permissions found for script '${ww}'`) && m.endsWith('- disabling notify_master VI_1.')),
  );
  assert.ok(!on.messages.some((m) => /SECURITY VIOLATION/.test(m)));
  const off = evaluateScripts(scripts, false);
  // the exact line keepalived 2.2.7 -t prints (measured), and without insecure scripts:
  assert.ok(!evaluateScripts([scripts[0]!], false).messages.some((m) => /insecure scripts/.test(m)));
  assert.ok(
    evaluateScripts([scripts[0]!], false).messages.includes(
      'SECURITY VIOLATION - scripts are being executed but script_security not enabled.',
    ),
  );
  assert.deepEqual([...off.allowed].sort(), ['notify_master VI_1', 'vrrp_script chk_ok', 'vrrp_script chk_ww']);
  assert.ok(
    off.messages.includes('SECURITY VIOLATION - scripts are being executed but script_security not enabled. There are insecure scripts.'),
  );
  const nonRoot = evaluateScripts([{ name: 'x', line: good, uid: 65534, gid: 65534 }], false);
  assert.ok(!nonRoot.messages.some((m) => /SECURITY VIOLATION/.test(m)), 'no root script, no violation');
});

test('script_user: default keepalived_script if it exists, else our own uid (refused with script security)', () => {
  const passwd = join(tmp.path(), 'passwd');
  const group = join(tmp.path(), 'group');
  writeFileSync(
    passwd,
    'root:x:0:0:root:/root:/bin/bash\nkeepalived_script:x:990:985::/nonexistent:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/sh\n',
  );
  writeFileSync(group, 'root:x:0:\nstaff:x:50:alice\n');
  assert.deepEqual(resolveScriptUser({ passwdPath: passwd }), { uid: 990, gid: 985, user: 'keepalived_script' });
  const noDefault = join(tmp.path(), 'passwd2');
  writeFileSync(noDefault, 'root:x:0:0:root:/root:/bin/bash\n');
  const d = resolveScriptUser({ passwdPath: noDefault });
  assert.equal(d.uid, process.getuid?.());
  assert.equal(d.error, undefined);
  // keepalived 2.2.7 -t with enable_script_security and no keepalived_script user (measured)
  assert.equal(
    resolveScriptUser({ passwdPath: noDefault, enableScriptSecurity: true }).error,
    'Unable to set default user keepalived_script for script',
  );
  assert.equal(resolveScriptUser({ passwdPath: passwd, enableScriptSecurity: true }).error, undefined);
  assert.deepEqual(resolveScriptUser({ user: 'alice', passwdPath: passwd, groupPath: group }), { uid: 1000, gid: 1000, user: 'alice' });
  assert.deepEqual(resolveScriptUser({ user: 'alice', group: 'staff', passwdPath: passwd, groupPath: group }), {
    uid: 1000,
    gid: 50,
    user: 'alice',
  });
  assert.match(resolveScriptUser({ user: 'mallory', passwdPath: passwd }).error ?? '', /mallory/);
  assert.match(resolveScriptUser({ user: 'alice', group: 'nogroup-x', passwdPath: passwd, groupPath: group }).error ?? '', /nogroup-x/);
  assert.equal(lookupUser('1000', passwd)?.name, 'alice');
  assert.equal(lookupGroup('staff', group), 50);
  assert.equal(lookupGroup('missing', join(tmp.path(), 'no-such-file')), undefined);
});
