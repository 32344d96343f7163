// When a Backup's takeover advert leaves, end to end through InstanceRunner (src/daemon/instance.ts:
// the core's armTimer decision, the runner's Master_Down_Timer, its expiry, the urgent send), on a
// fake clock whose sleeps land late as Linux's do. The Master_Down_Timer must be the precise one
// (timer.ts: cut short by the epoll slack, the last 2 ms awake): a plain timer is late by the
// slack (0.1% of a sleep, 3.6 ms on v2's 3.6 s) plus libuv's whole milliseconds, which
// bench/failover showed as +6.5 ms before the precise timer and must not show again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.js';
import { InstanceRunner, type RunnerDeps } from '../../src/daemon/instance.js';
import type { DeadlineClock } from '../../src/daemon/timer.js';
import { masterDownIntervalMs } from '../../src/vrrp/core.js';
import { buildIpv4Packet, encodeAdvert } from '../../src/vrrp/packet.js';
import type { ReceivedPacket, VrrpSocket } from '../../src/net/vrrp-socket.js';
import type { Rtnl } from '../../src/net/netlink.js';
import type { SocketHub } from '../../src/daemon/sockets.js';
import type { Notifier } from '../../src/notify/queue.js';
import type { Logger } from 'pino';

const CONF = `
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
}
`;

/**
 * A fake clock as the kernel and libuv give it: a sleep of `ms` lands `ms / 1000` (epoll's slack
 * for a normal task) plus up to 1 ms (libuv's whole milliseconds) late; a spin step (setImmediate:
 * one turn of the loop) takes 50 us.
 */
function lateClock(lateMs: (ms: number) => number) {
  let t = 10_000;
  let ids = 0;
  const queue: Array<{ at: number; cb: () => void; id: number }> = [];
  const clock: DeadlineClock = {
    schedule: (cb, ms) => {
      const id = ++ids;
      queue.push({ at: t + ms + lateMs(ms), cb, id });
      return id;
    },
    unschedule: (h) => {
      const i = queue.findIndex((q) => q.id === h);
      if (i >= 0) queue.splice(i, 1);
    },
    spin: (cb) => {
      queue.push({ at: t + 0.05, cb, id: ++ids });
    },
  };
  return {
    clock,
    now: () => t,
    /** run the callbacks due up to `until` in time order (bounded), then set the clock there */
    runUntil(until: number, limit = 100_000) {
      for (let n = 0; n < limit; n++) {
        queue.sort((a, b) => a.at - b.at);
        const q = queue[0];
        if (!q || q.at > until) break;
        queue.shift();
        t = Math.max(t, q.at);
        q.cb();
      }
      t = Math.max(t, until);
    },
  };
}

async function backup(lateMs: (ms: number) => number) {
  const r = parseConfigText(CONF, 'takeover-timing.conf');
  const inst = r.config.vrrpInstances[0]!;
  const c = lateClock(lateMs);
  const sent: Array<{ t: number; priority: number }> = [];
  const socket = {
    srcAddress: '192.0.2.12',
    // the takeover advert goes out through trySend (sent now): its time is the clock's
    trySend(payload: Buffer) {
      sent.push({ t: c.now(), priority: payload[2]! });
      return payload.length;
    },
    send(payload: Buffer) {
      sent.push({ t: c.now(), priority: payload[2]! });
      return Promise.resolve(payload.length);
    },
  } as unknown as VrrpSocket;
  const noop = () => undefined;
  const log = { info: noop, warn: noop, error: noop, debug: noop, isLevelEnabled: () => false } as unknown as Logger;
  const deps: RunnerDeps = {
    log,
    rtnl: {
      ensureAddressNow: (_s: unknown, onSent?: () => void) => {
        onSent?.();
        return Promise.resolve(true);
      },
      ensureAddressAbsent: () => Promise.resolve(false),
    } as unknown as Rtnl,
    hub: { attach: () => Promise.resolve(socket), detach: () => Promise.resolve() } as unknown as SocketHub,
    global: r.config.globalDefs,
    notifier: { notifyState: () => Promise.resolve(), enqueue: () => Promise.resolve() } as unknown as Notifier,
    now: c.now,
    garp: () => undefined,
    ndisc: () => Promise.resolve(undefined),
    script: () => undefined,
    timerClock: c.clock,
  };
  const runner = new InstanceRunner(inst, deps);
  const net = {
    links: Promise.resolve([
      { index: 2, name: 'eth0', mac: '02:00:00:00:00:12', adminUp: true, carrier: true, running: true, flags: ['up', 'lowerUp'] },
    ]),
    addresses: Promise.resolve([{ ifindex: 2, family: 4, address: '192.0.2.12', prefixLength: 24, scope: 'universe', secondary: false }]),
  } as unknown as Parameters<InstanceRunner['start']>[2];
  assert.equal(await runner.start(undefined, undefined, net), true);
  // the Master's advert (priority 150) as the socket hands it over: an IPv4 packet
  const advert = encodeAdvert(
    { version: 2, vrid: 51, priority: 150, advertIntervalCs: 100, addresses: ['192.0.2.100'], authType: 0 },
    { family: 4, src: '192.0.2.11', dst: '224.0.0.18' },
  );
  assert.ok(advert.ok);
  const ip = buildIpv4Packet({ src: '192.0.2.11', dst: '224.0.0.18' }, advert.bytes);
  assert.ok(ip.ok);
  const packet = Buffer.from(ip.bytes);
  const hear = () =>
    runner.onPacket({
      data: packet,
      family: 4,
      payloadOffset: 20,
      srcAddress: '192.0.2.11',
      dstAddress: '224.0.0.18',
      ifname: 'eth0',
    } as ReceivedPacket);
  return { c, sent, runner, hear };
}

const MDI = masterDownIntervalMs(2, 100, 100); // 3 x 1 s + (256 - 100) / 256 s = 3609.375 ms

for (const [name, lateMs] of [
  ['sleeps late by the slack and a whole millisecond', (ms: number) => ms / 1000 + 0.99],
  ['sleeps on time', () => 0],
] as const) {
  test(`takeover: the Backup's first advert leaves at Master_Down_Interval after the Master's last advert, within the spin (${name})`, async () => {
    const { c, sent, runner, hear } = await backup(lateMs);
    try {
      // a Master advertising every second for 10 s (and a phase that is not a whole millisecond),
      // then silent
      let last = 0;
      for (let k = 0; k < 10; k++) {
        c.runUntil(c.now() + (k === 0 ? 0.37 : 1000));
        hear();
        last = c.now();
      }
      assert.equal(sent.length, 0, 'a Backup hearing its Master sends nothing');
      c.runUntil(last + MDI + 50);
      const first = sent[0];
      assert.ok(first, 'the Backup took over');
      assert.ok(first.priority === 100, `its own priority in the advert: ${first.priority}`);
      const lateness = first.t - (last + MDI);
      assert.ok(lateness >= 0, `advert ${lateness.toFixed(3)} ms before Master_Down_Interval`);
      // the precise timer: one spin step (50 us) after the deadline at most; a plain one would
      // be 3.6 ms (the slack) + up to 1 ms late here
      assert.ok(lateness <= 0.1, `advert ${lateness.toFixed(3)} ms after Master_Down_Interval`);
    } finally {
      await runner.stop();
    }
  });
}
