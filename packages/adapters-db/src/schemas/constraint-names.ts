import { type EntityName, MODEL } from '@shipyard/core';

export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The name of the database constraint (or unique index) behind a unique key of MODEL. */
export const uniqueConstraintName = (entity: EntityName, unique: string): string =>
  `${MODEL[entity].table}_${unique}_unique`;

/** The name of the foreign-key constraint behind a foreign key of MODEL. */
export const foreignKeyConstraintName = (entity: EntityName, field: string): string =>
  `${MODEL[entity].table}_${snakeCase(field)}_foreign`;
