import { OutboxMessage } from '../domain/outbox-message.entity.js';
import type { Service, ServiceStatus } from '../domain/service.entity.js';
import { JOB_QUEUES, type JobName, type JobPayloads } from '../jobs/job.types.js';
import type { Repositories } from '../ports/repository.port.js';
import { type CoreDeps, stamp } from './core-deps.js';

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

/** Sets a service's status when nothing is building or deploying: `live` if a deployment is live. */
export async function settleServiceStatus(
  repos: Repositories,
  service: Service,
  now: Date,
  otherwise: ServiceStatus = 'idle',
): Promise<void> {
  const live = await repos.deployments.count({ serviceId: [service.id], status: ['live'] });
  if (service.setStatus(live > 0 ? 'live' : otherwise, now)) await repos.services.update(service);
}
