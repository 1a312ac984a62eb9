import { createDatabase } from '@shipyard/adapters-db';
import { repositoryContracts } from '../contracts/repository.contract.js';

// PGlite is a single PostgreSQL session: units of work take turns on it, so the unit-of-work
// suite checks the isolation that one session gives (see `unitOfWorkContract`).
repositoryContracts(
  'pglite',
  async () => {
    const database = await createDatabase({ pool: { acquireTimeoutMs: 10_000 } });
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
    return { uow: database.uow, close: () => database.close() };
  },
  { concurrency: 'serialized' },
);
