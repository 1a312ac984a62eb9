import type { Build } from '../domain/build.entity.js';
import type { Deployment } from '../domain/deployment.entity.js';
import type { OutboxMessage } from '../domain/outbox-message.entity.js';
import type { JobRef } from '../ports/job-queue.port.js';
import type { Repositories, UnsettledRow } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';
import { BUILD_ROWS, DEPLOYMENT_ROWS } from './leased-rows.js';
import { scheduleJob } from './outbox.js';
import { isStaleWrite } from './retry.js';

export interface ReconcileReport {
  /** Rows whose job was published again. */
  republished: number;
  /** Rows failed because their attempts were spent. */
  failed: number;
  /** False when the queue could not be asked (nothing was decided). */
  checked: boolean;
}

export interface ReconcileOptions {
  /**
   * Treat every running row as abandoned, whatever its lease says: for a process that owns its
   * database alone (the embedded one) when it starts, since no other worker can hold a row.
   */
  expireLeases?: boolean;
  /** Rows of each kind looked at per run. Default 200. */
  limit?: number;
}

type Kind = 'build' | 'deployment';
type Row = Build | Deployment;

interface Candidate {
  kind: Kind;
  tenantId: string;
  row: Row;
  message: OutboxMessage | null;
}

/** Later than any lease or change: every row qualifies. */
const FAR_FUTURE = new Date('9999-12-31T00:00:00Z');

const rowsOf = (kind: Kind) => (kind === 'build' ? BUILD_ROWS : DEPLOYMENT_ROWS);

const waiting = (row: Row): boolean => row.status === 'queued' || row.status === 'pending';

/**
 * The rows are the truth, the queue is a cache. Finds builds and deployments that should be
 * moving but are not: waiting (queued, pending) with no live job in the queue (Redis flushed or
 * restarted empty, an in-process queue gone with its process, a job given up during a database
 * outage), or running past their lease (their worker died). Each is published again under the
 * same job id, or, once its attempts are spent, failed with a clear error and its service
 * settled. Several reconcilers may run at once: every change is a versioned write, and a lost
 * race is left to the winner.
 */
export class ReconcileJobs {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'jobs' | 'logger' | 'settings'>) {}

  async execute(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const now = this.deps.clock.now();
    const limit = options.limit ?? 200;
    const range = {
      waitingBefore:
        options.expireLeases === true ? FAR_FUTURE : new Date(now.getTime() - this.deps.settings.reconcileGraceMs),
      leaseEndedBefore: options.expireLeases === true ? FAR_FUTURE : now,
      limit,
    };
    // Platform-wide: the scan finds rows of every tenant, then reads each in its tenant.
    const candidates = await this.deps.uow.platform(async (platform) => {
      const [builds, deployments] = await Promise.all([
        platform.listUnsettledBuilds(range),
        platform.listUnsettledDeployments(range),
      ]);
      const found: Candidate[] = [];
      for (const [kind, rows] of [
        ['build', builds],
        ['deployment', deployments],
      ] as const) {
        for (const { id, tenantId } of rows as UnsettledRow[]) {
          const repos = platform.inTenant(tenantId);
          const row = kind === 'build' ? await repos.builds.find(id) : await repos.deployments.find(id);
          if (row === null) continue;
          const message = row.jobId === null ? null : await repos.outbox.find(row.jobId);
          found.push({ kind, tenantId, row, message });
        }
      }
      return found;
    });
    if (candidates.length === 0) return { republished: 0, failed: 0, checked: true };

    // A message the relay has not published yet is the relay's business, not ours; a row whose
    // attempts are spent is failed whatever its job does.
    const spent = (c: Candidate) => !waiting(c.row) && c.row.attempt >= this.deps.settings.maxJobAttempts;
    // A job relayed a moment ago (a republish of an earlier run, say) may not show in the queue yet,
    // or has just been taken: it gets the grace a new row gets before it counts as lost.
    const sentBefore = now.getTime() - this.deps.settings.reconcileGraceMs;
    const freshlySent = (c: Candidate) =>
      options.expireLeases !== true &&
      c.message?.state === 'sent' &&
      c.message.sentAt !== null &&
      c.message.sentAt.getTime() > sentBefore;
    const due = candidates.filter((c) => spent(c) || (c.message?.state !== 'pending' && !freshlySent(c)));
    const refs: JobRef[] = due.flatMap((c) =>
      c.message === null ? [] : [{ id: c.message.id, queue: c.message.queue }],
    );
    let live: Set<string>;
    try {
      live = refs.length === 0 ? new Set() : await this.deps.jobs.liveJobs(refs);
    } catch (error) {
      this.deps.logger.warn({ err: error, rows: due.length }, 'reconciler cannot ask the job queue; trying later');
      return { republished: 0, failed: 0, checked: false };
    }

    const report: ReconcileReport = { republished: 0, failed: 0, checked: true };
    for (const candidate of due) {
      const jobLive = candidate.message !== null && live.has(candidate.message.id);
      try {
        const done = await this.deps.uow.run(candidate.tenantId, (repos) =>
          this.settle(repos, candidate, jobLive, options),
        );
        if (done === 'republished') report.republished += 1;
        if (done === 'failed') report.failed += 1;
      } catch (error) {
        if (isStaleWrite(error)) continue; // someone else (a worker, another reconciler) moved the row
        this.deps.logger.warn({ err: error, [`${candidate.kind}_id`]: candidate.row.id }, 'reconciling a row failed');
      }
    }
    if (report.republished > 0 || report.failed > 0) {
      this.deps.logger.info({ ...report }, 'reconciler put stranded builds and deployments back on track');
    }
    return report;
  }

  private async settle(
    repos: Repositories,
    candidate: Candidate,
    jobLive: boolean,
    options: ReconcileOptions,
  ): Promise<'republished' | 'failed' | 'left'> {
    const { kind, tenantId } = candidate;
    const now = this.deps.clock.now();
    const row =
      kind === 'build' ? await repos.builds.find(candidate.row.id) : await repos.deployments.find(candidate.row.id);
    // Moved since the scan: a worker took it, it finished, or another reconciler acted.
    if (row === null || row.version !== candidate.row.version) return 'left';
    const log = { tenant_id: tenantId, [`${kind}_id`]: row.id, attempt: row.attempt, job_id: row.jobId };

    if (!waiting(row)) {
      if (row.attempt >= this.deps.settings.maxJobAttempts) {
        const reason = `its worker stopped during the last attempt (${row.error ?? 'no error was reported'})`;
        await rowsOf(kind).failForGood(this.deps, repos, row as never, reason);
        this.deps.logger.warn(log, `${kind} failed: its attempts are spent`);
        return 'failed';
      }
      // A retry waiting in the queue, or a stalled job the queue will hand to another worker.
      if (jobLive && options.expireLeases !== true) return 'left';
      if (row.isLeased(now)) {
        row.releaseLease(row.error ?? 'its worker stopped', now);
        await rowsOf(kind).update(repos, row as never);
      }
    } else if (jobLive) {
      return 'left';
    }

    const message = candidate.message === null ? null : await repos.outbox.find(candidate.message.id);
    // Published again since the scan (by another reconciler, which wrote the message, not the row):
    // the relay's business now. Scheduling a job here would give the row a second one.
    if (message?.state === 'pending') return 'left';
    if (message !== null && (message.state === 'sent' || message.state === 'failed')) {
      message.republish(now);
      await repos.outbox.update(message);
    } else {
      const job =
        kind === 'build'
          ? await scheduleJob(this.deps, repos, 'build.run', { build_id: row.id })
          : await scheduleJob(this.deps, repos, 'deployment.run', { deployment_id: row.id });
      row.jobId = job.id;
      await rowsOf(kind).update(repos, row as never);
    }
    this.deps.logger.info(log, `${kind} had no live job; published again`);
    return 'republished';
  }
}
