import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { pageToWire, pageWire } from './common.wire.js';
import { ProjectWire, projectToWire } from './project.wire.js';
import { idParams, optionalText, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

const CreateProjectBody = z
  .strictObject({
    name: z.string().min(1).max(100),
    description: optionalText(2000),
    team_id: z.string().uuid().nullable().optional(),
  })
  .openapi('CreateProjectRequest');
const UpdateProjectBody = z
  .strictObject({
    name: z.string().min(1).max(100).optional(),
    description: optionalText(2000),
    team_id: z.string().uuid().nullable().optional(),
  })
  .openapi('UpdateProjectRequest');

export const projectRoutes = ({ useCases }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/projects',
    tag: 'projects',
    summary: 'Projects of the tenant',
    query: listQuerySchema('project'),
    response: pageWire(ProjectWire),
    handler: async ({ actor, query }) =>
      pageToWire(await useCases.listProjects.execute(actor, toListQueryInput('project', query)), projectToWire),
  }),
  route({
    method: 'post',
    path: '/projects',
    tag: 'projects',
    summary: 'Create a project (member)',
    body: CreateProjectBody,
    status: 201,
    response: ProjectWire,
    handler: async ({ actor, body }) =>
      projectToWire(
        await useCases.createProject.execute(actor, {
          name: body.name,
          description: body.description ?? null,
          teamId: body.team_id ?? null,
        }),
      ),
  }),
  route({
    method: 'get',
    path: '/projects/{id}',
    tag: 'projects',
    summary: 'One project',
    params: idParams(),
    resource: 'Project',
    response: ProjectWire,
    handler: async ({ actor, params }) => projectToWire(await useCases.getProject.execute(actor, params.id)),
  }),
  route({
    method: 'patch',
    path: '/projects/{id}',
    tag: 'projects',
    summary: 'Change a project (member)',
    params: idParams(),
    resource: 'Project',
    body: UpdateProjectBody,
    response: ProjectWire,
    handler: async ({ actor, params, body }) =>
      projectToWire(
        await useCases.updateProject.execute(actor, params.id, {
          name: body.name,
          description: body.description,
          teamId: body.team_id,
        }),
      ),
  }),
  route({
    method: 'delete',
    path: '/projects/{id}',
    tag: 'projects',
    summary: 'Delete a project with its services, builds and deployments (admin)',
    params: idParams(),
    resource: 'Project',
    status: 204,
    handler: async ({ actor, params }) => useCases.deleteProject.execute(actor, params.id),
  }),
];
