// Runs INSIDE the UML guest (test/uml/uml.test.ts boots it): our generic-netlink IPVS client
// against the real kernel, cross-checked with ipvsadm (the kernel's other client).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Ipvs, formatTable, type IpvsError } from '../../src/lvs/ipvs-netlink.js';
import { AF_INET, AF_INET6, FWD, PROTO, SVC_FLAG, TUN_TYPE, type IpvsService } from '../../src/lvs/ipvs-schema.js';

const ipvsadm = (...args: string[]): string => execFileSync('/usr/sbin/ipvsadm', args, { encoding: 'utf8' });

const web: IpvsService = {
  af: AF_INET,
  protocol: PROTO.TCP,
  address: '192.0.2.100',
  port: 80,
  schedName: 'rr',
  flags: 0,
  timeout: 0,
  netmask: 32,
};

test('IPVS family resolves; info and timeouts decode', async () => {
  const ipvs = await Ipvs.open({ modprobe: false });
  try {
    const info = await ipvs.info();
    assert.match(info.version, /^1\.\d+\.\d+$/);
    assert.ok(info.connTabSize > 0);
    const t = await ipvs.getTimeouts();
    assert.deepEqual(t, { tcp: 900, tcpFin: 120, udp: 300 });
    await ipvs.setTimeouts({ tcp: 1000, tcpFin: 0, udp: 77 });
    assert.deepEqual(await ipvs.getTimeouts(), { tcp: 1000, tcpFin: 120, udp: 77 });
    assert.match(ipvsadm('-L', '--timeout'), /1000 120 77/);
    await ipvs.setTimeouts({ tcp: 900, tcpFin: 120, udp: 300 });
  } finally {
    ipvs.close();
  }
});

test('services and destinations we write are what ipvsadm reads, and back', async () => {
  const ipvs = await Ipvs.open({ modprobe: false });
  try {
    await ipvs.flush();
    await ipvs.addService(web);
    await ipvs.addDest(web, { address: '198.51.100.11', port: 8080, fwdMethod: FWD.MASQ, weight: 3, uThreshold: 100, lThreshold: 10 });
    await ipvs.addDest(web, { address: '198.51.100.12', port: 8080, fwdMethod: FWD.MASQ, weight: 0, uThreshold: 0, lThreshold: 0 });
    const fwm: IpvsService = { af: AF_INET, fwmark: 7, schedName: 'wlc', flags: SVC_FLAG.PERSISTENT, timeout: 600, netmask: 24 };
    await ipvs.addService(fwm);
    await ipvs.addDest(fwm, { address: '198.51.100.13', port: 0, fwdMethod: FWD.DROUTE, weight: 1, uThreshold: 0, lThreshold: 0 });
    const v6: IpvsService = {
      af: AF_INET6,
      protocol: PROTO.UDP,
      address: '2001:db8::100',
      port: 53,
      schedName: 'sh',
      flags: SVC_FLAG.SCHED1 | SVC_FLAG.SCHED2,
      timeout: 0,
      netmask: 128,
    };
    await ipvs.addService(v6);
    await ipvs.addDest(v6, {
      address: '2001:db8::11',
      port: 53,
      fwdMethod: FWD.TUNNEL,
      weight: 2,
      uThreshold: 0,
      lThreshold: 0,
      tunType: TUN_TYPE.GUE,
      tunPort: 6080,
      tunFlags: 1,
    });
    const listing = ipvsadm('-Sn');
    assert.match(listing, /-A -t 192\.0\.2\.100:80 -s rr/);
    assert.match(listing, /-a -t 192\.0\.2\.100:80 -r 198\.51\.100\.11:8080 -m -w 3/);
    // -S leaves the thresholds out; --thresholds shows them (upper, lower)
    assert.match(ipvsadm('-Ln', '--thresholds'), /198\.51\.100\.11:8080\s+100\s+10/);
    assert.match(listing, /-a -t 192\.0\.2\.100:80 -r 198\.51\.100\.12:8080 -m -w 0/);
    assert.match(listing, /-A -f 7 -s wlc -p 600 -M 255\.255\.255\.0/);
    assert.match(listing, /-a -f 7 -r 198\.51\.100\.13:0 -g -w 1/);
    assert.match(listing, /-A -u \[2001:db8::100\]:53 -s sh -b sh-fallback,sh-port/);
    assert.match(listing, /-a -u \[2001:db8::100\]:53 -r \[2001:db8::11\]:53 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum/);
    // and what ipvsadm creates, our decoder reads
    ipvsadm('-A', '-u', '203.0.113.5:5060', '-s', 'lc', '-p', '30', '-M', '255.255.0.0');
    ipvsadm('-a', '-u', '203.0.113.5:5060', '-r', '203.0.113.20:5060', '-g', '-w', '9');
    const text = formatTable(await ipvs.dump());
    assert.equal(
      text,
      [
        'FWM 7 inet wlc persistent 600 mask 24',
        '  -> 198.51.100.13:0 Route 1',
        'TCP 192.0.2.100:80 rr',
        '  -> 198.51.100.11:8080 Masq 3 u100 l10',
        '  -> 198.51.100.12:8080 Masq 0',
        'UDP 203.0.113.5:5060 lc persistent 30 mask 16',
        '  -> 203.0.113.20:5060 Route 9',
        'UDP [2001:db8::100]:53 sh flags 0x18',
        '  -> [2001:db8::11]:53 Tunnel 2 tun 1:6080 f1',
      ].join('\n'),
    );
    const writes = ipvs.writes;
    await ipvs.dump();
    assert.equal(ipvs.writes, writes, 'a dump is not a write');
  } finally {
    await ipvs.flush();
    ipvs.close();
  }
});

test('kernel errors come back as errno names', async () => {
  const ipvs = await Ipvs.open({ modprobe: false });
  const code = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      return (e as IpvsError).code;
    }
  };
  try {
    await ipvs.flush();
    assert.equal(await code(ipvs.addService(web)), 'ok');
    assert.equal(await code(ipvs.addService(web)), 'EEXIST');
    assert.equal(await code(ipvs.addService({ ...web, port: 81, schedName: 'nosuch' })), 'ENOENT');
    await assert.rejects(
      ipvs.addService({ ...web, port: 81, schedName: 'nosuch' }),
      /add service TCP 192\.0\.2\.100:81: ENOENT \(scheduler or persistence engine not found/,
    );
    const d = { address: '198.51.100.11', port: 8080, fwdMethod: FWD.MASQ, weight: 1, uThreshold: 0, lThreshold: 0 };
    assert.equal(await code(ipvs.addDest(web, d)), 'ok');
    assert.equal(await code(ipvs.addDest(web, d)), 'EEXIST');
    assert.equal(await code(ipvs.editDest(web, { ...d, weight: 5 })), 'ok');
    assert.equal((await ipvs.listDests(web))[0]?.weight, 5);
    assert.equal(await code(ipvs.deleteDest(web, { ...d, port: 9 })), 'ENOENT');
    assert.equal(await code(ipvs.addDest({ ...web, port: 82 }, d)), 'ESRCH');
    assert.equal(await code(ipvs.deleteService({ ...web, port: 82 })), 'ESRCH');
    assert.deepEqual(await ipvs.listDests({ ...web, port: 82 }), []);
  } finally {
    await ipvs.flush();
    ipvs.close();
  }
});
