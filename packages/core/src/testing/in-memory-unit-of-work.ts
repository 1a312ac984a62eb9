import type { Repositories } from '../ports/repository.port.js';
import type { UnitOfWork } from '../ports/unit-of-work.port.js';
import { InMemoryDatabase } from './in-memory-database.js';
import { createInMemoryRepositories } from './in-memory-repositories.js';

/** Transactions over an `InMemoryDatabase`: buffered writes, atomic commit, rollback on throw. */
export class InMemoryUnitOfWork implements UnitOfWork {
  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase()) {}

  async run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const tx = this.db.begin();
    try {
      const result = await work(createInMemoryRepositories(tx));
      tx.commit();
      return result;
    } catch (error) {
      tx.rollback();
      throw error;
    }
  }
}
