import { z } from '../openapi/zod.js';
import type { RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';
import { TenantWire, tenantToWire } from './tenant.wire.js';

const UpdateTenantBody = z
  .strictObject({ name: z.string().min(1).max(100).optional(), slug: z.string().max(63).optional() })
  .openapi('UpdateTenantRequest');

export const tenantRoutes = ({ useCases }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/tenant',
    tag: 'tenant',
    summary: 'The current tenant',
    response: TenantWire,
    handler: async ({ actor }) => tenantToWire(await useCases.getTenant.execute(actor)),
  }),
  route({
    method: 'patch',
    path: '/tenant',
    tag: 'tenant',
    summary: 'Rename the tenant or change its slug (owner)',
    body: UpdateTenantBody,
    response: TenantWire,
    handler: async ({ actor, body }) =>
      tenantToWire(await useCases.updateTenant.execute(actor, { name: body.name, slug: body.slug })),
  }),
];
