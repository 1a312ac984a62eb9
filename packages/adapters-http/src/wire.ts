import type {
  AuditEvent,
  AuthSession,
  Build,
  Deployment,
  MaskedEnv,
  OutboxMessage,
  Page,
  Project,
  Service,
  Team,
  TeamMember,
  Tenant,
  User,
} from '@shipyard/core';
import {
  AUDIT_ACTIONS,
  AUDIT_ACTOR_TYPES,
  AUDIT_TARGET_TYPES,
  BUILD_STATUSES,
  DEPLOYMENT_STATUSES,
  JOB_NAMES,
  JOB_STATES,
  jobSubject,
  maskRepoUrl,
  QUEUES,
  ROLES,
  SERVICE_STATUSES,
  TEAM_ROLES,
} from '@shipyard/core';
import { z } from './openapi/zod.js';

/**
 * The wire format: snake_case, flat, explicit allow-lists of fields (a field not listed here
 * never leaves the server: no password hash, no env values, no version counters).
 */

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());
const uuid = () => z.string().uuid();
const timestamp = () => z.string().datetime();
const base = { id: uuid(), created_at: timestamp(), updated_at: timestamp() };
// Each mapper is one object literal, the base fields written out: spreading a shared helper's
// object made a page of 20 rows about four times slower to map (measured, ~110 µs against ~30).

export const TenantWire = z.object({ ...base, name: z.string(), slug: z.string() }).openapi('Tenant');
export const tenantToWire = (t: Tenant) => ({
  id: t.id,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
  name: t.name,
  slug: t.slug,
});

export const UserWire = z
  .object({
    ...base,
    tenant_id: uuid(),
    email: z.string(),
    full_name: z.string().nullable(),
    role: z.enum(ROLES),
    is_active: z.boolean(),
    last_login_at: timestamp().nullable(),
    email_verified_at: timestamp()
      .nullable()
      .openapi({ description: 'When the user proved the address (a link followed, or a provider); null until then' }),
  })
  .openapi('User');
export const userToWire = (u: User) => ({
  id: u.id,
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
  tenant_id: u.tenantId,
  email: u.email,
  full_name: u.fullName,
  role: u.role,
  is_active: u.isActive,
  last_login_at: iso(u.lastLoginAt),
  email_verified_at: iso(u.emailVerifiedAt),
});

export const TeamMemberWire = z
  .object({ ...base, team_id: uuid(), user_id: uuid(), role: z.enum(TEAM_ROLES) })
  .openapi('TeamMember');
export const teamMemberToWire = (m: TeamMember) => ({
  id: m.id,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
  team_id: m.teamId,
  user_id: m.userId,
  role: m.role,
});

export const TeamWire = z
  .object({ ...base, owner_id: uuid(), name: z.string(), members: z.array(TeamMemberWire).optional() })
  .openapi('Team');
export const teamToWire = (t: Team) => ({
  id: t.id,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
  owner_id: t.ownerId,
  name: t.name,
  ...(t.members === undefined ? {} : { members: t.members.map(teamMemberToWire) }),
});

export const ProjectWire = z
  .object({
    ...base,
    tenant_id: uuid(),
    team_id: uuid().nullable(),
    name: z.string(),
    description: z.string().nullable(),
  })
  .openapi('Project');
export const projectToWire = (p: Project) => ({
  id: p.id,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
  tenant_id: p.tenantId,
  team_id: p.teamId,
  name: p.name,
  description: p.description,
});

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

/**
 * A job (an outbox message) as admins see it: what it is about (`subject_type`, `subject_id`),
 * where it stands and why it failed; never its payload.
 */
export const JobWire = z
  .object({
    id: uuid(),
    queue: z.enum(QUEUES),
    name: z.enum(JOB_NAMES),
    state: z.enum(JOB_STATES),
    attempts: z.number().int().openapi({ description: 'Runs of the job when it failed' }),
    last_error: z.string().nullable(),
    subject_type: z.enum(['build', 'deployment', 'tenant']),
    subject_id: uuid(),
    available_at: timestamp(),
    sent_at: timestamp().nullable(),
    failed_at: timestamp().nullable(),
    created_at: timestamp(),
    updated_at: timestamp(),
  })
  .openapi('Job');
export const jobToWire = (m: OutboxMessage) => {
  const subject = jobSubject(m);
  return {
    id: m.id,
    queue: m.queue,
    name: m.name,
    state: m.state,
    attempts: m.attempts,
    last_error: m.lastError,
    subject_type: subject.type,
    subject_id: subject.id,
    available_at: m.availableAt.toISOString(),
    sent_at: iso(m.sentAt),
    failed_at: iso(m.failedAt),
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
};

/** An audit event: who did what to which row, when and from where; the summary is already redacted. */
export const AuditEventWire = z
  .object({
    id: uuid(),
    occurred_at: timestamp(),
    actor_type: z.enum(AUDIT_ACTOR_TYPES),
    actor_id: uuid().nullable().openapi({ description: 'The user; null for system (jobs) and failed sign-ins' }),
    session_id: uuid().nullable().openapi({ description: 'The sign-in session (refresh-token family), when known' }),
    ip: z.string().nullable(),
    action: z.enum(AUDIT_ACTIONS),
    target_type: z.enum(AUDIT_TARGET_TYPES),
    target_id: uuid(),
    summary: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'What changed: field names, env var names; never values of secrets' }),
    created_at: timestamp(),
  })
  .openapi('AuditEvent');
export const auditEventToWire = (e: AuditEvent) => ({
  id: e.id,
  occurred_at: e.occurredAt.toISOString(),
  actor_type: e.actorType,
  actor_id: e.actorId,
  session_id: e.sessionId,
  ip: e.ip,
  action: e.action,
  target_type: e.targetType,
  target_id: e.targetId,
  summary: e.summary,
  created_at: e.createdAt.toISOString(),
});

export const EnvWire = z
  .object({ vars: z.record(z.string(), z.literal('****')) })
  .openapi('MaskedEnv', { description: 'Env var names; values are never returned.' });
export const envToWire = (env: MaskedEnv) => ({ vars: env });

export const TokenWire = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    user: UserWire,
  })
  .openapi('Tokens');
export const RegisterWire = TokenWire.extend({ tenant: TenantWire }).openapi('Registration');
export const sessionToWire = (s: AuthSession) => ({
  access_token: s.accessToken,
  refresh_token: s.refreshToken,
  token_type: s.tokenType,
  expires_in: s.expiresIn,
  user: userToWire(s.user),
});

export const ErrorWire = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().nullable(),
      request_id: z.string(),
    }),
  })
  .openapi('Error');

/** The list envelope of every collection route. */
export const pageWire = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), skip: z.number().int(), limit: z.number().int() });
export const pageToWire = <T, W>(page: Page<T>, toWire: (item: T) => W) => ({
  items: page.items.map(toWire),
  total: page.total,
  skip: page.skip,
  limit: page.limit,
});
