import { TEAM_ROLES, type Team, type TeamMember } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base, uuid } from './common.wire.js';

export const TeamMemberWire = z
  .object({ ...base, team_id: uuid(), user_id: uuid(), role: z.enum(TEAM_ROLES) })
  .openapi('TeamMember');
export const teamMemberToWire = (m: TeamMember) => ({
  id: m.id,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
  team_id: m.teamId,
  user_id: m.userId,
  role: m.role,
});

export const TeamWire = z
  .object({ ...base, owner_id: uuid(), name: z.string(), members: z.array(TeamMemberWire).optional() })
  .openapi('Team');
export const teamToWire = (t: Team) => ({
  id: t.id,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
  owner_id: t.ownerId,
  name: t.name,
  ...(t.members === undefined ? {} : { members: t.members.map(teamMemberToWire) }),
});
