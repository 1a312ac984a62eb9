import type { JobPayloads } from '../jobs/job.types.js';
import type { CoreDeps } from './core-deps.js';

const DAY_MS = 86_400_000;
const BATCH = 500;

export interface CleanupReport {
  buildsDeleted: number;
  outboxMessagesDeleted: number;
}

/**
 * The cleanup job of one tenant: deletes finished builds past the retention (always keeping the
 * newest per service and any build a deployment refers to) and old sent outbox messages.
 * Running it twice deletes nothing more the second time.
 */
export class RunCleanup {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'logger' | 'settings'>) {}

  async execute(payload: JobPayloads['cleanup.run']): Promise<CleanupReport> {
    const tenantId = payload.tenant_id;
    const now = this.deps.clock.now();
    const { buildRetentionDays, keepLatestBuilds, outboxRetentionDays } = this.deps.settings;
    const finishedBefore = new Date(now.getTime() - buildRetentionDays * DAY_MS);
    let buildsDeleted = 0;
    for (;;) {
      const deleted = await this.deps.uow.run(async (repos) => {
        const ids = await repos.builds.findPrunable(tenantId, {
          finishedBefore,
          keepLatest: keepLatestBuilds,
          limit: BATCH,
        });
        for (const id of ids) await repos.builds.remove(tenantId, id);
        return ids.length;
      });
      buildsDeleted += deleted;
      if (deleted < BATCH) break;
    }
    const outboxMessagesDeleted = await this.deps.uow.run((repos) =>
      repos.outbox.pruneSent(tenantId, new Date(now.getTime() - outboxRetentionDays * DAY_MS)),
    );
    this.deps.logger.info({ tenant_id: tenantId, buildsDeleted, outboxMessagesDeleted }, 'cleanup done');
    return { buildsDeleted, outboxMessagesDeleted };
  }
}
