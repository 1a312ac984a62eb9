import { redactSummary } from './audit-redaction.js';
import { Entity, type NewEntity } from './entity.js';
import { isUuid } from './validate.js';

/** Who did it: a signed-in user, or the platform itself (a job, the reconciler, maintenance). */
export const AUDIT_ACTOR_TYPES = ['user', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** What an audit event is about. */
export const AUDIT_TARGET_TYPES = [
  'tenant',
  'user',
  'team',
  'project',
  'service',
  'build',
  'deployment',
  'job',
  'oauth_account',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** Every action the trail records; see the root README's "Audit log". */
export const AUDIT_ACTIONS = [
  'auth.register',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.refresh_reused',
  'auth.oauth_link',
  'auth.oauth_unlink',
  'auth.email_verified',
  'auth.password_reset_requested',
  'auth.password_reset',
  'auth.password_change',
  'auth.invitation_accepted',
  'tenant.update',
  'user.create',
  'user.update',
  'user.role_change',
  'user.deactivate',
  'user.activate',
  'user.delete',
  'team.create',
  'team.update',
  'team.delete',
  'team.member_add',
  'team.member_remove',
  'project.create',
  'project.update',
  'project.delete',
  'service.create',
  'service.update',
  'service.delete',
  'service.env_update',
  'build.trigger',
  'build.cancel',
  'deployment.create',
  'deployment.rollback',
  'deployment.cancel',
  'job.retry',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The actor of an event as stored: ids that are not UUIDs are dropped, the IP is bounded. */
export interface AuditActor {
  type: AuditActorType;
  /** The user; null for `system`. */
  id: string | null;
  /** The sign-in session (refresh-token family) the request's token belongs to, when known. */
  sessionId: string | null;
  /** The request's IP, as the HTTP server sees it; null for jobs. */
  ip: string | null;
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null, sessionId: null, ip: null };

const MAX_IP_LENGTH = 64;

/**
 * One entry of the tenant's audit trail: who did what to which row, when, from where, and a
 * redacted summary of the change (field names, env var names; never values of secrets). Events
 * are appended in the same transaction as the change they record and never changed afterwards:
 * the class has no method that mutates it, and its repository has no update or remove.
 */
export class AuditEvent extends Entity {
  tenantId!: string;
  occurredAt!: Date;
  actorType!: AuditActorType;
  actorId!: string | null;
  sessionId!: string | null;
  ip!: string | null;
  action!: AuditAction;
  targetType!: AuditTargetType;
  targetId!: string;
  summary!: Record<string, unknown>;

  static create(
    ctx: NewEntity,
    input: {
      tenantId: string;
      actor: AuditActor;
      action: AuditAction;
      target: { type: AuditTargetType; id: string };
      summary?: Record<string, unknown>;
    },
  ): AuditEvent {
    const event = new AuditEvent();
    event.init(ctx);
    event.tenantId = input.tenantId;
    event.occurredAt = ctx.now;
    event.actorType = input.actor.type;
    event.actorId = input.actor.type === 'user' && isUuid(input.actor.id) ? input.actor.id.toLowerCase() : null;
    event.sessionId = isUuid(input.actor.sessionId) ? input.actor.sessionId.toLowerCase() : null;
    const ip = typeof input.actor.ip === 'string' ? input.actor.ip.trim() : '';
    event.ip = ip === '' ? null : ip.slice(0, MAX_IP_LENGTH);
    event.action = input.action;
    event.targetType = input.target.type;
    event.targetId = input.target.id.toLowerCase();
    event.summary = redactSummary(input.summary ?? {});
    return event;
  }
}
