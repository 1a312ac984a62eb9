import type { ExecutionContext } from 'ava';
import type { Response } from 'supertest';
import { bearer, type SignedIn, type TestApp } from './fixture.js';

/** A well-formed UUID v4 that names nothing. */
export const MISSING_ID = '00000000-0000-4000-8000-000000000000';

/** Checks the wire error shape `{error:{code,message,details,request_id}}`, the code and the echoed request id. */
export function assertError(t: ExecutionContext, res: Response, status: number, code: string): void {
  t.is(res.status, status, JSON.stringify(res.body));
  t.deepEqual(Object.keys(res.body ?? {}), ['error'], 'the body has only `error`');
  const error = res.body?.error ?? {};
  t.deepEqual(Object.keys(error).sort(), ['code', 'details', 'message', 'request_id']);
  t.is(error.code, code);
  t.is(typeof error.message, 'string');
  t.true(error.message.length > 0);
  t.is(typeof error.request_id, 'string');
  t.is(res.headers['x-request-id'], error.request_id);
}

/** The fields named by a 422's details. */
export const fieldsOf = (res: Response): string[] =>
  ((res.body?.error?.details ?? []) as { field: string }[]).map((issue) => issue.field);

export interface World {
  projectId: string;
  teamId: string;
  serviceId: string;
  buildId: string;
  deploymentId: string;
}

/**
 * Through the API, as `owner`: a team, a project of that team, a service, a succeeded build and
 * a live deployment of it (the jobs are drained).
 */
export async function buildWorld(api: TestApp, owner: SignedIn, label = 'w'): Promise<World> {
  const auth = bearer(owner);
  const team = await api.http
    .post('/api/v1/teams')
    .set(auth)
    .send({ name: `Team ${label}` })
    .expect(201);
  const project = await api.http
    .post('/api/v1/projects')
    .set(auth)
    .send({ name: `Project ${label}`, team_id: team.body.id })
    .expect(201);
  const service = await api.http
    .post(`/api/v1/projects/${project.body.id}/services`)
    .set(auth)
    .send({ name: `svc-${label}`, repo_url: `https://github.com/acme/${label}.git` })
    .expect(201);
  const build = await api.http.post(`/api/v1/services/${service.body.id}/builds`).set(auth).send({}).expect(202);
  await api.harness.drain();
  const deployment = await api.http
    .post(`/api/v1/services/${service.body.id}/deployments`)
    .set(auth)
    .send({ build_id: build.body.id })
    .expect(202);
  await api.harness.drain();
  return {
    teamId: team.body.id,
    projectId: project.body.id,
    serviceId: service.body.id,
    buildId: build.body.id,
    deploymentId: deployment.body.id,
  };
}

/**
 * Makes the job of `buildId` a dead letter, as a worker does when the queue gives up on a job
 * (through the core: the wire never shows job ids of builds). Returns the job id.
 */
export async function deadLetterOf(api: TestApp, tenantId: string, buildId: string): Promise<string> {
  const build = await api.harness.uow.run(tenantId, (repos) => repos.builds.get(buildId));
  if (build.jobId === null) throw new Error(`build ${buildId} has no job`);
  await api.useCases.recordJobFailure.execute(tenantId, build.jobId, 'worker lost the job', 4);
  return build.jobId;
}
