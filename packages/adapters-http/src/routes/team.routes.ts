import { TEAM_ROLES } from '@shipyard/core';
import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { pageToWire, pageWire } from './common.wire.js';
import { idParams, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';
import { TeamMemberWire, TeamWire, teamMemberToWire, teamToWire } from './team.wire.js';

const CreateTeamBody = z
  .strictObject({ name: z.string().min(1).max(100), owner_id: z.string().uuid().optional() })
  .openapi('CreateTeamRequest');
const UpdateTeamBody = z
  .strictObject({ name: z.string().min(1).max(100).optional(), owner_id: z.string().uuid().optional() })
  .openapi('UpdateTeamRequest');
const AddMemberBody = z
  .strictObject({ user_id: z.string().uuid(), role: z.enum(TEAM_ROLES).optional() })
  .openapi('AddTeamMemberRequest');

export const teamRoutes = ({ useCases }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/teams',
    tag: 'teams',
    summary: 'Teams of the tenant (member)',
    query: listQuerySchema('team'),
    response: pageWire(TeamWire),
    handler: async ({ actor, query }) =>
      pageToWire(await useCases.listTeams.execute(actor, toListQueryInput('team', query)), teamToWire),
  }),
  route({
    method: 'post',
    path: '/teams',
    tag: 'teams',
    summary: 'Create a team (admin); its owner defaults to the caller',
    body: CreateTeamBody,
    status: 201,
    response: TeamWire,
    handler: async ({ actor, body }) =>
      teamToWire(await useCases.createTeam.execute(actor, { name: body.name, ownerId: body.owner_id })),
  }),
  route({
    method: 'get',
    path: '/teams/{id}',
    tag: 'teams',
    summary: 'One team with its members (member)',
    params: idParams(),
    resource: 'Team',
    response: TeamWire,
    handler: async ({ actor, params }) => teamToWire(await useCases.getTeam.execute(actor, params.id)),
  }),
  route({
    method: 'patch',
    path: '/teams/{id}',
    tag: 'teams',
    summary: 'Rename a team or change its owner (admin)',
    params: idParams(),
    resource: 'Team',
    body: UpdateTeamBody,
    response: TeamWire,
    handler: async ({ actor, params, body }) =>
      teamToWire(await useCases.updateTeam.execute(actor, params.id, { name: body.name, ownerId: body.owner_id })),
  }),
  route({
    method: 'delete',
    path: '/teams/{id}',
    tag: 'teams',
    summary: 'Delete a team (admin); its projects stay, without a team',
    params: idParams(),
    resource: 'Team',
    status: 204,
    handler: async ({ actor, params }) => useCases.deleteTeam.execute(actor, params.id),
  }),
  route({
    method: 'post',
    path: '/teams/{id}/members',
    tag: 'teams',
    summary: 'Add a user of the tenant to a team (admin)',
    params: idParams(),
    resource: 'Team',
    body: AddMemberBody,
    status: 201,
    response: TeamMemberWire,
    handler: async ({ actor, params, body }) =>
      teamMemberToWire(
        await useCases.addTeamMember.execute(actor, params.id, { userId: body.user_id, role: body.role }),
      ),
  }),
  route({
    method: 'delete',
    path: '/teams/{id}/members/{user_id}',
    tag: 'teams',
    summary: 'Remove a user from a team (admin)',
    params: z.strictObject({ id: z.string().uuid(), user_id: z.string().uuid() }),
    resource: 'Team member',
    status: 204,
    handler: async ({ actor, params }) => useCases.removeTeamMember.execute(actor, params.id, params.user_id),
  }),
];
