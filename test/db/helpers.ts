import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseOptions } from '@shipyard/adapters-db';
import { openScratchDatabase, type ScratchDatabase } from '@shipyard/adapters-db/testing';

export type PostgresSubject = ScratchDatabase;

/** A migrated database of its own on the test server; `close` drops it. */
export const openPostgres = (options: Omit<DatabaseOptions, 'url' | 'dataDir'> = {}): Promise<PostgresSubject> =>
  openScratchDatabase({ ...options, scratch: { prefix: 'shipyard_db_test' } });

/** A temporary directory, removed by `remove`. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'shipyard-pglite-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
