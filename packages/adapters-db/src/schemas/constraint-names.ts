import { type EntityName, snakeCase } from '@shipyard/core';
import { TABLES } from './table-names.js';

/** The name of the database constraint (or unique index) behind a unique key of MODEL. */
export const uniqueConstraintName = (entity: EntityName, unique: string): string =>
  `${TABLES[entity]}_${unique}_unique`;

/** The name of the foreign-key constraint behind a foreign key of MODEL. */
export const foreignKeyConstraintName = (entity: EntityName, field: string): string =>
  `${TABLES[entity]}_${snakeCase(field)}_foreign`;
