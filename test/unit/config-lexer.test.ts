// Lexer and block tree: comments, quotes and escapes, braces placement, positions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/index.js';
import { commentStart, srcLineFromText, tokenize } from '../../src/config/lexer.js';
import { preprocess } from '../../src/config/preprocess.js';
import { buildTree } from '../../src/config/tree.js';
import type { Diagnostic } from '../../src/config/diagnostics.js';

function toks(line: string): string[] {
  return tokenize(srcLineFromText(line, { file: 'f', line: 1 }), []).map((t) => t.text);
}
function tree(text: string, diags: Diagnostic[] = []) {
  const pre = preprocess('k.conf', text, { configId: 'main', readFile: () => '' });
  diags.push(...pre.diagnostics);
  return buildTree(pre.lines, diags);
}

test('comments: # and ! anywhere, not inside quotes', () => {
  assert.equal(commentStart('priority 100 # comment'), 13);
  assert.equal(commentStart('priority 100 ! comment'), 13);
  assert.equal(commentStart('script "echo # not! a comment" # yes'), 31);
  const t = tree('global_defs { # c1\n  router_id R1 ! c2\n}\n');
  assert.equal(t[0]!.children![0]!.keyword, 'router_id');
  assert.deepEqual(t[0]!.children![0]!.args, ['R1']);
});

test('quoted strings: man page examples (quotes join words, removed)', () => {
  assert.deepEqual(toks(`abcd" efg h jkl "mnop`), ['abcd efg h jkl mnop']);
  assert.deepEqual(toks(`abcd "efg h jkl" mnop`), ['abcd', 'efg h jkl', 'mnop']);
  assert.deepEqual(toks(`notify "/x.sh 'a b'"`), ['notify', "/x.sh 'a b'"]);
});

test('quoted string escapes: \\t \\n \\x41 \\101 \\cA \\\\ \\" \\E', () => {
  assert.deepEqual(toks(String.raw`"a\tb\nc"`), ['a\tb\nc']);
  assert.deepEqual(toks(String.raw`"\x41\101\cA"`), ['AA\x01']);
  assert.deepEqual(toks(String.raw`"x\\y\"z"`), ['x\\y"z']);
  assert.deepEqual(toks(String.raw`"\E[0m"`), ['\x1b[0m']);
});

test('unterminated quote is a syntax error, not a crash', () => {
  const r = parseConfigText('global_defs {\n router_id "abc\n}\n', 'k.conf', { configId: 'x' });
  const d = r.diagnostics.find((x) => x.message.includes('Unterminated'));
  assert.ok(d);
  assert.equal(d.line, 2);
  assert.equal(d.column, 12);
});

test('braces: { on the next line, } on the same line, one-line blocks', () => {
  const t = tree('vrrp_instance VI_1\n{\n  virtual_ipaddress { 192.0.2.1/24 192.0.2.2 }\n  priority 50 }\nglobal_defs{\nrouter_id x}\n');
  assert.equal(t.length, 2);
  const vi = t[0]!;
  assert.equal(vi.keyword, 'vrrp_instance');
  assert.deepEqual(vi.args, ['VI_1']);
  assert.equal(vi.children!.length, 2);
  assert.deepEqual(
    vi.children![0]!.children!.map((c) => c.keyword),
    ['192.0.2.1/24'],
  );
  assert.deepEqual(vi.children![0]!.children![0]!.args, ['192.0.2.2']);
  assert.equal(vi.endLine, 4);
  assert.equal(t[1]!.keyword, 'global_defs');
  assert.equal(t[1]!.children![0]!.keyword, 'router_id');
});

test('positions: every node has file, line, column', () => {
  const t = tree('\n  vrrp_script chk {\n\tscript "/bin/true"\n  }\n');
  assert.equal(t[0]!.line, 2);
  assert.equal(t[0]!.column, 3);
  assert.equal(t[0]!.children![0]!.line, 3);
  assert.equal(t[0]!.children![0]!.column, 2);
  assert.equal(t[0]!.children![0]!.argColumns[0], 9);
  assert.equal(t[0]!.file, 'k.conf');
});

test('unclosed block is reported at the line that OPENED it', () => {
  const diags: Diagnostic[] = [];
  tree('global_defs {\n router_id a\n}\nvrrp_instance X {\n  priority 1\n  virtual_ipaddress {\n 192.0.2.1\n}\n', diags);
  const d = diags.filter((x) => x.category === 'syntax');
  assert.equal(d.length, 2);
  assert.equal(d[0]!.line, 4);
  assert.match(d[0]!.message, /never closed/);
  // the inner block whose '}' went to the outer one is named too (its '}' is less indented)
  assert.equal(d[1]!.line, 6);
  assert.match(d[1]!.message, /'virtual_ipaddress' is probably never closed: the '}' at line 8 closes it/);
});

test('unclosed inner block: its opening line and the line where its contents stop making sense', () => {
  const diags: Diagnostic[] = [];
  tree('vrrp_instance X {\n    virtual_ipaddress {\n        192.0.2.1\n    track_interface {\n        eth1\n    }\n}\n', diags);
  const d = diags.filter((x) => x.category === 'syntax');
  assert.deepEqual(
    d.map((x) => x.line),
    [1, 2, 4],
  );
  assert.match(d[1]!.message, /contents stop making sense at line 4 \('track_interface'/);
  assert.match(d[2]!.message, /'track_interface' read inside 'virtual_ipaddress' \(opened at line 2/);
  // a well indented file that is only missing its last '}' names the outer block alone
  const ok: Diagnostic[] = [];
  tree('vrrp_instance X {\n    virtual_ipaddress {\n        192.0.2.1\n    }\n', ok);
  assert.deepEqual(
    ok.map((x) => x.line),
    [1],
  );
});

test("stray '}' is a syntax error", () => {
  const diags: Diagnostic[] = [];
  tree('global_defs {\n}\n}\n', diags);
  assert.equal(diags.length, 1);
  assert.equal(diags[0]!.line, 3);
  assert.equal(diags[0]!.message, "Extra '}' found");
});

test('line continuation with a trailing backslash', () => {
  const t = tree('vrrp_instance \\\n  VI_1 {\n}\n');
  assert.deepEqual(t[0]!.args, ['VI_1']);
  assert.equal(t[0]!.line, 1);
});

test('unknown keyword warns and is skipped with its block', () => {
  const r = parseConfigText(
    'vrrp_instance A {\n interface eth0\n virtual_router_id 5\n foo {\n  bar\n }\n priority 20\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n',
    'k.conf',
    { configId: 'x' },
  );
  const u = r.diagnostics.filter((d) => d.category === 'unknown-keyword');
  assert.equal(u.length, 1);
  assert.equal(u[0]!.message, "Unknown keyword 'foo'");
  assert.equal(u[0]!.severity, 'warning');
  assert.equal(u[0]!.line, 4);
  assert.equal(r.config.vrrpInstances[0]!.priority, 20);
});
