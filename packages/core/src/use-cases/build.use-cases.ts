import { Build, checkCommitSha } from '../domain/build.entity.js';
import { type Principal, requireRole } from '../domain/role.js';
import { checkBranch } from '../domain/service.entity.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { scheduleJob } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { settleServiceStatus } from './service-status.js';
import { stamp } from './stamp.js';

export interface TriggerBuildInput {
  commitSha?: string | null;
  /** Defaults to the service's branch. */
  branch?: string | null;
}

/** Queues a build of a service; the build job is published once the transaction commits. */
export class TriggerBuild {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, serviceId: string, input: TriggerBuildInput = {}): Promise<Build> {
    requireRole(actor, 'member');
    const commitSha = input.commitSha == null ? null : checkCommitSha(input.commitSha);
    const branch = input.branch == null ? null : checkBranch('branch', input.branch);
    // Two triggers racing on one service both write its status: the later one simply runs again.
    return retryOnConflict(() =>
      this.deps.uow.run(actor.tenantId, async (repos) => {
        const service = await repos.services.get(serviceId);
        const build = Build.create(stamp(this.deps), {
          serviceId: service.id,
          branch: branch ?? service.branch,
          commitSha,
        });
        const job = await scheduleJob(this.deps, repos, 'build.run', { build_id: build.id });
        build.jobId = job.id;
        await repos.builds.add(build);
        if (service.setStatus('building', this.deps.clock.now())) await repos.services.update(service);
        await recordAudit(this.deps, repos, actor, {
          action: 'build.trigger',
          target: { type: 'build', id: build.id },
          summary: { service_id: service.id, branch: build.branch, commit_sha: build.commitSha },
        });
        return build;
      }),
    );
  }
}

export class ListBuilds {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, serviceId: string, query?: ListQueryInput): Promise<Page<Build>> {
    requireRole(actor, 'viewer');
    const spec = parseListQuery('build', query);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.services.get(serviceId);
      return repos.builds.list({ ...spec, filters: { ...spec.filters, serviceId: [serviceId] } });
    });
  }
}

export class GetBuild {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, buildId: string): Promise<Build> {
    requireRole(actor, 'viewer');
    return this.deps.uow.run(actor.tenantId, (repos) => repos.builds.get(buildId));
  }
}

/** Cancels a queued or running build; a running one is aborted at its next lease check. */
export class CancelBuild {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, buildId: string): Promise<Build> {
    requireRole(actor, 'member');
    // The running build's worker renews its lease on the same row: a lost race is simply run again.
    return retryOnConflict(() =>
      this.deps.uow.run(actor.tenantId, async (repos) => {
        const build = await repos.builds.get(buildId);
        const now = this.deps.clock.now();
        const from = build.status;
        build.cancel(now);
        await repos.builds.update(build);
        const service = await repos.services.get(build.serviceId);
        if (service.status === 'building') await settleServiceStatus(repos, service, now);
        await recordAudit(this.deps, repos, actor, {
          action: 'build.cancel',
          target: { type: 'build', id: build.id },
          summary: { service_id: service.id, status_from: from },
        });
        return build;
      }),
    );
  }
}
