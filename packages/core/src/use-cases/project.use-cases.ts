import { changedFields, snapshot } from '../domain/audit-redaction.js';
import { Project } from '../domain/project.entity.js';
import { type Principal, requireRole } from '../domain/role.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { stamp } from './stamp.js';

export class ListProjects {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, query?: ListQueryInput): Promise<Page<Project>> {
    requireRole(actor, 'viewer');
    const spec = parseListQuery('project', query);
    return this.deps.uow.run(actor.tenantId, (repos) => repos.projects.list(spec));
  }
}

export class GetProject {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, projectId: string): Promise<Project> {
    requireRole(actor, 'viewer');
    return this.deps.uow.run(actor.tenantId, (repos) => repos.projects.get(projectId));
  }
}

export interface ProjectInput {
  name: string;
  description?: string | null;
  teamId?: string | null;
}

/** Members create projects; a `teamId` must name a team of the same tenant. */
export class CreateProject {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, input: ProjectInput): Promise<Project> {
    requireRole(actor, 'member');
    const project = Project.create(stamp(this.deps), { tenantId: actor.tenantId, ...input });
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.projects.add(project);
      await recordAudit(this.deps, repos, actor, {
        action: 'project.create',
        target: { type: 'project', id: project.id },
        summary: { name: project.name },
      });
      return project;
    });
  }
}

export class UpdateProject {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, projectId: string, changes: Partial<ProjectInput>): Promise<Project> {
    requireRole(actor, 'member');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const project = await repos.projects.get(projectId);
      const before = snapshot(project);
      project.update(changes, this.deps.clock.now());
      await repos.projects.update(project);
      await recordAudit(this.deps, repos, actor, {
        action: 'project.update',
        target: { type: 'project', id: project.id },
        summary: { changed: changedFields(before, project, ['name', 'description', 'teamId']) },
      });
      return project;
    });
  }
}

/** Admins delete projects, and with them their services, builds and deployments. */
export class DeleteProject {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, projectId: string): Promise<void> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const project = await repos.projects.get(projectId);
      await repos.projects.remove(project.id);
      await recordAudit(this.deps, repos, actor, {
        action: 'project.delete',
        target: { type: 'project', id: project.id },
        summary: { name: project.name },
      });
    });
  }
}
