/**
 * What an audit summary may hold. Summaries are built from names (of changed fields, of env
 * vars) and small enumerations (roles, statuses); `redactSummary` is the backstop that keeps a
 * value of a secret out even when a caller hands one over by mistake.
 */

import { snakeCase } from './snake-case.js';

/** Keys whose values never enter a summary, whatever they hold. */
const SECRET_KEY =
  /pass(word|phrase)?|secret|token|hash|credential|cookie|authorization|api[-_]?key|private|env|vars|value/i;
/** Keys that hold names only (their items are kept: env var names, field names). */
const NAME_LISTS = new Set(['changed', 'names', 'added', 'removed', 'env_names']);
const MAX_STRING = 200;
const MAX_ITEMS = 200;
const MAX_DEPTH = 3;
export const REDACTED = '[redacted]';

function clean(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => clean(item, depth + 1));
  if (typeof value === 'object') return redactObject(value as Record<string, unknown>, depth + 1);
  return null;
}

function redactObject(input: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (NAME_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value
        .filter((item): item is string => typeof item === 'string')
        .slice(0, MAX_ITEMS)
        .map((item) => item.slice(0, MAX_STRING));
    } else if (SECRET_KEY.test(key)) {
      out[key] = REDACTED;
    } else {
      out[key] = clean(value, depth);
    }
  }
  return out;
}

/**
 * A JSON-safe copy of `summary` for the audit trail: the value under any key that names a secret
 * (password, token, hash, secret, credentials, env, value, …) becomes `[redacted]`; the name
 * lists (`changed`, `names`, `added`, `removed`) keep only strings; strings are cut at 200
 * characters, nesting at three levels.
 */
export function redactSummary(summary: Record<string, unknown>): Record<string, unknown> {
  return redactObject(summary, 0);
}

const same = (a: unknown, b: unknown): boolean =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : JSON.stringify(a) === JSON.stringify(b);

/**
 * The names (snake_case, as on the wire) of the `fields` whose value differs between two
 * snapshots of a row: what a summary says about an update, without the values.
 */
export function changedFields<K extends string>(
  before: Readonly<Record<K, unknown>>,
  after: Readonly<Record<K, unknown>>,
  fields: readonly K[],
): string[] {
  return fields.filter((field) => !same(before[field], after[field])).map(snakeCase);
}

/** A shallow snapshot of a row's fields, to compare after a change (`changedFields`). */
export function snapshot<T extends object>(row: T): T {
  return { ...row };
}

/** Env var names only: the new set, and which names were added and removed. */
export function envChangeSummary(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { names: string[]; added: string[]; removed: string[] } {
  const old = new Set(Object.keys(before));
  const now = new Set(Object.keys(after));
  return {
    names: [...now].sort(),
    added: [...now].filter((name) => !old.has(name)).sort(),
    removed: [...old].filter((name) => !now.has(name)).sort(),
  };
}
