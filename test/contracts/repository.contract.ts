import { randomUUID } from 'node:crypto';
import {
  type AppError,
  type AuditAction,
  AuditEvent,
  type AuditTargetType,
  Build,
  type BuildArtifact,
  Deployment,
  type Entity,
  type EntityName,
  type EntityTypes,
  type ListQuery,
  OutboxMessage,
  type Page,
  Project,
  RefreshToken,
  type Repositories,
  type ScopedRepository,
  Service,
  Team,
  TeamMember,
  Tenant,
  type UnitOfWork,
  User,
} from '@shipyard/core';
import test from 'ava';
import {
  type RepositoryFactory,
  type RepositorySubject,
  Stamps,
  seedTenant,
  seedTwoTenants,
  type TenantRows,
} from './fixtures.js';

const NOT_FOUND = { code: 'not_found' } as const;
const CONFLICT = { code: 'conflict' } as const;
const INVALID = { code: 'validation_error' } as const;

const query = (over: Partial<ListQuery> = {}): ListQuery => ({
  skip: 0,
  limit: 100,
  sortBy: 'createdAt',
  sortOrder: 'desc',
  filters: {},
  include: [],
  ...over,
});

interface ScopedSubject<N extends EntityName> {
  entity: N;
  repo: (repos: Repositories) => ScopedRepository<EntityTypes[N]>;
  row: (rows: TenantRows) => EntityTypes[N];
  /** A new row of this entity under the parents of `rows` (omitted for the tenant). */
  make?: (rows: TenantRows, stamps: Stamps) => EntityTypes[N];
  /** Changes a field and returns the reader of that field. */
  change: (entity: EntityTypes[N], now: Date) => (entity: EntityTypes[N]) => unknown;
}

/**
 * The contract every scoped repository keeps, whatever the store: its own tenant's row is
 * readable and writable; another tenant's row is `not_found` on get, update and remove and
 * absent from lists and counts; new rows under another tenant's parent are refused.
 */
export function scopedRepositoryContract<N extends EntityName>(
  label: string,
  getUow: () => UnitOfWork,
  subject: ScopedSubject<N>,
): void {
  const name = `${label} ${subject.entity} repository`;
  const seeded = async () => {
    const stamps = new Stamps();
    return { stamps, ...(await seedTwoTenants(getUow(), stamps)) };
  };

  test(`${name}: get and find return the tenant's own row`, async (t) => {
    const { a } = await seeded();
    const mine = subject.row(a);
    const got = await getUow().run(a.tenant.id, (r) => subject.repo(r).get(mine.id));
    t.is(got.id, mine.id);
    t.is(got.createdAt.getTime(), mine.createdAt.getTime());
    const found = await getUow().run(a.tenant.id, (r) => subject.repo(r).find(mine.id));
    t.is(found?.id, mine.id);
  });

  test(`${name}: a row of another tenant is not_found on get, find, update and remove`, async (t) => {
    const { a, b } = await seeded();
    const theirs = subject.row(b);
    const uow = getUow();
    await t.throwsAsync(
      uow.run(a.tenant.id, (r) => subject.repo(r).get(theirs.id)),
      NOT_FOUND,
    );
    t.is(await uow.run(a.tenant.id, (r) => subject.repo(r).find(theirs.id)), null);
    const copy = await uow.run(b.tenant.id, (r) => subject.repo(r).get(theirs.id));
    const read = subject.change(copy, new Date());
    await t.throwsAsync(
      uow.run(a.tenant.id, (r) => subject.repo(r).update(copy)),
      NOT_FOUND,
    );
    await t.throwsAsync(
      uow.run(a.tenant.id, (r) => subject.repo(r).remove(theirs.id)),
      NOT_FOUND,
    );
    const still = await uow.run(b.tenant.id, (r) => subject.repo(r).get(theirs.id));
    t.is(still.version, theirs.version, 'the foreign row was not written');
    t.not(read(still), read(copy), 'the foreign row kept its value');
  });

  test(`${name}: lists and counts hold only the tenant's rows`, async (t) => {
    const { a, b } = await seeded();
    const page = await getUow().run(a.tenant.id, (r) => subject.repo(r).list(query({ limit: 1000 })));
    const ids = page.items.map((item) => item.id);
    t.true(ids.includes(subject.row(a).id));
    t.false(ids.includes(subject.row(b).id));
    const count = await getUow().run(a.tenant.id, (r) => subject.repo(r).count());
    t.is(count, page.total);
    t.is(page.items.length, page.total);
    const none = await getUow().run(randomUUID(), (r) => subject.repo(r).count());
    t.is(none, 0);
  });

  test(`${name}: an id that is not a UUID is not_found`, async (t) => {
    const { a } = await seeded();
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => subject.repo(r).get('not-a-uuid')),
      NOT_FOUND,
    );
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => subject.repo(r).remove("1' OR '1'='1")),
      NOT_FOUND,
    );
  });

  test(`${name}: update writes the change and bumps the version`, async (t) => {
    const { a } = await seeded();
    const uow = getUow();
    const entity = await uow.run(a.tenant.id, (r) => subject.repo(r).get(subject.row(a).id));
    const before = entity.version;
    const read = subject.change(entity, new Date('2026-06-01T00:00:00.000Z'));
    await uow.run(a.tenant.id, (r) => subject.repo(r).update(entity));
    const after = await uow.run(a.tenant.id, (r) => subject.repo(r).get(entity.id));
    t.deepEqual(read(after), read(entity));
    t.true(after.version > before);
  });

  test(`${name}: a write over a stale version is a conflict`, async (t) => {
    const { a } = await seeded();
    const uow = getUow();
    const first = await uow.run(a.tenant.id, (r) => subject.repo(r).get(subject.row(a).id));
    const second = await uow.run(a.tenant.id, (r) => subject.repo(r).get(subject.row(a).id));
    subject.change(first, new Date());
    await uow.run(a.tenant.id, (r) => subject.repo(r).update(first));
    const read = subject.change(second, new Date());
    await t.throwsAsync(
      uow.run(a.tenant.id, (r) => subject.repo(r).update(second)),
      CONFLICT,
    );
    const stored = await uow.run(a.tenant.id, (r) => subject.repo(r).get(first.id));
    t.deepEqual(read(stored), read(first));
  });

  // Two units that read the same version and make the same change (one clock tick): the one that
  // commits second lost the race, though its write would change nothing. A refresh token used by
  // two requests at once must not yield two winners. Serial: each run holds two connections at
  // once, and a dozen of them side by side would take the whole pool and wait for each other.
  test.serial(`${name}: a write of the same change as a unit that committed meanwhile is a conflict`, async (t) => {
    const { a } = await seeded();
    const uow = getUow();
    const now = new Date('2026-06-02T00:00:00.000Z');
    const id = subject.row(a).id;
    await t.throwsAsync(
      uow.run(a.tenant.id, async (r) => {
        const mine = await subject.repo(r).get(id);
        await uow.run(a.tenant.id, async (other) => {
          const theirs = await subject.repo(other).get(id);
          subject.change(theirs, now);
          await subject.repo(other).update(theirs);
        });
        subject.change(mine, now);
        await subject.repo(r).update(mine);
      }),
      { ...CONFLICT, message: /changed by someone else/ },
    );
  });

  if (subject.make !== undefined) {
    const make = subject.make;
    test(`${name}: add stores a row and refuses a parent of another tenant`, async (t) => {
      const { a, b, stamps } = await seeded();
      const uow = getUow();
      const fresh = make(a, stamps);
      await uow.run(a.tenant.id, (r) => subject.repo(r).add(fresh));
      const got = await uow.run(a.tenant.id, (r) => subject.repo(r).get(fresh.id));
      t.is(got.id, fresh.id);
      const smuggled = make(b, stamps);
      await t.throwsAsync(
        uow.run(a.tenant.id, (r) => subject.repo(r).add(smuggled)),
        NOT_FOUND,
      );
      t.is(await uow.run(b.tenant.id, (r) => subject.repo(r).find(smuggled.id)), null);
    });

    test(`${name}: remove deletes the row`, async (t) => {
      const { a, stamps } = await seeded();
      const uow = getUow();
      const fresh = make(a, stamps);
      await uow.run(a.tenant.id, (r) => subject.repo(r).add(fresh));
      await uow.run(a.tenant.id, (r) => subject.repo(r).remove(fresh.id));
      await t.throwsAsync(
        uow.run(a.tenant.id, (r) => subject.repo(r).get(fresh.id)),
        NOT_FOUND,
      );
    });
  }
}

const touchName = <T extends Entity & { name: string; update(changes: { name: string }, now: Date): void }>(
  entity: T,
  now: Date,
) => {
  entity.update({ name: `renamed ${now.getTime()}` }, now);
  return (e: T) => e.name;
};

/** The scoped contract for every repository of `Repositories`, one subject each. */
export function allScopedRepositoryContracts(label: string, getUow: () => UnitOfWork): void {
  scopedRepositoryContract(label, getUow, {
    entity: 'tenant',
    repo: (r) => r.tenants,
    row: (rows) => rows.tenant,
    change: (tenant, now) => touchName(tenant, now),
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'user',
    repo: (r) => r.users,
    row: (rows) => rows.member,
    make: (rows, stamps) =>
      User.create(stamps.next(), { tenantId: rows.tenant.id, email: `u-${randomUUID()}@example.test`, role: 'viewer' }),
    change: (user, now) => {
      user.update({ fullName: `Name ${now.getTime()}` }, now);
      return (u) => u.fullName;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'oauthAccount',
    repo: (r) => r.oauthAccounts,
    row: (rows) => rows.oauthAccount,
    change: (account, now) => {
      account.refresh({ login: `login-${now.getTime()}`, accessToken: 'other', scopes: ['repo'] }, now);
      return (a) => a.login;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'team',
    repo: (r) => r.teams,
    row: (rows) => rows.team,
    make: (rows, stamps) => Team.create(stamps.next(), { ownerId: rows.member.id, name: 'another' }),
    change: (team, now) => touchName(team, now),
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'teamMember',
    repo: (r) => r.teamMembers,
    row: (rows) => rows.teamMember,
    make: (rows, stamps) => TeamMember.create(stamps.next(), { teamId: rows.team.id, userId: rows.owner.id }),
    change: (member, now) => {
      member.changeRole(member.role === 'member' ? 'maintainer' : 'member', now);
      return (m) => m.role;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'project',
    repo: (r) => r.projects,
    row: (rows) => rows.project,
    make: (rows, stamps) => Project.create(stamps.next(), { tenantId: rows.tenant.id, name: 'another' }),
    change: (project, now) => touchName(project, now),
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'service',
    repo: (r) => r.services,
    row: (rows) => rows.service,
    make: (rows, stamps) =>
      Service.create(stamps.next(), {
        projectId: rows.project.id,
        name: `svc-${randomUUID().slice(0, 8)}`,
        repoUrl: 'https://git.example.test/acme/web.git',
      }),
    change: (service, now) => {
      service.update({ branch: `release/${now.getTime()}` }, now);
      return (s) => s.branch;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'build',
    repo: (r) => r.builds,
    row: (rows) => rows.build,
    make: (rows, stamps) => Build.create(stamps.next(), { serviceId: rows.service.id, branch: 'main' }),
    change: (build, now) => {
      build.start(now);
      return (b) => `${b.status}/${b.attempt}`;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'deployment',
    repo: (r) => r.deployments,
    row: (rows) => rows.deployment,
    make: (rows, stamps) => Deployment.create(stamps.next(), { serviceId: rows.service.id, buildId: rows.build.id }),
    change: (deployment, now) => {
      deployment.start(now);
      return (d) => d.status;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'refreshToken',
    repo: (r) => r.refreshTokens,
    row: (rows) => rows.refreshToken,
    make: (rows, stamps) =>
      RefreshToken.create(stamps.next(), {
        tenantId: rows.tenant.id,
        userId: rows.owner.id,
        familyId: randomUUID(),
        expiresAt: new Date('2030-01-01T00:00:00.000Z'),
        sessionStartedAt: new Date('2029-12-01T00:00:00.000Z'),
      }),
    change: (token, now) => {
      token.markUsed(now);
      return (tk) => tk.usedAt?.getTime() ?? null;
    },
  });
  scopedRepositoryContract(label, getUow, {
    entity: 'outboxMessage',
    repo: (r) => r.outbox,
    row: (rows) => rows.outboxMessage,
    make: (rows, stamps) =>
      OutboxMessage.create(stamps.next(), {
        tenantId: rows.tenant.id,
        queue: 'cleanup',
        name: 'cleanup.run',
        payload: { tenant_id: rows.tenant.id },
      }),
    change: (message, now) => {
      message.recordPublishFailure(now);
      return (m) => m.publishAttempts;
    },
  });
}

/** Pagination, sorting, IN filters, allow-lists and eager loading, as every store must do them. */
export function listQueryContract(label: string, getUow: () => UnitOfWork): void {
  const name = `${label} list queries`;

  const projectsOf = async (count: number) => {
    const stamps = new Stamps();
    const rows = await seedTenant(getUow(), stamps, 'lists');
    const names = ['delta', 'alpha', 'echo', 'bravo', 'charlie', 'golf', 'foxtrot', 'hotel', 'india', 'juliet'];
    const projects: Project[] = [rows.project];
    await getUow().run(rows.tenant.id, async (r) => {
      for (let i = 0; i < count - 1; i += 1) {
        const project = Project.create(stamps.next(), {
          tenantId: rows.tenant.id,
          name: names[i % names.length] ?? 'x',
        });
        await r.projects.add(project);
        projects.push(project);
      }
    });
    return { rows, projects, stamps };
  };

  test(`${name}: default order is created_at descending, and pages slice it`, async (t) => {
    const { rows, projects } = await projectsOf(7);
    const tenantId = rows.tenant.id;
    const all = await getUow().run(tenantId, (r) => r.projects.list(query()));
    t.is(all.total, 7);
    t.deepEqual(
      all.items.map((p) => p.id),
      [...projects].reverse().map((p) => p.id),
    );
    const page = await getUow().run(tenantId, (r) => r.projects.list(query({ skip: 2, limit: 3 })));
    t.is(page.total, 7);
    t.is(page.skip, 2);
    t.is(page.limit, 3);
    t.deepEqual(
      page.items.map((p) => p.id),
      all.items.slice(2, 5).map((p) => p.id),
    );
    const past = await getUow().run(tenantId, (r) => r.projects.list(query({ skip: 50, limit: 10 })));
    t.is(past.items.length, 0);
    t.is(past.total, 7);
  });

  test(`${name}: sorting works both ways on an allow-listed column`, async (t) => {
    const { rows } = await projectsOf(6);
    const tenantId = rows.tenant.id;
    const asc = await getUow().run(tenantId, (r) => r.projects.list(query({ sortBy: 'name', sortOrder: 'asc' })));
    const desc = await getUow().run(tenantId, (r) => r.projects.list(query({ sortBy: 'name', sortOrder: 'desc' })));
    const names = asc.items.map((p) => p.name);
    t.deepEqual(names, [...names].sort());
    t.deepEqual(
      desc.items.map((p) => p.name),
      [...names].reverse(),
    );
    const oldest = await getUow().run(tenantId, (r) => r.projects.list(query({ sortOrder: 'asc', limit: 1 })));
    t.is(oldest.items[0]?.id, rows.project.id);
  });

  test(`${name}: limit 1000 is accepted; 1001, 0 and a negative skip are validation errors`, async (t) => {
    const { rows } = await projectsOf(2);
    const tenantId = rows.tenant.id;
    const max = await getUow().run(tenantId, (r) => r.projects.list(query({ limit: 1000 })));
    t.is(max.limit, 1000);
    t.is(max.items.length, 2);
    for (const bad of [{ limit: 1001 }, { limit: 0 }, { skip: -1 }]) {
      await t.throwsAsync(
        getUow().run(tenantId, (r) => r.projects.list(query(bad))),
        INVALID,
      );
    }
  });

  test(`${name}: unknown sort and filter columns are validation errors`, async (t) => {
    const { rows } = await projectsOf(1);
    const tenantId = rows.tenant.id;
    await t.throwsAsync(
      getUow().run(tenantId, (r) => r.users.list(query({ sortBy: 'passwordHash' }))),
      INVALID,
    );
    await t.throwsAsync(
      getUow().run(tenantId, (r) => r.users.list(query({ filters: { passwordHash: ['x'] } }))),
      INVALID,
    );
    await t.throwsAsync(
      getUow().run(tenantId, (r) => r.projects.count({ tenantId: [randomUUID()] })),
      INVALID,
    );
    await t.throwsAsync(
      getUow().run(tenantId, (r) => r.projects.list(query({ include: ['tenant'] }))),
      INVALID,
    );
  });

  test(`${name}: a repeated filter value list is an IN, and filters combine`, async (t) => {
    const stamps = new Stamps();
    const rows = await seedTenant(getUow(), stamps, 'filters');
    const tenantId = rows.tenant.id;
    await getUow().run(tenantId, async (r) => {
      for (const status of ['running', 'succeeded', 'failed', 'cancelled'] as const) {
        const build = Build.create(stamps.next(), { serviceId: rows.service.id, branch: 'dev' });
        if (status !== 'cancelled') build.start(stamps.now());
        if (status === 'succeeded') build.succeed('ok', { kind: 'image', ref: 'registry.test/web:1' }, stamps.now());
        if (status === 'failed') build.fail('boom', '', stamps.now());
        if (status === 'cancelled') build.cancel(stamps.now());
        await r.builds.add(build);
      }
    });
    const active = await getUow().run(tenantId, (r) =>
      r.builds.list(query({ filters: { status: ['queued', 'running'] } })),
    );
    t.deepEqual(active.items.map((b) => b.status).sort(), ['queued', 'running']);
    t.is(active.total, 2);
    const count = await getUow().run(tenantId, (r) => r.builds.count({ status: ['succeeded', 'failed'] }));
    t.is(count, 2);
    const devRunning = await getUow().run(tenantId, (r) =>
      r.builds.count({ status: ['running', 'queued'], branch: ['dev'] }),
    );
    t.is(devRunning, 1);
    const none = await getUow().run(tenantId, (r) => r.users.count({ isActive: [false] }));
    t.is(none, 0);
  });

  test(`${name}: eager loading fills the named relations`, async (t) => {
    const stamps = new Stamps();
    const rows = await seedTenant(getUow(), stamps, 'eager');
    const tenantId = rows.tenant.id;
    const team = await getUow().run(tenantId, (r) => r.teams.get(rows.team.id, { include: ['members'] }));
    t.deepEqual(
      team.members?.map((m) => m.userId),
      [rows.member.id],
    );
    const plain = await getUow().run(tenantId, (r) => r.teams.get(rows.team.id));
    t.is(plain.members, undefined);
    const services = await getUow().run(tenantId, (r) => r.services.list(query({ include: ['project'] })));
    t.is(services.items[0]?.project?.id, rows.project.id);
    const build = await getUow().run(tenantId, (r) => r.builds.get(rows.build.id, { include: ['service'] }));
    t.is(build.service?.name, 'api');
    const deployment = await getUow().run(tenantId, (r) =>
      r.deployments.get(rows.deployment.id, { include: ['build'] }),
    );
    t.is(deployment.build?.id, rows.build.id);
  });
}

/** The methods some repositories add to the scoped contract, and the model's keys and cascades. */
export function repositorySpecificsContract(label: string, getUow: () => UnitOfWork): void {
  const name = `${label} repositories`;

  test(`${name}: a unit is bound to its tenant; a tenant row is added only by a unit of its own id`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    t.is(await getUow().run(a.tenant.id, async (r) => r.tenantId), a.tenant.id);
    const stranger = Tenant.create(new Stamps().next(), { name: 'Stranger', slug: `stranger-${randomUUID()}` });
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.tenants.add(stranger)),
      NOT_FOUND,
    );
    t.is(await getUow().run(stranger.id, (r) => r.tenants.find(stranger.id)), null);
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.tenants.get(b.tenant.id)),
      NOT_FOUND,
    );
  });

  test(`${name}: a tenant id that is not a UUID matches nothing`, async (t) => {
    const { a } = await seedTwoTenants(getUow());
    for (const tenantId of ['not-a-uuid', "'; drop table projects; --", a.tenant.id.toUpperCase().replace(/-/g, '')]) {
      await getUow().run(tenantId, async (r) => {
        t.is((await r.projects.list(query())).total, 0, tenantId);
        t.is(await r.users.count(), 0, tenantId);
        t.is(await r.projects.find(a.project.id), null, tenantId);
        await t.throwsAsync(r.tenants.get(a.tenant.id), NOT_FOUND, tenantId);
        await t.throwsAsync(r.projects.remove(a.project.id), NOT_FOUND, tenantId);
      });
    }
    t.not(await getUow().run(a.tenant.id, (r) => r.projects.find(a.project.id)), null, 'nothing was removed');
  });

  test(`${name}: a platform unit's tenant repositories are scoped like a tenant unit's, in its one transaction`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    const stamps = new Stamps();
    await getUow().platform(async (p) => {
      t.is(p.inTenant(a.tenant.id).tenantId, a.tenant.id);
      t.is(p.inTenant(a.tenant.id), p.inTenant(a.tenant.id), 'one set of repositories per tenant and unit');
      t.is(await p.inTenant(a.tenant.id).projects.find(b.project.id), null);
      t.is((await p.inTenant(b.tenant.id).projects.get(b.project.id)).id, b.project.id);
      await t.throwsAsync(p.inTenant(a.tenant.id).services.get(b.service.id), NOT_FOUND);
    });
    const doomed = Project.create(stamps.next(), { tenantId: a.tenant.id, name: 'doomed' });
    const boom = new Error('boom');
    const error = await t.throwsAsync(
      getUow().platform(async (p) => {
        await p.inTenant(a.tenant.id).projects.add(doomed);
        await p.markMessagesSent([b.outboxMessage.id], stamps.now());
        throw boom;
      }),
    );
    t.is(error, boom);
    t.is(await getUow().run(a.tenant.id, (r) => r.projects.find(doomed.id)), null, 'the tenant write was rolled back');
    const message = await getUow().run(b.tenant.id, (r) => r.outbox.get(b.outboxMessage.id));
    t.is(message.sentAt, null, 'the platform write was rolled back');
  });

  test(`${name}: emails and slugs are unique platform-wide; users are found by email in any case`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    const found = await getUow().platform((p) => p.findUserByEmail(a.owner.email.toUpperCase()));
    t.is(found?.id, a.owner.id);
    t.is(await getUow().platform((p) => p.findUserByEmail('nobody@example.test')), null);
    const clash = User.create(new Stamps().next(), { tenantId: b.tenant.id, email: a.owner.email, role: 'member' });
    const error = await t.throwsAsync<AppError>(
      getUow().run(b.tenant.id, (r) => r.users.add(clash)),
      CONFLICT,
    );
    t.deepEqual((error?.details as { field?: string } | undefined)?.field, 'email');
    t.true(await getUow().platform((p) => p.tenantSlugExists(a.tenant.slug)));
    const ids: string[] = [];
    for (let after: string | null = null; ; ) {
      const batch: string[] = await getUow().platform((p) => p.listTenantIds(after, 1));
      if (batch.length === 0) break;
      ids.push(...batch);
      after = batch[batch.length - 1] ?? null;
    }
    t.true(ids.includes(a.tenant.id) && ids.includes(b.tenant.id), 'every tenant is listed, a page at a time');
    t.deepEqual(ids, [...ids].sort(), 'in id order');
    t.false(await getUow().platform((p) => p.tenantSlugExists(`free-${randomUUID().slice(0, 8)}`)));
    const twin = Tenant.create(new Stamps().next(), { name: 'Twin', slug: a.tenant.slug });
    await t.throwsAsync(
      getUow().run(twin.id, (r) => r.tenants.add(twin)),
      CONFLICT,
    );
  });

  test(`${name}: a user is in a team once; oauth accounts are found by provider id`, async (t) => {
    const { a } = await seedTwoTenants(getUow());
    const again = TeamMember.create(new Stamps().next(), { teamId: a.team.id, userId: a.member.id });
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.teamMembers.add(again)),
      CONFLICT,
    );
    const found = await getUow().platform((p) => p.findOAuthAccount('github', a.oauthAccount.providerAccountId));
    t.is(found?.account.userId, a.owner.id);
    t.is(found?.tenantId, a.tenant.id);
    t.is(await getUow().platform((p) => p.findOAuthAccount('github', 'no-such-id')), null);
  });

  test(`${name}: the user of an oauth account found by provider id reads whole and updates in the same unit`, async (t) => {
    const { a } = await seedTwoTenants(getUow());
    const now = new Date('2026-06-03T00:00:00.000Z');
    const updated = await getUow().platform(async (p) => {
      const found = await p.findOAuthAccount('github', a.oauthAccount.providerAccountId);
      if (found === null) throw new Error('the account was not found');
      const r = p.inTenant(found.tenantId);
      const user = await r.users.get(found.account.userId);
      t.is(user.version, a.owner.version);
      t.is(user.email, a.owner.email);
      user.recordLogin(now);
      await r.users.update(user);
      return user;
    });
    const stored = await getUow().run(a.tenant.id, (r) => r.users.get(a.owner.id));
    t.is(stored.lastLoginAt?.getTime(), now.getTime());
    t.is(stored.version, updated.version);
  });

  test(`${name}: a team member of another tenant's user is refused`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    const stranger = TeamMember.create(new Stamps().next(), { teamId: a.team.id, userId: b.member.id });
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.teamMembers.add(stranger)),
      NOT_FOUND,
    );
    const project = Project.create(new Stamps().next(), { tenantId: a.tenant.id, name: 'x', teamId: b.team.id });
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.projects.add(project)),
      NOT_FOUND,
    );
  });

  test(`${name}: deleting a project deletes its services, builds and deployments`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    await getUow().run(a.tenant.id, (r) => r.projects.remove(a.project.id));
    await getUow().platform(async (p) => {
      const r = p.inTenant(a.tenant.id);
      t.is(await r.services.find(a.service.id), null);
      t.is(await r.builds.find(a.build.id), null);
      t.is(await r.deployments.find(a.deployment.id), null);
      t.is(await r.builds.count(), 0);
      t.not(await p.inTenant(b.tenant.id).deployments.find(b.deployment.id), null, 'the other tenant is untouched');
      t.not(await r.teams.find(a.team.id), null, 'the team stays');
    });
  });

  test(`${name}: deleting a team unlinks its projects; deleting a tenant deletes everything of it`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    await getUow().run(a.tenant.id, (r) => r.teams.remove(a.team.id));
    const project = await getUow().run(a.tenant.id, (r) => r.projects.get(a.project.id));
    t.is(project.teamId, null);
    t.is(await getUow().run(a.tenant.id, (r) => r.teamMembers.count()), 0);
    await getUow().run(a.tenant.id, (r) => r.tenants.remove(a.tenant.id));
    await getUow().platform(async (p) => {
      const r = p.inTenant(a.tenant.id);
      t.is(await r.users.count(), 0);
      t.is(await r.projects.count(), 0);
      t.is(await p.findUserByEmail(a.owner.email), null);
      t.is(await r.outbox.count(), 0);
      t.is(await p.inTenant(b.tenant.id).users.count(), 2);
    });
  });

  test(`${name}: refresh-token families are revoked within their tenant only`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    const stamps = new Stamps();
    const family = a.refreshToken.familyId;
    const sibling = RefreshToken.create(stamps.next(), {
      tenantId: a.tenant.id,
      userId: a.owner.id,
      familyId: family,
      expiresAt: new Date('2030-01-01T00:00:00.000Z'),
      sessionStartedAt: new Date('2029-12-01T00:00:00.000Z'),
    });
    await getUow().run(a.tenant.id, (r) => r.refreshTokens.add(sibling));
    t.is(await getUow().run(b.tenant.id, (r) => r.refreshTokens.revokeFamily(family, stamps.now())), 0);
    t.is(await getUow().run(a.tenant.id, (r) => r.refreshTokens.revokeFamily(family, stamps.now())), 2);
    t.is(await getUow().run(a.tenant.id, (r) => r.refreshTokens.revokeFamily(family, stamps.now())), 0);
    const revoked = await getUow().run(a.tenant.id, (r) => r.refreshTokens.get(sibling.id));
    t.not(revoked.revokedAt, null);
    t.is(await getUow().run(a.tenant.id, (r) => r.refreshTokens.revokeAllOfUser(b.owner.id, stamps.now())), 0);
    const theirs = await getUow().run(b.tenant.id, (r) => r.refreshTokens.get(b.refreshToken.id));
    t.is(theirs.revokedAt, null);
  });

  test(`${name}: the outbox lists pending messages oldest first, marks them sent and prunes them`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    const later = new Date('2099-01-01T00:00:00.000Z');
    const pending = await getUow().platform((p) => p.listPendingMessages(later, 1000));
    const ours = pending.filter((m) => m.id === a.outboxMessage.id || m.id === b.outboxMessage.id);
    t.deepEqual(
      ours.map((m) => m.id),
      [a.outboxMessage.id, b.outboxMessage.id],
    );
    t.deepEqual(ours[0]?.payload, { tenant_id: a.tenant.id, build_id: a.build.id });
    const early = await getUow().platform((p) => p.listPendingMessages(new Date('2000-01-01T00:00:00.000Z'), 1000));
    t.false(
      early.some((m) => m.id === a.outboxMessage.id),
      'not yet available',
    );
    await getUow().platform((p) => p.markMessagesSent([a.outboxMessage.id], new Date('2026-04-01T00:00:00.000Z')));
    const after = await getUow().platform((p) => p.listPendingMessages(later, 1000));
    t.false(after.some((m) => m.id === a.outboxMessage.id));
    t.true(after.some((m) => m.id === b.outboxMessage.id));
    t.is(await getUow().run(a.tenant.id, (r) => r.outbox.pruneSent(new Date('2026-03-01T00:00:00.000Z'))), 0);
    t.is(await getUow().run(b.tenant.id, (r) => r.outbox.pruneSent(later)), 0, 'unsent rows stay');
    t.is(await getUow().run(a.tenant.id, (r) => r.outbox.pruneSent(later)), 1);
    t.is(await getUow().run(a.tenant.id, (r) => r.outbox.find(a.outboxMessage.id)), null);
  });

  test(`${name}: the outbox counts the messages due and unsent, across tenants`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    // Available long before any other test's rows, so concurrent tests do not change the counts.
    const at = new Date('1990-01-01T00:00:00.000Z');
    const due = (tenantId: string, buildId: string, availableAt: Date) =>
      OutboxMessage.create(
        { id: randomUUID(), now: new Date('2026-03-01T00:00:00.000Z') },
        {
          tenantId,
          queue: 'build',
          name: 'build.run',
          payload: { tenant_id: tenantId, build_id: buildId },
          availableAt,
        },
      );
    const first = due(a.tenant.id, a.build.id, at);
    const second = due(b.tenant.id, b.build.id, new Date(at.getTime() + 1000));
    await getUow().run(a.tenant.id, (r) => r.outbox.add(first));
    await getUow().run(b.tenant.id, (r) => r.outbox.add(second));
    const count = (now: Date) => getUow().platform((p) => p.countPendingMessages(now));
    t.is(await count(new Date(at.getTime() - 1)), 0);
    t.is(await count(at), 1);
    t.is(await count(new Date(at.getTime() + 1000)), 2, 'both tenants');
    await getUow().platform((p) => p.markMessagesSent([first.id], new Date('2026-04-01T00:00:00.000Z')));
    t.is(await count(new Date(at.getTime() + 1000)), 1, 'sent messages are not pending');
  });

  test(`${name}: a build's artifact and a service's health check path and repository credentials round-trip`, async (t) => {
    const stamps = new Stamps();
    const rows = await seedTenant(getUow(), stamps, 'runtime');
    const tenantId = rows.tenant.id;
    const fresh = await getUow().run(tenantId, async (r) => ({
      build: await r.builds.get(rows.build.id),
      service: await r.services.get(rows.service.id),
    }));
    t.is(fresh.build.artifact, null);
    t.is(fresh.service.healthCheckPath, null);
    t.is(fresh.service.repoCredentials, null);

    const directory = { kind: 'directory', path: "/srv/shipyard/artifacts/a b'c/ü" } as const;
    const image = { kind: 'image', ref: 'registry.test/acme/api@sha256:0123abcd' } as const;
    const imageBuild = Build.create(stamps.next(), { serviceId: rows.service.id, branch: 'main' });
    const withPath = Service.create(stamps.next(), {
      projectId: rows.project.id,
      name: 'worker',
      repoUrl: 'https://git.example.test/acme/worker.git',
      healthCheckPath: '/ready',
    });
    await getUow().run(tenantId, async (r) => {
      const build = await r.builds.get(rows.build.id);
      build.start(stamps.now());
      build.succeed('ok', directory, stamps.now());
      await r.builds.update(build);
      imageBuild.start(stamps.now());
      imageBuild.succeed('ok', image, stamps.now());
      await r.builds.add(imageBuild);
      const service = await r.services.get(rows.service.id);
      service.update({ healthCheckPath: '/healthz?deep=1' }, stamps.now());
      service.setRepoCredentials('v1:kid:c2VjcmV0', stamps.now());
      await r.services.update(service);
      await r.services.add(withPath);
    });
    const stored = await getUow().run(tenantId, async (r) => ({
      build: await r.builds.get(rows.build.id),
      imageBuild: await r.builds.get(imageBuild.id),
      service: await r.services.get(rows.service.id),
      withPath: await r.services.get(withPath.id),
      listed: await r.builds.list(query({ sortBy: 'createdAt', sortOrder: 'asc' })),
    }));
    t.deepEqual(stored.build.artifact, directory);
    t.deepEqual(stored.imageBuild.artifact, image);
    t.deepEqual(
      stored.listed.items.map((build) => build.artifact),
      [directory, image],
    );
    t.is(stored.service.healthCheckPath, '/healthz?deep=1');
    t.is(stored.service.repoCredentials, 'v1:kid:c2VjcmV0');
    t.is(stored.withPath.healthCheckPath, '/ready');
    t.is(stored.withPath.repoCredentials, null);
    const named = (artifacts: readonly BuildArtifact[]) =>
      artifacts.map((artifact) => (artifact.kind === 'directory' ? artifact.path : artifact.ref));
    const everyArtifact = named(await getUow().platform((p) => p.listBuildArtifacts({ limit: 100_000 })));
    t.true(everyArtifact.includes(directory.path) && everyArtifact.includes(image.ref), 'listed platform-wide');

    await getUow().run(tenantId, async (r) => {
      const build = await r.builds.get(rows.build.id);
      build.discardArtifact(stamps.now());
      await r.builds.update(build);
      const service = await r.services.get(rows.service.id);
      service.setRepoCredentials(null, stamps.now());
      service.update({ healthCheckPath: null }, stamps.now());
      await r.services.update(service);
    });
    const cleared = await getUow().run(tenantId, async (r) => ({
      build: await r.builds.get(rows.build.id),
      service: await r.services.get(rows.service.id),
    }));
    t.is(cleared.build.artifact, null);
    t.is(cleared.service.healthCheckPath, null);
    t.is(cleared.service.repoCredentials, null);
    const afterDiscard = named(await getUow().platform((p) => p.listBuildArtifacts({ limit: 100_000 })));
    t.false(afterDiscard.includes(directory.path), 'a discarded artifact is no longer listed');
    t.true(afterDiscard.includes(image.ref));
  });

  test(`${name}: prunable builds keep the newest per service and those a deployment uses`, async (t) => {
    const stamps = new Stamps();
    const rows = await seedTenant(getUow(), stamps, 'prune');
    const tenantId = rows.tenant.id;
    const builds: Build[] = [];
    await getUow().run(tenantId, async (r) => {
      // rows.build (queued) is referenced by rows.deployment; add five finished ones.
      for (let i = 0; i < 5; i += 1) {
        const build = Build.create(stamps.next(), { serviceId: rows.service.id, branch: 'main' });
        build.start(stamps.now());
        build.succeed('', { kind: 'image', ref: 'registry.test/web:1' }, stamps.now());
        await r.builds.add(build);
        builds.push(build);
      }
    });
    const cutoff = new Date(stamps.now().getTime() + 1);
    const ids = await getUow().run(tenantId, (r) =>
      r.builds.findPrunable({ finishedBefore: cutoff, keepLatest: 2, limit: 100 }),
    );
    t.deepEqual(
      [...ids].sort(),
      builds
        .slice(0, 3)
        .map((b) => b.id)
        .sort(),
    );
    const limited = await getUow().run(tenantId, (r) =>
      r.builds.findPrunable({ finishedBefore: cutoff, keepLatest: 0, limit: 2 }),
    );
    t.is(limited.length, 2);
    const old = await getUow().run(tenantId, (r) =>
      r.builds.findPrunable({ finishedBefore: new Date('2000-01-01'), keepLatest: 0, limit: 100 }),
    );
    t.deepEqual(old, []);
  });
}

/**
 * How units of work of one store run beside each other: `concurrent` (a pool of sessions) lets a
 * reader run while a writer holds its transaction open; `serialized` (PGlite, one session) makes
 * units take turns, each holding the session from its first write to its commit.
 */
export type UnitConcurrency = 'concurrent' | 'serialized';

export interface RepositoryContractOptions {
  /** Default `concurrent`. */
  concurrency?: UnitConcurrency;
}

/**
 * Transactions: commit, rollback, isolation and optimistic locking. With `serialized` units, the
 * isolation test cannot hold a writer open while another unit reads (the reader would wait for
 * the writer, which waits for the reader): it checks the isolation one session gives instead, a
 * reader waits for the writer's commit and never sees its writes before.
 */
export function unitOfWorkContract(
  label: string,
  getUow: () => UnitOfWork,
  options: RepositoryContractOptions = {},
): void {
  const name = `${label} unit of work`;

  test(`${name}: a throwing unit rolls every write back and rethrows the same error`, async (t) => {
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

  if (options.concurrency === 'serialized') {
    test(`${name}: a reader waits for an open writer and sees only its committed rows`, async (t) => {
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
  } else {
    test(`${name}: a unit reads its own writes; others see them only after commit`, async (t) => {
      const stamps = new Stamps();
      const rows = await seedTenant(getUow(), stamps, 'isolation');
      const project = Project.create(stamps.next(), { tenantId: rows.tenant.id, name: 'pending' });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let added!: () => void;
      const wasAdded = new Promise<void>((resolve) => {
        added = resolve;
      });
      const writer = getUow().run(rows.tenant.id, async (r) => {
        await r.projects.add(project);
        t.not(await r.projects.find(project.id), null);
        added();
        await gate;
      });
      await wasAdded;
      t.is(await getUow().run(rows.tenant.id, (r) => r.projects.find(project.id)), null, 'no dirty read');
      release();
      await writer;
      t.not(await getUow().run(rows.tenant.id, (r) => r.projects.find(project.id)), null);
    });
  }

  test(`${name}: of two units changing one row, the later commit is a conflict`, async (t) => {
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
}

/**
 * The audit trail: append-only, tenant-scoped, filtered by actor, action, target and a time range
 * (both ends included), newest first by `occurredAt`; pruned platform-wide by age.
 */
export function auditEventRepositoryContract(label: string, getUow: () => UnitOfWork): void {
  const name = `${label} audit events`;
  const event = (
    tenantId: string,
    at: Date,
    over: { action?: AuditAction; actorId?: string | null; target?: { type: AuditTargetType; id: string } } = {},
  ) =>
    AuditEvent.create(
      { id: randomUUID(), now: at },
      {
        tenantId,
        actor: {
          type: over.actorId === null ? 'system' : 'user',
          id: over.actorId ?? randomUUID(),
          sessionId: randomUUID(),
          ip: '203.0.113.9',
        },
        action: over.action ?? 'project.update',
        target: over.target ?? { type: 'project', id: randomUUID() },
        summary: { changed: ['name', 'team_id'], nested: { count: 2, flag: true, none: null } },
      },
    );
  const byTime = (over: Partial<ListQuery> = {}) => query({ sortBy: 'occurredAt', ...over });
  const at = (minute: number) => new Date(Date.UTC(2026, 4, 1, 12, minute));

  test(`${name}: add stores every field; lists hold only the tenant's events; no update or remove`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    const mine = event(a.tenant.id, at(0), { actorId: a.owner.id });
    const theirs = event(b.tenant.id, at(1));
    await getUow().run(a.tenant.id, (r) => r.audit.add(mine));
    await getUow().run(b.tenant.id, (r) => r.audit.add(theirs));
    const page = await getUow().run(a.tenant.id, (r) => r.audit.list(byTime()));
    t.deepEqual(
      page.items.map((e) => e.id),
      [mine.id],
    );
    t.is(page.total, 1);
    const [stored] = page.items as [AuditEvent];
    for (const field of [
      'tenantId',
      'actorType',
      'actorId',
      'sessionId',
      'ip',
      'action',
      'targetType',
      'targetId',
    ] as const) {
      t.is(stored[field], mine[field], field);
    }
    t.is(stored.occurredAt.getTime(), mine.occurredAt.getTime());
    t.deepEqual(stored.summary, mine.summary);
    t.true(stored instanceof AuditEvent);
    const repo = await getUow().run(a.tenant.id, async (r) => r.audit as unknown as Record<string, unknown>);
    t.is(repo.update, undefined, 'append-only: no update');
    t.is(repo.remove, undefined, 'append-only: no remove');
    t.is((await getUow().run('not-a-uuid', (r) => r.audit.list(byTime()))).total, 0);
  });

  test(`${name}: an event of another tenant is refused; a unit that throws keeps none`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.audit.add(event(b.tenant.id, at(2)))),
      NOT_FOUND,
    );
    const doomed = event(a.tenant.id, at(3));
    await t.throwsAsync(
      getUow().run(a.tenant.id, async (r) => {
        await r.audit.add(doomed);
        throw new Error('boom');
      }),
      { message: 'boom' },
    );
    t.is((await getUow().run(b.tenant.id, (r) => r.audit.list(byTime()))).total, 0);
    t.is((await getUow().run(a.tenant.id, (r) => r.audit.list(byTime()))).total, 0);
  });

  test(`${name}: newest first, pages, filters and a time range with both ends included`, async (t) => {
    const { a } = await seedTwoTenants(getUow());
    const actor = a.owner.id;
    const target = { type: 'service' as const, id: a.service.id };
    const events = [
      event(a.tenant.id, at(10), { actorId: actor, action: 'service.create', target }),
      event(a.tenant.id, at(11), { action: 'project.update' }),
      event(a.tenant.id, at(12), { actorId: actor, action: 'service.env_update', target }),
      event(a.tenant.id, at(13), { actorId: null, action: 'deployment.create' }),
      event(a.tenant.id, at(14), { actorId: actor, action: 'project.update' }),
    ];
    await getUow().run(a.tenant.id, async (r) => {
      for (const e of events) await r.audit.add(e);
    });
    const ids = (page: Page<AuditEvent>) => page.items.map((e) => e.id);
    const list = (over: Partial<ListQuery>, range?: { from?: Date; to?: Date }) =>
      getUow().run(a.tenant.id, (r) => r.audit.list(byTime(over), range));
    const newest = [...events].reverse().map((e) => e.id);
    t.deepEqual(ids(await list({})), newest);
    const second = await list({ skip: 1, limit: 2 });
    t.deepEqual(ids(second), newest.slice(1, 3));
    t.like(second, { total: 5, skip: 1, limit: 2 });
    t.deepEqual(ids(await list({ sortOrder: 'asc', limit: 1 })), [events[0]?.id]);
    t.deepEqual(
      ids(await list({ filters: { actorId: [actor] } })),
      [events[4], events[2], events[0]].map((e) => e?.id),
    );
    t.deepEqual(ids(await list({ filters: { actorType: ['system'] } })), [events[3]?.id]);
    t.deepEqual(
      ids(await list({ filters: { action: ['service.create', 'service.env_update'] } })),
      [events[2], events[0]].map((e) => e?.id),
    );
    t.deepEqual(
      ids(await list({ filters: { targetType: ['service'], targetId: [a.service.id] } })),
      [events[2], events[0]].map((e) => e?.id),
    );
    const range = await list({}, { from: at(11), to: at(13) });
    t.deepEqual(
      ids(range),
      [events[3], events[2], events[1]].map((e) => e?.id),
    );
    t.is(range.total, 3);
    t.deepEqual(ids(await list({}, { from: at(14) })), [events[4]?.id]);
    t.deepEqual(ids(await list({}, { to: at(10) })), [events[0]?.id]);
    t.is((await list({ filters: { action: ['project.update'] } }, { to: at(13) })).total, 1);
    await t.throwsAsync(
      getUow().run(a.tenant.id, (r) => r.audit.list(byTime({ filters: { summary: ['x'] } }))),
      INVALID,
    );
  });

  test(`${name}: the retention deletes old events of every tenant, oldest first, at most limit at a time`, async (t) => {
    const { a, b } = await seedTwoTenants(getUow());
    // Long before every other suite's events, which share the store.
    const old = (day: number) => new Date(Date.UTC(2001, 0, day));
    const aOld = [event(a.tenant.id, old(1)), event(a.tenant.id, old(3))];
    const bOld = event(b.tenant.id, old(2));
    const kept = event(a.tenant.id, old(20));
    await getUow().run(a.tenant.id, async (r) => {
      for (const e of [...aOld, kept]) await r.audit.add(e);
    });
    await getUow().run(b.tenant.id, (r) => r.audit.add(bOld));
    const before = old(10);
    t.is(await getUow().platform((p) => p.pruneAuditEvents(before, 2)), 2);
    const left = await getUow().run(a.tenant.id, (r) => r.audit.list(byTime({ sortOrder: 'asc' })));
    t.deepEqual(
      left.items.map((e) => e.id),
      [aOld[1]?.id, kept.id],
      'the two oldest (one of each tenant) went first',
    );
    t.is((await getUow().run(b.tenant.id, (r) => r.audit.list(byTime()))).total, 0);
    t.is(await getUow().platform((p) => p.pruneAuditEvents(before, 100)), 1);
    t.is(await getUow().platform((p) => p.pruneAuditEvents(before, 100)), 0);
    t.is(await getUow().platform((p) => p.pruneAuditEvents(before, 0)), 0);
    const rest = await getUow().run(a.tenant.id, (r) => r.audit.list(byTime()));
    t.deepEqual(
      rest.items.map((e) => e.id),
      [kept.id],
    );
  });
}

/** Every repository contract against one implementation. Call it once per test file. */
export function repositoryContracts(
  label: string,
  factory: RepositoryFactory,
  options: RepositoryContractOptions = {},
): void {
  let subject: RepositorySubject | undefined;
  test.before(async () => {
    subject = await factory();
  });
  test.after.always(async () => {
    await subject?.close?.();
  });
  const getUow = () => {
    if (subject === undefined) throw new Error('the repository factory did not run');
    return subject.uow;
  };
  allScopedRepositoryContracts(label, getUow);
  listQueryContract(label, getUow);
  repositorySpecificsContract(label, getUow);
  auditEventRepositoryContract(label, getUow);
  unitOfWorkContract(label, getUow, options);
}
