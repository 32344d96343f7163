// The CLI's view of the config parser (src/config/index.ts, owned by the config area).
// One seam: the CLI only needs parseConfigFile; tests inject their own ConfigApi.
import type { Diagnostic } from '../config/diagnostics.js';
import * as configModule from '../config/index.js';

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

// Compile-time check that the parser's real API still fits what the CLI calls.
const realApi: ConfigApi = configModule;

/** The parser (async so that a lazily loaded or injected parser fits the same seam). */
export async function loadConfigApi(): Promise<ConfigApi> {
  if (typeof realApi.parseConfigFile !== 'function') {
    throw new ConfigApiUnavailable('src/config/index.js does not export parseConfigFile');
  }
  return realApi;
}
