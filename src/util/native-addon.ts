// Finding and loading one of the repo's N-API addons (native/, built by `npm install`). Each
// addon's module decides what a missing or broken one means: GARP and the reaper refuse to run
// without theirs, the checkers' connect and the VRRP receive fall back to Node's own sockets.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AddonLoad<T> =
  | { readonly addon: T }
  /** not built (or `envVar` is "none"): the places looked at */
  | { readonly missing: readonly string[] }
  /** a file that exists but does not load (built for another Node, say) */
  | { readonly broken: string; readonly error: Error };

/**
 * `name` (e.g. "kts_packet") from native/build/Release, seen from dist/src/<dir> or src/<dir>;
 * the environment variable `envVar`, when set, is the only place looked at (packaging override),
 * and "none" means: behave as if it were not built (tests of the fallbacks).
 */
export function loadNativeAddon<T>(name: string, envVar: string): AddonLoad<T> {
  const env = process.env[envVar];
  if (env === 'none') return { missing: [] };
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = env
    ? [resolve(env)]
    : [resolve(here, `../../../native/build/Release/${name}.node`), resolve(here, `../../native/build/Release/${name}.node`)];
  const req = createRequire(import.meta.url);
  for (const p of candidates) {
    if (!existsSync(p)) continue;
    try {
      return { addon: req(p) as T };
    } catch (err) {
      return { broken: p, error: err as Error };
    }
  }
  return { missing: candidates };
}
