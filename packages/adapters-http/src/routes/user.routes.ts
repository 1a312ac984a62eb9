import { ROLES, requireRole } from '@shipyard/core';
import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { pageToWire, pageWire } from './common.wire.js';
import { idParams, optionalText, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';
import { UserWire, userToWire } from './user.wire.js';

const CreateUserBody = z
  .strictObject({
    email: z.string().max(254),
    password: z
      .string()
      .max(256)
      .nullable()
      .optional()
      .openapi({ description: 'The first password; omitted or null: the user is invited by email to set their own' }),
    role: z.enum(ROLES),
    full_name: optionalText(200),
  })
  .openapi('CreateUserRequest');

const UpdateUserBody = z
  .strictObject({ full_name: optionalText(200), role: z.enum(ROLES).optional(), is_active: z.boolean().optional() })
  .openapi('UpdateUserRequest');

export const userRoutes = ({ useCases, accountLimits }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/users',
    tag: 'users',
    summary: 'Users of the tenant (admin)',
    query: listQuerySchema('user'),
    response: pageWire(UserWire),
    handler: async ({ actor, query }) =>
      pageToWire(await useCases.listUsers.execute(actor, toListQueryInput('user', query)), userToWire),
  }),
  route({
    method: 'post',
    path: '/users',
    tag: 'users',
    summary: 'Add a user, with a first password or invited by email (admin; only an owner adds an owner)',
    description:
      'With `password`, the user can sign in at once and is mailed a verification link. Without it, the user is mailed a single-use invitation link to set their own password (POST /auth/reset-password with its token). A tenant may create 60 users per hour (429 with Retry-After past it). An email taken in any tenant is 409.',
    body: CreateUserBody,
    status: 201,
    response: UserWire,
    handler: async ({ actor, body }) => {
      // The role first: a viewer cannot spend the tenant's budget.
      requireRole(actor, 'admin');
      await accountLimits.consume('userCreation', actor.tenantId);
      return userToWire(
        await useCases.createUser.execute(actor, {
          email: body.email,
          password: body.password ?? null,
          role: body.role,
          fullName: body.full_name ?? null,
        }),
      );
    },
  }),
  route({
    method: 'get',
    path: '/users/{id}',
    tag: 'users',
    summary: 'One user of the tenant',
    params: idParams(),
    resource: 'User',
    response: UserWire,
    handler: async ({ actor, params }) => userToWire(await useCases.getUser.execute(actor, params.id)),
  }),
  route({
    method: 'patch',
    path: '/users/{id}',
    tag: 'users',
    summary: 'Change a user (admin; the last active owner cannot be demoted or deactivated)',
    params: idParams(),
    resource: 'User',
    body: UpdateUserBody,
    response: UserWire,
    handler: async ({ actor, params, body }) =>
      userToWire(
        await useCases.updateUser.execute(actor, params.id, {
          fullName: body.full_name,
          role: body.role,
          isActive: body.is_active,
        }),
      ),
  }),
  route({
    method: 'delete',
    path: '/users/{id}',
    tag: 'users',
    summary: 'Remove a user (admin; never the last active owner)',
    params: idParams(),
    resource: 'User',
    status: 204,
    handler: async ({ actor, params }) => useCases.deleteUser.execute(actor, params.id),
  }),
];
