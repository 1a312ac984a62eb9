import { ROLES, type User } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base, iso, timestamp, uuid } from './common.wire.js';

export const UserWire = z
  .object({
    ...base,
    tenant_id: uuid(),
    email: z.string(),
    full_name: z.string().nullable(),
    role: z.enum(ROLES),
    is_active: z.boolean(),
    last_login_at: timestamp().nullable(),
    email_verified_at: timestamp()
      .nullable()
      .openapi({ description: 'When the user proved the address (a link followed, or a provider); null until then' }),
  })
  .openapi('User');
export const userToWire = (u: User) => ({
  id: u.id,
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
  tenant_id: u.tenantId,
  email: u.email,
  full_name: u.fullName,
  role: u.role,
  is_active: u.isActive,
  last_login_at: iso(u.lastLoginAt),
  email_verified_at: iso(u.emailVerifiedAt),
});
