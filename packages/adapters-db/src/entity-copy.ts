import type { EntityName, EntityTypes } from '@shipyard/core';
// Defining the schemas fills MAPPED_FIELDS.
import './schemas/index.js';
import { ENTITY_CLASSES, MAPPED_FIELDS } from './schemas/define-schema.js';

const copyValue = (value: unknown): unknown =>
  value instanceof Date
    ? new Date(value.getTime())
    : value !== null && typeof value === 'object'
      ? structuredClone(value)
      : value;

/** The persisted fields of an entity. */
export function mappedFields(entity: EntityName): readonly string[] {
  const fields = MAPPED_FIELDS.get(entity);
  if (fields === undefined) throw new Error(`No mapping for ${entity}`);
  return fields;
}

/**
 * A fresh instance of the core's class with the persisted fields of `source` (dates, arrays and
 * maps copied). Callers get copies, never the ORM's managed instances: like the in-memory
 * adapter, a change reaches the database only through `add` or `update`.
 */
export function copyEntity<N extends EntityName>(entity: N, source: EntityTypes[N]): EntityTypes[N] {
  const copy = new ENTITY_CLASSES[entity]() as unknown as Record<string, unknown>;
  const from = source as unknown as Record<string, unknown>;
  for (const field of mappedFields(entity)) copy[field] = copyValue(from[field]);
  return copy as unknown as EntityTypes[N];
}

/** Writes the persisted fields of `source` (all but id and version) onto `target`. */
export function assignFields<N extends EntityName>(entity: N, target: EntityTypes[N], source: EntityTypes[N]): void {
  const to = target as unknown as Record<string, unknown>;
  const from = source as unknown as Record<string, unknown>;
  for (const field of mappedFields(entity)) {
    if (field === 'id' || field === 'version') continue;
    to[field] = copyValue(from[field]);
  }
}
