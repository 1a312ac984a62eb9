import { AUDIT_ACTOR_TYPES } from '@shipyard/core';
import { defineSchema, TIMESTAMPTZ } from './define-schema.js';

export const AuditEventSchema = defineSchema({
  entity: 'auditEvent',
  columns: {
    occurredAt: { ...TIMESTAMPTZ },
    actorType: { enum: true, items: [...AUDIT_ACTOR_TYPES] },
    actorId: { type: 'uuid', nullable: true },
    sessionId: { type: 'uuid', nullable: true },
    ip: { type: 'text', nullable: true },
    // Text, not a check constraint: a new action or target type needs no migration.
    action: { type: 'text' },
    targetType: { type: 'text' },
    targetId: { type: 'uuid' },
    summary: { type: 'json' },
  },
  indexes: [
    { name: 'audit_events_tenant_id_occurred_at_index', properties: ['tenantId', 'occurredAt'] },
    { name: 'audit_events_tenant_id_actor_id_occurred_at_index', properties: ['tenantId', 'actorId', 'occurredAt'] },
    { name: 'audit_events_tenant_id_action_occurred_at_index', properties: ['tenantId', 'action', 'occurredAt'] },
    {
      name: 'audit_events_tenant_id_target_type_target_id_occurred_at_index',
      properties: ['tenantId', 'targetType', 'targetId', 'occurredAt'],
    },
    // The retention deletes by age across tenants.
    { name: 'audit_events_occurred_at_index', properties: ['occurredAt'] },
  ],
});
