import { createDatabase, type Database, type DatabaseOptions } from '../database.js';
import { createScratchPostgres, type ScratchPostgres, type ScratchPostgresOptions } from './scratch-postgres.js';

export interface ScratchDatabase {
  scratch: ScratchPostgres;
  database: Database;
  /** Closes the database and drops it from the server. */
  close(): Promise<void>;
}

/** A migrated database of its own on the test server, opened with `options`; `close` drops it. */
export async function openScratchDatabase(
  options: Omit<DatabaseOptions, 'url' | 'dataDir'> & { scratch?: ScratchPostgresOptions } = {},
): Promise<ScratchDatabase> {
  const { scratch: scratchOptions, ...databaseOptions } = options;
  const scratch = await createScratchPostgres(scratchOptions);
  try {
    const database = await createDatabase({ ...databaseOptions, url: scratch.url });
    await database.migrate();
    return {
      scratch,
      database,
      async close() {
        try {
          await database.close();
        } finally {
          await scratch.drop();
        }
      },
    };
  } catch (error) {
    await scratch.drop();
    throw error;
  }
}
