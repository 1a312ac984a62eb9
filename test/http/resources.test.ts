import test from 'ava';
import type { Response } from 'supertest';
import { bearer, TestApp } from './fixture.js';
import { assertError, fieldsOf, MISSING_ID } from './helpers.js';

const V1 = '/api/v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Exactly these keys (the wire is an allow-list), with a UUID id and ISO timestamps. */
function assertResource(t: import('ava').ExecutionContext, body: Record<string, unknown>, keys: string[]): void {
  t.deepEqual(Object.keys(body).sort(), [...keys, 'id', 'created_at', 'updated_at'].sort());
  t.regex(String(body.id), UUID);
  t.regex(String(body.created_at), ISO);
  t.regex(String(body.updated_at), ISO);
}

const USER_KEYS = ['tenant_id', 'email', 'full_name', 'role', 'is_active', 'last_login_at', 'email_verified_at'];
const PROJECT_KEYS = ['tenant_id', 'team_id', 'name', 'description'];
const SERVICE_KEYS = [
  'project_id',
  'name',
  'repo_url',
  'branch',
  'build_command',
  'start_command',
  'port',
  'auto_deploy',
  'health_check_path',
  'status',
];
const BUILD_KEYS = [
  'service_id',
  'commit_sha',
  'branch',
  'status',
  'attempt',
  'logs',
  'error',
  'started_at',
  'finished_at',
];
const DEPLOYMENT_KEYS = ['service_id', 'build_id', 'status', 'attempt', 'url', 'error', 'started_at', 'finished_at'];

function assertPage(t: import('ava').ExecutionContext, res: Response, total: number, skip = 0, limit = 100): void {
  t.deepEqual(Object.keys(res.body).sort(), ['items', 'limit', 'skip', 'total']);
  t.true(Array.isArray(res.body.items));
  t.like(res.body, { total, skip, limit });
}

/** A tenant with an owner, and helpers that create its rows through the API. */
async function setup() {
  const api = new TestApp();
  const owner = await api.register();
  const auth = bearer(owner);
  const tick = () => api.harness.clock.advance(1000);
  const project = async (body: Record<string, unknown> = {}) => {
    tick();
    return (
      await api.http
        .post(`${V1}/projects`)
        .set(auth)
        .send({ name: 'Web', ...body })
        .expect(201)
    ).body;
  };
  const service = async (projectId: string, body: Record<string, unknown> = {}) => {
    tick();
    return (
      await api.http
        .post(`${V1}/projects/${projectId}/services`)
        .set(auth)
        .send({ name: 'api', repo_url: 'https://github.com/acme/api.git', ...body })
        .expect(201)
    ).body;
  };
  const build = async (serviceId: string, body: Record<string, unknown> = {}) => {
    tick();
    return (await api.http.post(`${V1}/services/${serviceId}/builds`).set(auth).send(body).expect(202)).body;
  };
  return { api, owner, auth, tick, project, service, build };
}

// ---------------------------------------------------------------- tenant

test('GET and PATCH /tenant', async (t) => {
  const { api, owner, auth } = await setup();
  const got = await api.http.get(`${V1}/tenant`).set(auth).expect(200);
  t.deepEqual(Object.keys(got.body).sort(), ['created_at', 'id', 'name', 'slug', 'updated_at']);
  t.is(got.body.id, owner.tenantId);
  const patched = await api.http.patch(`${V1}/tenant`).set(auth).send({ name: 'Renamed', slug: 'renamed' }).expect(200);
  t.like(patched.body, { id: owner.tenantId, name: 'Renamed', slug: 'renamed' });
  t.like((await api.http.get(`${V1}/tenant`).set(auth).expect(200)).body, { name: 'Renamed', slug: 'renamed' });

  const unknown = await api.http.patch(`${V1}/tenant`).set(auth).send({ name: 'X', id: MISSING_ID });
  assertError(t, unknown, 422, 'validation_error');
  t.deepEqual(unknown.body.error.details, [{ field: 'id', message: 'is not allowed' }]);
  const wrongType = await api.http.patch(`${V1}/tenant`).set(auth).send({ name: 42 });
  assertError(t, wrongType, 422, 'validation_error');
  t.deepEqual(fieldsOf(wrongType), ['name']);
});

// ---------------------------------------------------------------- users

test('users: create, list, read, change, delete; never a password hash', async (t) => {
  const { api, owner, auth, tick } = await setup();
  const bodies: unknown[] = [];
  tick();
  const created = await api.http
    .post(`${V1}/users`)
    .set(auth)
    .send({ email: 'Dev@Example.test', password: 'correct horse battery', role: 'member', full_name: 'Dev' })
    .expect(201);
  bodies.push(created.body);
  assertResource(t, created.body, USER_KEYS);
  t.like(created.body, {
    tenant_id: owner.tenantId,
    email: 'dev@example.test',
    full_name: 'Dev',
    role: 'member',
    is_active: true,
    last_login_at: null,
  });
  tick();
  const viewer = await api.http
    .post(`${V1}/users`)
    .set(auth)
    .send({ email: 'view@example.test', password: 'correct horse battery', role: 'viewer' })
    .expect(201);

  const list = await api.http.get(`${V1}/users`).set(auth).expect(200);
  bodies.push(list.body);
  assertPage(t, list, 3);
  t.deepEqual(
    list.body.items.map((u: { email: string }) => u.email),
    ['view@example.test', 'dev@example.test', owner.email],
    'newest first by default',
  );
  for (const item of list.body.items) assertResource(t, item, USER_KEYS);
  const roles = await api.http.get(`${V1}/users?role=viewer&role=member&sort_by=email&sort_order=asc`).set(auth);
  t.is(roles.status, 200);
  t.deepEqual(
    roles.body.items.map((u: { email: string }) => u.email),
    ['dev@example.test', 'view@example.test'],
  );
  t.is(roles.body.total, 2);

  const one = await api.http.get(`${V1}/users/${created.body.id}`).set(auth).expect(200);
  bodies.push(one.body);
  t.deepEqual(one.body, created.body);
  const me = await api.http.get(`${V1}/auth/me`).set(auth).expect(200);
  bodies.push(me.body);

  tick();
  const changed = await api.http
    .patch(`${V1}/users/${created.body.id}`)
    .set(auth)
    .send({ full_name: 'Developer', role: 'admin', is_active: false })
    .expect(200);
  bodies.push(changed.body);
  t.like(changed.body, { id: created.body.id, full_name: 'Developer', role: 'admin', is_active: false });
  t.not(changed.body.updated_at, created.body.updated_at);

  await api.http.delete(`${V1}/users/${viewer.body.id}`).set(auth).expect(204);
  assertError(t, await api.http.get(`${V1}/users/${viewer.body.id}`).set(auth), 404, 'not_found');
  assertError(t, await api.http.delete(`${V1}/users/${viewer.body.id}`).set(auth), 404, 'not_found');

  const serialized = JSON.stringify(bodies);
  t.false(serialized.includes('password'));
  t.false(serialized.includes('hash'));
  t.false(serialized.includes('correct horse battery'));
});

test('users: unknown fields, wrong types, a taken email', async (t) => {
  const { api, auth, owner } = await setup();
  const good = { email: 'u@example.test', password: 'correct horse battery', role: 'member' };
  const unknown = await api.http
    .post(`${V1}/users`)
    .set(auth)
    .send({ ...good, password_hash: 'x', tenant_id: MISSING_ID });
  assertError(t, unknown, 422, 'validation_error');
  t.deepEqual(fieldsOf(unknown).sort(), ['password_hash', 'tenant_id']);
  const role = await api.http
    .post(`${V1}/users`)
    .set(auth)
    .send({ ...good, role: 'superuser' });
  assertError(t, role, 422, 'validation_error');
  t.deepEqual(fieldsOf(role), ['role']);
  const types = await api.http.patch(`${V1}/users/${owner.userId}`).set(auth).send({ is_active: 'yes', full_name: 7 });
  assertError(t, types, 422, 'validation_error');
  t.deepEqual(fieldsOf(types).sort(), ['full_name', 'is_active']);
  const patchUnknown = await api.http.patch(`${V1}/users/${owner.userId}`).set(auth).send({ email: 'x@example.test' });
  assertError(t, patchUnknown, 422, 'validation_error');
  t.deepEqual(fieldsOf(patchUnknown), ['email']);
  await api.http.post(`${V1}/users`).set(auth).send(good).expect(201);
  assertError(
    t,
    await api.http
      .post(`${V1}/users`)
      .set(auth)
      .send({ ...good, email: 'U@example.test' }),
    409,
    'conflict',
  );
});

// ---------------------------------------------------------------- teams

test('teams and members: create, list, read with members, rename, add and remove a member, delete', async (t) => {
  const { api, owner, auth, tick } = await setup();
  const member = await api.userWithRole(owner, 'member');
  tick();
  const team = await api.http.post(`${V1}/teams`).set(auth).send({ name: 'Platform' }).expect(201);
  assertResource(t, team.body, ['owner_id', 'name']);
  t.like(team.body, { owner_id: owner.userId, name: 'Platform' });
  tick();
  const other = await api.http
    .post(`${V1}/teams`)
    .set(auth)
    .send({ name: 'Apps', owner_id: member.userId })
    .expect(201);
  t.is(other.body.owner_id, member.userId);

  const list = await api.http.get(`${V1}/teams`).set(auth).expect(200);
  assertPage(t, list, 2);
  t.deepEqual(
    list.body.items.map((x: { name: string }) => x.name),
    ['Apps', 'Platform'],
  );
  const asc = await api.http.get(`${V1}/teams?sort_order=asc`).set(auth).expect(200);
  t.deepEqual(
    asc.body.items.map((x: { name: string }) => x.name),
    ['Platform', 'Apps'],
  );
  const byOwner = await api.http.get(`${V1}/teams?owner_id=${member.userId}`).set(auth).expect(200);
  t.deepEqual(
    byOwner.body.items.map((x: { id: string }) => x.id),
    [other.body.id],
  );

  const added = await api.http
    .post(`${V1}/teams/${team.body.id}/members`)
    .set(auth)
    .send({ user_id: member.userId, role: 'maintainer' })
    .expect(201);
  assertResource(t, added.body, ['team_id', 'user_id', 'role']);
  t.like(added.body, { team_id: team.body.id, user_id: member.userId, role: 'maintainer' });
  assertError(
    t,
    await api.http.post(`${V1}/teams/${team.body.id}/members`).set(auth).send({ user_id: member.userId }),
    409,
    'conflict',
  );
  const read = await api.http.get(`${V1}/teams/${team.body.id}`).set(auth).expect(200);
  t.like(read.body, { id: team.body.id, name: 'Platform' });
  t.deepEqual(read.body.members, [added.body]);

  const renamed = await api.http.patch(`${V1}/teams/${team.body.id}`).set(auth).send({ name: 'Core' }).expect(200);
  t.like(renamed.body, { id: team.body.id, name: 'Core', owner_id: owner.userId });

  await api.http.delete(`${V1}/teams/${team.body.id}/members/${member.userId}`).set(auth).expect(204);
  t.deepEqual((await api.http.get(`${V1}/teams/${team.body.id}`).set(auth).expect(200)).body.members, []);
  assertError(
    t,
    await api.http.delete(`${V1}/teams/${team.body.id}/members/${member.userId}`).set(auth),
    404,
    'not_found',
  );

  await api.http.delete(`${V1}/teams/${team.body.id}`).set(auth).expect(204);
  assertError(t, await api.http.get(`${V1}/teams/${team.body.id}`).set(auth), 404, 'not_found');
  t.is((await api.http.get(`${V1}/teams`).set(auth).expect(200)).body.total, 1);
});

test('teams: unknown fields and wrong types', async (t) => {
  const { api, auth } = await setup();
  const team = await api.http.post(`${V1}/teams`).set(auth).send({ name: 'T' }).expect(201);
  const unknown = await api.http.post(`${V1}/teams`).set(auth).send({ name: 'T2', members: [] });
  assertError(t, unknown, 422, 'validation_error');
  t.deepEqual(fieldsOf(unknown), ['members']);
  const owner = await api.http.post(`${V1}/teams`).set(auth).send({ name: 'T2', owner_id: 'me' });
  assertError(t, owner, 422, 'validation_error');
  t.deepEqual(fieldsOf(owner), ['owner_id']);
  const patch = await api.http
    .patch(`${V1}/teams/${team.body.id}`)
    .set(auth)
    .send({ name: ['x'] });
  assertError(t, patch, 422, 'validation_error');
  t.deepEqual(fieldsOf(patch), ['name']);
  const member = await api.http
    .post(`${V1}/teams/${team.body.id}/members`)
    .set(auth)
    .send({ user_id: MISSING_ID, role: 'boss' });
  assertError(t, member, 422, 'validation_error');
  t.deepEqual(fieldsOf(member), ['role']);
  const memberUnknown = await api.http
    .post(`${V1}/teams/${team.body.id}/members`)
    .set(auth)
    .send({ user_id: MISSING_ID, team_id: team.body.id });
  assertError(t, memberUnknown, 422, 'validation_error');
  t.deepEqual(fieldsOf(memberUnknown), ['team_id']);
  // A user that does not exist cannot be added.
  assertError(
    t,
    await api.http.post(`${V1}/teams/${team.body.id}/members`).set(auth).send({ user_id: MISSING_ID }),
    404,
    'not_found',
  );
});

// ---------------------------------------------------------------- projects

test('projects: create, list, read, change, delete', async (t) => {
  const { api, owner, auth, project, tick } = await setup();
  const team = await api.http.post(`${V1}/teams`).set(auth).send({ name: 'T' }).expect(201);
  const first = await project({ name: 'Alpha', description: 'first', team_id: team.body.id });
  assertResource(t, first, PROJECT_KEYS);
  t.like(first, { tenant_id: owner.tenantId, team_id: team.body.id, name: 'Alpha', description: 'first' });
  const second = await project({ name: 'Beta' });
  t.like(second, { team_id: null, description: null });

  const list = await api.http.get(`${V1}/projects`).set(auth).expect(200);
  assertPage(t, list, 2);
  t.deepEqual(list.body.items, [second, first]);
  const byTeam = await api.http.get(`${V1}/projects?team_id=${team.body.id}`).set(auth).expect(200);
  t.deepEqual(byTeam.body.items, [first]);

  t.deepEqual((await api.http.get(`${V1}/projects/${first.id}`).set(auth).expect(200)).body, first);
  tick();
  const changed = await api.http
    .patch(`${V1}/projects/${first.id}`)
    .set(auth)
    .send({ name: 'Alpha 2', description: null, team_id: null })
    .expect(200);
  t.like(changed.body, { id: first.id, name: 'Alpha 2', description: null, team_id: null });
  t.true(changed.body.updated_at > first.updated_at);
  t.is(changed.body.created_at, first.created_at);

  await api.http.delete(`${V1}/projects/${first.id}`).set(auth).expect(204);
  assertError(t, await api.http.get(`${V1}/projects/${first.id}`).set(auth), 404, 'not_found');
  t.is((await api.http.get(`${V1}/projects`).set(auth).expect(200)).body.total, 1);
});

test('projects: unknown fields, wrong types, a team that does not exist', async (t) => {
  const { api, auth, project } = await setup();
  const p = await project();
  const unknown = await api.http.post(`${V1}/projects`).set(auth).send({ name: 'X', tenant_id: MISSING_ID });
  assertError(t, unknown, 422, 'validation_error');
  t.deepEqual(unknown.body.error.details, [{ field: 'tenant_id', message: 'is not allowed' }]);
  const types = await api.http.post(`${V1}/projects`).set(auth).send({ name: 1, description: false });
  assertError(t, types, 422, 'validation_error');
  t.deepEqual(fieldsOf(types).sort(), ['description', 'name']);
  const missing = await api.http.post(`${V1}/projects`).set(auth).send({});
  assertError(t, missing, 422, 'validation_error');
  t.deepEqual(fieldsOf(missing), ['name']);
  const patch = await api.http.patch(`${V1}/projects/${p.id}`).set(auth).send({ id: MISSING_ID });
  assertError(t, patch, 422, 'validation_error');
  t.deepEqual(fieldsOf(patch), ['id']);
  const team = await api.http.post(`${V1}/projects`).set(auth).send({ name: 'X', team_id: 'team-1' });
  assertError(t, team, 422, 'validation_error');
  t.deepEqual(fieldsOf(team), ['team_id']);
  assertError(
    t,
    await api.http.post(`${V1}/projects`).set(auth).send({ name: 'X', team_id: MISSING_ID }),
    404,
    'not_found',
  );
  t.is((await api.http.get(`${V1}/projects`).set(auth).expect(200)).body.total, 1, 'nothing was created');
});

// ---------------------------------------------------------------- list queries

test('lists: skip and limit page; sort_order=asc reverses; sort_by sorts', async (t) => {
  const { api, auth, project } = await setup();
  const made = [];
  for (const name of ['c', 'a', 'd', 'b']) made.push(await project({ name }));
  const ids = (res: Response) => res.body.items.map((p: { id: string }) => p.id);

  const desc = await api.http.get(`${V1}/projects`).set(auth).expect(200);
  t.deepEqual(ids(desc), made.map((p) => p.id).reverse());
  const asc = await api.http.get(`${V1}/projects?sort_order=asc`).set(auth).expect(200);
  t.deepEqual(
    ids(asc),
    made.map((p) => p.id),
  );
  const byName = await api.http.get(`${V1}/projects?sort_by=name&sort_order=asc`).set(auth).expect(200);
  t.deepEqual(
    byName.body.items.map((p: { name: string }) => p.name),
    ['a', 'b', 'c', 'd'],
  );
  const byNameDesc = await api.http.get(`${V1}/projects?sort_by=name`).set(auth).expect(200);
  t.deepEqual(
    byNameDesc.body.items.map((p: { name: string }) => p.name),
    ['d', 'c', 'b', 'a'],
  );
  const page = await api.http.get(`${V1}/projects?skip=1&limit=2&sort_order=asc`).set(auth).expect(200);
  assertPage(t, page, 4, 1, 2);
  t.deepEqual(
    ids(page),
    made.slice(1, 3).map((p) => p.id),
  );
  const max = await api.http.get(`${V1}/projects?limit=1000`).set(auth).expect(200);
  assertPage(t, max, 4, 0, 1000);
  const beyond = await api.http.get(`${V1}/projects?skip=10`).set(auth).expect(200);
  assertPage(t, beyond, 4, 10, 100);
  t.deepEqual(beyond.body.items, []);
  const byExactName = await api.http.get(`${V1}/projects?name=b&name=d&sort_by=name`).set(auth).expect(200);
  t.deepEqual(
    byExactName.body.items.map((p: { name: string }) => p.name),
    ['d', 'b'],
  );
});

test('lists: bad limit, skip, sort_by, sort_order and unknown query params are 422 naming the parameter', async (t) => {
  const { api, auth, owner, project, service, build } = await setup();
  const p = await project();
  const s = await service(p.id);
  await build(s.id);
  const lists = [
    `${V1}/users`,
    `${V1}/teams`,
    `${V1}/projects`,
    `${V1}/projects/${p.id}/services`,
    `${V1}/services/${s.id}/builds`,
    `${V1}/services/${s.id}/deployments`,
  ];
  const cases: [string, string][] = [
    ['limit=1001', 'limit'],
    ['limit=0', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['skip=-1', 'skip'],
    ['sort_by=password_hash', 'sort_by'],
    ['sort_by=tenant_id', 'sort_by'],
    ['sort_order=up', 'sort_order'],
    ['color=red', 'color'],
    [`tenant_id=${owner.tenantId}`, 'tenant_id'],
  ];
  for (const list of lists) {
    await api.http.get(list).set(auth).expect(200);
    for (const [query, field] of cases) {
      const res = await api.http.get(`${list}?${query}`).set(auth);
      assertError(t, res, 422, 'validation_error');
      t.true(fieldsOf(res).includes(field), `${list}?${query} names ${field}: ${JSON.stringify(fieldsOf(res))}`);
    }
  }
  // The column that the path fixes is not a filter there.
  const scoped = await api.http.get(`${V1}/services/${s.id}/builds?service_id=${s.id}`).set(auth);
  assertError(t, scoped, 422, 'validation_error');
  t.deepEqual(fieldsOf(scoped), ['service_id']);
  // A filter value outside its allow-list.
  const status = await api.http.get(`${V1}/services/${s.id}/builds?status=done`).set(auth);
  assertError(t, status, 422, 'validation_error');
  t.deepEqual(fieldsOf(status), ['status']);
  // Routes that take no query reject one too.
  for (const path of [`${V1}/tenant`, `${V1}/projects/${p.id}`, `${V1}/services/${s.id}`]) {
    const res = await api.http.get(`${path}?debug=1`).set(auth);
    assertError(t, res, 422, 'validation_error');
    t.deepEqual(fieldsOf(res), ['debug']);
  }
});

// ---------------------------------------------------------------- services

test('services: create with defaults, list, read, change, delete; no env values in the body', async (t) => {
  const { api, auth, project, service, tick } = await setup();
  const p = await project();
  const s = await service(p.id);
  assertResource(t, s, SERVICE_KEYS);
  t.like(s, {
    project_id: p.id,
    name: 'api',
    repo_url: 'https://github.com/acme/api.git',
    branch: 'main',
    build_command: null,
    start_command: null,
    port: null,
    auto_deploy: false,
    health_check_path: null,
    status: 'idle',
  });
  const full = await service(p.id, {
    name: 'web',
    repo_url: 'https://github.com/acme/web.git',
    branch: 'develop',
    build_command: 'npm run build',
    start_command: 'npm start',
    port: 8080,
    auto_deploy: true,
  });
  t.like(full, { branch: 'develop', build_command: 'npm run build', start_command: 'npm start', port: 8080 });
  t.true(full.auto_deploy);

  const list = await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200);
  assertPage(t, list, 2);
  t.deepEqual(list.body.items, [full, s]);
  const filtered = await api.http.get(`${V1}/projects/${p.id}/services?auto_deploy=true`).set(auth).expect(200);
  t.deepEqual(filtered.body.items, [full]);
  t.deepEqual((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body, s);

  tick();
  const changed = await api.http
    .patch(`${V1}/services/${s.id}`)
    .set(auth)
    .send({ branch: 'release', port: 3000, auto_deploy: true, build_command: null })
    .expect(200);
  t.like(changed.body, { id: s.id, name: 'api', branch: 'release', port: 3000, auto_deploy: true });

  await api.http.delete(`${V1}/services/${s.id}`).set(auth).expect(204);
  assertError(t, await api.http.get(`${V1}/services/${s.id}`).set(auth), 404, 'not_found');
  t.is((await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200)).body.total, 1);
  // Deleting the project takes its services with it.
  await api.http.delete(`${V1}/projects/${p.id}`).set(auth).expect(204);
  assertError(t, await api.http.get(`${V1}/services/${full.id}`).set(auth), 404, 'not_found');
});

test('services: unknown fields and wrong types', async (t) => {
  const { api, auth, project, service } = await setup();
  const p = await project();
  const s = await service(p.id);
  const good = { name: 'svc', repo_url: 'https://github.com/acme/x.git' };
  const cases: [Record<string, unknown>, string[]][] = [
    [{ ...good, env: { A: '1' } }, ['env']],
    [{ ...good, status: 'live' }, ['status']],
    [{ ...good, port: '8080' }, ['port']],
    [{ ...good, port: 70000 }, ['port']],
    [{ ...good, auto_deploy: 'yes' }, ['auto_deploy']],
    [{ ...good, name: 12 }, ['name']],
    [{ name: 'svc' }, ['repo_url']],
  ];
  for (const [body, fields] of cases) {
    const res = await api.http.post(`${V1}/projects/${p.id}/services`).set(auth).send(body);
    assertError(t, res, 422, 'validation_error');
    t.deepEqual(fieldsOf(res), fields, JSON.stringify(body));
  }
  const patch = await api.http.patch(`${V1}/services/${s.id}`).set(auth).send({ project_id: MISSING_ID });
  assertError(t, patch, 422, 'validation_error');
  t.deepEqual(fieldsOf(patch), ['project_id']);
  const patchType = await api.http.patch(`${V1}/services/${s.id}`).set(auth).send({ branch: 5 });
  assertError(t, patchType, 422, 'validation_error');
  t.deepEqual(fieldsOf(patchType), ['branch']);
  assertError(t, await api.http.post(`${V1}/projects/${MISSING_ID}/services`).set(auth).send(good), 404, 'not_found');
  t.is((await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200)).body.total, 1);
});

test('services: health_check_path is set on create, changed and cleared by PATCH, and checked (422)', async (t) => {
  const { api, auth, project, service } = await setup();
  const p = await project();
  const s = await service(p.id, { health_check_path: '/healthz' });
  t.is(s.health_check_path, '/healthz');
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.health_check_path, '/healthz');
  const list = await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200);
  t.is(list.body.items[0].health_check_path, '/healthz');
  const changed = await api.http
    .patch(`${V1}/services/${s.id}`)
    .set(auth)
    .send({ health_check_path: '/ready?full=1' })
    .expect(200);
  t.is(changed.body.health_check_path, '/ready?full=1');
  // A PATCH without the field leaves it alone.
  const other = await api.http.patch(`${V1}/services/${s.id}`).set(auth).send({ port: 8080 }).expect(200);
  t.is(other.body.health_check_path, '/ready?full=1');
  const cleared = await api.http
    .patch(`${V1}/services/${s.id}`)
    .set(auth)
    .send({ health_check_path: null })
    .expect(200);
  t.is(cleared.body.health_check_path, null);

  const good = { name: 'svc', repo_url: 'https://github.com/acme/x.git' };
  for (const value of ['no-slash', '//evil.example/x', '/with space', '/frag#x', 5]) {
    const created = await api.http
      .post(`${V1}/projects/${p.id}/services`)
      .set(auth)
      .send({ ...good, health_check_path: value });
    assertError(t, created, 422, 'validation_error');
    t.deepEqual(fieldsOf(created), ['health_check_path'], JSON.stringify(value));
    const patched = await api.http.patch(`${V1}/services/${s.id}`).set(auth).send({ health_check_path: value });
    assertError(t, patched, 422, 'validation_error');
    t.deepEqual(fieldsOf(patched), ['health_check_path'], JSON.stringify(value));
  }
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.health_check_path, null);
  t.is((await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200)).body.total, 1);
});

test('services: repository credentials are shown masked, never echoed, and kept by a PATCH of the masked URL', async (t) => {
  const { api, owner, auth, project, service } = await setup();
  const TOKEN = 'ghp_secret123';
  const WITH_TOKEN = `https://x-access-token:${TOKEN}@github.com/acme/web.git`;
  const MASKED = 'https://****@github.com/acme/web.git';
  const bodies: string[] = [];
  const keep = (res: Response) => {
    bodies.push(res.text);
    return res;
  };
  const p = await project();
  const created = await api.http
    .post(`${V1}/projects/${p.id}/services`)
    .set(auth)
    .send({ name: 'web', repo_url: WITH_TOKEN })
    .expect(201);
  keep(created);
  assertResource(t, created.body, SERVICE_KEYS);
  t.is(created.body.repo_url, MASKED);
  const id = created.body.id as string;
  const stored = async () => api.harness.uow.run(owner.tenantId, (repos) => repos.services.get(id));
  const ciphertext = (await stored()).repoCredentials;
  t.not(ciphertext, null, 'the credentials are stored');
  t.false(String(ciphertext).includes(TOKEN), 'and not in the clear');
  t.false((await stored()).repoUrl.includes(TOKEN), 'the stored URL has none');

  t.is(keep(await api.http.get(`${V1}/services/${id}`).set(auth).expect(200)).body.repo_url, MASKED);
  const list = keep(await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200));
  t.deepEqual(
    list.body.items.map((s: { repo_url: string }) => s.repo_url),
    [MASKED],
  );

  // Read and written back: the masked URL keeps the credentials.
  const patched = keep(
    await api.http.patch(`${V1}/services/${id}`).set(auth).send({ repo_url: MASKED, branch: 'release' }).expect(200),
  );
  t.like(patched.body, { repo_url: MASKED, branch: 'release' });
  t.is((await stored()).repoCredentials, ciphertext, 'the same credentials are kept');
  const whole = keep(await api.http.get(`${V1}/services/${id}`).set(auth).expect(200)).body;
  const { id: _id, created_at: _c, updated_at: _u, project_id: _p, status: _s, ...settings } = whole;
  const roundTrip = keep(await api.http.patch(`${V1}/services/${id}`).set(auth).send(settings).expect(200));
  t.is(roundTrip.body.repo_url, MASKED);
  t.is((await stored()).repoCredentials, ciphertext);

  // Masked credentials a service does not have are refused.
  const plain = await service(p.id, { name: 'plain' });
  t.is(plain.repo_url, 'https://github.com/acme/api.git');
  const bogus = keep(
    await api.http
      .patch(`${V1}/services/${plain.id}`)
      .set(auth)
      .send({ repo_url: 'https://****@github.com/acme/api.git' }),
  );
  assertError(t, bogus, 422, 'validation_error');
  t.deepEqual(fieldsOf(bogus), ['repo_url']);

  // A URL without credentials drops them.
  const dropped = keep(
    await api.http
      .patch(`${V1}/services/${id}`)
      .set(auth)
      .send({ repo_url: 'https://github.com/acme/web.git' })
      .expect(200),
  );
  t.is(dropped.body.repo_url, 'https://github.com/acme/web.git');
  t.is((await stored()).repoCredentials, null);
  // New credentials replace them.
  const again = keep(
    await api.http
      .patch(`${V1}/services/${id}`)
      .set(auth)
      .send({ repo_url: `https://${TOKEN}@github.com/acme/web.git` })
      .expect(200),
  );
  t.is(again.body.repo_url, MASKED);

  for (const text of bodies) t.false(text.includes(TOKEN), `a response shows the token: ${text}`);
  t.true(bodies.length >= 8);
});

// ---------------------------------------------------------------- env

test('env: PUT and GET show names with **** and the plain value never appears in any response', async (t) => {
  const { api, auth, project, service } = await setup();
  const SECRET = 'sup3r-s3cret-value-4242';
  const OTHER = 'another-plain-token-9876';
  const seen: string[] = [];
  const keep = (res: Response) => {
    seen.push(JSON.stringify(res.headers), res.text ?? '');
    return res;
  };
  const p = await project();
  const s = await service(p.id, { auto_deploy: true });

  const empty = keep(await api.http.get(`${V1}/services/${s.id}/env`).set(auth).expect(200));
  t.deepEqual(empty.body, { vars: {} });
  const put = keep(
    await api.http
      .put(`${V1}/services/${s.id}/env`)
      .set(auth)
      .send({ vars: { DATABASE_URL: SECRET, API_KEY: OTHER } })
      .expect(200),
  );
  t.deepEqual(put.body, { vars: { API_KEY: '****', DATABASE_URL: '****' } });
  const got = keep(await api.http.get(`${V1}/services/${s.id}/env`).set(auth).expect(200));
  t.deepEqual(got.body, { vars: { API_KEY: '****', DATABASE_URL: '****' } });

  // Everything else that shows the service or what ran with its env.
  const one = keep(await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200));
  t.deepEqual(Object.keys(one.body).sort(), [...SERVICE_KEYS, 'id', 'created_at', 'updated_at'].sort());
  t.false('env' in one.body);
  keep(await api.http.get(`${V1}/projects/${p.id}/services`).set(auth).expect(200));
  keep(await api.http.patch(`${V1}/services/${s.id}`).set(auth).send({ port: 8080 }).expect(200));
  const b = keep(await api.http.post(`${V1}/services/${s.id}/builds`).set(auth).send({}).expect(202));
  await api.harness.drain();
  const built = keep(await api.http.get(`${V1}/builds/${b.body.id}`).set(auth).expect(200));
  t.is(built.body.status, 'succeeded');
  t.regex(built.body.logs, /2 env var/);
  keep(await api.http.get(`${V1}/services/${s.id}/builds`).set(auth).expect(200));
  const deployments = keep(await api.http.get(`${V1}/services/${s.id}/deployments`).set(auth).expect(200));
  t.is(deployments.body.items[0]?.status, 'live');
  keep(await api.http.get(`${V1}/deployments/${deployments.body.items[0].id}`).set(auth).expect(200));
  // The runner did get the plain values: the masking is the API's, not a lost value.
  t.is(api.harness.buildRunner.calls[0]?.env.DATABASE_URL, SECRET);

  // Replacing drops the old names.
  const replaced = keep(
    await api.http
      .put(`${V1}/services/${s.id}/env`)
      .set(auth)
      .send({ vars: { ONLY: SECRET } })
      .expect(200),
  );
  t.deepEqual(replaced.body, { vars: { ONLY: '****' } });
  // A bad request that carries the secret does not echo it either.
  const bad = keep(
    await api.http
      .put(`${V1}/services/${s.id}/env`)
      .set(auth)
      .send({ vars: { GOOD: SECRET, BAD: 42 } }),
  );
  assertError(t, bad, 422, 'validation_error');
  t.deepEqual(fieldsOf(bad), ['vars.BAD']);
  const extra = keep(
    await api.http
      .put(`${V1}/services/${s.id}/env`)
      .set(auth)
      .send({ vars: { GOOD: SECRET }, secret: SECRET }),
  );
  assertError(t, extra, 422, 'validation_error');
  t.deepEqual(fieldsOf(extra), ['secret']);
  const badName = keep(
    await api.http
      .put(`${V1}/services/${s.id}/env`)
      .set(auth)
      .send({ vars: { 'not a name': SECRET } }),
  );
  assertError(t, badName, 422, 'validation_error');
  t.deepEqual(fieldsOf(badName), ['vars.not a name']);
  const notObject = keep(await api.http.put(`${V1}/services/${s.id}/env`).set(auth).send({ vars: SECRET }));
  assertError(t, notObject, 422, 'validation_error');
  t.deepEqual(fieldsOf(notObject), ['vars']);

  for (const text of seen) {
    t.false(text.includes(SECRET), 'the plain value is in a response');
    t.false(text.includes(OTHER), 'the plain value is in a response');
  }
  t.true(seen.length >= 30);
});

// ---------------------------------------------------------------- builds

test('builds: trigger (202 queued), drain to succeeded with logs, list, read', async (t) => {
  const { api, auth, project, service, build } = await setup();
  const p = await project();
  const s = await service(p.id, { build_command: 'npm run build' });
  const queued = await build(s.id, { commit_sha: 'ABCDEF1', branch: 'feature' });
  assertResource(t, queued, BUILD_KEYS);
  t.like(queued, {
    service_id: s.id,
    commit_sha: 'abcdef1',
    branch: 'feature',
    status: 'queued',
    attempt: 0,
    error: null,
    started_at: null,
    finished_at: null,
  });
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'building');
  const plain = await build(s.id);
  t.like(plain, { branch: 'main', commit_sha: null });

  await api.harness.drain();
  const done = await api.http.get(`${V1}/builds/${queued.id}`).set(auth).expect(200);
  t.like(done.body, { id: queued.id, status: 'succeeded', attempt: 1, error: null });
  t.regex(done.body.started_at, ISO);
  t.regex(done.body.finished_at, ISO);
  t.regex(done.body.logs, /Build succeeded/);
  t.regex(done.body.logs, /npm run build/);
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'idle');

  const list = await api.http.get(`${V1}/services/${s.id}/builds`).set(auth).expect(200);
  assertPage(t, list, 2);
  t.deepEqual(
    list.body.items.map((b: { id: string }) => b.id),
    [plain.id, queued.id],
  );
  for (const item of list.body.items) t.is(item.status, 'succeeded');
});

test('builds: a failing command fails the build; repeated status filters are an IN', async (t) => {
  const { api, auth, project, service, build } = await setup();
  const p = await project();
  const s = await service(p.id);
  const ok = await build(s.id);
  await api.harness.drain();
  await api.http.patch(`${V1}/services/${s.id}`).set(auth).send({ build_command: 'exit 1' }).expect(200);
  const failed = await build(s.id);
  await api.harness.drain();
  const failedBody = (await api.http.get(`${V1}/builds/${failed.id}`).set(auth).expect(200)).body;
  t.like(failedBody, { status: 'failed' });
  t.regex(failedBody.error, /non-zero/);
  const queued = await build(s.id);

  const ids = (res: Response) => res.body.items.map((b: { id: string }) => b.id);
  const statusOf = async (query: string) => {
    const res = await api.http.get(`${V1}/services/${s.id}/builds?${query}`).set(auth).expect(200);
    t.is(res.body.total, res.body.items.length);
    return ids(res);
  };
  t.deepEqual(await statusOf('status=queued&status=running'), [queued.id]);
  t.deepEqual(await statusOf('status=queued&status=failed'), [queued.id, failed.id]);
  t.deepEqual(await statusOf('status=failed&status=succeeded&sort_order=asc'), [ok.id, failed.id]);
  t.deepEqual(await statusOf('status=succeeded'), [ok.id]);
  t.deepEqual(await statusOf('status=cancelled'), []);
  t.deepEqual(await statusOf('status=queued&status=running&status=succeeded&status=failed&status=cancelled'), [
    queued.id,
    failed.id,
    ok.id,
  ]);
});

test('builds: cancel a queued build; cancelling a finished one is 409; bad input is 422', async (t) => {
  const { api, auth, project, service, build } = await setup();
  const p = await project();
  const s = await service(p.id);
  const queued = await build(s.id);
  const cancelled = await api.http.post(`${V1}/builds/${queued.id}/cancel`).set(auth).expect(200);
  assertResource(t, cancelled.body, BUILD_KEYS);
  t.like(cancelled.body, { id: queued.id, status: 'cancelled' });
  t.regex(cancelled.body.finished_at, ISO);
  await api.harness.drain();
  t.is((await api.http.get(`${V1}/builds/${queued.id}`).set(auth).expect(200)).body.status, 'cancelled');
  t.is(api.harness.buildRunner.calls.length, 0, 'a cancelled build never runs');
  t.not((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'building');
  assertError(t, await api.http.post(`${V1}/builds/${queued.id}/cancel`).set(auth), 409, 'conflict');

  const other = await build(s.id);
  await api.harness.drain();
  assertError(t, await api.http.post(`${V1}/builds/${other.id}/cancel`).set(auth), 409, 'conflict');
  assertError(t, await api.http.post(`${V1}/builds/${MISSING_ID}/cancel`).set(auth), 404, 'not_found');
  const withBody = await api.http.post(`${V1}/builds/${other.id}/cancel`).set(auth).send({ force: true });
  assertError(t, withBody, 422, 'validation_error');
  t.deepEqual(fieldsOf(withBody), ['force']);

  for (const [body, field] of [
    [{ commit_sha: 'xyz1234' }, 'commit_sha'],
    [{ commit_sha: 'abc12' }, 'commit_sha'],
    [{ commit_sha: 'a'.repeat(41) }, 'commit_sha'],
    [{ commit_sha: 1234567 }, 'commit_sha'],
    [{ branch: '' }, 'branch'],
    [{ branch: true }, 'branch'],
    [{ status: 'succeeded' }, 'status'],
    [{ service_id: s.id }, 'service_id'],
  ] as const) {
    const res = await api.http.post(`${V1}/services/${s.id}/builds`).set(auth).send(body);
    assertError(t, res, 422, 'validation_error');
    t.deepEqual(fieldsOf(res), [field], JSON.stringify(body));
  }
  t.is((await api.http.get(`${V1}/services/${s.id}/builds`).set(auth).expect(200)).body.total, 2);
  assertError(t, await api.http.post(`${V1}/services/${MISSING_ID}/builds`).set(auth).send({}), 404, 'not_found');
});

// ---------------------------------------------------------------- deployments

test('deployments: auto_deploy makes a build go live with a url', async (t) => {
  const { api, auth, project, service, build } = await setup();
  const p = await project();
  const s = await service(p.id, { auto_deploy: true, name: 'shop' });
  const b = await build(s.id);
  await api.harness.drain();
  t.is((await api.http.get(`${V1}/builds/${b.id}`).set(auth).expect(200)).body.status, 'succeeded');
  const list = await api.http.get(`${V1}/services/${s.id}/deployments`).set(auth).expect(200);
  assertPage(t, list, 1);
  const [deployment] = list.body.items;
  assertResource(t, deployment, DEPLOYMENT_KEYS);
  t.like(deployment, { service_id: s.id, build_id: b.id, status: 'live', error: null });
  t.regex(deployment.url, /^https:\/\/shop-/);
  t.regex(deployment.finished_at, ISO);
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'live');
  t.deepEqual((await api.http.get(`${V1}/deployments/${deployment.id}`).set(auth).expect(200)).body, deployment);

  // Without auto_deploy, a build deploys nothing.
  const manual = await service(p.id, { name: 'manual' });
  await build(manual.id);
  await api.harness.drain();
  t.is((await api.http.get(`${V1}/services/${manual.id}/deployments`).set(auth).expect(200)).body.total, 0);
});

test('deployments: deploy a build (202 pending → live), the old one is superseded, rollback redeploys it', async (t) => {
  const { api, auth, project, service, build, tick } = await setup();
  const p = await project();
  const s = await service(p.id);
  const b1 = await build(s.id);
  await api.harness.drain();
  const b2 = await build(s.id);
  await api.harness.drain();

  tick();
  const d1 = await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send({ build_id: b1.id }).expect(202);
  assertResource(t, d1.body, DEPLOYMENT_KEYS);
  t.like(d1.body, { service_id: s.id, build_id: b1.id, status: 'pending', url: null });
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'deploying');
  await api.harness.drain();
  const live1 = (await api.http.get(`${V1}/deployments/${d1.body.id}`).set(auth).expect(200)).body;
  t.is(live1.status, 'live');
  t.regex(live1.url, /^https:\/\//);

  tick();
  const d2 = await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send({ build_id: b2.id }).expect(202);
  await api.harness.drain();
  t.is((await api.http.get(`${V1}/deployments/${d2.body.id}`).set(auth).expect(200)).body.status, 'live');
  t.is((await api.http.get(`${V1}/deployments/${d1.body.id}`).set(auth).expect(200)).body.status, 'superseded');

  tick();
  const rollback = await api.http.post(`${V1}/deployments/${d2.body.id}/rollback`).set(auth).expect(202);
  assertResource(t, rollback.body, DEPLOYMENT_KEYS);
  t.like(rollback.body, { build_id: b1.id, status: 'pending', service_id: s.id });
  t.not(rollback.body.id, d1.body.id);
  await api.harness.drain();
  t.is((await api.http.get(`${V1}/deployments/${rollback.body.id}`).set(auth).expect(200)).body.status, 'live');
  t.is((await api.http.get(`${V1}/deployments/${d2.body.id}`).set(auth).expect(200)).body.status, 'superseded');

  const list = await api.http.get(`${V1}/services/${s.id}/deployments`).set(auth).expect(200);
  assertPage(t, list, 3);
  t.deepEqual(
    list.body.items.map((d: { id: string }) => d.id),
    [rollback.body.id, d2.body.id, d1.body.id],
  );
  const superseded = await api.http.get(`${V1}/services/${s.id}/deployments?status=superseded`).set(auth).expect(200);
  t.deepEqual(
    superseded.body.items.map((d: { id: string }) => d.id),
    [d2.body.id, d1.body.id],
  );
  const byBuild = await api.http.get(`${V1}/services/${s.id}/deployments?build_id=${b1.id}`).set(auth).expect(200);
  t.is(byBuild.body.total, 2);
});

test('deployments: a build that did not succeed is 409; bad input is 422; a first deployment cannot roll back', async (t) => {
  const { api, auth, project, service, build } = await setup();
  const p = await project();
  const s = await service(p.id);
  const queued = await build(s.id);
  assertError(
    t,
    await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send({ build_id: queued.id }),
    409,
    'conflict',
  );
  assertError(
    t,
    await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send({ build_id: MISSING_ID }),
    404,
    'not_found',
  );
  // A build of another service of the same tenant is not this service's build.
  const other = await service(p.id, { name: 'other' });
  const otherBuild = await build(other.id);
  await api.harness.drain();
  assertError(
    t,
    await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send({ build_id: otherBuild.id }),
    404,
    'not_found',
  );
  for (const [body, fields] of [
    [{}, ['build_id']],
    [{ build_id: 'latest' }, ['build_id']],
    [{ build_id: 42 }, ['build_id']],
    [{ build_id: otherBuild.id, url: 'https://x' }, ['url']],
  ] as const) {
    const res = await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send(body);
    assertError(t, res, 422, 'validation_error');
    t.deepEqual(fieldsOf(res), [...fields], JSON.stringify(body));
  }
  const d = await api.http
    .post(`${V1}/services/${other.id}/deployments`)
    .set(auth)
    .send({ build_id: otherBuild.id })
    .expect(202);
  await api.harness.drain();
  assertError(t, await api.http.post(`${V1}/deployments/${d.body.id}/rollback`).set(auth), 409, 'conflict');
  assertError(t, await api.http.post(`${V1}/deployments/${MISSING_ID}/rollback`).set(auth), 404, 'not_found');
  t.is((await api.http.get(`${V1}/services/${s.id}/deployments`).set(auth).expect(200)).body.total, 0);
});

test('deployments: cancel a pending one (202 cancelled, never deployed); cancelling again or a live one is 409', async (t) => {
  const { api, auth, project, service, build, tick } = await setup();
  const p = await project();
  const s = await service(p.id);
  const b = await build(s.id);
  await api.harness.drain();
  tick();
  const pending = await api.http
    .post(`${V1}/services/${s.id}/deployments`)
    .set(auth)
    .send({ build_id: b.id })
    .expect(202);
  t.like(pending.body, { status: 'pending', attempt: 0 });
  t.is((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'deploying');

  tick();
  const cancelled = await api.http.post(`${V1}/deployments/${pending.body.id}/cancel`).set(auth).expect(202);
  assertResource(t, cancelled.body, DEPLOYMENT_KEYS);
  t.like(cancelled.body, { id: pending.body.id, status: 'cancelled', url: null, build_id: b.id });
  t.regex(cancelled.body.finished_at, ISO);
  t.not((await api.http.get(`${V1}/services/${s.id}`).set(auth).expect(200)).body.status, 'deploying');
  await api.harness.drain();
  t.is(api.harness.runtime.calls.length, 0, 'a cancelled deployment never deploys');
  const read = await api.http.get(`${V1}/deployments/${pending.body.id}`).set(auth).expect(200);
  t.deepEqual(read.body, cancelled.body);
  const listed = await api.http.get(`${V1}/services/${s.id}/deployments?status=cancelled`).set(auth).expect(200);
  t.deepEqual(
    listed.body.items.map((d: { id: string }) => d.id),
    [pending.body.id],
  );

  const again = await api.http.post(`${V1}/deployments/${pending.body.id}/cancel`).set(auth);
  assertError(t, again, 409, 'conflict');
  t.is((await api.http.get(`${V1}/deployments/${pending.body.id}`).set(auth).expect(200)).body.status, 'cancelled');

  const live = await api.http.post(`${V1}/services/${s.id}/deployments`).set(auth).send({ build_id: b.id }).expect(202);
  await api.harness.drain();
  assertError(t, await api.http.post(`${V1}/deployments/${live.body.id}/cancel`).set(auth), 409, 'conflict');
  t.is((await api.http.get(`${V1}/deployments/${live.body.id}`).set(auth).expect(200)).body.status, 'live');
  assertError(t, await api.http.post(`${V1}/deployments/${MISSING_ID}/cancel`).set(auth), 404, 'not_found');
  const withBody = await api.http.post(`${V1}/deployments/${live.body.id}/cancel`).set(auth).send({ reason: 'x' });
  assertError(t, withBody, 422, 'validation_error');
  t.deepEqual(fieldsOf(withBody), ['reason']);
});

// ---------------------------------------------------------------- the wire in general

test('malformed JSON is 400 bad_request; a body over 1 MB is 413 payload_too_large', async (t) => {
  const { api, auth, project } = await setup();
  const p = await project();
  for (const [method, path] of [
    ['post', `${V1}/projects`],
    ['patch', `${V1}/projects/${p.id}`],
    ['put', `${V1}/services/${MISSING_ID}/env`],
    ['post', `${V1}/auth/login`],
  ] as const) {
    const res = await api.http[method](path).set(auth).set('Content-Type', 'application/json').send('{"name": "x",');
    assertError(t, res, 400, 'bad_request');
    t.is(res.body.error.details, null);
  }
  const big = await api.http
    .post(`${V1}/projects`)
    .set(auth)
    .send({ name: 'big', description: 'x'.repeat(1024 * 1024 + 1) });
  assertError(t, big, 413, 'payload_too_large');
  const env = await api.http
    .put(`${V1}/services/${MISSING_ID}/env`)
    .set(auth)
    .send({ vars: { A: 'y'.repeat(1100 * 1024) } });
  assertError(t, env, 413, 'payload_too_large');
  t.is((await api.http.get(`${V1}/projects`).set(auth).expect(200)).body.total, 1);
});

test('a non-UUID id in a path is 404 not_found, on every route with an id', async (t) => {
  const { api, auth } = await setup();
  const routes: [string, string][] = [
    ['get', '/users/X'],
    ['patch', '/users/X'],
    ['delete', '/users/X'],
    ['get', '/teams/X'],
    ['patch', '/teams/X'],
    ['delete', '/teams/X'],
    ['post', '/teams/X/members'],
    ['delete', `/teams/X/members/${MISSING_ID}`],
    ['delete', `/teams/${MISSING_ID}/members/X`],
    ['get', '/projects/X'],
    ['patch', '/projects/X'],
    ['delete', '/projects/X'],
    ['get', '/projects/X/services'],
    ['post', '/projects/X/services'],
    ['get', '/services/X'],
    ['patch', '/services/X'],
    ['delete', '/services/X'],
    ['get', '/services/X/env'],
    ['put', '/services/X/env'],
    ['get', '/services/X/builds'],
    ['post', '/services/X/builds'],
    ['get', '/builds/X'],
    ['post', '/builds/X/cancel'],
    ['get', '/builds/X/logs'],
    ['get', '/services/X/deployments'],
    ['post', '/services/X/deployments'],
    ['get', '/deployments/X'],
    ['post', '/deployments/X/rollback'],
    ['post', '/deployments/X/cancel'],
    ['get', '/deployments/X/logs'],
    ['get', '/jobs/X'],
    ['post', '/jobs/X/retry'],
  ];
  for (const id of ['not-a-uuid', '123', `${MISSING_ID}x`]) {
    for (const [method, path] of routes) {
      const res = await api.http[method as 'get'](`${V1}${path.replace('X', id)}`)
        .set(auth)
        .send({});
      assertError(t, res, 404, 'not_found');
      t.regex(res.body.error.message, /not found/i, `${method} ${path}`);
    }
  }
});

test('an unknown route is 404 with the error shape, with or without a token', async (t) => {
  const { api, auth } = await setup();
  for (const path of [`${V1}/nothing`, `${V1}/projects/${MISSING_ID}/secrets`, '/api/v2/projects', '/admin']) {
    assertError(t, await api.http.get(path), 404, 'not_found');
    assertError(t, await api.http.get(path).set(auth), 404, 'not_found');
    assertError(t, await api.http.post(path).set(auth).send({}), 404, 'not_found');
  }
});

test('x-request-id is echoed on successes and errors, and made when none is sent', async (t) => {
  const { api, auth } = await setup();
  const ok = await api.http.get(`${V1}/projects`).set(auth).set('X-Request-Id', 'trace-ok-1').expect(200);
  t.is(ok.headers['x-request-id'], 'trace-ok-1');
  const invalid = await api.http
    .post(`${V1}/projects`)
    .set(auth)
    .set('X-Request-Id', 'trace-422')
    .send({ name: 'x', bogus: 1 });
  assertError(t, invalid, 422, 'validation_error');
  t.is(invalid.body.error.request_id, 'trace-422');
  const missing = await api.http.get(`${V1}/projects/${MISSING_ID}`).set(auth);
  assertError(t, missing, 404, 'not_found');
  t.regex(missing.body.error.request_id, UUID);
  const created = await api.http.post(`${V1}/projects`).set(auth).send({ name: 'x' }).expect(201);
  t.regex(created.headers['x-request-id'] ?? '', UUID);
});

test('requests without a valid token are 401 with the error shape', async (t) => {
  const { api, project } = await setup();
  const p = await project();
  for (const header of [undefined, 'Bearer not.a.jwt', 'Basic dXNlcjpwYXNz']) {
    const req = api.http.get(`${V1}/projects/${p.id}`);
    const res = header === undefined ? await req : await req.set('Authorization', header);
    assertError(t, res, 401, 'authentication_error');
  }
  assertError(t, await api.http.post(`${V1}/projects`).send({ name: 'x' }), 401, 'authentication_error');
});
