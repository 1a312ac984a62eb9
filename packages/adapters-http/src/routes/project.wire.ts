import type { Project } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base, uuid } from './common.wire.js';

export const ProjectWire = z
  .object({
    ...base,
    tenant_id: uuid(),
    team_id: uuid().nullable(),
    name: z.string(),
    description: z.string().nullable(),
  })
  .openapi('Project');
export const projectToWire = (p: Project) => ({
  id: p.id,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
  tenant_id: p.tenantId,
  team_id: p.teamId,
  name: p.name,
  description: p.description,
});
