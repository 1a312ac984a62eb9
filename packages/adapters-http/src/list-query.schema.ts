import { type EntityName, type ListQueryInput, MAX_LIMIT, QUERY_RULES, snakeCase } from '@shipyard/core';
import { z } from './openapi/zod.js';

const many = (description: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({ description: `${description}; repeat the parameter to match any of several values` });

/**
 * The query string of a collection route, built from the core's allow-lists: `skip`, `limit`,
 * `sort_by` (allow-listed columns), `sort_order`, `include` and one parameter per filterable
 * column (`?status=queued&status=running` is an IN). `scoped` columns are fixed by the path.
 */
export function listQuerySchema(entity: EntityName, scoped: readonly string[] = []) {
  const rules = QUERY_RULES[entity];
  const sortable = rules.sortable.map(snakeCase) as [string, ...string[]];
  const filters = Object.keys(rules.filterable).filter((column) => !scoped.includes(column));
  const shape: Record<string, z.ZodType> = {
    skip: z.coerce.number().int().min(0).optional().openapi({ description: 'Rows to skip', example: 0 }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_LIMIT)
      .optional()
      .openapi({ description: `Rows to return (1 to ${MAX_LIMIT}, default 100)`, example: 100 }),
    sort_by: z.enum(sortable).optional().openapi({ description: 'Column to sort by (default created_at)' }),
    sort_order: z.enum(['asc', 'desc']).optional().openapi({ description: 'Default desc' }),
  };
  if (rules.relations.length > 0) shape.include = many(`Relations to embed: ${rules.relations.join(', ')}`);
  for (const column of filters) shape[snakeCase(column)] = many(`Filter on ${snakeCase(column)}`);
  return z.strictObject(shape);
}

/** Maps a parsed wire query to the core's list input (snake_case → camelCase). */
export function toListQueryInput(entity: EntityName, query: Record<string, unknown>): ListQueryInput {
  const rules = QUERY_RULES[entity];
  const filters: Record<string, unknown> = {};
  for (const column of Object.keys(rules.filterable)) {
    const value = query[snakeCase(column)];
    if (value !== undefined) filters[column] = value;
  }
  const sortBy = query.sort_by as string | undefined;
  return {
    skip: query.skip,
    limit: query.limit,
    sortBy: sortBy === undefined ? undefined : rules.sortable.find((c) => snakeCase(c) === sortBy),
    sortOrder: query.sort_order,
    filters,
    include: query.include,
  };
}
