// Issue 14 (footprint): a VRRP-only daemon does not load the LVS side's modules at start (IPVS
// over generic netlink, the checker modules); they load on first use. Each check runs in a fresh
// Node process, which reports what CommonJS and ES modules it loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const url = (p: string) => pathToFileURL(join(src, p)).href;

/** Import `imports` in order in a new process, run `then` (an expression awaited there), and
 *  return the loaded module files: CommonJS from require.cache, our ESM from a load hook. */
function loaded(imports: string[], then = 'undefined'): string[] {
  const hook = `data:text/javascript,${encodeURIComponent(
    `export async function load(u, c, n) { globalThis.__seen?.push(u); return n(u, c); }
     export async function initialize({ port }) { globalThis.__seen = { push: (u) => port.postMessage(u) }; }`,
  )}`;
  const script = `
    import { register, createRequire } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const seen = [];
    port1.on('message', (u) => seen.push(u));
    port1.unref();
    register(${JSON.stringify(hook)}, { data: { port: port2 }, transferList: [port2] });
    const mods = [];
    for (const m of ${JSON.stringify(imports)}) mods.push(await import(m));
    await (async () => ${then})();
    await new Promise((r) => setTimeout(r, 50)); // the hook's last messages
    const cache = Object.keys(createRequire(import.meta.url).cache);
    process.stdout.write(JSON.stringify([...seen, ...cache]));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out) as string[];
}

test('the daemon entry point loads neither IPVS (generic netlink) nor the checkers', () => {
  const mods = loaded([url('daemon/index.js')]);
  // the hook works: it saw the entry point and what it imports statically
  assert.ok(
    mods.some((m) => m.includes('/daemon/index.js')) && mods.some((m) => m.includes('/daemon/checker-child.js')),
    `the hook saw the daemon's own modules: ${mods.length}`,
  );
  // each side loads when the configuration has it (index.ts: LazyVrrp, loadLvs): at import, neither
  const lvs = mods.filter((m) => /\/lvs\/ipvs-netlink\.js|\/netlink\/dist\/genl\/|\/check\/(index|http|tcp|smtp|ping)\.js/.test(m));
  assert.deepEqual(lvs, []);
});

test('an LVS runner and the checker side still load them on first use', () => {
  // CheckerSide.start with a virtual server: the checkers module is imported then
  const mods = loaded(
    [url('daemon/checkers.js'), url('config/index.js')],
    `(async () => {
       const { CheckerSide } = mods[0];
       const cfg = mods[1].parseConfigText('virtual_server 127.0.0.1 80 {\\n lb_kind NAT\\n protocol TCP\\n real_server 127.0.0.1 9 {\\n TCP_CHECK {\\n connect_timeout 1\\n }\\n }\\n}\\n', 'x.conf').config;
       const side = new CheckerSide({ info() {}, warn() {}, error() {}, debug() {} }, { setAlive() {}, setWeight() {} }, 1000, () => new Set());
       await side.start(cfg);
       const running = side.snapshot().length;
       await side.stop();
       if (running !== 1) throw new Error('checkers not started: ' + running);
     })()`,
  );
  assert.ok(
    mods.some((m) => m.includes('/check/index.js')),
    'the checker modules are loaded once a virtual server needs them',
  );
  const lvs = loaded([url('lvs/index.js')], `mods[0].LvsRunner && import(${JSON.stringify(url('lvs/ipvs-netlink.js'))})`);
  assert.ok(
    lvs.some((m) => m.includes('/netlink/dist/genl/')),
    'IPVS (generic netlink) is what the LVS runner opens',
  );
});
