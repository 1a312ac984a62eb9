import test, { type ExecutionContext } from 'ava';
import type { Response } from 'supertest';
import { bearer, type SignedIn, TestApp } from './fixture.js';
import { assertError, buildWorld, deadLetterOf, MISSING_ID, type World } from './helpers.js';

const V1 = '/api/v1';

interface Tenant {
  who: SignedIn;
  world: World;
  /** A second user of the tenant, member of its team. */
  memberId: string;
  /** A build still queued (cancellable). */
  queuedBuild: string;
  /** A second live deployment, so that a rollback from it would work. */
  rollbackable: string;
  /** A deployment not yet run (cancellable). */
  pendingDeployment: string;
  /** The job of the world's first build, made a dead letter (retryable). */
  deadJob: string;
}

async function makeTenant(api: TestApp, label: string): Promise<Tenant> {
  const who = await api.register();
  const auth = bearer(who);
  const world = await buildWorld(api, who, label);
  const member = await api.userWithRole(who, 'member');
  await api.http.post(`${V1}/teams/${world.teamId}/members`).set(auth).send({ user_id: member.userId }).expect(201);
  await api.http
    .put(`${V1}/services/${world.serviceId}/env`)
    .set(auth)
    .send({ vars: { TOKEN: `${label}-secret` } })
    .expect(200);
  api.harness.clock.advance(1000);
  const second = await api.http.post(`${V1}/services/${world.serviceId}/builds`).set(auth).send({}).expect(202);
  await api.harness.drain();
  api.harness.clock.advance(1000);
  const rollbackable = await api.http
    .post(`${V1}/services/${world.serviceId}/deployments`)
    .set(auth)
    .send({ build_id: second.body.id })
    .expect(202);
  await api.harness.drain();
  const queued = await api.http.post(`${V1}/services/${world.serviceId}/builds`).set(auth).send({}).expect(202);
  const pending = await api.http
    .post(`${V1}/services/${world.serviceId}/deployments`)
    .set(auth)
    .send({ build_id: world.buildId })
    .expect(202);
  const deadJob = await deadLetterOf(api, who.tenantId, world.buildId);
  return {
    who,
    world,
    memberId: member.userId,
    queuedBuild: queued.body.id,
    rollbackable: rollbackable.body.id,
    pendingDeployment: pending.body.id,
    deadJob,
  };
}

/** Everything tenant B can read about itself, read with B's token. */
async function snapshot(api: TestApp, b: Tenant) {
  const get = async (path: string) => {
    const res = await api.http.get(`${V1}${path}`).set(bearer(b.who)).expect(200);
    return res.body;
  };
  const w = b.world;
  return {
    tenant: await get('/tenant'),
    users: await get('/users?sort_order=asc'),
    teams: await get('/teams?sort_order=asc'),
    team: await get(`/teams/${w.teamId}`),
    projects: await get('/projects?sort_order=asc'),
    project: await get(`/projects/${w.projectId}`),
    services: await get(`/projects/${w.projectId}/services`),
    service: await get(`/services/${w.serviceId}`),
    env: await get(`/services/${w.serviceId}/env`),
    builds: await get(`/services/${w.serviceId}/builds?sort_order=asc`),
    build: await get(`/builds/${b.queuedBuild}`),
    deployments: await get(`/services/${w.serviceId}/deployments?sort_order=asc`),
    deployment: await get(`/deployments/${b.rollbackable}`),
    pendingDeployment: await get(`/deployments/${b.pendingDeployment}`),
    jobs: await get('/jobs?sort_order=asc'),
    job: await get(`/jobs/${b.deadJob}`),
  };
}

interface Baseline {
  rows: Awaited<ReturnType<typeof snapshot>>;
  builds: number;
  deployments: number;
}

async function setup() {
  const api = new TestApp();
  const a = await makeTenant(api, 'a');
  const b = await makeTenant(api, 'b');
  // Any write from here on would change an `updated_at`.
  api.harness.clock.advance(60_000);
  const before: Baseline = {
    rows: await snapshot(api, b),
    builds: api.harness.buildRunner.calls.length,
    deployments: api.harness.runtime.calls.length,
  };
  return { api, a, b, before };
}

interface Probe {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** The path with `ID` where the foreign (or missing) id goes. */
  path: string;
  body?: object;
}

/**
 * A's request on B's id and the same request on an id that exists nowhere: both 404
 * `not_found`, with the same message and details.
 */
async function assertLikeMissing(t: ExecutionContext, api: TestApp, a: Tenant, foreignId: string, probe: Probe) {
  const send = async (id: string): Promise<Response> => {
    let req = api.http[probe.method](`${V1}${probe.path.replace('ID', id)}`).set(bearer(a.who));
    if (probe.body !== undefined) req = req.send(probe.body);
    return req;
  };
  const foreign = await send(foreignId);
  const missing = await send(MISSING_ID);
  const label = `${probe.method.toUpperCase()} ${probe.path}`;
  assertError(t, foreign, 404, 'not_found');
  assertError(t, missing, 404, 'not_found');
  const { request_id: _f, ...foreignError } = foreign.body.error;
  const { request_id: _m, ...missingError } = missing.body.error;
  t.deepEqual(foreignError, missingError, label);
  t.deepEqual(Object.keys(foreign.headers).sort(), Object.keys(missing.headers).sort(), `${label}: same headers`);
}

async function assertUnchanged(t: ExecutionContext, api: TestApp, b: Tenant, before: Baseline) {
  t.deepEqual(await snapshot(api, b), before.rows, "B's rows are unchanged");
  // No build or deployment was queued: draining runs only B's own queued build and deployment.
  await api.harness.drain();
  t.deepEqual(
    api.harness.buildRunner.calls.slice(before.builds).map((call) => call.buildId),
    [b.queuedBuild],
  );
  t.deepEqual(api.harness.buildRunner.calls.at(-1)?.env, { TOKEN: 'b-secret' }, "B's env values are B's");
  t.deepEqual(
    api.harness.runtime.calls.slice(before.deployments).map((call) => call.deploymentId),
    [b.pendingDeployment],
    'nothing else was deployed',
  );
}

test('project (direct): A gets the same 404 for B’s project as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  const probes: Probe[] = [
    { method: 'get', path: '/projects/ID' },
    { method: 'patch', path: '/projects/ID', body: { name: 'Taken over', team_id: null } },
    { method: 'get', path: '/projects/ID/services' },
    { method: 'post', path: '/projects/ID/services', body: { name: 'evil', repo_url: 'https://github.com/e/e.git' } },
    { method: 'delete', path: '/projects/ID' },
  ];
  for (const probe of probes) await assertLikeMissing(t, api, a, b.world.projectId, probe);
  await assertUnchanged(t, api, b, before);
});

test('team (owner-based): A gets the same 404 for B’s team as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  const probes: Probe[] = [
    { method: 'get', path: '/teams/ID' },
    { method: 'patch', path: '/teams/ID', body: { name: 'Taken over', owner_id: a.who.userId } },
    { method: 'post', path: '/teams/ID/members', body: { user_id: a.who.userId } },
    { method: 'delete', path: `/teams/ID/members/${b.memberId}` },
    { method: 'delete', path: '/teams/ID' },
  ];
  for (const probe of probes) await assertLikeMissing(t, api, a, b.world.teamId, probe);
  await assertUnchanged(t, api, b, before);
});

test('service (chain): A gets the same 404 for B’s service as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  const probes: Probe[] = [
    { method: 'get', path: '/services/ID' },
    { method: 'patch', path: '/services/ID', body: { repo_url: 'https://github.com/evil/x.git' } },
    { method: 'get', path: '/services/ID/env' },
    { method: 'put', path: '/services/ID/env', body: { vars: { TOKEN: 'overwritten', EXTRA: 'x' } } },
    { method: 'get', path: '/services/ID/builds' },
    { method: 'post', path: '/services/ID/builds', body: { commit_sha: 'abcdef1' } },
    { method: 'get', path: '/services/ID/deployments' },
    { method: 'post', path: '/services/ID/deployments', body: { build_id: b.world.buildId } },
    { method: 'delete', path: '/services/ID' },
  ];
  for (const probe of probes) await assertLikeMissing(t, api, a, b.world.serviceId, probe);
  await assertUnchanged(t, api, b, before);
});

test('build (chain): A gets the same 404 for B’s build as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  for (const id of [b.queuedBuild, b.world.buildId]) {
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/builds/ID' });
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/builds/ID/logs' });
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/builds/ID/logs?follow=true' });
    await assertLikeMissing(t, api, a, id, { method: 'post', path: '/builds/ID/cancel' });
  }
  await assertUnchanged(t, api, b, before);
});

test('deployment (chain): A gets the same 404 for B’s deployment as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  for (const id of [b.rollbackable, b.world.deploymentId]) {
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/deployments/ID' });
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/deployments/ID/logs' });
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/deployments/ID/logs?follow=true' });
    await assertLikeMissing(t, api, a, id, { method: 'post', path: '/deployments/ID/rollback' });
  }
  for (const id of [b.pendingDeployment, b.rollbackable]) {
    await assertLikeMissing(t, api, a, id, { method: 'post', path: '/deployments/ID/cancel' });
  }
  await assertUnchanged(t, api, b, before);
});

test('job (direct): A’s admin gets the same 404 for B’s jobs as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  const jobIds = (before.rows.jobs.items as { id: string }[]).map((job) => job.id);
  t.true(jobIds.includes(b.deadJob));
  for (const id of jobIds) {
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/jobs/ID' });
    await assertLikeMissing(t, api, a, id, { method: 'post', path: '/jobs/ID/retry' });
  }
  await assertUnchanged(t, api, b, before);
  // The control case: A's own dead letter is A's to read and retry.
  await api.http.get(`${V1}/jobs/${a.deadJob}`).set(bearer(a.who)).expect(200);
  await api.http.post(`${V1}/jobs/${a.deadJob}/retry`).set(bearer(a.who)).expect(202);
});

test('user (direct): A gets the same 404 for B’s users as for a missing one', async (t) => {
  const { api, a, b, before } = await setup();
  for (const id of [b.who.userId, b.memberId]) {
    await assertLikeMissing(t, api, a, id, { method: 'get', path: '/users/ID' });
    await assertLikeMissing(t, api, a, id, { method: 'patch', path: '/users/ID', body: { role: 'viewer' } });
    await assertLikeMissing(t, api, a, id, { method: 'delete', path: '/users/ID' });
  }
  await assertUnchanged(t, api, b, before);
});

test('A’s own rows cannot point at B’s: team_id, user_id, owner_id and build_id of B are 404', async (t) => {
  const { api, a, b, before } = await setup();
  const w = a.world;
  const probes: [Probe, string][] = [
    [{ method: 'post', path: '/projects', body: { name: 'Cross', team_id: 'ID' } }, b.world.teamId],
    [{ method: 'patch', path: `/projects/${w.projectId}`, body: { team_id: 'ID' } }, b.world.teamId],
    [{ method: 'post', path: `/teams/${w.teamId}/members`, body: { user_id: 'ID' } }, b.memberId],
    [{ method: 'post', path: '/teams', body: { name: 'Cross', owner_id: 'ID' } }, b.who.userId],
    [{ method: 'patch', path: `/teams/${w.teamId}`, body: { owner_id: 'ID' } }, b.who.userId],
    [{ method: 'post', path: `/services/${w.serviceId}/deployments`, body: { build_id: 'ID' } }, b.world.buildId],
    [{ method: 'delete', path: `/teams/${w.teamId}/members/ID` }, b.memberId],
  ];
  for (const [probe, foreignId] of probes) {
    const send = async (id: string) => {
      const body = probe.body === undefined ? undefined : JSON.parse(JSON.stringify(probe.body).replace('ID', id));
      let req = api.http[probe.method](`${V1}${probe.path.replace('ID', id)}`).set(bearer(a.who));
      if (body !== undefined) req = req.send(body);
      return req;
    };
    const foreign = await send(foreignId);
    const missing = await send(MISSING_ID);
    assertError(t, foreign, 404, 'not_found');
    assertError(t, missing, 404, 'not_found');
    t.is(foreign.body.error.message, missing.body.error.message);
    t.deepEqual(foreign.body.error.details, missing.body.error.details);
  }
  // A's own rows did not move either.
  const project = await api.http.get(`${V1}/projects/${w.projectId}`).set(bearer(a.who)).expect(200);
  t.is(project.body.team_id, w.teamId);
  const team = await api.http.get(`${V1}/teams/${w.teamId}`).set(bearer(a.who)).expect(200);
  t.is(team.body.owner_id, a.who.userId);
  t.is((await api.http.get(`${V1}/projects`).set(bearer(a.who))).body.total, 1);
  t.is((await api.http.get(`${V1}/teams`).set(bearer(a.who))).body.total, 1);
  await assertUnchanged(t, api, b, before);
});

test('B’s lists never show A’s rows, whatever the filters', async (t) => {
  const { api, a, b, before } = await setup();
  // A has more of everything than B.
  const auth = bearer(a.who);
  await api.http.post(`${V1}/projects`).set(auth).send({ name: 'More' }).expect(201);
  await api.http.post(`${V1}/teams`).set(auth).send({ name: 'More' }).expect(201);
  const aIds = new Set<string>([
    a.who.userId,
    a.memberId,
    a.who.tenantId,
    ...Object.values(a.world),
    a.queuedBuild,
    a.rollbackable,
    a.pendingDeployment,
    a.deadJob,
  ]);
  const lists: [string, number][] = [
    ['/users', 2],
    ['/teams', 1],
    [`/teams?owner_id=${a.who.userId}`, 0],
    ['/projects', 1],
    [`/projects?team_id=${a.world.teamId}`, 0],
    [`/projects?name=${encodeURIComponent('Project a')}`, 0],
    [`/projects/${b.world.projectId}/services`, 1],
    [`/projects/${b.world.projectId}/services?name=svc-a`, 0],
    [`/services/${b.world.serviceId}/builds`, 3],
    [`/services/${b.world.serviceId}/builds?status=queued&status=succeeded`, 3],
    [`/services/${b.world.serviceId}/deployments`, 3],
    [`/services/${b.world.serviceId}/deployments?build_id=${a.world.buildId}`, 0],
    [`/users?email=${encodeURIComponent(a.who.email)}`, 0],
    ['/jobs?state=failed', 1],
    ['/jobs?name=build.run', 3],
    ['/jobs?name=deployment.run', 3],
  ];
  for (const [path, total] of lists) {
    const res = await api.http.get(`${V1}${path}`).set(bearer(b.who)).expect(200);
    t.is(res.body.total, total, path);
    t.is(res.body.items.length, total, path);
    for (const id of aIds) t.false(res.text.includes(id), `${path} shows an id of A`);
  }
  // A's lists, symmetrically.
  const projects = await api.http.get(`${V1}/projects`).set(auth).expect(200);
  t.is(projects.body.total, 2);
  t.false(projects.text.includes(b.world.projectId));
  await assertUnchanged(t, api, b, before);
});

test('the tenant comes from the token only: a tenant id in headers, query or body is ignored or refused', async (t) => {
  const { api, a, b, before } = await setup();
  const auth = bearer(a.who);
  const tenant = await api.http.get(`${V1}/tenant`).set(auth).set('X-Tenant-Id', b.who.tenantId).expect(200);
  t.is(tenant.body.id, a.who.tenantId);
  const projects = await api.http.get(`${V1}/projects`).set(auth).set('X-Tenant-Id', b.who.tenantId).expect(200);
  t.false(projects.text.includes(b.world.projectId));
  assertError(t, await api.http.get(`${V1}/projects?tenant_id=${b.who.tenantId}`).set(auth), 422, 'validation_error');
  assertError(
    t,
    await api.http.post(`${V1}/projects`).set(auth).send({ name: 'X', tenant_id: b.who.tenantId }),
    422,
    'validation_error',
  );
  await assertUnchanged(t, api, b, before);
});
