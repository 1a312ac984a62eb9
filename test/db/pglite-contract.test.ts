import { createDatabase, type Database } from '@shipyard/adapters-db';
import { Project } from '@shipyard/core';
import test from 'ava';
import { Stamps, seedTenant } from '../contracts/fixtures.js';
import {
  allScopedRepositoryContracts,
  auditEventRepositoryContract,
  listQueryContract,
  repositorySpecificsContract,
} from '../contracts/repository.contract.js';

// PGlite is a single PostgreSQL session: units of work take turns on it, each holding it from its
// first write to its commit. Every contract of `repositoryContracts` runs here unchanged except
// the unit-of-work suite, whose isolation test needs a second unit to read while the first holds
// its transaction open, which one session cannot serve (the reader would wait for the writer,
// which waits for the reader). The unit-of-work tests a single session can keep follow, with the
// isolation that it gives instead: a reader waits for the writer's commit, never sees its writes.

let database: Database | undefined;
test.before(async () => {
  database = await createDatabase({ pool: { acquireTimeoutMs: 10_000 } });
  await database.migrate();
});
test.after.always(async () => {
  await database?.close();
});
const getUow = () => {
  if (database === undefined) throw new Error('the database did not open');
  return database.uow;
};

allScopedRepositoryContracts('pglite', getUow);
listQueryContract('pglite', getUow);
repositorySpecificsContract('pglite', getUow);
auditEventRepositoryContract('pglite', getUow);

test('pglite unit of work: a throwing unit rolls every write back and rethrows the same error', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(getUow(), stamps, 'rollback');
  const project = Project.create(stamps.next(), { tenantId: rows.tenant.id, name: 'doomed' });
  const boom = new Error('boom');
  const error = await t.throwsAsync(
    getUow().run(rows.tenant.id, async (r) => {
      await r.projects.add(project);
      await r.projects.remove(rows.project.id);
      throw boom;
    }),
  );
  t.is(error, boom);
  t.is(await getUow().run(rows.tenant.id, (r) => r.projects.find(project.id)), null);
  t.not(await getUow().run(rows.tenant.id, (r) => r.services.find(rows.service.id)), null);
});

test('pglite unit of work: a reader waits for an open writer and sees only its committed rows', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(getUow(), stamps, 'isolation');
  const project = Project.create(stamps.next(), { tenantId: rows.tenant.id, name: 'pending' });
  let added!: () => void;
  const wasAdded = new Promise<void>((resolve) => {
    added = resolve;
  });
  let committed = false;
  const writer = getUow().run(rows.tenant.id, async (r) => {
    await r.projects.add(project);
    t.not(await r.projects.find(project.id), null, 'the unit reads its own write');
    added();
    await new Promise((resolve) => setTimeout(resolve, 200));
    committed = true;
  });
  await wasAdded;
  const seen = await getUow().run(rows.tenant.id, (r) => r.projects.find(project.id));
  t.true(committed, 'the reader ran after the writer');
  t.not(seen, null);
  await writer;
});

test('pglite unit of work: of two units changing one row, the later commit is a conflict', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(getUow(), stamps, 'race');
  const tenantId = rows.tenant.id;
  let bothRead!: () => void;
  const reads = new Promise<void>((resolve) => {
    bothRead = resolve;
  });
  let readers = 0;
  const rename = (to: string) =>
    getUow().run(tenantId, async (r) => {
      const project = await r.projects.get(rows.project.id);
      readers += 1;
      if (readers === 2) bothRead();
      await reads;
      project.update({ name: to }, stamps.now());
      await r.projects.update(project);
      return to;
    });
  const results = await Promise.allSettled([rename('left'), rename('right')]);
  const fulfilled = results.filter((r) => r.status === 'fulfilled');
  const rejected = results.filter((r) => r.status === 'rejected');
  t.is(fulfilled.length, 1);
  t.is(rejected.length, 1);
  t.is((rejected[0] as PromiseRejectedResult).reason.code, 'conflict');
  const stored = await getUow().run(tenantId, (r) => r.projects.get(rows.project.id));
  t.is(stored.name, (fulfilled[0] as PromiseFulfilledResult<string>).value);
});
