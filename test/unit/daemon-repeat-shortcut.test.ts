// The Backup's fast path (InstanceRunner.onPacket): an advert byte-identical to the last one the
// core took, when that one only restarted the Master_Down_Timer, skips the decoder and the core.
// It must be an exact shortcut: two runners on one fake clock, one with the shortcut and one
// without (deps.repeatShortcut false), hear the same packets and events; what they send, when,
// their state, counters, log lines and the core's timers must be the same.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { parseConfigText } from '../../src/config/index.js';
import { InstanceRunner, sameAdvert, type RunnerDeps } from '../../src/daemon/instance.js';
import type { SocketHub } from '../../src/daemon/sockets.js';
import type { Rtnl } from '../../src/net/netlink.js';
import type { Notifier } from '../../src/notify/queue.js';
import { buildIpv4Header, type ReceivedPacket, type VrrpSocket } from '../../src/net/vrrp-socket.js';
import { encodeAdvert } from '../../src/vrrp/packet.js';

const MASTER = '192.0.2.1';
const ME = '192.0.2.2';
const GROUP = '224.0.0.18';

const conf = (extra = '') =>
  parseConfigText(
    `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  ${extra}
  virtual_ipaddress {
    198.51.100.1/24
  }
}
`,
    'test.conf',
  ).config;

interface Rig {
  runner: InstanceRunner;
  sent: Array<{ t: number; hex: string }>;
  lines: string[];
}

function rig(shortcut: boolean, cfg = conf()): Rig {
  const sent: Rig['sent'] = [];
  const lines: string[] = [];
  const socket = {
    srcAddress: ME,
    trySend(payload: Buffer) {
      sent.push({ t: Date.now(), hex: payload.toString('hex') });
      return payload.length;
    },
  } as unknown as VrrpSocket;
  const hub = { attach: async () => socket, detach: async () => undefined } as unknown as SocketHub;
  const link = { index: 2, name: 'eth0', mac: '02:00:00:00:00:02', adminUp: true, carrier: true, running: true, flags: [] };
  const rtnl = {
    listLinks: async () => [link],
    listAddresses: async () => [{ ifindex: 2, family: 4, address: ME, prefixLength: 24, scope: 'global', secondary: false, flags: [] }],
    getLink: async () => link,
    ensureAddressAbsent: async () => false,
    ensureAddress: async () => true,
    ensureAddressNow: async (_spec: unknown, onSent?: () => void) => {
      onSent?.();
      return true;
    },
  } as unknown as Rtnl;
  const say = (level: string) => (msg: string) => lines.push(`${Date.now()} ${level} ${msg}`);
  const log = {
    info: say('info'),
    warn: say('warn'),
    error: say('error'),
    debug: say('debug'),
    isLevelEnabled: () => true,
  } as unknown as Logger;
  const deps: RunnerDeps = {
    log,
    rtnl,
    hub,
    global: cfg.globalDefs,
    notifier: { notifyState: async () => undefined, enqueue: async () => undefined } as unknown as Notifier,
    now: () => Date.now(),
    garp: () => undefined,
    ndisc: async () => undefined,
    script: () => undefined,
    repeatShortcut: shortcut,
  };
  return { runner: new InstanceRunner(cfg.vrrpInstances[0]!, deps), sent, lines };
}

/** A VRRPv2 advert from the Master as the socket delivers it (IPv4 header included). */
function advert(priority: number, ipId: number, opts: { src?: string; ttl?: number } = {}): ReceivedPacket {
  const enc = encodeAdvert(
    { version: 2, vrid: 51, priority, advertIntervalCs: 100, addresses: ['198.51.100.1'], authType: 0 },
    { family: 4, src: opts.src ?? MASTER, dst: GROUP },
  );
  assert.ok(enc.ok);
  const src = Buffer.from((opts.src ?? MASTER).split('.').map(Number));
  const data = Buffer.concat([buildIpv4Header(src, Buffer.from([224, 0, 0, 18]), opts.ttl ?? 255, enc.bytes.length), enc.bytes]);
  // the kernel's identification and header checksum differ from packet to packet
  data.writeUInt16BE(ipId, 4);
  data.writeUInt16BE(data.length, 2);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += data.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  data.writeUInt16BE(~sum & 0xffff, 10);
  return {
    data,
    family: 4,
    payloadOffset: 20,
    srcAddress: opts.src ?? MASTER,
    dstAddress: GROUP,
    ifname: 'eth0',
    ttl: opts.ttl ?? 255,
    receivedAtMs: Date.now(),
  };
}

/** Both runners, each event given to both, on one mocked clock. */
async function pair(cfg = conf()) {
  // setImmediate stays real: the Master_Down_Timer's last 2 ms are waited out with it, polling
  // the (mocked) clock, which moves only in tick()
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const fast = rig(true, cfg);
  const slow = rig(false, cfg);
  assert.equal(await fast.runner.start(), true);
  assert.equal(await slow.runner.start(), true);
  let ipId = 1;
  const both = (f: (r: InstanceRunner) => void) => {
    f(fast.runner);
    f(slow.runner);
  };
  return {
    fast,
    slow,
    /** advance the clock by `ms`, one millisecond at a time (timers and immediates run on the way) */
    async tick(ms: number) {
      for (let i = 0; i < ms; i++) {
        mock.timers.tick(1);
        await new Promise((r) => setImmediate(r));
      }
    },
    hear(priority: number, opts?: { src?: string; ttl?: number }) {
      const id = ipId++;
      both((r) => r.onPacket(advert(priority, id, opts)));
    },
    both,
    same(what: string) {
      const a = fast.runner.status();
      const b = slow.runner.status();
      assert.deepEqual({ ...a }, { ...b }, `${what}: status`);
      assert.deepEqual(fast.sent, slow.sent, `${what}: adverts sent (time, bytes)`);
      assert.deepEqual(fast.lines, slow.lines, `${what}: log lines`);
    },
    async end() {
      await fast.runner.stop();
      await slow.runner.stop();
      mock.timers.reset();
    },
  };
}

test('sameAdvert: the IPv4 identification and header checksum are ignored, every other byte counts', () => {
  const a = advert(150, 1);
  const bytes = Buffer.from(a.data);
  assert.equal(sameAdvert(advert(150, 2), bytes, MASTER), true);
  assert.equal(sameAdvert(advert(151, 2), bytes, MASTER), false, 'priority');
  assert.equal(sameAdvert(advert(150, 2, { ttl: 254 }), bytes, MASTER), false, 'TTL');
  assert.equal(sameAdvert(advert(150, 2, { src: '192.0.2.3' }), bytes, MASTER), false, 'source');
  const badSum = advert(150, 3);
  badSum.data[10]! ^= 1;
  assert.equal(sameAdvert(badSum, bytes, MASTER), false, 'a wrong header checksum (the decoder drops it)');
  const v6 = { ...a, family: 6 as const, payloadOffset: 0, data: a.data.subarray(20), srcAddress: 'fe80::1' };
  assert.equal(sameAdvert(v6, Buffer.from(a.data.subarray(20)), 'fe80::1'), true);
  assert.equal(sameAdvert(v6, Buffer.from(a.data.subarray(20)), 'fe80::2'), false, 'IPv6 source');
});

test('repeats then silence: the takeover comes at the last arrival + Master_Down_Interval, as without the shortcut', async () => {
  const p = await pair();
  try {
    for (let i = 0; i < 6; i++) {
      await p.tick(1000);
      p.hear(150);
    }
    p.same('after 6 identical adverts');
    assert.equal(p.fast.runner.status().advertsReceived, 6);
    assert.equal(p.fast.runner.state, 'BACKUP');
    // the shortcut was taken: its core heard only the first of them so far
    assert.equal(p.fast.runner.core?.stats.advertsReceived, 1);
    assert.equal(p.slow.runner.core?.stats.advertsReceived, 6);
    const last = Date.now();
    await p.tick(3500);
    assert.equal(p.fast.runner.state, 'BACKUP', 'not before Master_Down_Interval (3.61 s) after the last advert');
    await p.tick(300);
    assert.equal(p.fast.runner.state, 'MASTER');
    p.same('after the takeover');
    const t = p.fast.sent[0]?.t ?? NaN;
    assert.ok(t >= last + 3609.375 && t <= last + 3612, `takeover advert at +${t - last} ms`);
    // the core was given the last arrival before its timer: the first and the last, the four
    // between were counted by the runner
    assert.equal(p.fast.runner.core?.stats.advertsReceived, 2);
    assert.equal(p.fast.runner.status().advertsReceived, 6);
  } finally {
    await p.end();
  }
});

test('repeats then a different advert (priority 0): handled as without the shortcut', async () => {
  const p = await pair();
  try {
    for (let i = 0; i < 5; i++) {
      await p.tick(1000);
      p.hear(150);
    }
    await p.tick(400);
    p.hear(0);
    p.same('right after the priority-0 advert');
    assert.equal(p.fast.runner.core?.timerAt('masterDown'), p.slow.runner.core?.timerAt('masterDown'));
    await p.tick(1000); // Skew_Time (0.61 s) later: Master
    assert.equal(p.fast.runner.state, 'MASTER');
    p.same('after the takeover');
  } finally {
    await p.end();
  }
});

test('repeats then a tracker change: the core hears the last arrival first, then the change', async () => {
  const p = await pair();
  try {
    for (let i = 0; i < 4; i++) {
      await p.tick(1000);
      p.hear(150);
    }
    await p.tick(500);
    // a weight raises us above the Master: its next advert is discarded, Master_Down expires
    p.both((r) => r.onTrackers(200, false, []));
    p.same('after the tracker change');
    assert.equal(p.fast.runner.core?.timerAt('masterDown'), p.slow.runner.core?.timerAt('masterDown'));
    await p.tick(500);
    p.hear(150); // lower than ours now: discarded, no re-arm
    await p.tick(2000);
    p.hear(150);
    p.same('lower-priority adverts');
    await p.tick(1000);
    assert.equal(p.fast.runner.state, 'MASTER');
    p.same('after the takeover');
    // back to the lower priority: the new Master's adverts are compared anew
  } finally {
    await p.end();
  }
});

test('repeats under preempt_delay: the clock-decided case never takes the shortcut', async () => {
  // preempt_delay: a lower-priority Master is followed for that long, then its adverts are
  // discarded; the shortcut must not keep following it past the delay
  const p = await pair(conf('preempt_delay 3'));
  try {
    for (let i = 0; i < 8; i++) {
      await p.tick(1000);
      p.hear(90);
    }
    p.same('lower-priority Master during and after preempt_delay');
    assert.equal(p.slow.runner.core?.stats.advertsReceived, p.fast.runner.core?.stats.advertsReceived, 'no shortcut taken');
    await p.tick(4000);
    assert.equal(p.fast.runner.state, 'MASTER');
    p.same('after the takeover');
  } finally {
    await p.end();
  }
});

test('repeats of a lower-priority Master under nopreempt: followed, as without the shortcut', async () => {
  const p = await pair(conf('nopreempt'));
  try {
    for (let i = 0; i < 6; i++) {
      await p.tick(1000);
      p.hear(90);
    }
    p.same('lower-priority Master, nopreempt');
    assert.equal(p.fast.runner.core?.stats.advertsReceived, 1, 'the shortcut was taken');
    assert.equal(p.fast.runner.state, 'BACKUP');
    await p.tick(4000);
    assert.equal(p.fast.runner.state, 'MASTER');
    p.same('after the takeover');
  } finally {
    await p.end();
  }
});
