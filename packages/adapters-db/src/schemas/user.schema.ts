import { EMAIL_LINK_PURPOSES, ROLES } from '@shipyard/core';
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
    emailVerifiedAt: { ...TIMESTAMPTZ, nullable: true },
    sessionEpoch: { type: 'integer' },
    emailLinkPurpose: { enum: true, items: [...EMAIL_LINK_PURPOSES], nullable: true, hidden: true },
    emailLinkDigest: { type: 'text', nullable: true, hidden: true },
    emailLinkExpiresAt: { ...TIMESTAMPTZ, nullable: true, hidden: true },
  },
  // Emails are stored lowercase; the index on lower(email) keeps them unique whatever the case.
  uniqueExpressions: {
    email: (constraint, table) => `create unique index "${constraint}" on "${table}" (lower("email"))`,
  },
  indexes: [{ name: 'users_tenant_id_created_at_index', properties: ['tenantId', 'createdAt'] }],
});
