import { defineSchema } from './define-schema.js';

export const ProjectSchema = defineSchema({
  entity: 'project',
  columns: {
    name: { type: 'text' },
    description: { type: 'text', nullable: true },
  },
  indexes: [
    { name: 'projects_tenant_id_created_at_index', properties: ['tenantId', 'createdAt'] },
    { name: 'projects_team_id_index', properties: ['teamId'] },
  ],
});
