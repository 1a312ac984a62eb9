import { NotFoundError } from '../domain/app.errors.js';
import { changedFields, snapshot } from '../domain/audit-redaction.js';
import { type Principal, requireRole } from '../domain/role.js';
import { Team } from '../domain/team.entity.js';
import { TeamMember, type TeamRole } from '../domain/team-member.entity.js';
import { type ListQueryInput, type Page, parseInclude, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { stamp } from './stamp.js';

/** Members read teams; admins manage them. */
export class ListTeams {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, query?: ListQueryInput): Promise<Page<Team>> {
    requireRole(actor, 'member');
    const spec = parseListQuery('team', query);
    return this.deps.uow.run(actor.tenantId, (repos) => repos.teams.list(spec));
  }
}

export class GetTeam {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, teamId: string, options?: { include?: string[] }): Promise<Team> {
    requireRole(actor, 'member');
    const include = parseInclude('team', options?.include ?? ['members']);
    return this.deps.uow.run(actor.tenantId, (repos) => repos.teams.get(teamId, { include }));
  }
}

/** Creates a team owned by `ownerId` (a user of the tenant), or by the actor. */
export class CreateTeam {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, input: { name: string; ownerId?: string }): Promise<Team> {
    requireRole(actor, 'admin');
    const team = Team.create(stamp(this.deps), { name: input.name, ownerId: input.ownerId ?? actor.userId });
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.teams.add(team);
      await recordAudit(this.deps, repos, actor, {
        action: 'team.create',
        target: { type: 'team', id: team.id },
        summary: { name: team.name, owner_id: team.ownerId },
      });
      return team;
    });
  }
}

export class UpdateTeam {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, teamId: string, changes: { name?: string; ownerId?: string }): Promise<Team> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const team = await repos.teams.get(teamId);
      const before = snapshot(team);
      team.update(changes, this.deps.clock.now());
      await repos.teams.update(team);
      await recordAudit(this.deps, repos, actor, {
        action: 'team.update',
        target: { type: 'team', id: team.id },
        summary: { changed: changedFields(before, team, ['name', 'ownerId']) },
      });
      return team;
    });
  }
}

export class DeleteTeam {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, teamId: string): Promise<void> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const team = await repos.teams.get(teamId);
      await repos.teams.remove(team.id);
      await recordAudit(this.deps, repos, actor, {
        action: 'team.delete',
        target: { type: 'team', id: team.id },
        summary: { name: team.name },
      });
    });
  }
}

/** Adds a user of the tenant to a team; adding someone twice is a `ConflictError`. */
export class AddTeamMember {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, teamId: string, input: { userId: string; role?: TeamRole }): Promise<TeamMember> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.teams.get(teamId);
      const member = TeamMember.create(stamp(this.deps), {
        teamId,
        userId: input.userId,
        role: input.role ?? 'member',
      });
      await repos.teamMembers.add(member);
      await recordAudit(this.deps, repos, actor, {
        action: 'team.member_add',
        target: { type: 'team', id: member.teamId },
        summary: { user_id: member.userId, role: member.role },
      });
      return member;
    });
  }
}

export class RemoveTeamMember {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, teamId: string, userId: string): Promise<void> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.teams.get(teamId);
      const page = await repos.teamMembers.list(
        parseListQuery('teamMember', { filters: { teamId, userId }, limit: 1 }),
      );
      const member = page.items[0];
      if (member === undefined) throw new NotFoundError('Team member');
      await repos.teamMembers.remove(member.id);
      await recordAudit(this.deps, repos, actor, {
        action: 'team.member_remove',
        target: { type: 'team', id: member.teamId },
        summary: { user_id: member.userId },
      });
    });
  }
}
