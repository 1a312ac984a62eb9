import { SERVICE_STATUSES } from '@shipyard/core';
import { defineSchema } from './define-schema.js';

export const ServiceSchema = defineSchema({
  entity: 'service',
  columns: {
    name: { type: 'text' },
    repoUrl: { type: 'text' },
    branch: { type: 'text' },
    buildCommand: { type: 'text', nullable: true },
    startCommand: { type: 'text', nullable: true },
    port: { type: 'integer', nullable: true },
    autoDeploy: { type: 'boolean' },
    healthCheckPath: { type: 'text', nullable: true },
    // Ciphertext, like `env`; kept out of `JSON.stringify` of the mapped entity.
    repoCredentials: { type: 'text', nullable: true, hidden: true },
    env: { type: 'json' },
    status: { enum: true, items: [...SERVICE_STATUSES] },
  },
  indexes: [{ name: 'services_project_id_created_at_index', properties: ['projectId', 'createdAt'] }],
});
