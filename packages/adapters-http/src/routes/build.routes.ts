import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { BuildWire, buildToWire } from './build.wire.js';
import { pageToWire, pageWire } from './common.wire.js';
import { logsRoute } from './logs.js';
import { idParams, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

const TriggerBuildBody = z
  .strictObject({
    commit_sha: z
      .string()
      .regex(/^[0-9a-fA-F]{7,40}$/, 'must be 7 to 40 hexadecimal characters')
      .nullable()
      .optional(),
    branch: z.string().min(1).max(255).nullable().optional(),
  })
  .openapi('TriggerBuildRequest');

export const buildRoutes = (deps: RouteDeps): RouteSpec[] => [
  route({
    method: 'post',
    path: '/services/{id}/builds',
    tag: 'builds',
    summary: 'Queue a build of the service (member)',
    params: idParams(),
    resource: 'Service',
    body: TriggerBuildBody,
    status: 202,
    response: BuildWire,
    handler: async ({ actor, params, body }) =>
      buildToWire(
        await deps.useCases.triggerBuild.execute(actor, params.id, { commitSha: body.commit_sha, branch: body.branch }),
      ),
  }),
  route({
    method: 'get',
    path: '/services/{id}/builds',
    tag: 'builds',
    summary: 'Builds of a service',
    params: idParams(),
    resource: 'Service',
    query: listQuerySchema('build', ['serviceId']),
    response: pageWire(BuildWire),
    handler: async ({ actor, params, query }) =>
      pageToWire(
        await deps.useCases.listBuilds.execute(actor, params.id, toListQueryInput('build', query)),
        buildToWire,
      ),
  }),
  route({
    method: 'get',
    path: '/builds/{id}',
    tag: 'builds',
    summary: 'One build, with its logs',
    params: idParams(),
    resource: 'Build',
    response: BuildWire,
    handler: async ({ actor, params }) => buildToWire(await deps.useCases.getBuild.execute(actor, params.id)),
  }),
  route({
    method: 'post',
    path: '/builds/{id}/cancel',
    tag: 'builds',
    summary: 'Cancel a queued or running build (member)',
    params: idParams(),
    resource: 'Build',
    response: BuildWire,
    handler: async ({ actor, params }) => buildToWire(await deps.useCases.cancelBuild.execute(actor, params.id)),
  }),
  logsRoute(deps, {
    kind: 'build',
    tag: 'builds',
    resource: 'Build',
    summary: "The build's output: text, or followed live as Server-Sent Events",
  }),
];
