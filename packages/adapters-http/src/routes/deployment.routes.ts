import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { pageToWire, pageWire } from './common.wire.js';
import { DeploymentWire, deploymentToWire } from './deployment.wire.js';
import { logsRoute } from './logs.js';
import { idParams, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

const DeployBody = z.strictObject({ build_id: z.string().uuid() }).openapi('DeployRequest');

export const deploymentRoutes = (deps: RouteDeps): RouteSpec[] => [
  route({
    method: 'post',
    path: '/services/{id}/deployments',
    tag: 'deployments',
    summary: 'Deploy a succeeded build of the service (member)',
    params: idParams(),
    resource: 'Service',
    body: DeployBody,
    status: 202,
    response: DeploymentWire,
    handler: async ({ actor, params, body }) =>
      deploymentToWire(await deps.useCases.createDeployment.execute(actor, params.id, { buildId: body.build_id })),
  }),
  route({
    method: 'get',
    path: '/services/{id}/deployments',
    tag: 'deployments',
    summary: 'Deployments of a service',
    params: idParams(),
    resource: 'Service',
    query: listQuerySchema('deployment', ['serviceId']),
    response: pageWire(DeploymentWire),
    handler: async ({ actor, params, query }) =>
      pageToWire(
        await deps.useCases.listDeployments.execute(actor, params.id, toListQueryInput('deployment', query)),
        deploymentToWire,
      ),
  }),
  route({
    method: 'get',
    path: '/deployments/{id}',
    tag: 'deployments',
    summary: 'One deployment',
    params: idParams(),
    resource: 'Deployment',
    response: DeploymentWire,
    handler: async ({ actor, params }) => deploymentToWire(await deps.useCases.getDeployment.execute(actor, params.id)),
  }),
  route({
    method: 'post',
    path: '/deployments/{id}/rollback',
    tag: 'deployments',
    summary: 'Deploy again the build that was live before this deployment (member)',
    params: idParams(),
    resource: 'Deployment',
    status: 202,
    response: DeploymentWire,
    handler: async ({ actor, params }) =>
      deploymentToWire(await deps.useCases.rollbackDeployment.execute(actor, params.id)),
  }),
  route({
    method: 'post',
    path: '/deployments/{id}/cancel',
    tag: 'deployments',
    summary: 'Cancel a pending or running deployment (member)',
    description: 'A deployment that already ended (live, failed, superseded, cancelled) is a 409.',
    params: idParams(),
    resource: 'Deployment',
    status: 202,
    response: DeploymentWire,
    handler: async ({ actor, params }) =>
      deploymentToWire(await deps.useCases.cancelDeployment.execute(actor, params.id)),
  }),
  logsRoute(deps, {
    kind: 'deployment',
    tag: 'deployments',
    resource: 'Deployment',
    summary: "The deployment's output and its app's stdout/stderr: text, or followed live as Server-Sent Events",
  }),
];
