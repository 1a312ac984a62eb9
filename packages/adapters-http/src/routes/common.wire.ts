import type { Page } from '@shipyard/core';
import { z } from '../openapi/zod.js';

/**
 * The wire format: snake_case, flat, explicit allow-lists of fields (a field not listed here
 * never leaves the server: no password hash, no env values, no version counters). Each resource's
 * schema and mapper live beside its routes (`project.wire.ts` by `project.routes.ts`); these are
 * the pieces they share.
 */

export const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());
export const uuid = () => z.string().uuid();
export const timestamp = () => z.string().datetime();
export const base = { id: uuid(), created_at: timestamp(), updated_at: timestamp() };
// Each mapper is one object literal, the base fields written out: spreading a shared helper's
// object made a page of 20 rows about four times slower to map (measured, ~110 µs against ~30).

export const ErrorWire = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().nullable(),
      request_id: z.string(),
    }),
  })
  .openapi('Error');

/** The list envelope of every collection route. */
export const pageWire = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), skip: z.number().int(), limit: z.number().int() });
export const pageToWire = <T, W>(page: Page<T>, toWire: (item: T) => W) => ({
  items: page.items.map(toWire),
  total: page.total,
  skip: page.skip,
  limit: page.limit,
});
