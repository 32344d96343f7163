// Notify scripts in a real daemon: under rapid transitions an instance's notifications run in
// order, one at a time (start/end pairs never interleave, the states match the transitions the
// daemon logged); a hung notify script of one instance delays neither another instance's notify
// nor its own state machine, and is killed (process group) when the daemon stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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
  type DaemonHandle,
} from '../fixtures/seed/helpers.js';

test('notify: ordered one at a time under rapid transitions; a hung notify script delays nothing else', { timeout: 90_000 }, async () => {
  const lab = Lab.create();
  const dir = tempDir('notify');
  let d: DaemonHandle | undefined;
  const hangArg = `8${randomBytes(3).readUIntBE(0, 3)}`;
  try {
    const h = lab.addHost({ name: 'n1', addresses: ['192.0.2.11/24'] });
    for (const f of ['nz', 'hz', 'qz']) {
      mkdirSync(join(dir, f));
      writeFileSync(join(dir, f, 'v'), '0\n');
    }
    const orderLog = join(dir, 'order.log');
    writeScript(join(dir, 'order.sh'), `echo "start $$ $3" >> ${orderLog}\nsleep 0.3\necho "end $$ $3" >> ${orderLog}\n`);
    const hangLog = join(dir, 'hang.log');
    writeScript(join(dir, 'hang.sh'), `echo "$(date +%s%3N) hang start $*" >> ${hangLog}\nsleep ${hangArg}\n`);
    const qLog = join(dir, 'q.log');
    writeScript(join(dir, 'q.sh'), `echo "$(date +%s%3N) $*" >> ${qLog}\n`);
    const inst = (name: string, vrid: number, f: string, extra: string) => `vrrp_instance ${name} {
  interface vnet0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  virtual_ipaddress {
    192.0.2.${100 + vrid}/24
  }
  track_file {
    ${f} weight 0
  }
  ${extra}
}
`;
    const conf = join(dir, 'k.conf');
    writeFileSync(
      conf,
      `${['nz', 'hz', 'qz'].map((f) => `track_file ${f} {\n  file "${dir}/${f}/v"\n}\n`).join('')}
${inst('VI_N', 50, 'nz', `notify "${dir}/order.sh"`)}
${inst('VI_H', 51, 'hz', `notify_master "${dir}/hang.sh"`)}
${inst('VI_Q', 52, 'qz', `notify_master "${dir}/q.sh master"\n  notify_fault "${dir}/q.sh fault"`)}
`,
    );
    d = startDaemon(lab, h.ns, conf, join(dir, 'k.pid'));
    const why = () => `\n${d!.log()}\n--- order\n${readOr(orderLog)}\n--- hang\n${readOr(hangLog)}\n--- q\n${readOr(qLog)}`;
    const has = (vrid: number) => lab.addressesOf('n1').includes(`192.0.2.${100 + vrid}`);

    // all three become MASTER; VI_H's notify_master hangs
    assert.ok(await waitFor(() => has(50) && has(51) && has(52), 15_000, 50), `three MASTERs${why()}`);
    assert.ok(await waitFor(() => readOr(hangLog).includes('hang start'), 5000, 50), `VI_H's notify_master runs (and hangs)${why()}`);

    // VI_H's state machine is not held by its hung script: FAULT and the VIP released at once
    let t = Date.now();
    writeFileSync(join(dir, 'hz', 'v'), '1\n');
    assert.ok(await waitFor(() => !has(51), 5000, 20), `VI_H leaves MASTER although its notify_master hangs${why()}`);
    const hFaultMs = Date.now() - t;

    // another instance's notify runs at once
    t = Date.now();
    writeFileSync(join(dir, 'qz', 'v'), '1\n');
    assert.ok(
      await waitFor(() => /\d+ fault$/m.test(readOr(qLog)), 5000, 20),
      `VI_Q's notify_fault runs while VI_H's script hangs${why()}`,
    );
    const qNotifyMs = Date.now() - t;
    assert.ok(qNotifyMs < 2000, `VI_Q notify within 2 s (${qNotifyMs} ms)`);
    assert.equal(pidsMentioning(`sleep ${hangArg}`).length, 1, 'the hung script still runs');

    // rapid transitions of VI_N: FAULT <-> BACKUP every 250 ms
    const before = d.log().length;
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(dir, 'nz', 'v'), i % 2 === 0 ? '1\n' : '0\n');
      await sleep(250);
    }
    // wait for the daemon's transitions to settle, then for the queue to drain
    await sleep(1000);
    const transitions = [...d.log().matchAll(/\(VI_N\) Entering (\w+) STATE/g)].map((m) => m[1]!);
    const during = [
      ...d
        .log()
        .slice(before)
        .matchAll(/\(VI_N\) Entering (\w+) STATE/g),
    ].length;
    assert.ok(during >= 6, `rapid transitions happened (${during})${why()}`);
    assert.ok(
      await waitFor(() => (readOr(orderLog).match(/^end /gm) ?? []).length >= transitions.length, 20_000, 100),
      `every transition notified${why()}`,
    );
    const lines = readOr(orderLog).trim().split('\n');
    // one at a time: start X, end X, start Y, end Y ...
    const states: string[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const s = /^start (\d+) (\w+)$/.exec(lines[i]!),
        e = /^end (\d+) (\w+)$/.exec(lines[i + 1] ?? '');
      assert.ok(s && e && s[1] === e[1], `line ${i}: "${lines[i]}" then "${lines[i + 1]}": one script at a time${why()}`);
      states.push(s[2]!);
    }
    // in order: the notified states are the daemon's transitions, in the same order
    assert.deepEqual(states, transitions, `notified states = transitions, in order${why()}`);

    // the daemon stops: the hung script's process group is killed
    // the daemon stops (bounded: it waits 3 s for its notify queues): the hung script's process group is killed
    t = Date.now();
    await stopDaemon(d, 15_000);
    const stopMs = Date.now() - t;
    assert.ok(d.log().includes('killing them'), `the stop says it killed a running notify script${why()}`);
    assert.ok(stopMs < 8000, `stop bounded (${stopMs} ms)`);
    assert.ok(
      await waitFor(() => pidsMentioning(`sleep ${hangArg}`).length === 0, 5000, 50),
      'the hung notify script is killed when the daemon stops',
    );
    console.log(
      `# notify: VI_H left MASTER ${hFaultMs} ms after its fault despite a hung notify_master; VI_Q notified in ${qNotifyMs} ms; ${states.length} ordered notifications for ${during} rapid transitions; stop took ${stopMs} ms`,
    );
  } finally {
    if (d) await stopDaemon(d).catch(() => undefined);
    for (const p of pidsMentioning(`sleep ${hangArg}`)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    cleanupDir(dir);
    await lab.cleanup();
  }
});
