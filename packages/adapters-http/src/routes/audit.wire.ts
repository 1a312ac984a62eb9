import { AUDIT_ACTIONS, AUDIT_ACTOR_TYPES, AUDIT_TARGET_TYPES, type AuditEvent } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { timestamp, uuid } from './common.wire.js';

/** An audit event: who did what to which row, when and from where; the summary is already redacted. */
export const AuditEventWire = z
  .object({
    id: uuid(),
    occurred_at: timestamp(),
    actor_type: z.enum(AUDIT_ACTOR_TYPES),
    actor_id: uuid().nullable().openapi({ description: 'The user; null for system (jobs) and failed sign-ins' }),
    session_id: uuid().nullable().openapi({ description: 'The sign-in session (refresh-token family), when known' }),
    ip: z.string().nullable(),
    action: z.enum(AUDIT_ACTIONS),
    target_type: z.enum(AUDIT_TARGET_TYPES),
    target_id: uuid(),
    summary: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'What changed: field names, env var names; never values of secrets' }),
    created_at: timestamp(),
  })
  .openapi('AuditEvent');
export const auditEventToWire = (e: AuditEvent) => ({
  id: e.id,
  occurred_at: e.occurredAt.toISOString(),
  actor_type: e.actorType,
  actor_id: e.actorId,
  session_id: e.sessionId,
  ip: e.ip,
  action: e.action,
  target_type: e.targetType,
  target_id: e.targetId,
  summary: e.summary,
  created_at: e.createdAt.toISOString(),
});
