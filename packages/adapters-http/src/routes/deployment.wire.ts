import { DEPLOYMENT_STATUSES, type Deployment } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base, iso, timestamp, uuid } from './common.wire.js';

export const DeploymentWire = z
  .object({
    ...base,
    service_id: uuid(),
    build_id: uuid(),
    status: z.enum(DEPLOYMENT_STATUSES),
    attempt: z.number().int(),
    url: z.string().nullable(),
    error: z.string().nullable(),
    started_at: timestamp().nullable(),
    finished_at: timestamp().nullable(),
  })
  .openapi('Deployment');
export const deploymentToWire = (d: Deployment) => ({
  id: d.id,
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
  service_id: d.serviceId,
  build_id: d.buildId,
  status: d.status,
  attempt: d.attempt,
  url: d.url,
  error: d.error,
  started_at: iso(d.startedAt),
  finished_at: iso(d.finishedAt),
});
