import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { pageToWire, pageWire } from './common.wire.js';
import { JobWire, jobToWire } from './job.wire.js';
import { idParams, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

/** The tenant's jobs (outbox messages), for admins; `?state=failed` lists the dead letters. */
export const jobRoutes = ({ useCases }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/jobs',
    tag: 'jobs',
    summary: 'The tenant’s jobs; `state=failed` lists the dead letters (admin)',
    query: listQuerySchema('outboxMessage'),
    response: pageWire(JobWire),
    handler: async ({ actor, query }) =>
      pageToWire(await useCases.listJobs.execute(actor, toListQueryInput('outboxMessage', query)), jobToWire),
  }),
  route({
    method: 'get',
    path: '/jobs/{id}',
    tag: 'jobs',
    summary: 'One job (admin)',
    params: idParams(),
    resource: 'Job',
    response: JobWire,
    handler: async ({ actor, params }) => jobToWire(await useCases.getJob.execute(actor, params.id)),
  }),
  route({
    method: 'post',
    path: '/jobs/{id}/retry',
    tag: 'jobs',
    summary: 'Run a failed job again, as a new job (admin)',
    description:
      'Only a `failed` job can be retried (409 otherwise); it becomes `retried` and the answer is the new job. ' +
      'A build’s job queues a new build of the same commit and branch, a deployment’s job a new deployment ' +
      'of the same build, any other job the same work again.',
    params: idParams(),
    resource: 'Job',
    status: 202,
    response: JobWire,
    handler: async ({ actor, params }) => jobToWire(await useCases.retryJob.execute(actor, params.id)),
  }),
];
