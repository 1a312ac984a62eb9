import { type MaskedEnv, maskRepoUrl, SERVICE_STATUSES, type Service } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { base, uuid } from './common.wire.js';

export const ServiceWire = z
  .object({
    ...base,
    project_id: uuid(),
    name: z.string(),
    repo_url: z.string().openapi({
      description:
        'The repository; credentials it was given with are stored encrypted and shown as `https://****@host/…`',
      example: 'https://****@github.com/acme/web.git',
    }),
    branch: z.string(),
    build_command: z.string().nullable(),
    start_command: z.string().nullable(),
    port: z.number().int().nullable(),
    auto_deploy: z.boolean(),
    health_check_path: z
      .string()
      .nullable()
      .openapi({ description: 'Polled until the app answers 2xx before it takes traffic; null means `/`' }),
    status: z.enum(SERVICE_STATUSES),
  })
  .openapi('Service');
export const serviceToWire = (s: Service) => ({
  id: s.id,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
  project_id: s.projectId,
  name: s.name,
  // The stored URL holds no credentials; only whether there are some shows.
  repo_url: maskRepoUrl(s.repoUrl, s.repoCredentials != null),
  branch: s.branch,
  build_command: s.buildCommand,
  start_command: s.startCommand,
  port: s.port,
  auto_deploy: s.autoDeploy,
  health_check_path: s.healthCheckPath ?? null,
  status: s.status,
});

export const EnvWire = z
  .object({ vars: z.record(z.string(), z.literal('****')) })
  .openapi('MaskedEnv', { description: 'Env var names; values are never returned.' });
export const envToWire = (env: MaskedEnv) => ({ vars: env });
