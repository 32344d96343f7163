// The seed's httpd pair, end to end, from conf/seed/master.conf and conf/seed/backup.conf.
// Two nodes whose interfaces are named as the configs say (ens33 on the master, eth0 on the
// backup), a client in a third namespace requesting the VIP. The HTTP servers are started and
// stopped ONLY by the notify script; the master's check script stops our daemon (by PID file)
// when its httpd dies. The configs are copied with only the "/scripts/" prefix replaced by each
// node's temp dir (test/fixtures/seed/scripts/ copied there, node's path filled in).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Lab, waitFor } from '../helpers/netns.js';
import {
  cleanupDir,
  pidsMentioning,
  readOr,
  sleep,
  startDaemon,
  stopDaemon,
  tempDir,
  writeScript,
  holders,
  type DaemonHandle,
} from '../fixtures/seed/helpers.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(repo, 'test', 'fixtures', 'seed', 'scripts');
const clientJs = join(repo, 'dist', 'scripts', 'demo-client.js');
const VIP = '192.0.2.100';

/** One node's directory: scripts/ (the fixtures), page, keepalived.conf with /scripts/ replaced. */
function prepareNode(dir: string, conf: string, page: string): string {
  mkdirSync(join(dir, 'scripts'));
  for (const f of ['check_httpd.sh', 'notify.sh', 'httpd.mjs']) {
    const dst = join(dir, 'scripts', f);
    copyFileSync(join(fixtures, f), dst);
    writeFileSync(dst, readFileSync(dst, 'utf8').replaceAll('@NODE@', process.execPath));
    chmodSync(dst, f.endsWith('.sh') ? 0o755 : 0o644);
  }
  writeFileSync(join(dir, 'page'), `${page}\n`);
  const text = readFileSync(join(repo, 'conf', 'seed', conf), 'utf8');
  assert.ok(text.includes('"/scripts/'), 'the seed config references /scripts/');
  const out = join(dir, 'keepalived.conf');
  writeFileSync(out, text.replaceAll('/scripts/', `${dir}/scripts/`));
  return out;
}

interface Answer {
  t: number;
  ok: boolean;
  body: string;
}

/** Longest run without an answer from `from` until the first answer with `body` (ms). */
function outage(answers: Answer[], from: number, body: string): { gapMs: number; firstOkMs: number } {
  let gapStart = 0,
    worst = 0,
    firstOk = -1;
  for (const a of answers.filter((x) => x.t >= from)) {
    if (!a.ok) {
      if (!gapStart) gapStart = a.t;
      continue;
    }
    if (gapStart) {
      worst = Math.max(worst, a.t - gapStart);
      gapStart = 0;
    }
    if (a.body === body) {
      firstOk = a.t - from;
      break;
    }
  }
  return { gapMs: worst, firstOkMs: firstOk };
}

test('seed: httpd pair end to end - master httpd dies, the check script stops its keepalived, the slave serves; the master recovers', {
  timeout: 120_000,
}, async () => {
  const lab = Lab.create();
  const dm = tempDir('seed-master');
  const db = tempDir('seed-backup');
  const daemons: DaemonHandle[] = [];
  try {
    lab.addHost({ name: 'master', ifname: 'ens33', addresses: ['192.0.2.11/24'] });
    lab.addHost({ name: 'backup', ifname: 'eth0', addresses: ['192.0.2.12/24'] });
    lab.addHost({ name: 'client', addresses: ['192.0.2.50/24'] });
    const confM = prepareNode(dm, 'master.conf', 'this is master');
    const confB = prepareNode(db, 'backup.conf', 'this is slave');
    const nodes = ['master', 'backup'];

    let m = startDaemon(lab, lab.host('master').ns, confM, join(dm, 'keepalived.pid'));
    daemons.push(m);
    const b = startDaemon(lab, lab.host('backup').ns, confB, join(db, 'keepalived.pid'));
    daemons.push(b);
    const why = () =>
      `\n--- master log\n${m.log()}\n--- master events\n${readOr(join(dm, 'events.log'))}\n--- backup log\n${b.log()}\n--- backup events\n${readOr(join(db, 'events.log'))}`;

    const client = lab.spawn(lab.host('client').ns, [process.execPath, clientJs, `http://${VIP}/`, '100']);
    const answers: Answer[] = [];
    createInterface({ input: client.stdout! }).on('line', (l) => {
      try {
        answers.push(JSON.parse(l) as Answer);
      } catch {
        /* partial */
      }
    });
    const lastBody = () => {
      const a = answers.at(-1);
      return a?.ok ? a.body : '';
    };

    assert.ok(await waitFor(() => lastBody() === 'this is master', 20_000, 50), `the client reads "this is master"${why()}`);
    assert.deepEqual(holders(lab, nodes, VIP), ['master']);
    // keepalived's behaviour, kept: an instance starts in BACKUP (notify_backup runs) before MASTER.
    const evM = readOr(join(dm, 'events.log'));
    assert.match(
      evM,
      /notify backup 192\.0\.2\.100[\s\S]*notify master 192\.0\.2\.100/,
      `master: notify backup at startup, then master${why()}`,
    );
    assert.match(readOr(join(db, 'events.log')), /notify backup/, 'backup ran notify_backup at startup');
    assert.equal(pidsMentioning(join(db, 'scripts', 'httpd.mjs')).length, 0, 'no httpd on the slave while it is backup');
    await sleep(1500);

    // Kill the master's httpd (as a crash would).
    const httpdPids = pidsMentioning(join(dm, 'scripts', 'httpd.mjs'));
    assert.equal(httpdPids.length, 1, 'one httpd on the master, started by notify_master');
    const killedAt = Date.now();
    for (const p of httpdPids) process.kill(p, 'SIGKILL');
    // httpd was orphaned by notify.sh: the daemon (a child subreaper) must reap it at once, or it
    // stays a zombie that `kill -0` (the check script) still finds, until PID 1 gets to it
    assert.ok(await waitFor(() => !existsSync(`/proc/${httpdPids[0]}`), 2000, 1), `httpd reaped${why()}`);
    const httpdGoneMs = Date.now() - killedAt;
    assert.ok(httpdGoneMs <= 50, `the killed httpd was a zombie for ${httpdGoneMs} ms${why()}`);
    // the check script stops our daemon (by its PID file): the master's daemon exits
    assert.ok(
      await Promise.race([m.exited.then(() => true), sleep(10_000).then(() => false)]),
      `the check script stopped the master's daemon${why()}`,
    );
    const daemonGoneMs = Date.now() - killedAt;
    assert.ok(await waitFor(() => holders(lab, nodes, VIP).join() === 'backup', 10_000, 20), `VIP moved to the backup${why()}`);
    const vipMovedMs = Date.now() - killedAt;
    assert.ok(await waitFor(() => lastBody() === 'this is slave', 10_000, 20), `the client reads "this is slave"${why()}`);
    const failover = outage(answers, killedAt, 'this is slave');
    assert.match(readOr(join(dm, 'events.log')), /check: no httpd, stopping keepalived/);
    assert.match(readOr(join(db, 'events.log')), /notify master 192\.0\.2\.100/);
    // notify.sh mails after httpd listens, so the client may read the page a moment before
    assert.ok(
      await waitFor(() => /state change to master/.test(readOr(join(db, 'mail.log'))), 5000, 20),
      `the slave "mailed" the admin${why()}`,
    );
    await sleep(1500);

    // Recover the master: the operator starts keepalived again (httpd comes from notify_master).
    const recoverAt = Date.now();
    const evBefore = readOr(join(dm, 'events.log')).length;
    m = startDaemon(lab, lab.host('master').ns, confM, join(dm, 'keepalived.pid'));
    daemons.push(m);
    assert.ok(await waitFor(() => lastBody() === 'this is master', 20_000, 20), `the page comes back to the master${why()}`);
    const back = outage(answers, recoverAt, 'this is master');
    assert.deepEqual(holders(lab, nodes, VIP), ['master'], 'the VIP is back on the master');
    const evAfter = readOr(join(dm, 'events.log')).slice(evBefore);
    assert.match(evAfter, /notify backup[\s\S]*notify master/, 'the restarted master went through BACKUP (notify_backup) then MASTER');
    assert.doesNotMatch(evAfter, /stopping keepalived/, 'the restarted master did not stop itself (the trap)');
    assert.ok(
      await waitFor(() => pidsMentioning(join(db, 'scripts', 'httpd.mjs')).length === 0, 5000, 50),
      "the slave's notify_backup stopped its httpd",
    );
    assert.equal(m.proc.exitCode, null, 'the master daemon still runs');

    console.log(
      `# seed failover: httpd killed -> reaped ${httpdGoneMs} ms, master daemon gone ${daemonGoneMs} ms, VIP on backup ${vipMovedMs} ms, "this is slave" after ${failover.firstOkMs} ms; client without answer ${failover.gapMs} ms`,
    );
    console.log(`# seed recovery: master restarted -> "this is master" after ${back.firstOkMs} ms; client without answer ${back.gapMs} ms`);
    client.kill('SIGKILL');
  } finally {
    for (const d of daemons) await stopDaemon(d).catch(() => undefined);
    cleanupDir(dm);
    cleanupDir(db);
    await lab.cleanup();
  }
});

test("seed: the trap - the seed's check script taken literally makes a master started in BACKUP stop itself", {
  timeout: 60_000,
}, async () => {
  const lab = Lab.create();
  const dm = tempDir('seed-trap');
  let m: DaemonHandle | undefined;
  try {
    lab.addHost({ name: 'master', ifname: 'ens33', addresses: ['192.0.2.11/24'] });
    const conf = prepareNode(dm, 'master.conf', 'this is master');
    // the seed's check, literally: no httpd -> stop keepalived, whatever the node's role
    writeScript(
      join(dm, 'scripts', 'check_httpd.sh'),
      `here=${dm}
httpd_status=$(pgrep -f "$here/scripts/httpd.mjs" | wc -l)
if [ $httpd_status -lt 1 ];then
    echo "$(date +%s.%N) check: no httpd, stopping keepalived" >> "$here/events.log"
    kill "$(cat "$here/keepalived.pid")"
fi
`,
    );
    m = startDaemon(lab, lab.host('master').ns, conf, join(dm, 'keepalived.pid'));
    const stopped = await Promise.race([m.exited.then(() => true), sleep(15_000).then(() => false)]);
    const ev = readOr(join(dm, 'events.log'));
    assert.ok(stopped, `the daemon stopped itself\n${m.log()}\n${ev}`);
    // both happen at startup, in either order (the first check runs at once)
    assert.match(ev, /notify backup/, 'notify_backup ran at startup');
    assert.match(ev, /check: no httpd, stopping keepalived/, 'the check script stopped keepalived');
    assert.doesNotMatch(ev, /notify master/, 'it never became master');
    assert.equal(lab.addressesOf('master').includes(VIP), false);
  } finally {
    if (m) await stopDaemon(m).catch(() => undefined);
    cleanupDir(dm);
    await lab.cleanup();
  }
});
