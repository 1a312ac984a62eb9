import type { Tenant } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base } from './common.wire.js';

export const TenantWire = z.object({ ...base, name: z.string(), slug: z.string() }).openapi('Tenant');
export const tenantToWire = (t: Tenant) => ({
  id: t.id,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
  name: t.name,
  slug: t.slug,
});
