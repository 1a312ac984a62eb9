import { randomUUID } from 'node:crypto';
import { createDatabase, DATABASE, type Database, dbModule } from '@shipyard/adapters-db';
import { createScratchPostgres } from '@shipyard/adapters-db/testing';
import {
  type AppError,
  OAuthAccount,
  Project,
  parseListQuery,
  Service,
  TeamMember,
  Tenant,
  TOKENS,
  type UnitOfWork,
  User,
} from '@shipyard/core';
import test from 'ava';
import { Container } from 'inversify';
import { Stamps, seedTenant } from '../contracts/fixtures.js';
import { openPostgres, type PostgresSubject } from './helpers.js';

let subject: PostgresSubject | undefined;
test.before(async () => {
  subject = await openPostgres({ pool: { min: 1, max: 4 } });
});
test.after.always(async () => {
  await subject?.close();
});
const shared = (): PostgresSubject => {
  if (subject === undefined) throw new Error('the database did not open');
  return subject;
};
const uow = (): UnitOfWork => shared().database.uow;

/** Nothing of the driver (SQL, constraint or table names, values) may reach a message. */
const DRIVER_WORDS = /insert|update|delete|select|constraint|violat|duplicate|_unique|_foreign|_pkey|sql|\bkey\b/i;

function assertCleanMessage(t: { false(value: boolean, message?: string): void }, error: AppError | undefined): void {
  t.false(DRIVER_WORDS.test(error?.message ?? ''), `message: ${error?.message}`);
  t.false(DRIVER_WORDS.test(JSON.stringify(error?.toJSON() ?? {})), 'serialized error');
}

test.serial('migrations apply on an empty database, and none is pending afterwards', async (t) => {
  const scratch = await createScratchPostgres({ prefix: 'shipyard_db_migrations' });
  let database: Database | undefined;
  try {
    database = await createDatabase({ url: scratch.url });
    const pending = await database.pendingMigrations();
    t.true(pending.length > 0);
    t.deepEqual(await database.migrate(), pending);
    t.deepEqual(await database.pendingMigrations(), []);
    t.deepEqual(await database.migrate(), [], 'a second run applies nothing');
    const stamps = new Stamps();
    const rows = await seedTenant(database.uow, stamps, 'migrated');
    t.is((await database.uow.run(rows.tenant.id, (r) => r.services.get(rows.service.id))).name, 'api');
  } finally {
    await database?.close();
    await scratch.drop();
  }
});

test('a unit of work that fails after its writes leaves nothing written', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(uow(), stamps, 'atomic');
  const tenantId = rows.tenant.id;
  const project = Project.create(stamps.next(), { tenantId, name: 'never' });
  const error = new Error('after the writes');
  const thrown = await t.throwsAsync(
    uow().run(tenantId, async (r) => {
      await r.projects.add(project);
      const tenant = await r.tenants.get(tenantId);
      tenant.update({ name: 'Renamed' }, stamps.now());
      await r.tenants.update(tenant);
      await r.users.remove(rows.member.id);
      await r.refreshTokens.revokeAllOfUser(rows.owner.id, stamps.now());
      // The writes above are already in the transaction: the unit sees them.
      t.not(await r.projects.find(project.id), null);
      t.is(await r.users.find(rows.member.id), null);
      throw error;
    }),
  );
  t.is(thrown, error, 'the same error is rethrown');
  await uow().run(tenantId, async (r) => {
    t.is(await r.projects.find(project.id), null);
    t.is((await r.tenants.get(tenantId)).name, rows.tenant.name);
    t.not(await r.users.find(rows.member.id), null);
    t.not(await r.teamMembers.find(rows.teamMember.id), null, 'the cascade was rolled back too');
    t.is((await r.refreshTokens.get(rows.refreshToken.id)).revokedAt, null);
  });
});

test('a conflict found at commit rolls back the writes before it', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(uow(), stamps, 'commit');
  const tenantId = rows.tenant.id;
  const project = Project.create(stamps.next(), { tenantId, name: 'lost' });
  const twin = User.create(stamps.next(), { tenantId, email: rows.owner.email, role: 'member' });
  const error = await t.throwsAsync<AppError>(
    uow().run(tenantId, async (r) => {
      await r.projects.add(project);
      await r.users.add(twin);
    }),
    { code: 'conflict' },
  );
  t.deepEqual(error?.details, { field: 'email' });
  t.is(await uow().run(tenantId, (r) => r.projects.find(project.id)), null);
});

test('unique violations are conflicts naming the unique key of the model', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(uow(), stamps, 'uniques');
  const tenantId = rows.tenant.id;
  const twin = Tenant.create(stamps.next(), { name: 'Twin', slug: rows.tenant.slug });
  // Each write runs in a unit of `tenant`, by default the seeded one.
  const cases: { field: string; tenant?: string; write: Parameters<UnitOfWork['run']>[1] }[] = [
    {
      field: 'slug',
      tenant: twin.id,
      write: (r) => r.tenants.add(twin),
    },
    {
      field: 'email',
      write: (r) => r.users.add(User.create(stamps.next(), { tenantId, email: rows.member.email, role: 'viewer' })),
    },
    {
      field: 'name',
      write: (r) =>
        r.services.add(
          Service.create(stamps.next(), { projectId: rows.project.id, name: 'api', repoUrl: 'https://git.test/x.git' }),
        ),
    },
    {
      field: 'user_id',
      write: (r) =>
        r.teamMembers.add(TeamMember.create(stamps.next(), { teamId: rows.team.id, userId: rows.member.id })),
    },
    {
      field: 'provider_account_id',
      write: (r) =>
        r.oauthAccounts.add(
          OAuthAccount.create(stamps.next(), {
            userId: rows.member.id,
            provider: 'github',
            providerAccountId: rows.oauthAccount.providerAccountId,
            login: 'someone',
            accessToken: 'x',
            scopes: [],
          }),
        ),
    },
    {
      field: 'provider',
      write: (r) =>
        r.oauthAccounts.add(
          OAuthAccount.create(stamps.next(), {
            userId: rows.owner.id,
            provider: 'github',
            providerAccountId: randomUUID(),
            login: 'again',
            accessToken: 'x',
            scopes: [],
          }),
        ),
    },
    {
      field: 'id',
      write: (r) => {
        const copy = Project.create({ id: rows.project.id, now: stamps.now() }, { tenantId, name: 'same id' });
        return r.projects.add(copy);
      },
    },
  ];
  for (const { field, tenant, write } of cases) {
    const error = await t.throwsAsync<AppError>(uow().run(tenant ?? tenantId, write), { code: 'conflict' }, field);
    t.deepEqual(error?.details, { field }, field);
    assertCleanMessage(t, error);
  }
});

test('a foreign key violated at commit is not_found naming the referenced entity', async (t) => {
  const stamps = new Stamps();
  const rows = await seedTenant(uow(), stamps, 'foreign');
  const tenantId = rows.tenant.id;
  const project = Project.create(stamps.next(), { tenantId, name: 'short-lived' });
  await uow().run(tenantId, (r) => r.projects.add(project));
  const service = Service.create(stamps.next(), {
    projectId: project.id,
    name: 'orphan',
    repoUrl: 'https://git.test/orphan.git',
  });
  let checked!: () => void;
  const referenceChecked = new Promise<void>((resolve) => {
    checked = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  // The project exists when the service is added, and is deleted before the service's unit commits.
  const adding = uow().run(tenantId, async (r) => {
    await r.services.add(service);
    checked();
    await gate;
  });
  await referenceChecked;
  await uow().run(tenantId, (r) => r.projects.remove(project.id));
  release();
  const error = await t.throwsAsync<AppError>(adding, { code: 'not_found' });
  t.is(error?.message, 'Project not found');
  t.deepEqual(error?.details, { field: 'projectId' });
  assertCleanMessage(t, error);
  t.is(await uow().run(tenantId, (r) => r.services.find(service.id)), null);
});

test('tenant ids that are not UUIDs match nothing instead of failing in the driver', async (t) => {
  const stamps = new Stamps();
  await seedTenant(uow(), stamps, 'badtenant');
  await uow().run('not-a-uuid', async (r) => {
    const page = await r.projects.list(parseListQuery('project'));
    t.deepEqual(page.items, []);
    t.is(page.total, 0);
  });
  t.is(await uow().run("'; drop table builds; --", (r) => r.builds.count()), 0);
  t.is(await uow().run('x', (r) => r.users.find(randomUUID())), null);
});

test.serial('after PostgreSQL drops the connections, the next unit of work succeeds', async (t) => {
  const { database, scratch } = shared();
  const stamps = new Stamps();
  const rows = await seedTenant(database.uow, stamps, 'reconnect');
  await Promise.all([1, 2, 3].map(() => database.uow.run(rows.tenant.id, (r) => r.projects.count())));
  const terminated = await scratch.terminateConnections();
  t.true(terminated > 0, 'the pool had connections to end');
  t.is(await database.uow.run(rows.tenant.id, (r) => r.projects.count()), 1);
  const counts = await Promise.all([1, 2, 3, 4].map(() => database.uow.run(rows.tenant.id, (r) => r.services.count())));
  t.deepEqual(counts, [1, 1, 1, 1]);
  t.true(await database.ping());
});

test.serial('after every pooled connection is dropped, parallel units of work all succeed', async (t) => {
  const { scratch } = shared();
  const database = await createDatabase({ url: scratch.url, pool: { min: 0, max: 6 } });
  t.teardown(() => database.close());
  const stamps = new Stamps();
  const rows = await seedTenant(database.uow, stamps, 'restart');
  const hold = () =>
    database.uow.run(rows.tenant.id, async (r) => {
      const n = await r.projects.count();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return n;
    });
  await Promise.all(Array.from({ length: 6 }, hold));
  t.true((await scratch.terminateConnections()) >= 6, 'all six pooled connections were open');
  const counts = await Promise.all(Array.from({ length: 6 }, hold));
  t.deepEqual(counts, [1, 1, 1, 1, 1, 1]);
});

test.serial('poolStats reports the connections in use and the units waiting for one', async (t) => {
  const { scratch } = shared();
  const database = await createDatabase({ url: scratch.url, pool: { min: 0, max: 1, acquireTimeoutMs: 5_000 } });
  try {
    t.like(database.poolStats(), { used: 0, pending: 0, max: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const holder = database.uow.platform(async (p) => {
      await p.claimPendingMessages(new Date(), 1);
      opened();
      await gate;
    });
    await isOpen;
    t.like(database.poolStats(), { used: 1, free: 0, pending: 0 });
    const waiting = database.uow.platform((p) => p.claimPendingMessages(new Date(), 1));
    const deadline = Date.now() + 5_000;
    while (database.poolStats().pending === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.like(database.poolStats(), { used: 1, pending: 1 });
    release();
    await holder;
    await waiting;
    t.like(database.poolStats(), { used: 0, free: 1, pending: 0 });
  } finally {
    await database.close();
  }
});

test.serial('the pool size and acquire timeout come from the options', async (t) => {
  const { scratch } = shared();
  const database = await createDatabase({ url: scratch.url, pool: { min: 0, max: 1, acquireTimeoutMs: 300 } });
  try {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => {
      opened = resolve;
    });
    // A unit holds its connection from its first write or row lock (claiming locks) to its end.
    const holder = database.uow.platform(async (p) => {
      await p.claimPendingMessages(new Date(), 1);
      opened();
      await gate;
    });
    await isOpen;
    const started = Date.now();
    const error = await t.throwsAsync<AppError>(
      database.uow.platform((p) => p.tenantSlugExists('any')),
      { code: 'service_unavailable' },
    );
    t.true(Date.now() - started < 5000);
    assertCleanMessage(t, error);
    release();
    await holder;
    t.false(await database.uow.platform((p) => p.tenantSlugExists(`free-${randomUUID()}`)));
  } finally {
    await database.close();
  }
});

test('ping answers whether the database is reachable', async (t) => {
  t.true(await shared().database.ping());
  const unreachable = await createDatabase({
    url: 'postgres://postgres@127.0.0.1:1/nowhere',
    pool: { acquireTimeoutMs: 2000 },
  });
  try {
    t.false(await unreachable.ping());
    await t.throwsAsync(
      unreachable.uow.platform((p) => p.tenantSlugExists('any')),
      { code: 'service_unavailable' },
    );
  } finally {
    await unreachable.close();
  }
});

test('dbModule binds the unit of work and the database for the container', async (t) => {
  const { database } = shared();
  const container = new Container();
  container.load(dbModule(database));
  t.is(container.get<UnitOfWork>(TOKENS.UnitOfWork), database.uow);
  t.is(container.get<Database>(DATABASE), database);

  const lazy = new Container();
  lazy.load(dbModule({}));
  const embedded = await lazy.getAsync<Database>(DATABASE);
  t.is(embedded.kind, 'pglite');
  t.is(await lazy.getAsync<UnitOfWork>(TOKENS.UnitOfWork), embedded.uow);
  await embedded.migrate();
  t.false(await embedded.uow.platform((p) => p.tenantSlugExists('anything')));
  await lazy.unbindAllAsync();
});
