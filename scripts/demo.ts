// `npm run demo` (root): a live failover demo in network namespaces.
// Three nodes run keepalived-ts with conf/demo/keepalived.conf (priorities 150/100/50 chosen by
// -i), each serves "this is nX" over HTTP, a client keeps requesting the VIP. We kill the Master
// (SIGKILL), watch the VIP move and who answers, restart it, watch it preempt back, print a
// timeline with the measured failover, and clean everything up.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Lab, isRoot, waitFor } from '../test/helpers/netns.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/scripts
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'src', 'cli.js');
const conf = join(root, 'conf', 'demo', 'keepalived.conf');
const VIP = '192.0.2.100';
const NODES = ['n1', 'n2', 'n3'] as const;

const t0 = Date.now();
const timeline: string[] = [];
function mark(msg: string): void {
  const line = `+${((Date.now() - t0) / 1000).toFixed(3).padStart(7)} s  ${msg}`;
  timeline.push(line);
  console.log(line);
}

interface Answer {
  t: number;
  ok: boolean;
  body: string;
}

async function main(): Promise<number> {
  if (!isRoot()) {
    console.error('npm run demo needs root (it creates network namespaces).');
    return 2;
  }
  const lab = Lab.create();
  const daemons = new Map<string, ChildProcess>();
  const onSignal = () => {
    void lab.cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    NODES.forEach((n, i) => lab.addHost({ name: n, addresses: [`192.0.2.${11 + i}/24`] }));
    lab.addHost({ name: 'client', addresses: ['192.0.2.50/24'] });
    mark(`lab ${lab.id}: nodes n1 (192.0.2.11, priority 150), n2 (.12, 100), n3 (.13, 50); client .50; VIP ${VIP}`);

    for (const n of NODES) lab.spawn(lab.host(n).ns, [process.execPath, join(here, 'demo-httpd.js'), n, '300']);

    const startDaemon = (n: string) => {
      const child = lab.spawn(lab.host(n).ns, [
        process.execPath,
        cli,
        '-f',
        conf,
        '-i',
        n,
        '-n',
        '-l',
        '-p',
        `/tmp/kts-demo-${lab.id}-${n}.pid`,
      ]);
      const rl = createInterface({ input: child.stderr! });
      rl.on('line', (l) => {
        if (/Entering|STATE|error/i.test(l)) console.log(`           [${n}] ${l}`);
      });
      child.stdout?.resume();
      daemons.set(n, child);
      return child;
    };
    const holder = () => NODES.find((n) => lab.addressesOf(n).includes(VIP));

    for (const n of NODES) startDaemon(n);
    mark('started keepalived-ts on n1, n2, n3');

    const client = lab.spawn(lab.host('client').ns, [process.execPath, join(here, 'demo-client.js'), `http://${VIP}/`, '120']);
    const answers: Answer[] = [];
    let lastBody = '';
    createInterface({ input: client.stdout! }).on('line', (l) => {
      try {
        const a = JSON.parse(l) as Answer;
        answers.push(a);
        const b = a.ok ? a.body : 'no answer';
        if (b !== lastBody) {
          mark(`client: ${b}`);
          lastBody = b;
        }
      } catch {
        /* ignore */
      }
    });

    if (!(await waitFor(() => holder() === 'n1', 15_000, 50))) throw new Error(`n1 did not become Master (holder: ${holder() ?? 'none'})`);
    mark('VIP on n1 (Master)');
    await new Promise((r) => setTimeout(r, 2000));

    const killedAt = Date.now();
    daemons.get('n1')!.kill('SIGKILL');
    mark('killed keepalived-ts on n1 with SIGKILL (no goodbye advert); its stale VIP is removed by hand, as a reboot would');
    lab.exec(lab.host('n1').ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'vnet0']);
    if (!(await waitFor(() => holder() === 'n2', 10_000, 20))) throw new Error(`VIP did not move to n2 (holder: ${holder() ?? 'none'})`);
    const movedAt = Date.now();
    mark(
      `VIP on n2 after ${movedAt - killedAt} ms (RFC Master_Down_Interval for priority 100, advert_int 1: 3 x 1 s + (256-100)/256 s = 3.609 s)`,
    );
    if (!(await waitFor(() => answers.some((a) => a.t > movedAt && a.ok && a.body.includes('n2')), 5000, 50)))
      throw new Error('client never got an answer from n2');
    await new Promise((r) => setTimeout(r, 1500));

    startDaemon('n1');
    mark('restarted keepalived-ts on n1 (priority 150 preempts)');
    const restartedAt = Date.now();
    if (!(await waitFor(() => holder() === 'n1', 15_000, 20))) throw new Error(`n1 did not preempt (holder: ${holder() ?? 'none'})`);
    mark(`VIP back on n1 after ${Date.now() - restartedAt} ms`);
    await new Promise((r) => setTimeout(r, 1500));

    // The client's view of the failover: the longest run of failed requests after the kill.
    let gapStart = 0,
      worst = 0;
    for (const a of answers.filter((x) => x.t >= killedAt)) {
      if (!a.ok) {
        if (!gapStart) gapStart = a.t;
      } else if (gapStart) {
        worst = Math.max(worst, a.t - gapStart);
        gapStart = 0;
      }
    }
    console.log('\nTimeline:');
    for (const l of timeline) console.log('  ' + l);
    console.log(
      `\nFailover: the VIP moved ${movedAt - killedAt} ms after the Master died; the client saw no answer for about ${worst} ms.`,
    );
    const stillTwo = NODES.filter((n) => lab.addressesOf(n).includes(VIP));
    console.log(`VIP holders at the end: ${stillTwo.join(', ')} (exactly one expected)`);
    client.kill('SIGKILL');
    return stillTwo.length === 1 ? 0 : 1;
  } finally {
    for (const c of daemons.values()) {
      try {
        c.kill('SIGTERM');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    await lab.cleanup();
    console.log('lab cleaned up');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
