import { BUILD_STATUSES } from '@shipyard/core';
import { defineSchema, TIMESTAMPTZ } from './define-schema.js';

export const BuildSchema = defineSchema({
  entity: 'build',
  columns: {
    commitSha: { type: 'text', nullable: true },
    branch: { type: 'text' },
    status: { enum: true, items: [...BUILD_STATUSES] },
    attempt: { type: 'integer' },
    logs: { type: 'text' },
    error: { type: 'text', nullable: true },
    startedAt: { ...TIMESTAMPTZ, nullable: true },
    finishedAt: { ...TIMESTAMPTZ, nullable: true },
    leaseUntil: { ...TIMESTAMPTZ, nullable: true },
    jobId: { type: 'uuid', nullable: true },
    artifact: { type: 'json', nullable: true },
  },
  indexes: [
    { name: 'builds_service_id_created_at_index', properties: ['serviceId', 'createdAt'] },
    // The reconciler's scan: only the few unfinished rows, however many finished ones there are.
    {
      name: 'builds_unsettled_index',
      expression:
        'create index "builds_unsettled_index" on "builds" ("updated_at") where "status" in (\'queued\', \'running\');',
    },
  ],
});
