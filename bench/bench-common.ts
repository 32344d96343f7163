// What several benchmarks share: their option readers and the 1,000-instance configuration
// (scale1000 runs it in a lab; parse1000 and reload1000 time its parse and reload in-process).
// No side effect on import (a bench module imported by another would run its bench).
import { configText, instanceBlock } from '../test/helpers/interop-lab.js';

const argv = process.argv.slice(2);
/** `--name N` as a number, else `dflt`. */
export const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 && Number.isFinite(Number(argv[i + 1])) ? Number(argv[i + 1]) : dflt;
};
/** `--name TEXT`, else `dflt`. */
export const str = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
};

/** Interface k of the scale lab: its name, VRRP version and the VIP of VRID v (prefix apart). */
export const SCALE_IFS = [
  { name: 'vnet0', version: 2 as const, vip: (v: number) => `198.51.100.${v}`, plen: 24 },
  { name: 'vnet1', version: 2 as const, vip: (v: number) => `203.0.113.${v}`, plen: 24 },
  { name: 'vnet2', version: 3 as const, vip: (v: number) => `2001:db8:2::${v}`, plen: 64 },
  { name: 'vnet3', version: 3 as const, vip: (v: number) => `2001:db8:3::${v}`, plen: 64 },
];

/** VRIDs 1..perIf on each of the first `ifaces` interfaces, one VIP each, at priority `prio`. */
export function scaleConfig(prio: number, name: string, perIf = 250, ifaces = 4): string {
  const blocks: string[] = [];
  for (const [k, f] of SCALE_IFS.slice(0, ifaces).entries()) {
    for (let v = 1; v <= perIf; v++) {
      blocks.push(
        instanceBlock({
          name: `VI_${k}_${v}`,
          vrid: v,
          version: f.version,
          priority: prio,
          advertInt: 1,
          iface: f.name,
          vips: [`${f.vip(v)}/${f.plen}`],
        }),
      );
    }
  }
  return configText(`scale1000_${name}`, blocks);
}
