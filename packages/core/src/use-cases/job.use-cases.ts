import { ConflictError, NotFoundError } from '../domain/app.errors.js';
import { Build } from '../domain/build.entity.js';
import type { JobPayloads } from '../domain/job.types.js';
import type { OutboxMessage } from '../domain/outbox-message.entity.js';
import { type Principal, requireRole } from '../domain/role.js';
import { isUuid } from '../domain/validate.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { startDeployment } from './deployment.use-cases.js';
import { markJobFailed } from './job-failure.js';
import { scheduleJob } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { stamp } from './stamp.js';

/** What a job is about, for people: the row its payload names. */
export function jobSubject(message: Pick<OutboxMessage, 'name' | 'payload' | 'tenantId'>): {
  type: 'build' | 'deployment' | 'tenant';
  id: string;
} {
  const payload = message.payload as Record<string, unknown>;
  if (message.name === 'build.run') return { type: 'build', id: String(payload.build_id) };
  if (message.name === 'deployment.run') return { type: 'deployment', id: String(payload.deployment_id) };
  if (message.name === 'notification.send') {
    const event = String(payload.event);
    return { type: event.startsWith('deployment') ? 'deployment' : 'build', id: String(payload.subject_id) };
  }
  return { type: 'tenant', id: message.tenantId };
}

/** The queue gave up on a job that no row records a failure for (cleanup, notifications): a dead letter. */
export class RecordJobFailure {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock'>) {}

  async execute(tenantId: string, jobId: string, error: string, attempts: number | null): Promise<void> {
    if (!isUuid(jobId)) return;
    await retryOnConflict(() =>
      this.deps.uow.run(tenantId, (repos) => markJobFailed(repos, jobId, error, attempts, this.deps.clock.now())),
    );
  }
}

/** The tenant's jobs, for admins: `state=failed` lists the dead letters. */
export class ListJobs {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, query?: ListQueryInput): Promise<Page<OutboxMessage>> {
    requireRole(actor, 'admin');
    const spec = parseListQuery('outboxMessage', query);
    return this.deps.uow.run(actor.tenantId, (repos) => repos.outbox.list(spec));
  }
}

export class GetJob {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, jobId: string): Promise<OutboxMessage> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, (repos) => repos.outbox.get(jobId));
  }
}

/**
 * Redrives a dead letter: the work runs again as a new job (returned), and the dead letter is
 * marked `retried`. A failed build is final, so retrying its job queues a new build of the same
 * commit and branch; a deployment's job, a new deployment of the same build; any other job, the
 * same payload again. Only a `failed` job can be retried (`ConflictError` otherwise).
 */
export class RetryJob {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, jobId: string): Promise<OutboxMessage> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const dead = await repos.outbox.get(jobId);
      if (dead.state !== 'failed') {
        throw new ConflictError(`Only a failed job can be retried; this one is ${dead.state}`, { state: dead.state });
      }
      const now = this.deps.clock.now();
      let job: OutboxMessage;
      if (dead.name === 'build.run') {
        const payload = dead.payload as JobPayloads['build.run'];
        const old = await repos.builds.find(payload.build_id);
        if (old === null) throw new NotFoundError('Build', { field: 'build_id' });
        const service = await repos.services.get(old.serviceId);
        const build = Build.create(stamp(this.deps), {
          serviceId: service.id,
          branch: old.branch,
          commitSha: old.commitSha,
        });
        job = await scheduleJob(this.deps, repos, 'build.run', { build_id: build.id });
        build.jobId = job.id;
        await repos.builds.add(build);
        if (service.setStatus('building', now)) await repos.services.update(service);
      } else if (dead.name === 'deployment.run') {
        const payload = dead.payload as JobPayloads['deployment.run'];
        const old = await repos.deployments.find(payload.deployment_id);
        if (old === null) throw new NotFoundError('Deployment', { field: 'deployment_id' });
        const deployment = await startDeployment(this.deps, repos, old.serviceId, old.buildId);
        job = await repos.outbox.get(deployment.jobId as string);
      } else {
        // The payload names the dead letter's tenant, which is this unit's: it was read in it.
        job = await scheduleJob(this.deps, repos, dead.name, dead.payload as never);
      }
      dead.markRetried(now);
      await repos.outbox.update(dead);
      await recordAudit(this.deps, repos, actor, {
        action: 'job.retry',
        target: { type: 'job', id: dead.id },
        summary: { name: dead.name, new_job_id: job.id },
      });
      return job;
    });
  }
}
