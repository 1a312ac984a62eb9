import {
  DeadlockException,
  DriverException,
  ForeignKeyConstraintViolationException,
  LockWaitTimeoutException,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import {
  ConflictError,
  ENTITY_LABELS,
  type EntityName,
  InternalServerError,
  isAppError,
  MODEL,
  NotFoundError,
  ServiceUnavailableError,
  TENANT_ISOLATION,
} from '@shipyard/core';
import { foreignKeyConstraintName, uniqueConstraintName } from './schemas/constraint-names.js';
import { ENTITY_CLASSES } from './schemas/define-schema.js';
import { TABLES } from './schemas/table-names.js';
import { APPLICATION_ROLE_REFUSED } from './tenant-session.js';

const entities = Object.keys(MODEL) as EntityName[];

const UNIQUES = new Map<string, { entity: EntityName; field: string }>();
const FOREIGN_KEYS = new Map<string, { references: EntityName; field: string }>();
for (const entity of entities) {
  UNIQUES.set(`${TABLES[entity]}_pkey`, { entity, field: 'id' });
  for (const unique of MODEL[entity].uniques) {
    UNIQUES.set(uniqueConstraintName(entity, unique.name), { entity, field: unique.name });
  }
  for (const fk of MODEL[entity].foreignKeys) {
    FOREIGN_KEYS.set(foreignKeyConstraintName(entity, fk.field), { references: fk.references, field: fk.field });
  }
}

/**
 * Each table's parent as row-level security checks it (the first hop of TENANT_ISOLATION, or the
 * tenant): a row refused by its policy names a parent outside the unit's tenant, or gone.
 */
const POLICY_PARENTS = new Map<string, { references: EntityName; field: string } | null>();
for (const entity of entities) {
  const rule = TENANT_ISOLATION[entity];
  const hop = rule.path[0];
  POLICY_PARENTS.set(
    TABLES[entity],
    hop !== undefined
      ? { references: hop.entity, field: hop.field }
      : rule.tenantField === 'id'
        ? null
        : { references: 'tenant', field: rule.tenantField },
  );
}
const RLS_REFUSAL = /row-level security policy for table "([^"]+)"/;

const entityOf = (value: unknown): EntityName | undefined =>
  entities.find((name) => value instanceof ENTITY_CLASSES[name]);

// SQLSTATE classes and client codes that mean the connection, not the statement, failed.
const CONNECTION_STATES = /^(08|57P0[1-3]|53300)/;
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether the pool had no connection to give within its acquire timeout (every connection busy,
 * or none can be opened): as knex throws it, or as MikroORM wraps it.
 */
export function isAcquireTimeout(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return name === 'KnexTimeoutError' || (typeof message === 'string' && /Timeout acquiring a connection/.test(message));
}

/** Whether an error says the database could not be reached (as opposed to refusing a statement). */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_STATES.test(code) || CONNECTION_CODES.has(code))) return true;
  if (isAcquireTimeout(error)) return true;
  // knex reports a transaction whose connection died under it as already complete.
  return (
    typeof message === 'string' &&
    /Connection terminated|Connection ended|connection is closed|not queryable|Transaction query already complete/i.test(
      message,
    )
  );
}

/**
 * Turns what the ORM or the driver threw into the core's errors, so nothing of the driver (SQL,
 * constraint names, values) reaches a message. Errors that are not from the database pass through
 * unchanged (the same object), as do the core's own errors.
 */
export function translateError(error: unknown): unknown {
  if (isAppError(error)) return error;
  if (error instanceof OptimisticLockError) {
    const entity = entityOf(error.entity);
    const label = entity === undefined ? 'The row' : ENTITY_LABELS[entity];
    return ConflictError.stale(label);
  }
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  if (error instanceof UniqueConstraintViolationException) {
    const unique = typeof constraint === 'string' ? UNIQUES.get(constraint) : undefined;
    if (unique === undefined) return new ConflictError('A row with these values already exists', null);
    return new ConflictError(`${ENTITY_LABELS[unique.entity]} with this ${unique.field} already exists`, {
      field: unique.field,
    });
  }
  if (error instanceof ForeignKeyConstraintViolationException) {
    const fk = typeof constraint === 'string' ? FOREIGN_KEYS.get(constraint) : undefined;
    if (fk === undefined) return new NotFoundError('Referenced row');
    return new NotFoundError(ENTITY_LABELS[fk.references], { field: fk.field });
  }
  if ((error as { code?: unknown } | null)?.code === APPLICATION_ROLE_REFUSED) {
    // A misconfigured server (its user may not take the application role): logged with the cause.
    return new ServiceUnavailableError('The database is unavailable', { cause: error });
  }
  const refused = rowSecurityRefusal(error);
  if (refused !== undefined) return refused;
  if (error instanceof DeadlockException || error instanceof LockWaitTimeoutException) {
    return new ConflictError('The change collided with another one; try again', { reason: 'concurrent_update' });
  }
  if (isConnectionError(error)) {
    return new ServiceUnavailableError('The database is unavailable', { cause: error });
  }
  if (error instanceof DriverException) return new InternalServerError('Database error', { cause: error });
  return error;
}

/**
 * A row the tenant policy refused to write (SQLSTATE 42501): its parent is not in the unit's
 * tenant, or no longer exists (the repositories check parents first; this is the second wall).
 */
function rowSecurityRefusal(error: unknown): NotFoundError | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== '42501' || typeof message !== 'string') return undefined;
  const table = RLS_REFUSAL.exec(message)?.[1];
  if (table === undefined) return undefined;
  const parent = POLICY_PARENTS.get(table);
  if (parent === undefined) return new NotFoundError('Referenced row');
  if (parent === null) return new NotFoundError('Tenant');
  return new NotFoundError(ENTITY_LABELS[parent.references], { field: parent.field });
}
