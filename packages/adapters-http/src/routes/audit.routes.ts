import { listQuerySchema, toListQueryInput } from '../list-query.schema.js';
import { z } from '../openapi/zod.js';
import { AuditEventWire, auditEventToWire } from './audit.wire.js';
import { pageToWire, pageWire } from './common.wire.js';
import type { RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

const instant = (description: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: `${description} (ISO 8601, included)`, example: '2026-12-01T00:00:00Z' });

const AuditQuery = listQuerySchema('auditEvent').extend({
  from: instant('Events that occurred at or after this time'),
  to: instant('Events that occurred at or before this time'),
});

/** The tenant's append-only audit trail, for admins and owners. */
export const auditRoutes = ({ useCases }: RouteDeps): RouteSpec[] => [
  route({
    method: 'get',
    path: '/audit-events',
    tag: 'audit',
    summary: 'The tenant’s audit trail, newest first (admin)',
    description:
      'Every state change of the tenant, written in the same transaction as the change. Filters: `actor_id`, ' +
      '`actor_type`, `action`, `target_type`, `target_id` (repeat a parameter for any of several values), and ' +
      '`from`/`to` (ISO 8601, both included; `from` after `to` is 422). Summaries name what changed, never ' +
      'values of secrets.',
    query: AuditQuery,
    response: pageWire(AuditEventWire),
    handler: async ({ actor, query }) =>
      pageToWire(
        await useCases.listAuditEvents.execute(actor, toListQueryInput('auditEvent', query), {
          from: (query.from as string | undefined) ?? null,
          to: (query.to as string | undefined) ?? null,
        }),
        auditEventToWire,
      ),
  }),
];
