import type { JobPayloads } from '../jobs/job.types.js';
import type { CoreDeps } from './core-deps.js';

/** The `default` queue's job: tells about a finished build or deployment (to the logger for now). */
export class SendNotification {
  constructor(private readonly deps: Pick<CoreDeps, 'logger'>) {}

  async execute(payload: JobPayloads['notification.send']): Promise<void> {
    this.deps.logger.info(
      { tenant_id: payload.tenant_id, event: payload.event, subject_id: payload.subject_id, status: payload.status },
      `${payload.event}: ${payload.status}`,
    );
  }
}
