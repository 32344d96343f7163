// Runs the health checkers of a keepalived.conf inside a lab namespace, for the netns tests:
//   node check-runner.js CONF
// Prints one JSON line per event, t = ms since start:
//   {"ev":"alive","t":..,"rs":"[192.0.2.20]:tcp:8001","alive":false,"reason":".."}
//   {"ev":"weight","t":..,"rs":..,"weight":N}   {"ev":"log","t":..,"msg":".."}
//   {"ev":"fifo","t":..,"line":"RS .. UP"}
// A line "reload CONF" applies another file (CheckerControl.reload) and prints {"ev":"reloaded"}.
// A line "stop" on stdin stops the checkers and prints {"ev":"stopped","resources":[..]}
// (process.getActiveResourcesInfo() after stop: sockets or child processes left would show).
import { parseConfigFile } from '../../src/config/index.js';
import { startCheckers } from '../../src/check/index.js';
import { fmtRealServer } from '../../src/check/common.js';
import { createInterface } from 'node:readline';

// t = 0 when the checkers start (as keepalived's "Initializing ipvs"), set just before
let t0 = performance.now();
const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...o, t: Math.round(performance.now() - t0) })}\n`);
const { config, diagnostics } = parseConfigFile(process.argv[2]!);
for (const d of diagnostics) if (d.severity === 'error') out({ ev: 'log', msg: `config: ${d.message}` });
t0 = performance.now();
const ctl = startCheckers(
  config.virtualServers,
  {
    setAlive: (vs, rs, alive, reason) => out({ ev: 'alive', rs: fmtRealServer(vs, rs), alive, reason }),
    setWeight: (vs, rs, weight) => out({ ev: 'weight', rs: fmtRealServer(vs, rs), weight }),
  },
  {
    log: {
      info: (msg) => out({ ev: 'log', msg }),
      warn: (msg) => out({ ev: 'log', msg: `WARN ${msg}` }),
      error: (msg) => out({ ev: 'log', msg: `ERROR ${msg}` }),
    },
    fifo: {
      realServer: (rs, vs, up) => {
        out({ ev: 'fifo', line: `RS ${rs} ${vs} ${up ? 'UP' : 'DOWN'}` });
        return true;
      },
    },
    trackFiles: config.trackFiles,
    ssl: config.ssl,
    logAllFailures: true,
  },
);
const rl = createInterface({ input: process.stdin });
rl.on('line', async (l) => {
  const reload = /^reload (.+)$/.exec(l.trim());
  if (reload) {
    // a reload as the daemon does it: the new file's virtual servers, state kept where identical
    ctl.reload(parseConfigFile(reload[1]!).config.virtualServers);
    out({ ev: 'reloaded' });
    return;
  }
  if (l.trim() !== 'stop') return;
  await ctl.stop();
  rl.close();
  // let closed handles finish closing before counting them
  await new Promise((r) => setTimeout(r, 200));
  out({ ev: 'stopped', resources: process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'TTYWrap') });
  process.exit(0);
});
setTimeout(() => process.exit(3), 240_000).unref();
