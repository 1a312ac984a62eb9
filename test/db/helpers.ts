import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, type Database, type DatabaseOptions } from '@shipyard/adapters-db';
import { createScratchPostgres, type ScratchPostgres } from '@shipyard/adapters-db/testing';

export interface PostgresSubject {
  scratch: ScratchPostgres;
  database: Database;
  close(): Promise<void>;
}

/** A migrated database of its own on the test server; `close` drops it. */
export async function openPostgres(options: Omit<DatabaseOptions, 'url'> = {}): Promise<PostgresSubject> {
  const scratch = await createScratchPostgres({ prefix: 'shipyard_db_test' });
  try {
    const database = await createDatabase({ ...options, url: scratch.url });
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

/** A temporary directory, removed by `remove`. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'shipyard-pglite-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
