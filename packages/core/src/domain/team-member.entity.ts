import { Entity, type NewEntity } from './entity.js';
import { oneOf } from './validate.js';

export const TEAM_ROLES = ['maintainer', 'member'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

export class TeamMember extends Entity {
  teamId!: string;
  userId!: string;
  role!: TeamRole;

  static create(ctx: NewEntity, input: { teamId: string; userId: string; role?: TeamRole }): TeamMember {
    const member = new TeamMember();
    member.init(ctx);
    member.teamId = input.teamId;
    member.userId = input.userId;
    member.role = oneOf('role', input.role ?? 'member', TEAM_ROLES);
    return member;
  }

  changeRole(role: TeamRole, now: Date): void {
    this.role = oneOf('role', role, TEAM_ROLES);
    this.touch(now);
  }
}
