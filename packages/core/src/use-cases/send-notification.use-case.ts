import { type JobPayloads, jobLogFields } from '../domain/job.types.js';
import type { Logger } from '../ports/logger.port.js';
import type { CoreDeps } from './core-deps.js';

/** The `default` queue's job: tells about a finished build or deployment (to the logger for now). */
export class SendNotification {
  constructor(private readonly deps: Pick<CoreDeps, 'logger'>) {}

  /** `logger`: the job's (bound to its tenant and subject), else one bound here. */
  async execute(
    payload: JobPayloads['notification.send'],
    logger: Logger = this.deps.logger.child(jobLogFields(payload)),
  ): Promise<void> {
    logger.info({ event: payload.event, status: payload.status }, `${payload.event}: ${payload.status}`);
  }
}
