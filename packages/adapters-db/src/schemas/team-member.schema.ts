import { TEAM_ROLES } from '@shipyard/core';
import { defineSchema } from './define-schema.js';

export const TeamMemberSchema = defineSchema({
  entity: 'teamMember',
  columns: {
    role: { enum: true, items: [...TEAM_ROLES] },
  },
  // The unique key (team_id, user_id) serves lookups by team.
  indexes: [{ name: 'team_members_user_id_index', properties: ['userId'] }],
});
