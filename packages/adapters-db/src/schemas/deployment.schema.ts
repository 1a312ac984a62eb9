import { DEPLOYMENT_STATUSES } from '@shipyard/core';
import { defineSchema, TIMESTAMPTZ } from './define-schema.js';

export const DeploymentSchema = defineSchema({
  entity: 'deployment',
  columns: {
    status: { enum: true, items: [...DEPLOYMENT_STATUSES] },
    url: { type: 'text', nullable: true },
    error: { type: 'text', nullable: true },
    startedAt: { ...TIMESTAMPTZ, nullable: true },
    finishedAt: { ...TIMESTAMPTZ, nullable: true },
    attempt: { type: 'integer' },
    leaseUntil: { ...TIMESTAMPTZ, nullable: true },
    jobId: { type: 'uuid', nullable: true },
  },
  indexes: [
    { name: 'deployments_service_id_created_at_index', properties: ['serviceId', 'createdAt'] },
    { name: 'deployments_build_id_index', properties: ['buildId'] },
    {
      name: 'deployments_unsettled_index',
      expression:
        'create index "deployments_unsettled_index" on "deployments" ("updated_at") where "status" in (\'pending\', \'deploying\');',
    },
  ],
});
