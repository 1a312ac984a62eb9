import { defineSchema, TIMESTAMPTZ } from './define-schema.js';

export const RefreshTokenSchema = defineSchema({
  entity: 'refreshToken',
  columns: {
    familyId: { type: 'uuid' },
    expiresAt: { ...TIMESTAMPTZ },
    sessionStartedAt: { ...TIMESTAMPTZ },
    usedAt: { ...TIMESTAMPTZ, nullable: true },
    revokedAt: { ...TIMESTAMPTZ, nullable: true },
  },
  indexes: [
    { name: 'refresh_tokens_tenant_id_created_at_index', properties: ['tenantId', 'createdAt'] },
    { name: 'refresh_tokens_user_id_index', properties: ['userId'] },
    { name: 'refresh_tokens_family_id_index', properties: ['familyId'] },
  ],
});
