import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { pageToWire, pageWire } from './common.wire.js';
import { idParams, optionalText, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';
import { EnvWire, envToWire, ServiceWire, serviceToWire } from './service.wire.js';

const serviceFields = {
  branch: z.string().min(1).max(255).optional(),
  build_command: optionalText(1000),
  start_command: optionalText(1000),
  port: z.number().int().min(1).max(65535).nullable().optional(),
  auto_deploy: z.boolean().optional(),
  health_check_path: z
    .string()
    .max(1024)
    .nullable()
    .optional()
    .openapi({ description: 'A path starting with `/` the app answers 2xx on once ready; null means `/`' }),
};
const repoUrl = () =>
  z
    .string()
    .min(1)
    .max(2048)
    .openapi({
      description:
        'An https:// git URL; a private repository takes a token (`https://TOKEN@github.com/acme/web.git`), stored ' +
        'encrypted and shown masked. Sending the masked URL back keeps the stored token.',
    });
const CreateServiceBody = z
  .strictObject({ name: z.string().min(1).max(63), repo_url: repoUrl(), ...serviceFields })
  .openapi('CreateServiceRequest');
const UpdateServiceBody = z
  .strictObject({
    name: z.string().min(1).max(63).optional(),
    repo_url: repoUrl().optional(),
    ...serviceFields,
  })
  .openapi('UpdateServiceRequest');
const EnvBody = z
  .strictObject({ vars: z.record(z.string().max(128), z.string().max(32_768)) })
  .openapi('SetEnvRequest', { description: 'Replaces all env vars of the service' });

type ServiceBody = z.output<typeof UpdateServiceBody>;
const toSettings = (body: ServiceBody) => ({
  name: body.name,
  repoUrl: body.repo_url,
  branch: body.branch,
  buildCommand: body.build_command,
  startCommand: body.start_command,
  port: body.port,
  autoDeploy: body.auto_deploy,
  healthCheckPath: body.health_check_path,
});
const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export const serviceRoutes = ({ useCases }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/projects/{id}/services',
    tag: 'services',
    summary: 'Services of a project',
    params: idParams(),
    resource: 'Project',
    query: listQuerySchema('service', ['projectId']),
    response: pageWire(ServiceWire),
    handler: async ({ actor, params, query }) =>
      pageToWire(
        await useCases.listServices.execute(actor, params.id, toListQueryInput('service', query)),
        serviceToWire,
      ),
  }),
  route({
    method: 'post',
    path: '/projects/{id}/services',
    tag: 'services',
    summary: 'Create a service in a project (member)',
    params: idParams(),
    resource: 'Project',
    body: CreateServiceBody,
    status: 201,
    response: ServiceWire,
    handler: async ({ actor, params, body }) =>
      serviceToWire(
        await useCases.createService.execute(actor, params.id, {
          ...defined(toSettings(body)),
          name: body.name,
          repoUrl: body.repo_url,
        }),
      ),
  }),
  route({
    method: 'get',
    path: '/services/{id}',
    tag: 'services',
    summary: 'One service',
    params: idParams(),
    resource: 'Service',
    response: ServiceWire,
    handler: async ({ actor, params }) => serviceToWire(await useCases.getService.execute(actor, params.id)),
  }),
  route({
    method: 'patch',
    path: '/services/{id}',
    tag: 'services',
    summary: 'Change a service (member)',
    params: idParams(),
    resource: 'Service',
    body: UpdateServiceBody,
    response: ServiceWire,
    handler: async ({ actor, params, body }) =>
      serviceToWire(await useCases.updateService.execute(actor, params.id, defined(toSettings(body)))),
  }),
  route({
    method: 'delete',
    path: '/services/{id}',
    tag: 'services',
    summary: 'Delete a service with its builds and deployments (admin)',
    params: idParams(),
    resource: 'Service',
    status: 204,
    handler: async ({ actor, params }) => useCases.deleteService.execute(actor, params.id),
  }),
  route({
    method: 'put',
    path: '/services/{id}/env',
    tag: 'services',
    summary: 'Replace the env vars of a service (member); values are encrypted and never returned',
    params: idParams(),
    resource: 'Service',
    body: EnvBody,
    response: EnvWire,
    handler: async ({ actor, params, body }) =>
      envToWire(await useCases.setServiceEnv.execute(actor, params.id, body.vars)),
  }),
  route({
    method: 'get',
    path: '/services/{id}/env',
    tag: 'services',
    summary: 'Env var names of a service, values masked (member)',
    params: idParams(),
    resource: 'Service',
    response: EnvWire,
    handler: async ({ actor, params }) => envToWire(await useCases.getServiceEnv.execute(actor, params.id)),
  }),
];
