// Row-level security, the database's own wall between tenants: what the catalog holds, what the
// application role may do with raw SQL, and migrations as a separate owner.
import { PGlite } from '@electric-sql/pglite';
import { createDatabase } from '@shipyard/adapters-db';
import { createScratchPostgres, openScratchDatabase } from '@shipyard/adapters-db/testing';
import { Project } from '@shipyard/core';
import test from 'ava';
import pg from 'pg';
import { Stamps, seedTwoTenants } from '../contracts/fixtures.js';
import { temporaryDirectory } from './helpers.js';

type Query = (sql: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The database URL of `name` as `user`. */
function urlAs(base: string, user: string): string {
  const url = new URL(base);
  url.username = user;
  url.password = '';
  return url.toString();
}

async function connect(url: string): Promise<{ query: Query; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  // A scratch database dropped under an idle client ends its session: not this test's failure.
  client.on('error', () => undefined);
  await client.connect();
  return {
    query: async (sql, values = []) => (await client.query(sql, values)).rows,
    close: () => client.end(),
  };
}

/** What the catalog must hold on either engine: every table but the migrations' own under forced RLS. */
async function assertCatalog(t: import('ava').ExecutionContext, query: Query): Promise<void> {
  const tables = await query(
    `select c.relname as "name", c.relrowsecurity as "enabled", c.relforcerowsecurity as "forced",
            (select count(*)::int from pg_policy p where p.polrelid = c.oid and p.polroles = '{0}' and p.polqual is not null and p.polwithcheck is not null) as "tenantPolicies"
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and c.relname <> 'mikro_orm_migrations'
      order by c.relname`,
  );
  t.true(tables.length >= 12, 'every tenant table is listed');
  for (const table of tables) {
    t.true(table.enabled, `${table.name}: row-level security enabled`);
    t.true(table.forced, `${table.name}: row-level security forced (the owner too)`);
    t.is(table.tenantPolicies, 1, `${table.name}: one tenant policy for everyone, with USING and WITH CHECK`);
  }
  const [role] = await query(
    `select r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.rolcreaterole, r.rolcreatedb,
            (select count(*)::int from pg_class c where c.relowner = r.oid) as "owned"
       from pg_roles r where r.rolname = current_database() || '_app'`,
  );
  t.truthy(role, 'the application role exists');
  t.false(role?.rolsuper);
  t.false(role?.rolbypassrls);
  t.false(role?.rolcanlogin);
  t.false(role?.rolcreaterole);
  t.false(role?.rolcreatedb);
  t.is(role?.owned, 0, 'the application role owns nothing');
  const definers = await query(
    `select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.prosecdef order by p.proname`,
  );
  t.true(definers.length > 0);
  for (const fn of definers) t.regex(String(fn.proname), /^shipyard_/, 'the platform paths are the named functions');
}

test('PostgreSQL: every table with tenant data has row-level security forced and a tenant policy', async (t) => {
  const subject = await openScratchDatabase({ scratch: { prefix: 'shipyard_rls_test' } });
  t.teardown(() => subject.close());
  const admin = await connect(subject.scratch.url);
  t.teardown(() => admin.close());
  await assertCatalog(t, admin.query);
});

test('PostgreSQL: the application role sees and writes only the tenant its connection is set to, and cannot leave it', async (t) => {
  const subject = await openScratchDatabase({ scratch: { prefix: 'shipyard_rls_test' } });
  const login = `${subject.scratch.name}_login`;
  const admin = await connect(ADMIN_URL);
  t.teardown(async () => {
    await admin.query(`drop role if exists "${login}"`).catch(() => undefined);
    await admin.close();
    await subject.close();
  });
  const { a, b } = await seedTwoTenants(subject.database.uow);
  await admin.query(`create role "${login}" login in role "${subject.scratch.name}_app"`);
  const app = await connect(urlAs(subject.scratch.url, login));
  t.teardown(() => app.close());
  const setTenant = (id: string) => app.query(`select set_config('app.tenant_id', $1, false)`, [id]);

  // Without a tenant, no tenant row at all.
  for (const table of ['tenants', 'users', 'projects', 'services', 'builds', 'deployments', 'teams', 'team_members']) {
    const [row] = await app.query(`select count(*)::int as n from "${table}"`);
    t.is(row?.n, 0, `${table}: nothing without a tenant`);
  }

  await setTenant(a.tenant.id);
  const projects = await app.query('select "id", "tenant_id" from "projects"');
  t.deepEqual(
    projects.map((row) => row.id),
    [a.project.id],
  );
  t.deepEqual(await app.query('select "id" from "projects" where "tenant_id" = $1', [b.tenant.id]), []);
  t.deepEqual(await app.query('select "id" from "builds" where "id" = $1', [b.build.id]), [], 'chain tables too');
  t.deepEqual(
    (await app.query('select "id" from "deployments"')).map((row) => row.id),
    [a.deployment.id],
  );
  const updated = await app.query('update "projects" set "name" = \'taken\' where "id" = $1 returning "id"', [
    b.project.id,
  ]);
  t.deepEqual(updated, [], "another tenant's row cannot be updated");
  const deleted = await app.query('delete from "services" where "id" = $1 returning "id"', [b.service.id]);
  t.deepEqual(deleted, [], "another tenant's row cannot be deleted");

  // Writing a row into another tenant, or under another tenant's parent, is refused.
  const stamps = new Stamps();
  const stranger = Project.create(stamps.next(), { tenantId: b.tenant.id, name: 'Planted' });
  const insert = (tenantId: string) =>
    app.query(
      'insert into "projects" ("id", "tenant_id", "name", "created_at", "updated_at") values ($1, $2, $3, now(), now())',
      [stranger.id, tenantId, stranger.name],
    );
  await t.throwsAsync(insert(b.tenant.id), { message: /row-level security/ });
  await t.throwsAsync(
    app.query(
      `insert into "services" ("id", "project_id", "name", "repo_url", "branch", "auto_deploy", "env", "status", "created_at", "updated_at")
       values (gen_random_uuid(), $1, 'planted', 'https://git.test/x.git', 'main', false, '{}', 'idle', now(), now())`,
      [b.project.id],
    ),
    { message: /row-level security/ },
  );
  const [movedAway] = await app
    .query('update "projects" set "tenant_id" = $1 where "id" = $2 returning "id"', [b.tenant.id, a.project.id])
    .catch((error: Error) => [{ error: error.message }]);
  t.regex(String(movedAway?.error), /row-level security/, 'a row cannot be moved to another tenant');

  // The role cannot leave the wall: no other role, no turning RLS off, no owner's privileges.
  await t.throwsAsync(app.query('set role postgres'), { message: /permission denied/ });
  await t.throwsAsync(app.query('alter table "projects" disable row level security'), { message: /must be owner/ });
  await t.throwsAsync(app.query('alter table "projects" no force row level security'), { message: /must be owner/ });
  await t.throwsAsync(app.query('drop policy "projects_tenant_isolation" on "projects"'), { message: /must be owner/ });
  await t.throwsAsync(app.query('create table "stolen" (x int)'), { message: /permission denied/ });
  // The audit trail is append-only for the server.
  await t.throwsAsync(app.query('delete from "audit_events"'), { message: /permission denied/ });
  await t.throwsAsync(app.query('update "audit_events" set "action" = \'x\''), { message: /permission denied/ });
  await t.throwsAsync(app.query('truncate "audit_events"'), { message: /permission denied/ });

  // The platform paths answer only what they are for: ids across tenants, never rows.
  const [byEmail] = await app.query('select * from shipyard_user_by_email($1)', [b.owner.email.toLowerCase()]);
  t.deepEqual(byEmail, { id: b.owner.id, tenant_id: b.tenant.id });
  t.deepEqual(await app.query('select "id" from "users" where "id" = $1', [b.owner.id]), []);
});

test('PostgreSQL: migrations run as the owner on DATABASE_MIGRATION_URL; the server connects as a member of the application role', async (t) => {
  const scratch = await createScratchPostgres({ prefix: 'shipyard_rls_test' });
  const login = `${scratch.name}_server`;
  const admin = await connect(ADMIN_URL);
  await admin.query(`create role "${login}" login`);
  const database = await createDatabase({ url: urlAs(scratch.url, login), migrationUrl: scratch.url });
  t.teardown(async () => {
    await database.close();
    await admin.query(`drop role if exists "${login}"`);
    await admin.close();
    await scratch.drop();
  });
  t.true((await database.migrate()).length > 0, 'the owner applies every migration');

  // Not a member yet: every unit is refused with what to grant, and nothing runs as the login itself.
  const refused = await t.throwsAsync(database.checkApplicationRole(), { name: 'ApplicationRoleError' });
  t.true(refused?.message.includes(`GRANT "${scratch.name}_app" TO "${login}"`), refused?.message);
  await t.throwsAsync(
    database.uow.platform((p) => p.tenantSlugExists('nobody')),
    { code: 'service_unavailable' },
  );

  await admin.query(`grant "${scratch.name}_app" to "${login}"`);
  await database.checkApplicationRole();
  t.deepEqual(await database.pendingMigrations(), []);
  const { a, b } = await seedTwoTenants(database.uow);
  t.is((await database.uow.run(a.tenant.id, (r) => r.projects.get(a.project.id))).id, a.project.id);
  t.is(await database.uow.run(a.tenant.id, (r) => r.projects.find(b.project.id)), null);
  t.true(await database.uow.platform((p) => p.tenantSlugExists(b.tenant.slug)));
  const owner = await connect(scratch.url);
  t.teardown(() => owner.close());
  const [tables] = await owner.query(
    `select count(*)::int as n from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = $1`,
    [login],
  );
  t.is(tables?.n, 0, 'the server user owns no table');
});

test('PGlite: the same policies, and the embedded server runs as its application role', async (t) => {
  const directory = await temporaryDirectory();
  t.teardown(() => directory.remove());
  const database = await createDatabase({ dataDir: directory.path });
  await database.migrate();
  const { a, b } = await seedTwoTenants(database.uow);
  t.is(await database.uow.run(a.tenant.id, (r) => r.projects.find(b.project.id)), null);
  await database.close();

  const raw = new PGlite(directory.path);
  t.teardown(() => raw.close());
  const query: Query = async (sql, values = []) => (await raw.query<Record<string, unknown>>(sql, values)).rows;
  await assertCatalog(t, query);
  // PGlite's one database is template1.
  await query('set role template1_app');
  await query(`select set_config('app.tenant_id', $1, false)`, [a.tenant.id]);
  t.deepEqual(
    (await query('select "id" from "projects"')).map((row) => row.id),
    [a.project.id],
  );
  t.deepEqual(await query('select "id" from "builds" where "id" = $1', [b.build.id]), []);
});
