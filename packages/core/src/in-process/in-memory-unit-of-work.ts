import type { PlatformRepositories, Repositories } from '../ports/repository.port.js';
import type { UnitOfWork } from '../ports/unit-of-work.port.js';
import { InMemoryDatabase, type InMemoryTransaction } from './in-memory-database.js';
import { createInMemoryRepositories, InMemoryPlatformRepositories } from './in-memory-repositories.js';

/** Transactions over an `InMemoryDatabase`: buffered writes, atomic commit, rollback on throw. */
export class InMemoryUnitOfWork implements UnitOfWork {
  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase()) {}

  run<T>(tenantId: string, work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.transaction((tx) => work(createInMemoryRepositories(tx, tenantId)));
  }

  platform<T>(work: (platform: PlatformRepositories) => Promise<T>): Promise<T> {
    return this.transaction((tx) => work(new InMemoryPlatformRepositories(tx)));
  }

  private async transaction<T>(work: (tx: InMemoryTransaction) => Promise<T>): Promise<T> {
    const tx = this.db.begin();
    try {
      const result = await work(tx);
      tx.commit();
      return result;
    } catch (error) {
      tx.rollback();
      throw error;
    }
  }
}
