import { type EntityManager, FlushMode, type MikroORM } from '@mikro-orm/core';
import type { Logger, Repositories, UnitOfWork } from '@shipyard/core';
import { isConnectionError, translateError } from './driver-errors.js';
import { createMikroOrmRepositories } from './mikro-orm.repositories.js';
import { UnitContext } from './unit-context.js';

export interface UnitOfWorkOptions {
  /**
   * Open the transaction at the unit's first write instead of at its start. For PGlite: its one
   * session serves every unit in turn, so a unit holds it only from its first write to its commit.
   */
  lazyTransactions?: boolean;
  logger?: Logger;
}

/**
 * One database transaction per `run`, on a fork of the EntityManager. `work` gets repositories
 * bound to that fork; when it resolves the fork is flushed and the transaction committed, when
 * it throws the transaction is rolled back and the error rethrown (the same object, unless it came
 * from the database: then it becomes the core's `ConflictError`, `NotFoundError`, ...).
 */
export class MikroOrmUnitOfWork implements UnitOfWork {
  constructor(
    private readonly orm: MikroORM,
    private readonly options: UnitOfWorkOptions = {},
  ) {}

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const em = await this.open();
    let result: T;
    try {
      result = await work(createMikroOrmRepositories(new UnitContext(em)));
      if (em.isInTransaction()) await em.commit();
    } catch (error) {
      await this.rollback(em);
      throw translateError(error);
    }
    return result;
  }

  /** A fresh fork, in its transaction unless lazy; a pooled connection the server dropped is replaced once. */
  private async open(): Promise<EntityManager> {
    for (let attempt = 1; ; attempt += 1) {
      // ALWAYS: pending changes are written (not committed) before each query, so reads see them.
      const em = this.orm.em.fork({ clear: true, flushMode: FlushMode.ALWAYS });
      if (this.options.lazyTransactions === true) return em;
      try {
        await em.begin();
        return em;
      } catch (error) {
        if (attempt >= 2 || !isConnectionError(error)) throw translateError(error);
      }
    }
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
