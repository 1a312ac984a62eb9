import { type JobPayloads, jobLogFields } from '../domain/job.types.js';
import type { BuildArtifact } from '../ports/build-runner.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Repositories } from '../ports/repository.port.js';
import { parseListQuery } from '../query/list-query.js';
import type { CoreDeps } from './core-deps.js';
import { retryOnConflict } from './retry.js';

const DAY_MS = 86_400_000;
const BATCH = 500;

export interface CleanupReport {
  buildsDeleted: number;
  outboxMessagesDeleted: number;
  /** Artifacts deleted: of deleted builds, and of succeeded builds past the newest `keepArtifacts` of their service. */
  artifactsDiscarded: number;
  /** Audit events past the retention, of every tenant (see `pruneAuditEvents`). */
  auditEventsDeleted: number;
}

const PAGE = 100;

/**
 * The cleanup job of one tenant: deletes finished builds past the retention (always keeping the
 * newest per service and any build a deployment refers to) and old sent outbox messages. It also
 * applies the audit retention, which is platform-wide (one delete of every tenant's events older
 * than `auditRetentionDays`): the first cleanup job of a period does the work, the others of the
 * same period find nothing left. Running it twice deletes nothing more the second time.
 */
export class RunCleanup {
  constructor(
    private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'logger' | 'settings' | 'buildRunner' | 'logStore'>,
  ) {}

  /** `logger`: the job's (bound to its tenant), else one bound here. */
  async execute(
    payload: JobPayloads['cleanup.run'],
    logger: Logger = this.deps.logger.child(jobLogFields(payload)),
  ): Promise<CleanupReport> {
    const tenantId = payload.tenant_id;
    const now = this.deps.clock.now();
    const { buildRetentionDays, keepLatestBuilds, outboxRetentionDays, auditRetentionDays } = this.deps.settings;
    const finishedBefore = new Date(now.getTime() - buildRetentionDays * DAY_MS);
    let buildsDeleted = 0;
    let artifactsDiscarded = 0;
    for (;;) {
      const deleted = await this.deps.uow.run(tenantId, async (repos) => {
        const ids = await repos.builds.findPrunable({
          finishedBefore,
          keepLatest: keepLatestBuilds,
          limit: BATCH,
        });
        const artifacts: BuildArtifact[] = [];
        for (const id of ids) {
          const build = await repos.builds.find(id);
          if (build?.artifact != null) artifacts.push(build.artifact);
          await repos.builds.remove(id);
        }
        return { ids, artifacts };
      });
      // After the commit: an artifact is deleted only once no row can hand it to a deployment.
      for (const artifact of deleted.artifacts) artifactsDiscarded += await this.discard(artifact, logger);
      for (const id of deleted.ids) await this.deps.logStore.remove(tenantId, { kind: 'build', id });
      buildsDeleted += deleted.ids.length;
      if (deleted.ids.length < BATCH) break;
    }
    artifactsDiscarded += await this.discardOldArtifacts(tenantId, logger);
    const outboxMessagesDeleted = await this.deps.uow.run(tenantId, (repos) =>
      repos.outbox.pruneSent(new Date(now.getTime() - outboxRetentionDays * DAY_MS)),
    );
    const auditEventsDeleted = await this.pruneAuditEvents(new Date(now.getTime() - auditRetentionDays * DAY_MS));
    logger.info({ buildsDeleted, outboxMessagesDeleted, artifactsDiscarded, auditEventsDeleted }, 'cleanup done');
    return { buildsDeleted, outboxMessagesDeleted, artifactsDiscarded, auditEventsDeleted };
  }

  /** The audit retention, in batches of one unit each so no transaction grows without bound. */
  private async pruneAuditEvents(before: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.deps.uow.platform((platform) => platform.pruneAuditEvents(before, BATCH));
      deleted += batch;
      if (batch < BATCH) return deleted;
    }
  }

  /**
   * Keeps the artifacts of the newest `keepArtifacts` succeeded builds of each service (what a
   * rollback can reach) and of any build a live or coming deployment runs; discards the rest.
   */
  private async discardOldArtifacts(tenantId: string, logger: Logger): Promise<number> {
    let discarded = 0;
    for (let skip = 0; ; skip += PAGE) {
      const services = await this.deps.uow.run(tenantId, (repos) =>
        repos.services.list(parseListQuery('service', { skip, limit: PAGE, sortBy: 'createdAt', sortOrder: 'asc' })),
      );
      for (const service of services.items) {
        // A deployment created meanwhile writes the same build rows: the unit runs again on fresh rows.
        const artifacts = await retryOnConflict(() =>
          this.deps.uow.run(tenantId, (repos) => this.retireArtifacts(repos, service.id)),
        );
        for (const artifact of artifacts) discarded += await this.discard(artifact, logger);
      }
      if (services.items.length < PAGE) return discarded;
    }
  }

  private async retireArtifacts(repos: Repositories, serviceId: string): Promise<BuildArtifact[]> {
    const succeeded = await repos.builds.list(
      parseListQuery('build', {
        filters: { serviceId, status: 'succeeded' },
        sortBy: 'createdAt',
        sortOrder: 'desc',
        limit: 100,
      }),
    );
    const withArtifact = succeeded.items.filter((build) => build.artifact !== null);
    if (withArtifact.length <= this.deps.settings.keepArtifacts) return [];
    const running = await repos.deployments.list(
      parseListQuery('deployment', { filters: { serviceId, status: ['pending', 'deploying', 'live'] }, limit: 100 }),
    );
    // What runs or will run, and what the latest deployments ran (what a rollback goes back to).
    const recent = await repos.deployments.list(
      parseListQuery('deployment', {
        filters: { serviceId, status: 'superseded' },
        sortBy: 'createdAt',
        sortOrder: 'desc',
        limit: this.deps.settings.keepArtifacts,
      }),
    );
    const inUse = new Set([...running.items, ...recent.items].map((deployment) => deployment.buildId));
    const retired: BuildArtifact[] = [];
    const now = this.deps.clock.now();
    for (const build of withArtifact.slice(this.deps.settings.keepArtifacts)) {
      if (inUse.has(build.id) || build.artifact === null) continue;
      retired.push(build.artifact);
      build.discardArtifact(now);
      await repos.builds.update(build);
    }
    return retired;
  }

  private async discard(artifact: BuildArtifact, logger: Logger): Promise<number> {
    try {
      await this.deps.buildRunner.discardArtifact(artifact);
      return 1;
    } catch (error) {
      logger.warn({ err: error, artifact }, 'cannot delete an artifact; it stays on disk');
      return 0;
    }
  }
}
