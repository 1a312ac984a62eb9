import { JOB_STATES, QUEUES } from '@shipyard/core';
import { defineSchema, TIMESTAMPTZ } from './define-schema.js';

export const OutboxMessageSchema = defineSchema({
  entity: 'outboxMessage',
  columns: {
    queue: { enum: true, items: [...QUEUES] },
    name: { type: 'text' },
    payload: { type: 'json' },
    availableAt: { ...TIMESTAMPTZ },
    sentAt: { ...TIMESTAMPTZ, nullable: true },
    publishAttempts: { type: 'integer' },
    state: { enum: true, items: [...JOB_STATES] },
    attempts: { type: 'integer' },
    lastError: { type: 'text', nullable: true },
    failedAt: { ...TIMESTAMPTZ, nullable: true },
  },
  indexes: [
    { name: 'outbox_messages_sent_at_available_at_index', properties: ['sentAt', 'availableAt'] },
    { name: 'outbox_messages_tenant_id_created_at_index', properties: ['tenantId', 'createdAt'] },
    { name: 'outbox_messages_tenant_id_state_index', properties: ['tenantId', 'state'] },
  ],
});
