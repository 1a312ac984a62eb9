import { randomUUID } from 'node:crypto';
import test from 'ava';
import { bearer, type SignedIn, TestApp } from './fixture.js';
import { assertError, deadLetterOf } from './helpers.js';

const V1 = '/api/v1';
const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
type Role = (typeof ROLES)[number];
const atLeast = (role: Role, minimum: Role) => ROLES.indexOf(role) >= ROLES.indexOf(minimum);

/** Rows made by the owner for one test: a target for every write of the matrix. */
interface World {
  project: string;
  projectToDelete: string;
  service: string;
  serviceToDelete: string;
  succeededBuild: string;
  queuedBuild: string;
  liveDeployment: string;
  /** A deployment not yet run (cancellable). */
  pendingDeployment: string;
  /** The job of the first build, made a dead letter (retryable). */
  deadJob: string;
  team: string;
  teamToDelete: string;
  teamWithMember: string;
  user: string;
  userToDelete: string;
  teamMember: string;
}

async function buildWorld(api: TestApp, owner: SignedIn): Promise<World> {
  const auth = bearer(owner);
  // Unique per world: the PostgreSQL run shares one database across the file's tests.
  const tag = owner.tenantId.slice(0, 8);
  const post = async (path: string, body: object, status = 201) =>
    (await api.http.post(`${V1}${path}`).set(auth).send(body).expect(status)).body.id as string;
  const user = await post('/users', {
    email: `target-${tag}@example.test`,
    password: 'correct horse battery',
    role: 'viewer',
  });
  const userToDelete = await post('/users', {
    email: `leaving-${tag}@example.test`,
    password: 'correct horse battery',
    role: 'member',
  });
  const teamMember = await post('/users', {
    email: `teammate-${tag}@example.test`,
    password: 'correct horse battery',
    role: 'member',
  });
  const team = await post('/teams', { name: 'Team' });
  const teamToDelete = await post('/teams', { name: 'Old team' });
  const teamWithMember = await post('/teams', { name: 'Team with member' });
  await post(`/teams/${teamWithMember}/members`, { user_id: teamMember });
  const project = await post('/projects', { name: 'Project', team_id: team });
  const projectToDelete = await post('/projects', { name: 'Old project' });
  const service = await post(`/projects/${project}/services`, { name: 'api', repo_url: 'https://github.com/a/b.git' });
  const serviceToDelete = await post(`/projects/${project}/services`, {
    name: 'old',
    repo_url: 'https://github.com/a/c.git',
  });
  const firstBuild = await post(`/services/${service}/builds`, {}, 202);
  const succeededBuild = await post(`/services/${service}/builds`, {}, 202);
  await api.harness.drain();
  api.harness.clock.advance(1000);
  await post(`/services/${service}/deployments`, { build_id: firstBuild }, 202);
  await api.harness.drain();
  api.harness.clock.advance(1000);
  const liveDeployment = await post(`/services/${service}/deployments`, { build_id: succeededBuild }, 202);
  await api.harness.drain();
  const queuedBuild = await post(`/services/${service}/builds`, {}, 202);
  const pendingDeployment = await post(`/services/${service}/deployments`, { build_id: firstBuild }, 202);
  const deadJob = await deadLetterOf(api, owner.tenantId, firstBuild);
  api.harness.clock.advance(1000);
  return {
    project,
    projectToDelete,
    service,
    serviceToDelete,
    succeededBuild,
    queuedBuild,
    liveDeployment,
    pendingDeployment,
    deadJob,
    team,
    teamToDelete,
    teamWithMember,
    user,
    userToDelete,
    teamMember,
  };
}

interface Case {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: (w: World) => string;
  body?: (w: World) => object;
  /** The lowest role allowed, as DESIGN.md's table says. */
  minimum: Role;
  /** Status when allowed. */
  ok: number;
  /** A path the owner reads afterwards: still there (200) when the write was refused. */
  stillThere?: (w: World) => string;
}

/** Each group's cases run in order (deletes last), on a fresh world. */
const GROUPS: Record<string, Case[]> = {
  tenant: [
    { method: 'get', path: () => '/tenant', minimum: 'viewer', ok: 200 },
    { method: 'patch', path: () => '/tenant', body: () => ({ name: 'Renamed' }), minimum: 'owner', ok: 200 },
  ],
  users: [
    { method: 'get', path: (w) => `/users/${w.user}`, minimum: 'viewer', ok: 200 },
    { method: 'get', path: () => '/users', minimum: 'admin', ok: 200 },
    {
      method: 'post',
      path: () => '/users',
      body: () => ({
        email: `new-${randomUUID().slice(0, 8)}@example.test`,
        password: 'correct horse battery',
        role: 'member',
      }),
      minimum: 'admin',
      ok: 201,
    },
    {
      method: 'patch',
      path: (w) => `/users/${w.user}`,
      body: () => ({ full_name: 'Changed' }),
      minimum: 'admin',
      ok: 200,
    },
    {
      method: 'delete',
      path: (w) => `/users/${w.userToDelete}`,
      minimum: 'admin',
      ok: 204,
      stillThere: (w) => `/users/${w.userToDelete}`,
    },
  ],
  teams: [
    { method: 'get', path: () => '/teams', minimum: 'member', ok: 200 },
    { method: 'get', path: (w) => `/teams/${w.team}`, minimum: 'member', ok: 200 },
    { method: 'post', path: () => '/teams', body: () => ({ name: 'New team' }), minimum: 'admin', ok: 201 },
    { method: 'patch', path: (w) => `/teams/${w.team}`, body: () => ({ name: 'Renamed' }), minimum: 'admin', ok: 200 },
    {
      method: 'post',
      path: (w) => `/teams/${w.team}/members`,
      body: (w) => ({ user_id: w.user }),
      minimum: 'admin',
      ok: 201,
    },
    {
      method: 'delete',
      path: (w) => `/teams/${w.teamWithMember}/members/${w.teamMember}`,
      minimum: 'admin',
      ok: 204,
    },
    {
      method: 'delete',
      path: (w) => `/teams/${w.teamToDelete}`,
      minimum: 'admin',
      ok: 204,
      stillThere: (w) => `/teams/${w.teamToDelete}`,
    },
  ],
  projects: [
    { method: 'get', path: () => '/projects', minimum: 'viewer', ok: 200 },
    { method: 'get', path: (w) => `/projects/${w.project}`, minimum: 'viewer', ok: 200 },
    { method: 'post', path: () => '/projects', body: () => ({ name: 'New' }), minimum: 'member', ok: 201 },
    {
      method: 'patch',
      path: (w) => `/projects/${w.project}`,
      body: () => ({ description: 'changed' }),
      minimum: 'member',
      ok: 200,
    },
    {
      method: 'delete',
      path: (w) => `/projects/${w.projectToDelete}`,
      minimum: 'admin',
      ok: 204,
      stillThere: (w) => `/projects/${w.projectToDelete}`,
    },
  ],
  services: [
    { method: 'get', path: (w) => `/projects/${w.project}/services`, minimum: 'viewer', ok: 200 },
    { method: 'get', path: (w) => `/services/${w.service}`, minimum: 'viewer', ok: 200 },
    {
      method: 'post',
      path: (w) => `/projects/${w.project}/services`,
      body: () => ({ name: 'new', repo_url: 'https://github.com/a/new.git' }),
      minimum: 'member',
      ok: 201,
    },
    {
      method: 'patch',
      path: (w) => `/services/${w.service}`,
      body: () => ({ port: 8080 }),
      minimum: 'member',
      ok: 200,
    },
    {
      method: 'delete',
      path: (w) => `/services/${w.serviceToDelete}`,
      minimum: 'admin',
      ok: 204,
      stillThere: (w) => `/services/${w.serviceToDelete}`,
    },
  ],
  env: [
    {
      method: 'put',
      path: (w) => `/services/${w.service}/env`,
      body: () => ({ vars: { API_KEY: 'secret' } }),
      minimum: 'member',
      ok: 200,
    },
    { method: 'get', path: (w) => `/services/${w.service}/env`, minimum: 'member', ok: 200 },
  ],
  builds: [
    { method: 'get', path: (w) => `/services/${w.service}/builds`, minimum: 'viewer', ok: 200 },
    { method: 'get', path: (w) => `/builds/${w.succeededBuild}`, minimum: 'viewer', ok: 200 },
    { method: 'get', path: (w) => `/builds/${w.succeededBuild}/logs`, minimum: 'viewer', ok: 200 },
    // Followed: the build finished, so the stream ends after its lines.
    { method: 'get', path: (w) => `/builds/${w.succeededBuild}/logs?follow=true`, minimum: 'viewer', ok: 200 },
    { method: 'post', path: (w) => `/services/${w.service}/builds`, body: () => ({}), minimum: 'member', ok: 202 },
    { method: 'post', path: (w) => `/builds/${w.queuedBuild}/cancel`, minimum: 'member', ok: 200 },
  ],
  deployments: [
    { method: 'get', path: (w) => `/services/${w.service}/deployments`, minimum: 'viewer', ok: 200 },
    { method: 'get', path: (w) => `/deployments/${w.liveDeployment}`, minimum: 'viewer', ok: 200 },
    { method: 'get', path: (w) => `/deployments/${w.liveDeployment}/logs`, minimum: 'viewer', ok: 200 },
    {
      method: 'post',
      path: (w) => `/services/${w.service}/deployments`,
      body: (w) => ({ build_id: w.succeededBuild }),
      minimum: 'member',
      ok: 202,
    },
    { method: 'post', path: (w) => `/deployments/${w.liveDeployment}/rollback`, minimum: 'member', ok: 202 },
    {
      method: 'post',
      path: (w) => `/deployments/${w.pendingDeployment}/cancel`,
      minimum: 'member',
      ok: 202,
      stillThere: (w) => `/deployments/${w.pendingDeployment}`,
    },
  ],
  jobs: [
    { method: 'get', path: () => '/jobs?state=failed', minimum: 'admin', ok: 200 },
    { method: 'get', path: (w) => `/jobs/${w.deadJob}`, minimum: 'admin', ok: 200 },
    { method: 'post', path: (w) => `/jobs/${w.deadJob}/retry`, minimum: 'admin', ok: 202 },
  ],
};

for (const role of ROLES) {
  for (const [group, cases] of Object.entries(GROUPS)) {
    test(`${role} × ${group}`, async (t) => {
      const api = new TestApp();
      const owner = await api.register();
      const world = await buildWorld(api, owner);
      const actor = role === 'owner' ? owner : await api.userWithRole(owner, role);
      for (const c of cases) {
        const path = `${V1}${c.path(world)}`;
        const label = `${role} ${c.method.toUpperCase()} ${c.path(world)}`;
        let req = api.http[c.method](path).set(bearer(actor));
        if (c.body !== undefined) req = req.send(c.body(world));
        const res = await req;
        if (atLeast(role, c.minimum)) {
          t.is(res.status, c.ok, `${label} is allowed: ${JSON.stringify(res.body)}`);
        } else {
          assertError(t, res, 403, 'authorization_error');
          t.regex(res.body.error.message, new RegExp(c.minimum), label);
          if (c.stillThere !== undefined) {
            await api.http
              .get(`${V1}${c.stillThere(world)}`)
              .set(bearer(owner))
              .expect(200);
          }
        }
      }
    });
  }
}

test('a refused write changes nothing', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const world = await buildWorld(api, owner);
  const viewer = await api.userWithRole(owner, 'viewer');
  const member = await api.userWithRole(owner, 'member');
  await api.harness.drain();
  const before = {
    tenant: (await api.http.get(`${V1}/tenant`).set(bearer(owner))).body,
    project: (await api.http.get(`${V1}/projects/${world.project}`).set(bearer(owner))).body,
    service: (await api.http.get(`${V1}/services/${world.service}`).set(bearer(owner))).body,
    user: (await api.http.get(`${V1}/users/${world.user}`).set(bearer(owner))).body,
    team: (await api.http.get(`${V1}/teams/${world.team}`).set(bearer(owner))).body,
    builds: (await api.http.get(`${V1}/services/${world.service}/builds`).set(bearer(owner))).body.total,
    projects: (await api.http.get(`${V1}/projects`).set(bearer(owner))).body.total,
    deployment: (await api.http.get(`${V1}/deployments/${world.pendingDeployment}`).set(bearer(owner))).body,
    job: (await api.http.get(`${V1}/jobs/${world.deadJob}`).set(bearer(owner))).body,
  };
  await api.http.patch(`${V1}/tenant`).set(bearer(member)).send({ name: 'Hijacked' }).expect(403);
  await api.http.patch(`${V1}/projects/${world.project}`).set(bearer(viewer)).send({ name: 'Hijacked' }).expect(403);
  await api.http.post(`${V1}/projects`).set(bearer(viewer)).send({ name: 'Hijacked' }).expect(403);
  await api.http.patch(`${V1}/services/${world.service}`).set(bearer(viewer)).send({ port: 1 }).expect(403);
  await api.http.post(`${V1}/services/${world.service}/builds`).set(bearer(viewer)).send({}).expect(403);
  await api.http.patch(`${V1}/users/${world.user}`).set(bearer(member)).send({ role: 'admin' }).expect(403);
  await api.http.patch(`${V1}/teams/${world.team}`).set(bearer(member)).send({ name: 'Hijacked' }).expect(403);
  await api.http.post(`${V1}/deployments/${world.pendingDeployment}/cancel`).set(bearer(viewer)).expect(403);
  await api.http.post(`${V1}/jobs/${world.deadJob}/retry`).set(bearer(member)).expect(403);
  t.deepEqual((await api.http.get(`${V1}/tenant`).set(bearer(owner))).body, before.tenant);
  t.deepEqual((await api.http.get(`${V1}/projects/${world.project}`).set(bearer(owner))).body, before.project);
  t.deepEqual((await api.http.get(`${V1}/services/${world.service}`).set(bearer(owner))).body, before.service);
  t.deepEqual((await api.http.get(`${V1}/users/${world.user}`).set(bearer(owner))).body, before.user);
  t.deepEqual((await api.http.get(`${V1}/teams/${world.team}`).set(bearer(owner))).body, before.team);
  t.is((await api.http.get(`${V1}/services/${world.service}/builds`).set(bearer(owner))).body.total, before.builds);
  t.is((await api.http.get(`${V1}/projects`).set(bearer(owner))).body.total, before.projects);
  t.deepEqual(
    (await api.http.get(`${V1}/deployments/${world.pendingDeployment}`).set(bearer(owner))).body,
    before.deployment,
  );
  t.deepEqual((await api.http.get(`${V1}/jobs/${world.deadJob}`).set(bearer(owner))).body, before.job);
  t.is(before.job.state, 'failed');
  t.is((await api.harness.drain()).runs, 0, 'no job was queued');
});

test('an admin cannot create an owner, grant the owner role or change an owner; an owner can', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const admin = await api.userWithRole(owner, 'admin');
  const member = await api.userWithRole(owner, 'member');

  const create = await api.http
    .post(`${V1}/users`)
    .set(bearer(admin))
    .send({ email: `boss-${randomUUID().slice(0, 8)}@example.test`, password: 'correct horse battery', role: 'owner' });
  assertError(t, create, 403, 'authorization_error');
  const promote = await api.http.patch(`${V1}/users/${member.userId}`).set(bearer(admin)).send({ role: 'owner' });
  assertError(t, promote, 403, 'authorization_error');
  const selfPromote = await api.http.patch(`${V1}/users/${admin.userId}`).set(bearer(admin)).send({ role: 'owner' });
  assertError(t, selfPromote, 403, 'authorization_error');
  const demoteOwner = await api.http.patch(`${V1}/users/${owner.userId}`).set(bearer(admin)).send({ role: 'member' });
  assertError(t, demoteOwner, 403, 'authorization_error');
  const deleteOwner = await api.http.delete(`${V1}/users/${owner.userId}`).set(bearer(admin));
  assertError(t, deleteOwner, 403, 'authorization_error');
  const users = await api.http.get(`${V1}/users?role=owner`).set(bearer(owner)).expect(200);
  t.deepEqual(
    users.body.items.map((u: { id: string }) => u.id),
    [owner.userId],
    'still one owner',
  );

  // An admin does manage the roles below owner.
  const toAdmin = await api.http
    .patch(`${V1}/users/${member.userId}`)
    .set(bearer(admin))
    .send({ role: 'admin' })
    .expect(200);
  t.is(toAdmin.body.role, 'admin');
  // And an owner makes owners.
  const second = await api.http
    .post(`${V1}/users`)
    .set(bearer(owner))
    .send({ email: `boss-${randomUUID().slice(0, 8)}@example.test`, password: 'correct horse battery', role: 'owner' })
    .expect(201);
  t.is(second.body.role, 'owner');
});

test('the last owner cannot be demoted, deactivated or deleted (409); with a second owner they can', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const auth = bearer(owner);
  const demote = await api.http.patch(`${V1}/users/${owner.userId}`).set(auth).send({ role: 'admin' });
  assertError(t, demote, 409, 'conflict');
  const deactivate = await api.http.patch(`${V1}/users/${owner.userId}`).set(auth).send({ is_active: false });
  assertError(t, deactivate, 409, 'conflict');
  assertError(t, await api.http.delete(`${V1}/users/${owner.userId}`).set(auth), 409, 'conflict');
  const me = await api.http.get(`${V1}/auth/me`).set(auth).expect(200);
  t.like(me.body, { role: 'owner', is_active: true });

  const second = await api.userWithRole(owner, 'owner');
  const demoted = await api.http.patch(`${V1}/users/${owner.userId}`).set(auth).send({ role: 'admin' }).expect(200);
  t.is(demoted.body.role, 'admin');
  // Now `second` is the last owner.
  const last = await api.http.patch(`${V1}/users/${second.userId}`).set(bearer(second)).send({ role: 'member' });
  assertError(t, last, 409, 'conflict');
});
