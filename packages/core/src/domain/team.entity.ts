import { Entity, type NewEntity } from './entity.js';
import type { TeamMember } from './team-member.entity.js';
import { text } from './validate.js';

export class Team extends Entity {
  /** The user who owns the team; the team belongs to that user's tenant. */
  ownerId!: string;
  name!: string;
  /** Filled only when loaded with the `members` relation. */
  members?: TeamMember[];

  static create(ctx: NewEntity, input: { ownerId: string; name: string }): Team {
    const team = new Team();
    team.init(ctx);
    team.ownerId = input.ownerId;
    team.name = text('name', input.name, { max: 100 });
    return team;
  }

  update(changes: { name?: string; ownerId?: string }, now: Date): void {
    if (changes.name !== undefined) this.name = text('name', changes.name, { max: 100 });
    if (changes.ownerId !== undefined) this.ownerId = changes.ownerId;
    this.touch(now);
  }
}
