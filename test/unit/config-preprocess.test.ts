// Preprocessor: include (+variants, globs, braces, relative paths, loops), @ID conditionals,
// $NAME definitions and substitution, predefined ${_...}, ~SEQ / ~SEQx / ~LST, positions kept.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseConfigFile, parseConfigText } from '../../src/config/index.js';
import { braceExpand, preprocess } from '../../src/config/preprocess.js';

function lines(text: string, configId = 'main', files: Record<string, string> = {}): string[] {
  const r = preprocess('/etc/k/keepalived.conf', text, {
    configId,
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw new Error('ENOENT');
    },
    glob: (pat) => {
      const re = new RegExp(
        '^' +
          pat
            .replace(/[.+^$()|\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '.') +
          '$',
      );
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
  });
  return r.lines.map((l) => l.map((t) => t.text).join(' '));
}

test('@ID and @^ID conditional lines (man page example)', () => {
  const text = '@main router_id main_router\n@backup router_id backup_router\n@^main 1.2.3.4\n@^backup 1.2.3.5\n';
  assert.deepEqual(lines(text, 'main'), ['router_id main_router', '1.2.3.5']);
  assert.deepEqual(lines(text, 'backup'), ['router_id backup_router', '1.2.3.4']);
  assert.deepEqual(lines(text, 'other'), ['1.2.3.4', '1.2.3.5']);
});

test('$NAME=value definitions, $NAME and ${NAME}, undefined kept', () => {
  assert.deepEqual(lines('$P=240\npriority $P\nx ${P}y\nz $Q ${UNDEF}\n'), ['priority 240', 'x 240y', 'z $Q ${UNDEF}']);
  // $NAME must be followed by whitespace
  assert.deepEqual(lines('$P=1\na $Px\n'), ['a $Px']);
  // empty value allowed
  assert.deepEqual(lines('$E=\na ${E}b\n'), ['a b']);
});

test('substitution is recursive and done at use time (man page example)', () => {
  const text =
    '$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n';
  assert.deepEqual(lines(text), ['10.2.0.100/32', '10.2.10.100/32']);
});

test('conditional after substitution: $IF_MAIN=@main', () => {
  assert.deepEqual(lines('$IF_MAIN=@main\n$IF_MAIN priority 240\n', 'main'), ['priority 240']);
  assert.deepEqual(lines('$IF_MAIN=@main\n$IF_MAIN priority 240\n', 'backup'), []);
  assert.deepEqual(lines('@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n', 'backup'), ['priority 200']);
});

test('multi-line definitions, nested, with conditionals inside', () => {
  const text = [
    '$INSTANCE= \\',
    'vrrp_instance VI_${NUM} { \\',
    '  @high priority 130 \\',
    '  @low priority 120 \\',
    '}',
    '$NUM=0',
    '$INSTANCE',
    '$NUM=1',
    '$INSTANCE',
  ].join('\n');
  assert.deepEqual(lines(text, 'high'), ['vrrp_instance VI_0 {', 'priority 130', '}', 'vrrp_instance VI_1 {', 'priority 130', '}']);
  const nested = [
    '$RS= \\',
    'real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\',
    '}',
    '$VS= \\',
    'virtual_server 10.0.${VS_NUM}.4 80 { \\',
    '$RS_NUM=1 \\',
    '$RS \\',
    '$RS_NUM=2 \\',
    '$RS \\',
    '}',
    '$VS_NUM=3',
    '$VS',
  ].join('\n');
  assert.deepEqual(lines(nested), [
    'virtual_server 10.0.3.4 80 {',
    'real_server 192.168.3.1 80 {',
    '}',
    'real_server 192.168.3.2 80 {',
    '}',
    '}',
  ]);
});

test('predefined ${_PWD} ${_INSTANCE} ${_HASH} ${_BANG} ${_RANDOM min max}', () => {
  assert.deepEqual(lines('a ${_PWD} ${_INSTANCE}\n', 'node1'), ['a /etc/k node1']);
  // measured (2.2.7): the '#' / '!' they bring in starts a comment when the words are split
  // ("priority 1${_HASH}0" is priority 1, "${_HASH} x" an ignored line); quoted they stay
  assert.deepEqual(lines('a ${_HASH}${_BANG} # c\n'), ['a']);
  assert.deepEqual(lines('a b${_BANG}c d\n${_HASH} x\n'), ['a b']);
  assert.deepEqual(lines('a "${_HASH}"\n'), ['a #']);
  // a ~SEQ header takes $definitions ended by ',' and blanks before '(' (both measured)
  assert.deepEqual(lines('$S=2\n$E=3\n~SEQ(N, $S, $E) x${N}\n~SEQ ( M , 0 , 1 ) y${M}\n'), ['x2', 'x3', 'y0', 'y1']);
  for (let i = 0; i < 50; i++) {
    const v = Number(lines('${_RANDOM 5 7}\n')[0]);
    assert.ok(v >= 5 && v <= 7, String(v));
  }
  const v = Number(lines('${_RANDOM}\n')[0]);
  assert.ok(v >= 0 && v <= 32767);
});

test('~SEQ(var, start, step, end), defaults, ~SEQx hex, multiple on a line', () => {
  assert.deepEqual(lines('~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n'), [
    'ip_address 10.0.0.1',
    'ip_address 10.0.1.1',
    'ip_address 10.0.2.1',
    'ip_address 10.0.3.1',
  ]);
  assert.deepEqual(lines('~SEQ(I, 3) x${I}\n'), ['x1', 'x2', 'x3']);
  assert.deepEqual(lines('~SEQ(I, 5, -2, 1) x${I}\n'), ['x5', 'x3', 'x1']);
  assert.deepEqual(lines('~SEQx(SUBNET, 0x90, 0x10, 0xc0) fe80::20:${SUBNET}:1\n'), [
    'fe80::20:90:1',
    'fe80::20:a0:1',
    'fe80::20:b0:1',
    'fe80::20:c0:1',
  ]);
  assert.deepEqual(lines('~SEQ(A, 1, 2) ~SEQ(B, 1, 2) ${A}.${B}\n'), ['1.1', '1.2', '2.1', '2.2']);
  // the variable is not defined after the block
  assert.deepEqual(lines('~SEQ(V, 1, 1) a${V}\nb${V}\n'), ['a1', 'b${V}']);
});

test('~LST with one and with several variables, nested with ~SEQ (man page examples)', () => {
  assert.deepEqual(lines('~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}\n'), ['192.168.10.1', '192.168.20.4']);
  assert.deepEqual(lines('~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}\n'), [
    '192.169.1.5',
    '192.169.1.6',
    '192.169.2.5',
    '192.169.2.6',
  ]);
  assert.deepEqual(lines('~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}\n'), [
    '192.168.10.1',
    '192.170.10.1',
    '192.168.20.4',
    '192.170.20.4',
  ]);
});

test('diagnostics keep the original line:column after substitution and ~SEQ', () => {
  const text =
    '$BAD=999\nvrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  ~SEQ(X, 1, 1)    priority ${BAD}\n  virtual_ipaddress {\n 192.0.2.1\n }\n}\n';
  const r = parseConfigText(text, 'k.conf', { configId: 'x' });
  const d = r.diagnostics.find((x) => x.message.includes("number '999'"));
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.equal(d.line, 5);
  assert.equal(d.column, 29); // the '$' of ${BAD}
});

test('runaway ~SEQ and recursive definitions are bounded', () => {
  const t0 = Date.now();
  const r = parseConfigText('~SEQ(A, 1, 100000000) x\n$R=$R \na $R \n$S=${S}${S}\nb ${S}\n', 'k.conf', { configId: 'x' });
  assert.ok(Date.now() - t0 < 10_000);
  assert.ok(r.diagnostics.some((d) => /iterations exceed/.test(d.message)));
  assert.ok(r.diagnostics.some((d) => /substitutions on one line/.test(d.message)));
  const long = parseConfigText(`$L=${'x'.repeat(70_000)}\na $L\n`, 'k.conf', { configId: 'x' });
  assert.ok(long.diagnostics.some((d) => /after parameter substitution/.test(d.message)));
});

test('brace expansion', () => {
  assert.deepEqual(braceExpand('{foo/{,cat,dog},bar}'), ['foo/', 'foo/cat', 'foo/dog', 'bar']);
  assert.deepEqual(braceExpand('a{b,c}d{e,f}'), ['abde', 'abdf', 'acde', 'acdf']);
  assert.deepEqual(braceExpand('no{brace'), ['no{brace']);
});

test('include: relative to the including file, globs, nested dir, loops bounded', () => {
  const files: Record<string, string> = {
    '/etc/k/conf.d/a.conf': 'a_line\ninclude sub/b.conf\n',
    '/etc/k/conf.d/sub/b.conf': 'b_line\ninclude ../a.conf\n',
    '/etc/k/conf.d/c.conf': 'c_line\n',
  };
  const r = preprocess('/etc/k/keepalived.conf', 'top\ninclude conf.d/*.conf\nend\n', {
    configId: 'x',
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw new Error('ENOENT');
    },
    glob: (pat) => (pat === '/etc/k/conf.d/*.conf' ? ['/etc/k/conf.d/c.conf', '/etc/k/conf.d/a.conf'] : pat in files ? [pat] : []),
  });
  assert.deepEqual(
    r.lines.map((l) => l[0]!.text),
    ['top', 'a_line', 'b_line', 'c_line', 'end'],
  );
  assert.deepEqual(r.files, ['/etc/k/keepalived.conf', '/etc/k/conf.d/a.conf', '/etc/k/conf.d/sub/b.conf', '/etc/k/conf.d/c.conf']);
  const loop = r.diagnostics.find((d) => /include loop/.test(d.message));
  assert.ok(loop);
  assert.equal(loop.file, '/etc/k/conf.d/sub/b.conf');
  assert.equal(loop.line, 2);
  // tokens from an included file carry that file's positions
  assert.equal(r.lines[2]![0]!.file, '/etc/k/conf.d/sub/b.conf');
});

test('include missing files (measured, 2.2.7): include/includer/includeb warn, includem/w/b/a error (-t exit 6)', () => {
  const run = (line: string) =>
    preprocess('/etc/k/keepalived.conf', line + '\n', {
      configId: 'x',
      readFile: () => {
        throw new Error('ENOENT');
      },
      glob: () => [],
    }).diagnostics;
  let d = run('include none.conf');
  assert.equal(d.length, 1);
  assert.equal(d[0]!.severity, 'warning');
  assert.equal(d[0]!.category, 'file-not-found');
  assert.equal(d[0]!.message, "Config files missing '/etc/k/none.conf'.");
  // a glob that matches nothing gets the same words
  assert.equal(run('include none*.conf')[0]!.message, "Config files missing '/etc/k/none*.conf'.");
  assert.equal(run('includer none.conf')[0]!.severity, 'warning');
  assert.equal(run('includeb none.conf')[0]!.severity, 'warning');
  for (const l of [
    'includem none.conf',
    'includem none*.conf',
    'includew none.conf',
    'includew none*.conf',
    'includeb {a,b}.conf',
    'includea none.conf',
    'includea {a,b}.conf',
  ]) {
    d = run(l);
    assert.equal(d.length, 1, l);
    assert.equal(d[0]!.severity, 'error', l);
    assert.equal(d[0]!.category, 'include-missing', l);
    assert.match(d[0]!.message, /^Config files missing '\/etc\/k\/.*'\.$/, l);
  }
  // include_check is not a 2.2.7 keyword: it changes nothing (and the schema warns on it)
  assert.equal(run('include_check\ninclude none.conf').filter((x) => x.severity === 'error').length, 0);
});

test('include on the real filesystem with globs and braces', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kts-cfg-'));
  try {
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'd', 'x1.conf'), 'vrrp_script s1 {\n script /bin/true\n}\n');
    fs.writeFileSync(path.join(dir, 'd', 'x2.conf'), 'vrrp_script s2 {\n script /bin/true\n}\n');
    fs.writeFileSync(path.join(dir, 'k.conf'), 'include d/x*.conf\nincludeb d/{x1,x2}.conf\n');
    const r = parseConfigFile(path.join(dir, 'k.conf'), { configId: 'x' });
    assert.deepEqual(
      r.config.vrrpScripts.map((s) => s.name),
      ['s1', 's2', 's1', 's2'],
    );
    assert.equal(r.files.length, 5);
    const missing = parseConfigFile(path.join(dir, 'nope.conf'));
    assert.equal(missing.diagnostics[0]!.category, 'file-not-found');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('${_PWD} is the directory of the file being read (changes inside an include)', () => {
  const files: Record<string, string> = { '/opt/inc/x.conf': 'inner ${_PWD}\n' };
  const r = preprocess('/etc/k/keepalived.conf', 'outer ${_PWD}\ninclude /opt/inc/x.conf\nafter ${_PWD}\n', {
    configId: 'x',
    readFile: (p) => files[p] ?? '',
    glob: (p) => (p in files ? [p] : []),
  });
  assert.deepEqual(
    r.lines.map((l) => l.map((t) => t.text).join(' ')),
    ['outer /etc/k', 'inner /opt/inc', 'after /etc/k'],
  );
});

test("a '\\' at the end of a comment line is part of the comment (keepalived 2.2.7 reads it as a keyword '\\')", () => {
  // a deliberate difference (README, "What differs"): the comment ends at the end of its line
  const r = parseConfigText('! comment \\\nglobal_defs {\n    router_id x\n}\n', '/etc/k/keepalived.conf', { interfaceExists: () => true });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config.globalDefs.routerId, 'x');
});

test('multi-line definitions: a blank or comment-only line ends one, a comment ending in "\\" goes on', () => {
  assert.deepEqual(lines('$V=a \\\n# c\nb\n$V\n'), ['b', 'a']);
  assert.deepEqual(lines('$V=a \\\n\nb\n$V\n'), ['b', 'a']);
  assert.deepEqual(lines('$V=a # c \\\nb \\  # d\nc\n$V\n'), ['a', 'b', 'c']);
});
