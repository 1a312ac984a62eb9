import { randomUUID } from 'node:crypto';
import { openScratchDatabase as openScratch, type ScratchDatabase } from '@shipyard/adapters-db/testing';
import {
  type CoreDeps,
  createUseCases,
  type Job,
  type JobHandlers,
  type JobName,
  type JobQueue,
  type JobRef,
  type OutboxMessage,
  type Principal,
  RandomIdGenerator,
  type Repositories,
  type Service,
  SystemClock,
  type UnitOfWork,
  type UseCases,
} from '@shipyard/core';
import { MemoryLogger, TestHarness } from '@shipyard/core/testing';

export type { ScratchDatabase };

/** A migrated PostgreSQL database of its own for one test file. */
export const openScratchDatabase = (): Promise<ScratchDatabase> =>
  openScratch({ pool: { min: 0, max: 8 }, scratch: { prefix: 'shipyard_queue_test' } });

/** A `JobQueue` that records the id of every job it published (the inner queue accepted it). */
export class CountingJobQueue implements JobQueue {
  readonly published: string[] = [];

  constructor(private readonly inner: JobQueue) {}

  async enqueue(job: Job): Promise<void> {
    await this.inner.enqueue(job);
    this.published.push(job.id);
  }

  liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    return this.inner.liveJobs(jobs);
  }
}

/** What a worker ran: the job name and the subject it names (build, deployment, ...). */
export interface HandlerRun {
  name: JobName;
  subject: string;
}

/** The core's handlers, recording each run before it starts. */
export function countingHandlers(inner: JobHandlers): {
  handlers: Pick<JobHandlers, 'run' | 'giveUp'>;
  runs: HandlerRun[];
} {
  const runs: HandlerRun[] = [];
  const subjectOf = (payload: unknown): string => {
    const p = (payload ?? {}) as Record<string, unknown>;
    return String(p.build_id ?? p.deployment_id ?? p.subject_id ?? p.tenant_id);
  };
  return {
    runs,
    handlers: {
      run: (name, payload) => {
        runs.push({ name, subject: subjectOf(payload) });
        return inner.run(name, payload);
      },
      giveUp: (name, payload, reason) => inner.giveUp(name, payload, reason),
    },
  };
}

export interface PostgresCore {
  deps: CoreDeps;
  useCases: UseCases;
  logger: MemoryLogger;
}

/**
 * The core on PostgreSQL: the harness's fakes (passwords, tokens, encryptor) and simulated
 * runners, but the database's unit of work, a system clock, random ids (several tenants share the
 * database) and `jobs` as given.
 */
export function coreOnPostgres(uow: UnitOfWork, jobs: JobQueue, logger = new MemoryLogger()): PostgresCore {
  const harness = new TestHarness();
  const deps: CoreDeps = {
    ...harness.deps,
    uow,
    jobs,
    logger,
    clock: new SystemClock(),
    ids: new RandomIdGenerator(),
  };
  return { deps, useCases: createUseCases(deps), logger };
}

/** A new tenant with its owner, a project and one service. */
export async function tenantWithService(
  useCases: UseCases,
  service: { autoDeploy?: boolean } = {},
): Promise<{ owner: Principal; email: string; service: Service }> {
  const n = randomUUID().slice(0, 8);
  const email = `owner-${n}@example.test`;
  const { user, tenant } = await useCases.register.execute({
    tenantName: `Tenant ${n}`,
    email,
    password: 'correct horse battery',
  });
  const owner: Principal = { userId: user.id, tenantId: tenant.id, role: user.role };
  const project = await useCases.createProject.execute(owner, { name: 'Website' });
  const created = await useCases.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    autoDeploy: service.autoDeploy ?? false,
  });
  return { owner, email, service: created };
}

/** The unsent outbox rows (platform-wide, as the relay sees them). */
export const pendingOutbox = (uow: UnitOfWork): Promise<OutboxMessage[]> =>
  uow.platform((platform) => platform.listPendingMessages(new Date(Date.now() + 60_000), 1_000));

/** A unit of work whose tenant units run `after` once their work is done, in the same transaction. */
export function withAfterWork(uow: UnitOfWork, after: (repos: Repositories) => Promise<void>): UnitOfWork {
  return {
    run: (tenantId, work) =>
      uow.run(tenantId, async (repos) => {
        const result = await work(repos);
        await after(repos);
        return result;
      }),
    platform: (work) => uow.platform(work),
  };
}
