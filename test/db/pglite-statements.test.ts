import { randomUUID } from 'node:crypto';
import { createDatabase } from '@shipyard/adapters-db';
import { hasMultipleStatements } from '@shipyard/adapters-db/testing';
import { Build, Project, Service, Tenant } from '@shipyard/core';
import test from 'ava';

test('a semicolon inside literals, identifiers, dollar quotes or comments is not a statement boundary', (t) => {
  t.false(hasMultipleStatements("update builds set logs = 'a; b' where id = 1"));
  t.false(hasMultipleStatements("update builds set logs = 'it''s; fine' where id = 1;"));
  t.false(hasMultipleStatements("select E'a\\'; b'"));
  t.false(hasMultipleStatements('select 1 as "odd;name"'));
  t.false(hasMultipleStatements('select $body$ a; b $body$'));
  t.false(hasMultipleStatements('select 1 -- a; b\n'));
  t.false(hasMultipleStatements('select /* a; b */ 1'));
  t.false(hasMultipleStatements(';;select 1;;'));
  t.true(hasMultipleStatements('create table a (x int); create index on a (x);'));
  t.true(hasMultipleStatements("insert into a values ('x;'); select 1"));
});

test('on PGlite, values with semicolons update under optimistic locking and round-trip', async (t) => {
  const db = await createDatabase({});
  t.teardown(() => db.close());
  await db.migrate();
  const now = new Date('2026-05-01T00:00:00.000Z');
  const id = () => ({ id: randomUUID(), now });
  const tenant = Tenant.create(id(), { name: 'Semi; colon', slug: `semi-${randomUUID().slice(0, 8)}` });
  const project = Project.create(id(), {
    tenantId: tenant.id,
    name: 'web; app',
    description: "x'; drop table builds; --",
  });
  const service = Service.create(id(), { projectId: project.id, name: 'api', repoUrl: 'https://git.test/a.git' });
  const build = Build.create(id(), { serviceId: service.id, branch: 'main' });
  await db.uow.run(tenant.id, async (r) => {
    await r.tenants.add(tenant);
    await r.projects.add(project);
    await r.services.add(service);
    await r.builds.add(build);
  });
  await db.uow.run(tenant.id, async (r) => {
    const stored = await r.builds.get(build.id);
    stored.start(now);
    stored.succeed('step 1; step 2\n$ npm ci; npm run build', { kind: 'directory', path: '/tmp/a;b' }, now);
    await r.builds.update(stored);
  });
  const after = await db.uow.run(tenant.id, (r) => r.builds.get(build.id));
  t.is(after.status, 'succeeded');
  t.is(after.logs, 'step 1; step 2\n$ npm ci; npm run build');
  const storedProject = await db.uow.run(tenant.id, (r) => r.projects.get(project.id));
  t.is(storedProject.description, "x'; drop table builds; --");
  t.is(await db.uow.run(tenant.id, (r) => r.builds.count()), 1);
});
