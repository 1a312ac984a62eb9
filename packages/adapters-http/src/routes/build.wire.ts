import { BUILD_STATUSES, type Build } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base, iso, timestamp, uuid } from './common.wire.js';

export const BuildWire = z
  .object({
    ...base,
    service_id: uuid(),
    commit_sha: z.string().nullable(),
    branch: z.string(),
    status: z.enum(BUILD_STATUSES),
    attempt: z.number().int(),
    logs: z.string(),
    error: z.string().nullable(),
    started_at: timestamp().nullable(),
    finished_at: timestamp().nullable(),
  })
  .openapi('Build');
export const buildToWire = (b: Build) => ({
  id: b.id,
  created_at: b.createdAt.toISOString(),
  updated_at: b.updatedAt.toISOString(),
  service_id: b.serviceId,
  commit_sha: b.commitSha,
  branch: b.branch,
  status: b.status,
  attempt: b.attempt,
  logs: b.logs,
  error: b.error,
  started_at: iso(b.startedAt),
  finished_at: iso(b.finishedAt),
});
