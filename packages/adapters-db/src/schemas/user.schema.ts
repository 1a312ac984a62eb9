import { ROLES } from '@shipyard/core';
import { defineSchema, TIMESTAMPTZ } from './define-schema.js';

export const UserSchema = defineSchema({
  entity: 'user',
  columns: {
    email: { type: 'text' },
    fullName: { type: 'text', nullable: true },
    role: { enum: true, items: [...ROLES] },
    isActive: { type: 'boolean' },
    passwordHash: { type: 'text', nullable: true, hidden: true },
    lastLoginAt: { ...TIMESTAMPTZ, nullable: true },
  },
  // Emails are stored lowercase; the index on lower(email) keeps them unique whatever the case.
  uniqueExpressions: {
    email: (constraint, table) => `create unique index "${constraint}" on "${table}" (lower("email"))`,
  },
  indexes: [{ name: 'users_tenant_id_created_at_index', properties: ['tenantId', 'createdAt'] }],
});
