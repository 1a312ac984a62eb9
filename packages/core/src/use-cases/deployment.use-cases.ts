import { ConflictError, NotFoundError } from '../domain/app.errors.js';
import { Deployment } from '../domain/deployment.entity.js';
import { type Principal, requireRole } from '../domain/role.js';
import { uuid } from '../domain/validate.js';
import type { Repositories } from '../ports/repository.port.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { scheduleJob } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { settleServiceStatus } from './service-status.js';
import { stamp } from './stamp.js';

/** Creates a pending deployment of a succeeded build of the service and schedules its job. */
export async function startDeployment(
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  repos: Repositories,
  serviceId: string,
  buildId: string,
): Promise<Deployment> {
  const service = await repos.services.get(serviceId);
  const build = await repos.builds.find(buildId);
  if (build === null || build.serviceId !== service.id) throw new NotFoundError('Build', { field: 'buildId' });
  if (build.status !== 'succeeded') {
    throw new ConflictError(`Only a succeeded build can be deployed; this one is ${build.status}`, {
      field: 'buildId',
      status: build.status,
    });
  }
  if (build.artifact === null) {
    throw new ConflictError(
      'This build has no artifact (cleaned up, or built before artifacts were kept): build the commit again to deploy it',
      {
        field: 'buildId',
      },
    );
  }
  build.markDeployed(deps.clock.now());
  await repos.builds.update(build);
  const deployment = Deployment.create(stamp(deps), { serviceId: service.id, buildId: build.id });
  const job = await scheduleJob(deps, repos, 'deployment.run', { deployment_id: deployment.id });
  deployment.jobId = job.id;
  await repos.deployments.add(deployment);
  if (service.setStatus('deploying', deps.clock.now())) await repos.services.update(service);
  return deployment;
}

export class CreateDeployment {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, serviceId: string, input: { buildId: string }): Promise<Deployment> {
    requireRole(actor, 'member');
    const buildId = uuid('buildId', input.buildId);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const deployment = await startDeployment(this.deps, repos, serviceId, buildId);
      await recordAudit(this.deps, repos, actor, {
        action: 'deployment.create',
        target: { type: 'deployment', id: deployment.id },
        summary: { service_id: deployment.serviceId, build_id: deployment.buildId },
      });
      return deployment;
    });
  }
}

export class ListDeployments {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, serviceId: string, query?: ListQueryInput): Promise<Page<Deployment>> {
    requireRole(actor, 'viewer');
    const spec = parseListQuery('deployment', query);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.services.get(serviceId);
      return repos.deployments.list({ ...spec, filters: { ...spec.filters, serviceId: [serviceId] } });
    });
  }
}

export class GetDeployment {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, deploymentId: string): Promise<Deployment> {
    requireRole(actor, 'viewer');
    return this.deps.uow.run(actor.tenantId, (repos) => repos.deployments.get(deploymentId));
  }
}

/**
 * Cancels a pending or deploying deployment (`ConflictError` once it is final). A running deploy
 * sees it at its next lease check and its runtime is aborted through its signal.
 */
export class CancelDeployment {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, deploymentId: string): Promise<Deployment> {
    requireRole(actor, 'member');
    return retryOnConflict(() =>
      this.deps.uow.run(actor.tenantId, async (repos) => {
        const deployment = await repos.deployments.get(deploymentId);
        const now = this.deps.clock.now();
        const from = deployment.status;
        deployment.cancel(now);
        await repos.deployments.update(deployment);
        const service = await repos.services.get(deployment.serviceId);
        if (service.status === 'deploying') await settleServiceStatus(repos, service, now);
        await recordAudit(this.deps, repos, actor, {
          action: 'deployment.cancel',
          target: { type: 'deployment', id: deployment.id },
          summary: { service_id: service.id, status_from: from },
        });
        return deployment;
      }),
    );
  }
}

/**
 * Rolls back from a deployment: deploys again the build that was live before it (the newest
 * earlier deployment of the service that went live with another build).
 */
export class RollbackDeployment {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, deploymentId: string): Promise<Deployment> {
    requireRole(actor, 'member');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const current = await repos.deployments.get(deploymentId);
      const history = await repos.deployments.list(
        parseListQuery('deployment', {
          filters: { serviceId: current.serviceId, status: ['live', 'superseded'] },
          sortBy: 'createdAt',
          sortOrder: 'desc',
          limit: 1000,
        }),
      );
      const target = history.items.find(
        (d) =>
          d.createdAt.getTime() <= current.createdAt.getTime() && d.id !== current.id && d.buildId !== current.buildId,
      );
      if (target === undefined) throw new ConflictError('There is no earlier successful deployment to roll back to');
      const deployment = await startDeployment(this.deps, repos, current.serviceId, target.buildId);
      await recordAudit(this.deps, repos, actor, {
        action: 'deployment.rollback',
        target: { type: 'deployment', id: deployment.id },
        summary: { service_id: deployment.serviceId, build_id: deployment.buildId, from_deployment_id: current.id },
      });
      return deployment;
    });
  }
}
