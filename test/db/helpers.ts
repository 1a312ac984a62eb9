import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseOptions } from '@shipyard/adapters-db';
import { openScratchDatabase, type ScratchDatabase } from '@shipyard/adapters-db/testing';
import { Tenant, type UnitOfWork } from '@shipyard/core';

export type PostgresSubject = ScratchDatabase;

/** A migrated database of its own on the test server; `close` drops it. */
export const openPostgres = (options: Omit<DatabaseOptions, 'url' | 'dataDir'> = {}): Promise<PostgresSubject> =>
  openScratchDatabase({ ...options, scratch: { prefix: 'shipyard_db_test' } });

/** A temporary directory, removed by `remove`. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'shipyard-pglite-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Stores a new tenant in `uow` and returns its id (log chunks reference their tenant). */
export async function storeTenant(uow: UnitOfWork, label = 'logs'): Promise<string> {
  const tenant = Tenant.create(
    { id: randomUUID(), now: new Date() },
    { name: label, slug: `${label}-${randomUUID().slice(0, 8)}` },
  );
  await uow.run(tenant.id, (r) => r.tenants.add(tenant));
  return tenant.id;
}
