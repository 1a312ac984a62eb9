import { type EntityManager, FlushMode, type MikroORM } from '@mikro-orm/core';
import {
  type Logger,
  type PlatformRepositories,
  type Repositories,
  ServiceUnavailableError,
  type UnitOfWork,
} from '@shipyard/core';
import { isAcquireTimeout, isConnectionError, translateError } from './driver-errors.js';
import type { FastReads } from './fast-reads.js';
import { createMikroOrmRepositories, MikroOrmPlatformRepositories } from './mikro-orm.repositories.js';
import { withTenant } from './tenant-session.js';
import { UnitContext } from './unit-context.js';

export interface UnitOfWorkOptions {
  /**
   * How many pooled connections a unit may find dead before it gives up: after a server restart
   * every idle connection of the pool is gone, so this should exceed the pool size. Default 11.
   */
  connectAttempts?: number;
  logger?: Logger;
  /** Reads of units that have not written yet as prepared statements (PostgreSQL). */
  fastReads?: FastReads;
}

/**
 * A lost connection, as the driver reports it or as a repository already translated it. A pool
 * that had no free connection in time is not one: running the unit again would only wait again.
 */
const lostConnection = (error: unknown): boolean => {
  const cause = error instanceof ServiceUnavailableError ? error.cause : error;
  return isConnectionError(cause) && !isAcquireTimeout(cause);
};

/**
 * One database transaction per `run` or `platform`, on a fork of the EntityManager. `work` gets
 * repositories bound to that fork (for `run`, also to its tenant); when it resolves the fork is
 * flushed and the transaction committed, when it throws the transaction is rolled back and the
 * error rethrown (the same object, unless it came from the database: then it becomes the core's
 * `ConflictError`, `NotFoundError`, ...).
 *
 * The transaction begins at the unit's first write (or row lock), not at its start: a unit that
 * only reads sends no BEGIN and no COMMIT, and its independent reads may use two pooled
 * connections at once. Under READ COMMITTED a read before the first write sees what a read in the
 * transaction would (each statement takes its own snapshot); what a unit decides from such reads
 * is checked when it writes (version columns, unique keys, `FOR UPDATE`). On PGlite, whose one
 * session serves every unit in turn, a unit holds the session only from its first write to its commit.
 */
export class MikroOrmUnitOfWork implements UnitOfWork {
  constructor(
    private readonly orm: MikroORM,
    private readonly options: UnitOfWorkOptions = {},
  ) {}

  run<T>(tenantId: string, work: (repos: Repositories) => Promise<T>): Promise<T> {
    // The unit's connections carry its tenant, for the row-level security policies.
    return withTenant(tenantId, () => this.unit((unit) => work(createMikroOrmRepositories(unit, tenantId))));
  }

  platform<T>(work: (platform: PlatformRepositories) => Promise<T>): Promise<T> {
    // No tenant: tenant rows are reached through the platform functions, or `inTenant`.
    return withTenant('', () => this.unit((unit) => work(new MikroOrmPlatformRepositories(unit))));
  }

  /**
   * A unit whose connection turns out dead before its commit is sent (a pooled connection the
   * server dropped, found only at its first statement) runs again on a fresh one: the server
   * rolled the transaction back, so nothing of the first run remains. A failure during the
   * commit itself is never retried, since the commit may have happened.
   */
  private async unit<T>(work: (unit: UnitContext) => Promise<T>): Promise<T> {
    const attempts = this.options.connectAttempts ?? 11;
    for (let attempt = 1; ; attempt += 1) {
      const em = this.open();
      let committing = false;
      try {
        const result = await work(new UnitContext(em, this.options.fastReads));
        committing = true;
        if (em.isInTransaction()) await em.commit();
        return result;
      } catch (error) {
        await this.rollback(em);
        if (committing || attempt >= attempts || !lostConnection(error)) throw translateError(error);
        this.options.logger?.warn({ err: error, attempt }, 'database connection lost; running the unit again');
      }
    }
  }

  /** A fresh fork; its transaction begins at the first write (`UnitContext.beforeWrite`). */
  private open(): EntityManager {
    // ALWAYS: pending changes are written (not committed) before each query, so reads see them.
    return this.orm.em.fork({ clear: true, flushMode: FlushMode.ALWAYS });
  }

  private async rollback(em: EntityManager): Promise<void> {
    if (!em.isInTransaction()) return;
    try {
      await em.rollback();
    } catch (error) {
      // The server ends a transaction whose connection is gone; the caller gets the original error.
      this.options.logger?.warn({ err: error }, 'rollback failed');
    }
  }
}
