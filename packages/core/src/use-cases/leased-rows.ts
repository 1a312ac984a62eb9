import type { Build } from '../domain/build.entity.js';
import type { Deployment } from '../domain/deployment.entity.js';
import type { Repositories } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';
import { markJobFailed } from './job-failure.js';
import {
  AttemptAborted,
  abortKind,
  errorMessage,
  leaseEnd,
  leaseNeedsRenewal,
  waitForDatabase,
  watchLease,
} from './job-lease.js';
import { scheduleJob } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { settleServiceStatus } from './service-status.js';

type Deps = Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'logger' | 'settings'>;

/** What the job machinery needs to know about a kind of row a job carries (builds, deployments). */
export interface LeasedRows<R extends Build | Deployment> {
  kind: 'build' | 'deployment';
  /** The status of a row a worker is working on. */
  running: R['status'];
  find(repos: Repositories, id: string): Promise<R | null>;
  update(repos: Repositories, row: R): Promise<void>;
  /** Fails the row for good: its attempts are spent. Settles its service, records the dead letter, notifies. */
  failForGood(deps: Pick<CoreDeps, 'clock' | 'ids'>, repos: Repositories, row: R, reason: string): Promise<void>;
}

const gaveUp = (row: Build | Deployment, reason: string) => `Gave up after ${row.attempt} attempt(s): ${reason}`;

export const BUILD_ROWS: LeasedRows<Build> = {
  kind: 'build',
  running: 'running',
  find: (repos, id) => repos.builds.find(id),
  update: (repos, row) => repos.builds.update(row),
  async failForGood(deps, repos, build, reason) {
    const now = deps.clock.now();
    if (build.status === 'queued') build.start(now);
    const error = gaveUp(build, reason);
    build.fail(error, '', now);
    await repos.builds.update(build);
    const service = await repos.services.get(build.serviceId);
    await settleServiceStatus(repos, service, now, 'failed');
    await markJobFailed(repos, build.jobId, error, build.attempt, now);
    await scheduleJob(deps, repos, 'notification.send', {
      event: 'build.finished',
      subject_id: build.id,
      status: 'failed',
    });
  },
};

export const DEPLOYMENT_ROWS: LeasedRows<Deployment> = {
  kind: 'deployment',
  running: 'deploying',
  find: (repos, id) => repos.deployments.find(id),
  update: (repos, row) => repos.deployments.update(row),
  async failForGood(deps, repos, deployment, reason) {
    const now = deps.clock.now();
    const error = gaveUp(deployment, reason);
    deployment.fail(error, now);
    await repos.deployments.update(deployment);
    const service = await repos.services.get(deployment.serviceId);
    await settleServiceStatus(repos, service, now, 'failed');
    await markJobFailed(repos, deployment.jobId, error, deployment.attempt, now);
    await scheduleJob(deps, repos, 'notification.send', {
      event: 'deployment.finished',
      subject_id: deployment.id,
      status: 'failed',
    });
  },
};

/** One attempt of a worker on one row. */
export interface Attempt {
  tenantId: string;
  id: string;
  attempt: number;
}

/**
 * An attempt ended without an outcome. Cancelled, or taken over by another worker: nothing to
 * do (`skipped`). Otherwise the row is freed for the next attempt and the error rethrown (the
 * queue retries), or, when that was the last attempt, the row fails for good (`failed`).
 */
export async function endAttempt<R extends Build | Deployment>(
  deps: Deps,
  rows: LeasedRows<R>,
  at: Attempt,
  attemptSignal: AbortSignal,
  error: unknown,
  jobSignal: AbortSignal,
): Promise<'failed' | 'skipped'> {
  const kind = abortKind(attemptSignal);
  if (kind === 'cancelled' || kind === 'lost') return 'skipped';
  const reason =
    kind === 'job' ? `attempt ${at.attempt} aborted: ${errorMessage(jobSignal.reason)}` : errorMessage(error);
  const ended = await waitForDatabase(deps, () =>
    retryOnConflict(() =>
      deps.uow.run(at.tenantId, async (repos) => {
        const row = await rows.find(repos, at.id);
        if (row === null || row.status !== rows.running || row.attempt !== at.attempt) return 'moot' as const;
        if (at.attempt >= deps.settings.maxJobAttempts) {
          await rows.failForGood(deps, repos, row, reason);
          return 'failed' as const;
        }
        row.releaseLease(`Attempt ${at.attempt} failed: ${reason}`, deps.clock.now());
        await rows.update(repos, row);
        return 'retry' as const;
      }),
    ),
  );
  deps.logger.warn(
    { tenant_id: at.tenantId, [`${rows.kind}_id`]: at.id, attempt: at.attempt, err: error, next: ended },
    `${rows.kind} attempt ended without an outcome`,
  );
  if (ended === 'retry') throw error instanceof Error ? error : new AttemptAborted('job', reason);
  return ended === 'failed' ? 'failed' : 'skipped';
}

/** Watches a running attempt: renews its lease, aborts `controller` on a cancel or a takeover. */
export function watchAttempt<R extends Build | Deployment>(
  deps: Deps,
  rows: LeasedRows<R>,
  at: Attempt,
  controller: AbortController,
): () => void {
  let current: R | null = null;
  return watchLease(
    deps,
    controller,
    at.tenantId,
    async (repos, now) => {
      current = await rows.find(repos, at.id);
      if (current === null || current.status === 'cancelled') return 'cancelled';
      if (current.status !== rows.running || current.attempt !== at.attempt) return 'lost';
      return leaseNeedsRenewal(deps, current.leaseUntil, now) ? 'renew' : 'held';
    },
    async (repos, now) => {
      if (current === null) return;
      current.renewLease(leaseEnd(deps, now), now);
      await rows.update(repos, current);
    },
  );
}
