import { defineSchema } from './define-schema.js';

export const TenantSchema = defineSchema({
  entity: 'tenant',
  columns: {
    name: { type: 'text' },
    slug: { type: 'text' },
  },
});
