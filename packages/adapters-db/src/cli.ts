#!/usr/bin/env node
/**
 * Database tasks for operators and developers:
 *   migrate                  apply pending migrations (as DATABASE_MIGRATION_URL's user, the tables'
 *                            owner; default DATABASE_URL, else PGlite under DATA_DIR)
 *   pending                  list pending migrations; exit code 1 when there are some
 *   migrate:create [name]    write a migration for the mappings' changes into src/migrations
 */
import { fileURLToPath } from 'node:url';
import { createDatabase, embeddedDataDir } from './database.js';
import { createMigrationFile } from './migration-files.js';

const USAGE = 'usage: cli.js migrate | pending | migrate:create [name]';

async function main(args: string[]): Promise<number> {
  const [command, name] = args;
  if (command === 'migrate:create') {
    const directory = fileURLToPath(new URL('../src/migrations/', import.meta.url));
    const file = await createMigrationFile(directory, name);
    console.log(file === null ? 'The schema is up to date: no migration written.' : `Written: src/migrations/${file}`);
    return 0;
  }
  if (command !== 'migrate' && command !== 'pending') {
    console.error(USAGE);
    return 2;
  }
  const url = process.env.DATABASE_MIGRATION_URL || process.env.DATABASE_URL;
  const database = await createDatabase(
    url ? { url, migrationUrl: url } : { dataDir: embeddedDataDir(process.env.DATA_DIR || './.data') },
  );
  try {
    if (command === 'migrate') {
      const applied = await database.migrate();
      console.log(applied.length === 0 ? 'No pending migration.' : `Applied: ${applied.join(', ')}`);
      return 0;
    }
    const pending = await database.pendingMigrations();
    console.log(pending.length === 0 ? 'No pending migration.' : `Pending: ${pending.join(', ')}`);
    return pending.length === 0 ? 0 : 1;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
