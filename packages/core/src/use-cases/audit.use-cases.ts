import { ValidationError } from '../domain/app.errors.js';
import {
  type AuditAction,
  type AuditActor,
  AuditEvent,
  type AuditTargetType,
  SYSTEM_ACTOR,
} from '../domain/audit-event.entity.js';
import { type Principal, requireRole } from '../domain/role.js';
import type { Repositories, TimeRange } from '../ports/repository.port.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import type { CoreDeps } from './core-deps.js';
import { stamp } from './stamp.js';

/** Where a request without a signed-in actor came from (sign-in, registration). */
export interface RequestOrigin {
  ip?: string | null;
}

/** The audit actor of a signed-in principal (its session and IP when the adapter gave them). */
export const actorOf = (principal: Principal): AuditActor => ({
  type: 'user',
  id: principal.userId,
  sessionId: principal.sessionId ?? null,
  ip: principal.ip ?? null,
});

export interface AuditEntry {
  action: AuditAction;
  target: { type: AuditTargetType; id: string };
  summary?: Record<string, unknown>;
}

/**
 * Appends an event to the trail of the unit's tenant, in the unit's transaction: it commits with
 * the change it records, or rolls back with it. `actor` is a principal, an actor, or `system`.
 */
export async function recordAudit(
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  repos: Repositories,
  actor: Principal | AuditActor | 'system',
  entry: AuditEntry,
): Promise<void> {
  const who = actor === 'system' ? SYSTEM_ACTOR : 'type' in actor ? actor : actorOf(actor);
  await repos.audit.add(AuditEvent.create(stamp(deps), { tenantId: repos.tenantId, actor: who, ...entry }));
}

function instant(field: string, value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw ValidationError.field(field, 'must be an ISO 8601 date-time');
  return date;
}

/**
 * The tenant's audit trail, for admins and owners: newest first unless sorted otherwise,
 * filtered by actor, action and target, and by a time range (both ends included).
 */
export class ListAuditEvents {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(
    actor: Principal,
    query: ListQueryInput = {},
    range: { from?: Date | string | null; to?: Date | string | null } = {},
  ): Promise<Page<AuditEvent>> {
    requireRole(actor, 'admin');
    const spec = parseListQuery('auditEvent', { ...query, sortBy: query.sortBy ?? 'occurredAt' });
    const within: TimeRange = { from: instant('from', range.from), to: instant('to', range.to) };
    if (within.from != null && within.to != null && within.from > within.to) {
      throw ValidationError.field('from', 'must not be after to');
    }
    return this.deps.uow.run(actor.tenantId, (repos) => repos.audit.list(spec, within));
  }
}
