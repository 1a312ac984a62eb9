import { createDatabase } from '@shipyard/adapters-db';
import { Project } from '@shipyard/core';
import test from 'ava';
import { Stamps, seedTenant } from '../contracts/fixtures.js';
import { temporaryDirectory } from './helpers.js';

test('PGlite keeps its data in dataDir across close and reopen', async (t) => {
  const directory = await temporaryDirectory();
  try {
    const first = await createDatabase({ dataDir: directory.path });
    t.is(first.kind, 'pglite');
    const pending = await first.pendingMigrations();
    t.true(pending.length > 0);
    t.deepEqual(await first.migrate(), pending);
    t.deepEqual(await first.pendingMigrations(), []);
    const stamps = new Stamps();
    const rows = await seedTenant(first.uow, stamps, 'durable');
    await first.close();

    const second = await createDatabase({ dataDir: directory.path });
    try {
      t.deepEqual(await second.pendingMigrations(), [], 'the migrations are remembered');
      const service = await second.uow.run(rows.tenant.id, (r) => r.services.get(rows.service.id));
      t.is(service.name, 'api');
      t.is(service.createdAt.getTime(), rows.service.createdAt.getTime());
      const user = await second.uow.platform((p) => p.findUserByEmail(rows.owner.email));
      t.is(user?.id, rows.owner.id);
    } finally {
      await second.close();
    }
  } finally {
    await directory.remove();
  }
});

test('PGlite without dataDir lives in memory', async (t) => {
  const stamps = new Stamps();
  const first = await createDatabase();
  await first.migrate();
  const rows = await seedTenant(first.uow, stamps, 'memory');
  t.true(await first.ping());
  await first.close();
  const second = await createDatabase();
  try {
    await second.migrate();
    t.is(await second.uow.run(rows.tenant.id, (r) => r.tenants.find(rows.tenant.id)), null);
  } finally {
    await second.close();
  }
});

test('on PGlite a unit that only reads does not hold the engine for others', async (t) => {
  const database = await createDatabase();
  try {
    await database.migrate();
    const stamps = new Stamps();
    const rows = await seedTenant(database.uow, stamps, 'readers');
    const tenantId = rows.tenant.id;
    // The outer unit reads, then waits for a second unit that writes and commits.
    const names = await database.uow.run(tenantId, async (r) => {
      const before = await r.projects.count();
      await database.uow.run(tenantId, (inner) =>
        inner.projects.add(Project.create(stamps.next(), { tenantId, name: 'inner' })),
      );
      const after = await r.projects.count();
      return [before, after];
    });
    t.deepEqual(names, [1, 2]);
  } finally {
    await database.close();
  }
});

test('PGlite reports its one-connection pool: held by a unit that writes, with the units waiting for it', async (t) => {
  const database = await createDatabase();
  try {
    await database.migrate();
    await seedTenant(database.uow, new Stamps(), 'pool');
    t.like(database.poolStats(), { used: 0, pending: 0, max: 1 });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holder = database.uow.platform(async (p) => {
      // Locks rows: the unit holds the engine's connection until it ends.
      await p.claimPendingMessages(new Date(), 1);
      entered();
      await held;
    });
    await inside;
    t.like(database.poolStats(), { used: 1, free: 0, pending: 0, max: 1 });
    const waiting = database.uow.platform((p) => p.claimPendingMessages(new Date(), 1));
    const deadline = Date.now() + 5_000;
    while (database.poolStats().pending === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.like(database.poolStats(), { used: 1, pending: 1 });
    release();
    await holder;
    await waiting;
    t.like(database.poolStats(), { used: 0, pending: 0 });
  } finally {
    await database.close();
  }
});
