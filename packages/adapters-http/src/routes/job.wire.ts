import { JOB_NAMES, JOB_STATES, jobSubject, type OutboxMessage, QUEUES } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { iso, timestamp, uuid } from './common.wire.js';

/**
 * A job (an outbox message) as admins see it: what it is about (`subject_type`, `subject_id`),
 * where it stands and why it failed; never its payload.
 */
export const JobWire = z
  .object({
    id: uuid(),
    queue: z.enum(QUEUES),
    name: z.enum(JOB_NAMES),
    state: z.enum(JOB_STATES),
    attempts: z.number().int().openapi({ description: 'Runs of the job when it failed' }),
    last_error: z.string().nullable(),
    subject_type: z.enum(['build', 'deployment', 'tenant']),
    subject_id: uuid(),
    available_at: timestamp(),
    sent_at: timestamp().nullable(),
    failed_at: timestamp().nullable(),
    created_at: timestamp(),
    updated_at: timestamp(),
  })
  .openapi('Job');
export const jobToWire = (m: OutboxMessage) => {
  const subject = jobSubject(m);
  return {
    id: m.id,
    queue: m.queue,
    name: m.name,
    state: m.state,
    attempts: m.attempts,
    last_error: m.lastError,
    subject_type: subject.type,
    subject_id: subject.id,
    available_at: m.availableAt.toISOString(),
    sent_at: iso(m.sentAt),
    failed_at: iso(m.failedAt),
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
};
