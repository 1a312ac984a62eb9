import type { Service, ServiceStatus } from '../domain/service.entity.js';
import type { Repositories } from '../ports/repository.port.js';

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
