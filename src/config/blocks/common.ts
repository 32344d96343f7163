// What every block family shares: the keyword -> handler table type and its walker, list
// blocks, the name of a named top-level block, and the tracked-object list the model keeps.
import type { TrackedObject } from '../model.js';
import type { ConfigNode } from '../tree.js';
import { type Ctx, pushAll } from '../values.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };
export type Handler<T> = (n: ConfigNode, t: T, c: Ctx) => void;
export type Table<T> = Record<string, Handler<T>>;

/** the keys of T that take a number */
type NumberKey<T> = { [K in keyof T]-?: number extends T[K] ? K : never }[keyof T];
/** `keyword N`, an integer in [min, max], into t[key]; Ctx reports an invalid value */
export const intField =
  <T>(key: NumberKey<T>, min: number, max: number): Handler<T> =>
  (n, t, c) => {
    const v = c.int(n, 0, min, max);
    if (v !== undefined) (t as Record<NumberKey<T>, number>)[key] = v;
  };
/** `keyword SECS` (decimals allowed), in [min, max] s, into t[key] in ms */
export const timerMsField =
  <T>(key: NumberKey<T>, min: number, maxS: number): Handler<T> =>
  (n, t, c) => {
    const v = c.timerMs(n, 0, min, maxS);
    if (v !== undefined) (t as Record<NumberKey<T>, number>)[key] = v;
  };

/** Run a block's children through a table. */
export function walk<T>(nodes: readonly ConfigNode[] | undefined, table: Table<T>, target: T, c: Ctx): void {
  for (const n of nodes ?? []) {
    const h = Object.prototype.hasOwnProperty.call(table, n.keyword) ? table[n.keyword] : undefined;
    if (!h) {
      c.report(n, `Unknown keyword '${n.keyword}'`, 'unknown-keyword', 'warning');
      continue;
    }
    try {
      h(n, target, c);
    } catch (e) {
      // a handler bug must never take the parser down
      c.report(n, `internal error handling '${n.keyword}': ${e instanceof Error ? e.message : String(e)}`, 'fatal');
    }
  }
}

/** Words of a block used as a list ("group { A B }" or one per line). */
export function listWords(n: ConfigNode, c: Ctx): string[] {
  if (!n.children) {
    c.report(n, `${n.keyword} requires a '{' block`, 'syntax');
    return [];
  }
  const out: string[] = [];
  for (const ch of n.children) {
    out.push(ch.keyword);
    pushAll(out, ch.args);
    if (ch.children) c.report(ch, `Unexpected '{' in ${n.keyword}`, 'syntax');
  }
  return out;
}

export function needBlock(n: ConfigNode, c: Ctx): readonly ConfigNode[] {
  if (!n.children) {
    c.report(n, `${n.keyword} requires a '{' block`, 'syntax');
    return [];
  }
  return n.children;
}

// ---------------------------------------------------------------- named top-level blocks

// Measured (2.2.7 -t): vrrp_instance and vrrp_sync_group check their own name (an ordinary error,
// exit 5); the other named blocks read the missing word and abort the parse (exit 2).
const OWN_NAME_CHECK: Readonly<Record<string, string>> = {
  vrrp_instance: 'vrrp_instance must have a name',
  vrrp_sync_group: 'vrrp_sync_group must have a name - skipping',
};
export function nameOf(n: ConfigNode, c: Ctx): string | undefined {
  const s = n.args[0];
  if (s !== undefined) return s;
  const own = OWN_NAME_CHECK[n.keyword];
  if (own !== undefined) c.report(n, own, 'semantic');
  else c.need(n, 0);
  return undefined;
}

export function needChildren(n: ConfigNode, c: Ctx): boolean {
  if (!n.children) {
    c.report(n, `${n.keyword} requires a '{' block`, 'syntax');
    return false;
  }
  return true;
}

/** a tracked-object list without its configuration nodes (the model keeps name, weight, reverse) */
export function strip(l: readonly (TrackedObject & { node?: ConfigNode })[]): TrackedObject[] {
  return l.map((t) => {
    const o: { name: string; weight?: number; reverse?: boolean } = { name: t.name };
    if (t.weight !== undefined) o.weight = t.weight;
    if (t.reverse !== undefined) o.reverse = t.reverse;
    return o;
  });
}
