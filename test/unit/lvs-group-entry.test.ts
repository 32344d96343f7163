// virtual_server_group entry addresses: the forms and refusals of keepalived 2.2.7 (its messages,
// measured with `keepalived -t`: each refused entry is skipped, exit code 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGroupEntryAddress } from '../../src/config/lvs-group-entry.js';
import { parseConfigText } from '../../src/config/index.js';

const ok = (t: string) => {
  const r = parseGroupEntryAddress(t);
  assert.ok(r.ok, `${t}: ${r.ok ? '' : r.message}`);
  return r.entry;
};
const bad = (t: string) => {
  const r = parseGroupEntryAddress(t);
  assert.ok(!r.ok, `${t} should be refused`);
  return r.message;
};

test('one address: no range', () => {
  assert.deepEqual(ok('192.0.2.1'), { address: { family: 'inet', address: '192.0.2.1', prefixLength: 32 } });
  assert.deepEqual(ok('2001:DB8:0::1'), { address: { family: 'inet6', address: '2001:db8::1', prefixLength: 128 } });
});

test('A.B.C.D-E: the last byte, decimal; IPv6 the last group, hex (letters, 0x)', () => {
  assert.deepEqual(ok('192.0.2.1-10'), {
    address: { family: 'inet', address: '192.0.2.1', prefixLength: 32 },
    last: '192.0.2.10',
    range: 10,
  });
  assert.equal(ok('2001:db8::a-ff').last, '2001:db8::ff');
  assert.equal(ok('2001:db8::a-FF').range, 0xff);
  assert.equal(ok('2001:db8::a-0x10').last, '2001:db8::10');
  assert.equal(ok('2001:db8::1:fffe-ffff').last, '2001:db8::1:ffff');
});

test('A.B.C.D-E.F.G.H: a full address as the end, across bytes; equal ends are one address', () => {
  assert.equal(ok('192.0.2.250-192.0.3.10').last, '192.0.3.10');
  assert.equal(ok('2001:db8::a-2001:db8::1:3').last, '2001:db8::1:3');
  assert.deepEqual(ok('192.0.2.10-192.0.2.10'), { address: { family: 'inet', address: '192.0.2.10', prefixLength: 32 } });
});

test('A.B.C.D/nn: every address of the subnet; /32 is one address', () => {
  assert.deepEqual(ok('192.0.2.8/29'), { address: { family: 'inet', address: '192.0.2.8', prefixLength: 29 }, last: '192.0.2.15' });
  assert.equal(ok('2001:db8::/126').last, '2001:db8::3');
  assert.equal(ok('192.0.2.8/32').last, undefined);
});

test('refusals, in keepalived 2.2.7 words', () => {
  assert.equal(bad('192.0.2.9/29'), 'Address mask bits not empty - 192.0.2.9/29 - skipping');
  assert.equal(bad('192.0.2.0/16'), 'Address mask bits not empty - 192.0.2.0/16 - skipping');
  assert.equal(bad('192.0.2.0/33'), 'Invalid netmask - 192.0.2.0/33 - skipping');
  assert.equal(bad('192.0.2.10-192.0.2.5'), 'Address range end is less than address range start - 192.0.2.10-192.0.2.5 - skipping');
  assert.equal(bad('192.0.2.10-10'), 'Address range end is not greater than address range start - 192.0.2.10-10 - skipping');
  assert.equal(bad('192.0.2.1-'), 'Address range end is not greater than address range start - 192.0.2.1- - skipping');
  assert.equal(bad('2001:db8::a-A'), 'Address range end is not greater than address range start - 2001:db8::a-A - skipping');
  assert.equal(bad('192.0.2.1-300'), "Virtual server group range '192.0.2.1-300' end '300' too large");
  assert.equal(bad('2001:db8::a-10000'), "Virtual server group range '2001:db8::a-10000' end '10000' too large");
  assert.equal(bad('192.0.2.1--3'), "Virtual server group range '192.0.2.1--3' end '-3' too large");
  assert.equal(bad('192.0.2.1-1x'), "Virtual server group range '192.0.2.1-1x' has extra characters at end 'x'");
  assert.equal(bad('192.0.2.1-192.0.2'), 'Invalid range end 192.0.2.1-192.0.2 - skipping');
  assert.match(bad('192.0.2.1-2001:db8::1'), /^Invalid virtual server group IP address/);
  assert.match(bad('host.example'), /^Invalid virtual server group IP address/);
});

test('the config reader takes the new forms and reports a refused entry as an error (exit 5)', () => {
  const r = parseConfigText(
    'virtual_server_group G {\n 192.0.2.8/29 80\n 192.0.2.250-192.0.3.1 80\n 2001:db8::a-ff 80\n 192.0.2.9/29 80\n}\n',
    'k.conf',
    { configId: 'x', fileExists: () => false },
  );
  const g = r.config.virtualServerGroups[0]!;
  assert.deepEqual(
    g.entries.map((e) => [e.address?.address, e.last, e.port]),
    [
      ['192.0.2.8', '192.0.2.15', 80],
      ['192.0.2.250', '192.0.3.1', 80],
      ['2001:db8::a', '2001:db8::ff', 80],
    ],
  );
  const d = r.diagnostics.filter((x) => x.severity === 'error');
  assert.equal(d.length, 1);
  assert.match(d[0]!.message, /Address mask bits not empty - 192.0.2.9\/29/);
  assert.equal(d[0]!.line, 5);
});
