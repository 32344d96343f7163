// The CLI's view of the config parser (src/config/index.ts, written on the `config` branch).
// The parser is loaded at run time through this one seam so that the CLI builds and is testable
// before (and independently of) the parser; tests inject their own ConfigApi.
import type { Diagnostic } from '../config/diagnostics.js';

export interface ParseOptions {
  configId?: string;
  interfaceExists?: (ifname: string) => boolean;
  readFile?: (path: string) => string;
  glob?: (pattern: string) => string[];
}
export interface ParseResult {
  /** the typed model (KeepalivedConfig); opaque to the CLI, printed by --dump-conf */
  config: unknown;
  diagnostics: Diagnostic[];
  files: string[];
}
export interface ConfigApi {
  parseConfigFile(path: string, opts?: ParseOptions): ParseResult;
  parseConfigText?(text: string, fileName: string, opts?: ParseOptions): ParseResult;
}

export class ConfigApiUnavailable extends Error {
  override readonly name = 'ConfigApiUnavailable';
}

/** Import src/config/index.js; a clear typed error if it is missing or lacks parseConfigFile. */
export async function loadConfigApi(): Promise<ConfigApi> {
  // A computed specifier keeps tsc from requiring the module at build time.
  const spec = ['..', 'config', 'index.js'].join('/');
  let mod: Partial<ConfigApi>;
  try {
    mod = (await import(spec)) as Partial<ConfigApi>;
  } catch (err) {
    throw new ConfigApiUnavailable(`the configuration parser (src/config/index.ts) is not available: ${(err as Error).message}`);
  }
  if (typeof mod.parseConfigFile !== 'function') {
    throw new ConfigApiUnavailable('src/config/index.js does not export parseConfigFile');
  }
  return mod as ConfigApi;
}
