import { SimulatedBuildRunner } from '@shipyard/core/testing';
import test from 'ava';
import { bearer, type SignedIn, TestApp } from './fixture.js';
import { assertError, fieldsOf, MISSING_ID } from './helpers.js';

const V1 = '/api/v1';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const JOB_KEYS = [
  'id',
  'queue',
  'name',
  'state',
  'attempts',
  'last_error',
  'subject_type',
  'subject_id',
  'available_at',
  'sent_at',
  'failed_at',
  'created_at',
  'updated_at',
].sort();

interface DeadBuild {
  api: TestApp;
  owner: SignedIn;
  admin: SignedIn;
  serviceId: string;
  buildId: string;
}

/**
 * A tenant whose first build meets a broken build infrastructure on all of its 4 attempts:
 * the build fails and its job is a dead letter. The infrastructure then recovers.
 */
async function deadBuild(): Promise<DeadBuild> {
  const api = new TestApp({ buildRunner: new SimulatedBuildRunner({ infrastructureFailures: 4 }) });
  const owner = await api.register();
  const admin = await api.userWithRole(owner, 'admin');
  const auth = bearer(owner);
  const project = await api.http.post(`${V1}/projects`).set(auth).send({ name: 'Web' }).expect(201);
  const service = await api.http
    .post(`${V1}/projects/${project.body.id}/services`)
    .set(auth)
    .send({ name: 'api', repo_url: 'https://github.com/acme/api.git' })
    .expect(201);
  const build = await api.http
    .post(`${V1}/services/${service.body.id}/builds`)
    .set(auth)
    .send({ commit_sha: 'abcdef1', branch: 'release' })
    .expect(202);
  await api.harness.drain();
  api.harness.clock.advance(1000);
  return { api, owner, admin, serviceId: service.body.id, buildId: build.body.id };
}

test('a build that gave up is a dead letter admins list with its subject, error and attempts; the wire has no payload', async (t) => {
  const { api, admin, buildId } = await deadBuild();
  const build = await api.http.get(`${V1}/builds/${buildId}`).set(bearer(admin)).expect(200);
  t.like(build.body, { status: 'failed', attempt: 4 });
  t.false('job_id' in build.body || 'lease_until' in build.body, 'leases and job ids stay internal');

  const dead = await api.http.get(`${V1}/jobs?state=failed`).set(bearer(admin)).expect(200);
  t.like(dead.body, { total: 1, skip: 0, limit: 100 });
  const [job] = dead.body.items;
  t.deepEqual(Object.keys(job).sort(), JOB_KEYS);
  t.like(job, {
    queue: 'build',
    name: 'build.run',
    state: 'failed',
    attempts: 4,
    subject_type: 'build',
    subject_id: buildId,
  });
  t.regex(job.last_error, /simulated infrastructure failure/);
  t.regex(job.failed_at, ISO);
  t.regex(job.sent_at, ISO);
  t.false(dead.text.includes('payload') || dead.text.includes('tenant_id'), 'never the payload');
  t.deepEqual((await api.http.get(`${V1}/jobs/${job.id}`).set(bearer(admin)).expect(200)).body, job);

  // Every job of the tenant is listed; filters are an IN; unknown or bad parameters are 422.
  const all = await api.http.get(`${V1}/jobs`).set(bearer(admin)).expect(200);
  t.true(all.body.total >= 2, 'the build job and the notification it sent');
  t.true(all.body.items.some((j: { name: string }) => j.name === 'notification.send'));
  const builds = await api.http.get(`${V1}/jobs?queue=build&name=build.run`).set(bearer(admin)).expect(200);
  t.deepEqual(
    builds.body.items.map((j: { id: string }) => j.id),
    [job.id],
  );
  const either = await api.http.get(`${V1}/jobs?state=failed&state=sent&sort_by=failed_at`).set(bearer(admin));
  t.is(either.status, 200);
  t.is(
    either.body.total,
    all.body.items.filter((j: { state: string }) => j.state === 'failed' || j.state === 'sent').length,
  );
  for (const [query, field] of [
    ['state=dead', 'state'],
    ['queue=nowhere', 'queue'],
    ['name=rm-rf', 'name'],
    ['sort_by=payload', 'sort_by'],
    ['payload=x', 'payload'],
    [`tenant_id=${MISSING_ID}`, 'tenant_id'],
    ['limit=0', 'limit'],
  ]) {
    const res = await api.http.get(`${V1}/jobs?${query}`).set(bearer(admin));
    assertError(t, res, 422, 'validation_error');
    t.deepEqual(fieldsOf(res), [field], query);
  }
});

test('jobs are for admins: a member and a viewer get 403 on every job route', async (t) => {
  const { api, owner, buildId } = await deadBuild();
  const [{ id: jobId }] = (await api.http.get(`${V1}/jobs?state=failed`).set(bearer(owner)).expect(200)).body.items;
  for (const role of ['member', 'viewer'] as const) {
    const who = bearer(await api.userWithRole(owner, role));
    for (const res of [
      await api.http.get(`${V1}/jobs?state=failed`).set(who),
      await api.http.get(`${V1}/jobs/${jobId}`).set(who),
      await api.http.post(`${V1}/jobs/${jobId}/retry`).set(who),
    ]) {
      assertError(t, res, 403, 'authorization_error');
      t.regex(res.body.error.message, /admin/);
    }
  }
  const still = await api.http.get(`${V1}/jobs/${jobId}`).set(bearer(owner)).expect(200);
  t.like(still.body, { state: 'failed', subject_id: buildId });
});

test('another tenant’s admin sees none of the jobs and gets 404 for their ids, as for a missing one', async (t) => {
  const { api, admin, serviceId, buildId } = await deadBuild();
  const [{ id: jobId }] = (await api.http.get(`${V1}/jobs?state=failed`).set(bearer(admin)).expect(200)).body.items;
  const other = await api.userWithRole(await api.register(), 'admin');
  const list = await api.http.get(`${V1}/jobs`).set(bearer(other)).expect(200);
  t.false(list.text.includes(jobId) || list.text.includes(buildId));
  t.is((await api.http.get(`${V1}/jobs?state=failed`).set(bearer(other)).expect(200)).body.total, 0);
  for (const [method, path] of [
    ['get', '/jobs/ID'],
    ['post', '/jobs/ID/retry'],
  ] as const) {
    const foreign = await api.http[method](`${V1}${path.replace('ID', jobId)}`).set(bearer(other));
    const missing = await api.http[method](`${V1}${path.replace('ID', MISSING_ID)}`).set(bearer(other));
    const malformed = await api.http[method](`${V1}${path.replace('ID', 'not-a-job')}`).set(bearer(other));
    for (const res of [foreign, missing, malformed]) assertError(t, res, 404, 'not_found');
    t.is(foreign.body.error.message, 'Job not found');
    t.is(missing.body.error.message, 'Job not found');
    t.is(malformed.body.error.message, 'Job not found');
    t.deepEqual(foreign.body.error.details, missing.body.error.details);
  }
  const mine = await api.http.get(`${V1}/jobs/${jobId}`).set(bearer(admin)).expect(200);
  t.is(mine.body.state, 'failed', 'the foreign retry changed nothing');
  t.is((await api.http.get(`${V1}/services/${serviceId}/builds`).set(bearer(admin)).expect(200)).body.total, 1);
  await api.harness.drain();
  t.is(api.harness.buildRunner.calls.length, 4, 'no build was queued: the 4 attempts of the dead one only');
});

test('retrying a dead build job queues a new build of the same commit; the old job is retried and a second retry is 409', async (t) => {
  const { api, admin, serviceId, buildId } = await deadBuild();
  const auth = bearer(admin);
  const [dead] = (await api.http.get(`${V1}/jobs?state=failed`).set(auth).expect(200)).body.items;
  const before = (await api.http.get(`${V1}/services/${serviceId}/builds`).set(auth).expect(200)).body.total;
  t.is(before, 1);

  const withBody = await api.http.post(`${V1}/jobs/${dead.id}/retry`).set(auth).send({ force: true });
  assertError(t, withBody, 422, 'validation_error');
  t.deepEqual(fieldsOf(withBody), ['force']);

  const retry = await api.http.post(`${V1}/jobs/${dead.id}/retry`).set(auth).expect(202);
  t.deepEqual(Object.keys(retry.body).sort(), JOB_KEYS);
  t.like(retry.body, {
    queue: 'build',
    name: 'build.run',
    state: 'pending',
    attempts: 0,
    last_error: null,
    failed_at: null,
    sent_at: null,
    subject_type: 'build',
  });
  t.not(retry.body.id, dead.id);
  t.not(retry.body.subject_id, buildId);

  const builds = await api.http.get(`${V1}/services/${serviceId}/builds`).set(auth).expect(200);
  t.is(builds.body.total, before + 1);
  const fresh = builds.body.items.find((b: { id: string }) => b.id === retry.body.subject_id);
  t.like(fresh, { status: 'queued', commit_sha: 'abcdef1', branch: 'release', attempt: 0 });
  t.is((await api.http.get(`${V1}/services/${serviceId}`).set(auth).expect(200)).body.status, 'building');

  const old = await api.http.get(`${V1}/jobs/${dead.id}`).set(auth).expect(200);
  t.like(old.body, { state: 'retried', last_error: dead.last_error, attempts: 4, failed_at: dead.failed_at });
  t.is((await api.http.get(`${V1}/jobs?state=failed`).set(auth).expect(200)).body.total, 0);
  const retried = await api.http.get(`${V1}/jobs?state=retried`).set(auth).expect(200);
  t.deepEqual(
    retried.body.items.map((j: { id: string }) => j.id),
    [dead.id],
  );

  const again = await api.http.post(`${V1}/jobs/${dead.id}/retry`).set(auth);
  assertError(t, again, 409, 'conflict');
  t.regex(again.body.error.message, /retried/);
  assertError(t, await api.http.post(`${V1}/jobs/${retry.body.id}/retry`).set(auth), 409, 'conflict');
  t.is((await api.http.get(`${V1}/services/${serviceId}/builds`).set(auth).expect(200)).body.total, before + 1);

  // The infrastructure is back: the new build runs and succeeds, its job was sent.
  await api.harness.drain();
  t.is((await api.http.get(`${V1}/builds/${retry.body.subject_id}`).set(auth).expect(200)).body.status, 'succeeded');
  t.is((await api.http.get(`${V1}/jobs/${retry.body.id}`).set(auth).expect(200)).body.state, 'sent');
  t.is((await api.http.get(`${V1}/builds/${buildId}`).set(auth).expect(200)).body.status, 'failed');
});
