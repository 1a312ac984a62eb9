import type { CoreDeps } from './core-deps.js';

/**
 * Publishes one cleanup job per tenant for the current period, and deletes log chunks older than
 * the build retention. The job id names the tenant and
 * the period, so every scheduler (each worker or server runs one) publishing in the same period
 * makes one job, not several.
 */
export class ScheduleCleanup {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'jobs' | 'logger' | 'logStore' | 'settings' | 'buildRunner'
    >,
  ) {}

  async execute(options: { periodMs?: number; batchSize?: number } = {}): Promise<number> {
    const periodMs = options.periodMs ?? 3_600_000;
    const batchSize = options.batchSize ?? 500;
    const period = Math.floor(this.deps.clock.now().getTime() / periodMs);
    let scheduled = 0;
    let after: string | null = null;
    for (;;) {
      const tenantIds: string[] = await this.deps.uow.platform((platform) => platform.listTenantIds(after, batchSize));
      for (const tenantId of tenantIds) {
        await this.deps.jobs.enqueue({
          id: `cleanup-${tenantId}-${period}`,
          name: 'cleanup.run',
          queue: 'cleanup',
          payload: { tenant_id: tenantId },
        });
        scheduled += 1;
      }
      if (tenantIds.length < batchSize) break;
      after = tenantIds[tenantIds.length - 1] ?? null;
    }
    // Logs live as long as finished builds do; a live app's log is bounded by the store anyway.
    const cutoff = new Date(this.deps.clock.now().getTime() - this.deps.settings.buildRetentionDays * 86_400_000);
    let logChunksDeleted = 0;
    try {
      logChunksDeleted = await this.deps.logStore.removeOlderThan(cutoff);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'cannot prune old log chunks; trying again next period');
    }
    const artifactsSwept = await this.sweepArtifacts();
    this.deps.logger.info({ scheduled, period, logChunksDeleted, artifactsSwept }, 'cleanup scheduled');
    return scheduled;
  }

  /**
   * Deletes the artifacts no build row names any more (their service, project or tenant was
   * deleted; a build whose result was moot), once they are a day old.
   */
  private async sweepArtifacts(): Promise<number> {
    const runner = this.deps.buildRunner;
    if (runner.sweepArtifacts === undefined) return 0;
    try {
      const keep = await this.deps.uow.platform((platform) => platform.listBuildArtifacts({ limit: 1_000_000 }));
      return await runner.sweepArtifacts(keep, new Date(this.deps.clock.now().getTime() - 86_400_000));
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'cannot sweep unused artifacts; trying again next period');
      return 0;
    }
  }
}
