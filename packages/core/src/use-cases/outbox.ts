import { JOB_QUEUES, type JobName, type JobPayloads } from '../domain/job.types.js';
import { OutboxMessage } from '../domain/outbox-message.entity.js';
import type { Repositories } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';
import { stamp } from './stamp.js';

/**
 * Schedules a job of the unit's tenant inside the current transaction: it is published only if
 * the transaction commits. The payload's `tenant_id` is the unit's.
 */
export async function scheduleJob<N extends JobName>(
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  repos: Repositories,
  name: N,
  payload: Omit<JobPayloads[N], 'tenant_id'>,
): Promise<OutboxMessage> {
  const message = OutboxMessage.create(stamp(deps), {
    tenantId: repos.tenantId,
    queue: JOB_QUEUES[name],
    name,
    payload: { tenant_id: repos.tenantId, ...payload },
  });
  await repos.outbox.add(message);
  return message;
}
