import { defineSchema } from './define-schema.js';

export const TeamSchema = defineSchema({
  entity: 'team',
  columns: {
    name: { type: 'text' },
  },
  indexes: [{ name: 'teams_owner_id_created_at_index', properties: ['ownerId', 'createdAt'] }],
});
