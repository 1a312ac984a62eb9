import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { MikroORM } from '@mikro-orm/core';
import { PGliteDriver } from 'mikro-orm-pglite';
import { ormOptions } from './database.js';
import { patchPGliteStatementSplitting } from './pglite-statements.js';

/** An ORM on a scratch in-memory PGlite with every migration applied, for `use`; closed after. */
async function withMigratedScratch<T>(
  use: (orm: MikroORM) => Promise<T>,
  migrations: { path?: string } = {},
): Promise<T> {
  patchPGliteStatementSplitting();
  const engine = new PGlite();
  const base = ormOptions({});
  const orm = await MikroORM.init({
    ...base,
    driver: PGliteDriver,
    dbName: 'postgres',
    pool: { min: 1, max: 1 },
    driverOptions: { ...base.driverOptions, connection: { pglite: () => engine } },
    migrations: {
      ...base.migrations,
      ...(migrations.path === undefined ? {} : { path: migrations.path, pathTs: migrations.path }),
    },
  });
  try {
    await orm.migrator.up();
    return await use(orm);
  } finally {
    await orm.close(true);
    await engine.close();
  }
}

/**
 * Writes a migration for the difference between the mappings and the schema the existing
 * migrations build (applied to a scratch in-memory PGlite), then lists it in `index.ts`.
 * Returns the new file's name, or null when the schema is already up to date.
 */
export async function createMigrationFile(directory: string, name?: string): Promise<string | null> {
  return withMigratedScratch(
    async (orm) => {
      const result = await orm.migrator.createMigration(directory, false, false, name);
      if (result.fileName === '') return null;
      await writeMigrationIndex(directory);
      return result.fileName;
    },
    { path: directory },
  );
}

/**
 * The SQL that would bring the schema the migrations build to the mappings; empty when they
 * agree (what `migrate:create` would find nothing to write for).
 */
export async function schemaDrift(): Promise<string> {
  return withMigratedScratch(async (orm) => (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim());
}

/** Rewrites `index.ts` of the migrations directory to import every `Migration*.ts` in order. */
export async function writeMigrationIndex(directory: string): Promise<void> {
  const files = (await readdir(directory)).filter((file) => /^Migration.*\.ts$/.test(file) && !file.endsWith('.d.ts'));
  files.sort();
  const entries: { file: string; className: string }[] = [];
  for (const file of files) {
    const source = await readFile(join(directory, file), 'utf8');
    const className = /export class (\w+)/.exec(source)?.[1];
    if (className !== undefined) entries.push({ file: file.replace(/\.ts$/, ''), className });
  }
  const lines = [
    "import type { MigrationObject } from '@mikro-orm/core';",
    ...entries.map((entry) => `import { ${entry.className} } from './${entry.file}.js';`),
    '',
    '/** Every migration, oldest first. `migrate:create` adds new ones here. */',
    'export const MIGRATIONS: MigrationObject[] = [',
    ...entries.map((entry) => `  { name: '${entry.file}', class: ${entry.className} },`),
    '];',
    '',
  ];
  await writeFile(join(directory, 'index.ts'), lines.join('\n'));
}
