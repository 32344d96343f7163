// SIGHUP that changes an instance, in a real kernel with a peer: the change is applied to the
// running instance in place. A Master that changes priority, addresses, tracking and timers
// stays Master (no state change, no priority-0 advert, no kept address deleted, its counters and
// last transition untouched); a Backup that changes priority and advert_int keeps following the
// Master at the interval it learned; a priority change that should move the Master does (preempt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { isRoot } from '../helpers/netns.js';
import { nodes, renderConfig, sleep, waitFor, VIP, type Cluster, type InstanceOptions, type KtsNode } from '../helpers/daemon-cluster.js';

const skip = isRoot() ? false : 'needs root (network namespaces)';

interface InstanceJson {
  name: string;
  state: string;
  effectivePriority: number;
  advertsSent: number;
  transitions: number;
  lastTransitionMs: number;
  becameMaster: number;
}

/** GET /status on a daemon's Unix socket (the filesystem is shared with its namespace). */
function status(sock: string): Promise<InstanceJson[]> {
  return new Promise((res, rej) => {
    http
      .get({ socketPath: sock, path: '/status' }, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        r.on('end', () => {
          try {
            res((JSON.parse(body) as { instances: InstanceJson[] }).instances);
          } catch (e) {
            rej(e as Error);
          }
        });
      })
      .on('error', rej);
  });
}

/** A line-buffered watcher (tcpdump, ip monitor) in a host's namespace; stop() ends it. */
function watch(
  c: Cluster,
  host: string,
  argv: string[],
): { text: () => string; lines: () => Array<{ at: number; line: string }>; stop: () => void } {
  const child: ChildProcess = c.lab.spawn(c.lab.host(host).ns, argv);
  const seen: Array<{ at: number; line: string }> = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      seen.push({ at: Date.now(), line: buf.slice(0, i) });
      buf = buf.slice(i + 1);
    }
  });
  child.stderr!.resume();
  return {
    text: () => seen.map((s) => s.line).join('\n'),
    lines: () => seen,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}

function reload(n: KtsNode, c: Cluster, _host: string, config: string): number {
  c.writeFile(n.configFile.slice(c.dir.length + 1), config);
  const from = n.mark();
  n.signal('SIGHUP');
  return from;
}

test('reload in place: a Master changing priority, VIPs, track_script weight, track_interface and advert_int stays Master without a trace', {
  skip,
  timeout: 90_000,
}, async () => {
  const c = nodes(2);
  try {
    const fail = c.writeFile('fail.sh', '#!/bin/sh\nexit 1\n', 0o755);
    const notifyLog = join(c.dir, 'notify.log');
    const notify = c.writeFile('notify.sh', `#!/bin/sh\necho "$@" >> ${notifyLog}\n`, 0o755);
    const sock = join(c.dir, 'n1.sock');
    // the VIPs that change are excluded ones: an advert's address list must match its peer's
    const n1conf = (o: { prio: number; weight: number; advertInt: number; excluded: string[]; trackIf?: boolean }) =>
      renderConfig({
        routerId: 'n1',
        // a restarted instance would wait this out again (INIT, silent) before re-entering MASTER
        globalExtra: ['vrrp_startup_delay 2'],
        scripts: [{ name: 'chk', script: fail, interval: 1, weight: o.weight }],
        instances: [
          {
            priority: o.prio,
            advertInt: o.advertInt,
            vips: [`${VIP}/24`],
            trackScripts: [{ name: 'chk' }],
            extra: [
              `notify ${notify}`,
              'virtual_ipaddress_excluded {',
              ...o.excluded.map((v) => `    ${v}`),
              '}',
              ...(o.trackIf ? ['track_interface {', '    vnet1 weight 5', '}'] : []),
            ],
          },
        ],
      });
    c.addInterface('n1', 'vnet1'); // tracked (its own interface is not: keepalived ignores that)
    const first = { prio: 150, weight: -10, advertInt: 1, excluded: ['203.0.113.5/24'] };
    const n1 = c.start('n1', n1conf(first), { args: ['--status-socket', sock] });
    const n2 = c.start('n2', renderConfig({ routerId: 'n2', instances: [{ priority: 100, advertInt: 1, vips: [`${VIP}/24`] }] }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 30_000), c.logs());
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 10_000), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 5000), ['n1'], c.logs());
    assert.ok(await waitFor(async () => (await status(sock))[0]?.effectivePriority === 140, 10_000, 100), 'the failing script weighs -10');
    assert.ok(await waitFor(() => existsSync(notifyLog), 5000, 50), 'notify MASTER ran');
    await sleep(1500);

    const kernel = watch(c, 'n1', ['ip', 'monitor', 'address']);
    const wire = watch(c, 'n2', ['tcpdump', '-l', '-n', '-i', 'vnet0', 'ip proto 112']);
    await sleep(1500);
    const before = (await status(sock))[0]!;
    const notifyBefore = readFileSync(notifyLog, 'utf8');
    const from = reload(n1, c, 'n1', n1conf({ prio: 160, weight: -30, advertInt: 0.5, excluded: ['198.51.100.5/24'], trackIf: true }));
    const t0 = Date.now();
    assert.ok(await n1.waitLine(/Reload done in [\d.]+ ms: 0 unchanged, 1 changed \(VI_1\)/, 10_000, from), c.logs());
    assert.ok(await waitFor(() => c.holders('198.51.100.5').includes('n1'), 5000, 50), 'the added VIP appears');
    assert.ok(await waitFor(() => !c.holders('203.0.113.5').includes('n1'), 5000, 50), 'the removed VIP goes');
    await sleep(4000); // longer than the startup delay and n2's Master_Down_Interval
    kernel.stop();
    wire.stop();
    const after = (await status(sock))[0]!;

    assert.equal(n1.count(/Entering \w+ STATE/, from), 0, `n1 changed state:\n${c.logs()}`);
    assert.equal(n2.count(/Entering MASTER STATE/, from), 0, `n2 took over:\n${c.logs()}`);
    assert.deepEqual(c.holders(VIP), ['n1']);
    assert.equal(after.state, 'MASTER');
    assert.equal(after.lastTransitionMs, before.lastTransitionMs, 'no transition, not even a hidden one');
    assert.equal(after.transitions, before.transitions);
    assert.equal(after.becameMaster, before.becameMaster);
    assert.ok(after.advertsSent > before.advertsSent, `advert counter kept (${before.advertsSent} -> ${after.advertsSent})`);
    assert.equal(after.effectivePriority, 160 - 30 + 5, `new base, new script weight, the new track_interface:\n${c.logs()}`);
    assert.equal(readFileSync(notifyLog, 'utf8'), notifyBefore, 'no notify');
    // one step to the new priority: the script whose weight alone changed kept its status (a
    // restarted one would count for nothing until its next result: 140 -> 165 -> 135)
    const steps = n1.lines
      .filter((l) => l.t >= from && /Changing effective priority/.test(l.text))
      .map((l) => l.text.replace(/^.*\) /, ''));
    assert.deepEqual(steps, ['Changing effective priority from 140 to 135'], c.logs());

    const deleted = kernel
      .text()
      .split('\n')
      .filter((l) => /^Deleted/.test(l));
    assert.ok(
      deleted.every((l) => /203\.0\.113\.5/.test(l)),
      `only the removed VIP is deleted:\n${deleted.join('\n')}`,
    );
    assert.doesNotMatch(kernel.text(), new RegExp(`${VIP.replace(/\./g, '\\.')}/`), 'the kept VIP is never touched');
    const adverts = wire.lines().filter((l) => / 192\.0\.2\.11 > 224\.0\.0\.18: VRRPv3, Advertisement, vrid 51/.test(l.line));
    assert.ok(adverts.length > 0, wire.text());
    assert.ok(
      adverts.every((a) => !/prio 0,/.test(a.line)),
      `no priority-0 advert:\n${wire.text()}`,
    );
    // the advert schedule: no gap above the old interval around the reload, the new one after it
    let worst = 0;
    for (let i = 1; i < adverts.length; i++) worst = Math.max(worst, adverts[i]!.at - adverts[i - 1]!.at);
    assert.ok(worst <= 1000 + 300, `largest advert gap ${worst} ms`);
    const late = adverts.filter((a) => a.at > t0 + 1500);
    assert.ok(
      late.length >= 4 && late.every((a) => /prio 135,/.test(a.line)),
      `adverts at 0.5 s with priority 135:\n${late.map((a) => a.line).join('\n')}`,
    );
  } finally {
    await c.cleanup();
  }
});

test('reload in place: a v3 Backup changing priority and advert_int keeps the interval learned from its Master (no false takeover)', {
  skip,
  timeout: 90_000,
}, async () => {
  const c = nodes(2);
  try {
    const conf = (name: string, o: Partial<InstanceOptions> & { priority: number }) =>
      renderConfig({ routerId: name, instances: [{ vips: [`${VIP}/24`], ...o }] });
    // the owner is Master at once and advertises every 5 s; n2 learns 5 s (Master_Down_Interval ~16 s)
    const n1 = c.start('n1', conf('n1', { priority: 255, advertInt: 5 }));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 10_000), c.logs());
    const wire = watch(c, 'n2', ['tcpdump', '-l', '-n', '-i', 'vnet0', 'ip proto 112']);
    await sleep(500);
    const n2 = c.start('n2', conf('n2', { priority: 100, advertInt: 5 }));
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 10_000), c.logs());
    // reload n2 just after an advert from n1: with its own new 1 s interval it would give up on
    // the Master 3.6 s later, 1.4 s before the Master's next advert
    const seen = wire.lines().length;
    assert.ok(
      await waitFor(
        () =>
          wire
            .lines()
            .slice(seen)
            .some((l) => /192\.0\.2\.11 > 224\.0\.0\.18: VRRPv3/.test(l.line)),
        12_000,
        10,
      ),
      wire.text(),
    );
    await sleep(200);
    const from = reload(n2, c, 'n2', conf('n2', { priority: 110, advertInt: 1 }));
    assert.ok(await n2.waitLine(/Reload done in [\d.]+ ms: 0 unchanged, 1 changed/, 10_000, from), c.logs());
    await sleep(9000); // two of the Master's adverts
    wire.stop();
    assert.equal(n2.count(/Entering \w+ STATE/, from), 0, `n2 changed state:\n${c.logs()}`);
    assert.deepEqual(c.holders(VIP), ['n1'], c.logs());
    assert.ok(!wire.text().includes('192.0.2.12 > 224.0.0.18'), `n2 never advertised:\n${wire.text()}`);
  } finally {
    await c.cleanup();
  }
});

test('reload in place: a priority change that should move the Master does (a Backup raised preempts, a Master lowered is preempted)', {
  skip,
  timeout: 90_000,
}, async () => {
  const c = nodes(2);
  try {
    const conf = (name: string, priority: number) =>
      renderConfig({ routerId: name, instances: [{ priority, advertInt: 0.5, vips: [`${VIP}/24`] }] });
    const n1 = c.start('n1', conf('n1', 150));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 20_000), c.logs());
    const n2 = c.start('n2', conf('n2', 100));
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 10_000), c.logs());
    await sleep(1000);

    // n2 raised above the Master: it discards the Master's next advert and takes over
    let from = reload(n2, c, 'n2', conf('n2', 200));
    const up = await n2.waitState('VI_1', 'MASTER', 5000, from);
    assert.ok(up, `n2 did not preempt:\n${c.logs()}`);
    assert.ok(up.t - from < 2500, `preempted ${up.t - from} ms after the reload (Master_Down_Interval ~1.6 s)`);
    assert.ok(await n1.waitState('VI_1', 'BACKUP', 3000, from), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n2', 3000), ['n2'], c.logs());
    assert.equal(n2.count(/Entering BACKUP STATE/, from), 0, 'n2 went straight to MASTER');
    await sleep(1000);

    // the Master n2 lowered below n1: n1 preempts it
    from = reload(n2, c, 'n2', conf('n2', 50));
    assert.ok(await n1.waitState('VI_1', 'MASTER', 5000, from), `n1 did not take back over:\n${c.logs()}`);
    assert.ok(await n2.waitState('VI_1', 'BACKUP', 3000, from), c.logs());
    assert.deepEqual(await c.waitHolder(VIP, 'n1', 3000), ['n1'], c.logs());
    assert.equal(n2.count(/sent 0 priority/, from), 0, 'a preempted Master does not resign with priority 0');
  } finally {
    await c.cleanup();
  }
});
