import type { AuditEvent } from '../domain/audit-event.entity.js';
import type { Build } from '../domain/build.entity.js';
import type { Deployment } from '../domain/deployment.entity.js';
import type { Entity } from '../domain/entity.js';
import type { OAuthAccount, OAuthProviderName } from '../domain/oauth-account.entity.js';
import type { OutboxMessage } from '../domain/outbox-message.entity.js';
import type { Project } from '../domain/project.entity.js';
import type { RefreshToken } from '../domain/refresh-token.entity.js';
import type { Service } from '../domain/service.entity.js';
import type { Team } from '../domain/team.entity.js';
import type { TeamMember } from '../domain/team-member.entity.js';
import type { Tenant } from '../domain/tenant.entity.js';
import type { User } from '../domain/user.entity.js';
import type { Filters, ListQuery, Page } from '../query/list-query.js';
import type { BuildArtifact } from './build-runner.port.js';

export interface GetOptions {
  /** Relations to load, from the entity's allow-list (`QUERY_RULES`). */
  include?: readonly string[];
}

/**
 * A repository bound to one tenant, the tenant of the unit of work that handed it out, and scoped
 * by the tenant-isolation policy: a row of another tenant behaves exactly like a missing one
 * (`NotFoundError`, absent from lists and counts), and so does every row when the unit's tenant id
 * is not a UUID. Repositories never commit: writes become durable when the unit of work that
 * handed them out commits.
 */
export interface ScopedRepository<T extends Entity> {
  /** The row, or `NotFoundError` (also for an id that is not a UUID). */
  get(id: string, options?: GetOptions): Promise<T>;
  find(id: string, options?: GetOptions): Promise<T | null>;
  list(query: ListQuery): Promise<Page<T>>;
  count(filters?: Filters): Promise<number>;
  /**
   * Stores a new row. `NotFoundError` when the row's parent is not in the unit's tenant (for the
   * tenant itself: when its id is not the unit's tenant id); `ConflictError` naming the field
   * when a unique key is taken.
   */
  add(entity: T): Promise<void>;
  /**
   * Writes the changes of a row read earlier. `NotFoundError` when it is not in the unit's
   * tenant; `ConflictError` when someone else changed it since it was read. Bumps `entity.version`.
   */
  update(entity: T): Promise<void>;
  /** Deletes the row and, by the model's foreign keys, what depends on it. */
  remove(id: string): Promise<void>;
}

/** The tenant's own row: `get(repos.tenantId)`. */
export type TenantRepository = ScopedRepository<Tenant>;
export type UserRepository = ScopedRepository<User>;
export type OAuthAccountRepository = ScopedRepository<OAuthAccount>;
export type TeamRepository = ScopedRepository<Team>;
export type TeamMemberRepository = ScopedRepository<TeamMember>;
export type ProjectRepository = ScopedRepository<Project>;
export type ServiceRepository = ScopedRepository<Service>;
export type DeploymentRepository = ScopedRepository<Deployment>;

export interface BuildRepository extends ScopedRepository<Build> {
  /**
   * Ids of finished builds that cleanup may delete: finished before `finishedBefore`, not among
   * the `keepLatest` newest builds of their service, and not referenced by any deployment.
   */
  findPrunable(options: { finishedBefore: Date; keepLatest: number; limit: number }): Promise<string[]>;
}

export interface RefreshTokenRepository extends ScopedRepository<RefreshToken> {
  /** Revokes every token of a family; returns how many were still active. */
  revokeFamily(familyId: string, now: Date): Promise<number>;
  /** Revokes every token of a user (role change, deactivation). */
  revokeAllOfUser(userId: string, now: Date): Promise<number>;
}

export interface OutboxRepository extends ScopedRepository<OutboxMessage> {
  /** Deletes the tenant's messages sent before `sentBefore`; returns how many. */
  pruneSent(sentBefore: Date): Promise<number>;
}

/** An interval of time, both ends included; an end left out is open. */
export interface TimeRange {
  from?: Date | null;
  to?: Date | null;
}

/**
 * The tenant's audit trail: append-only. There is no update and no remove: an event is written
 * in the unit of work of the change it records (so it commits or rolls back with it) and only
 * the retention (`PlatformRepositories.pruneAuditEvents`) deletes it.
 */
export interface AuditEventRepository {
  /** Appends an event of the unit's tenant (`NotFoundError` for another tenant's id). */
  add(event: AuditEvent): Promise<void>;
  /** A page of the tenant's events matching the filters and occurred within `range`. */
  list(query: ListQuery, range?: TimeRange): Promise<Page<AuditEvent>>;
}

/** The repositories of one unit of work, every one bound to the unit's tenant. */
export interface Repositories {
  /** The tenant the unit is bound to, as `run` was given it. */
  readonly tenantId: string;
  tenants: TenantRepository;
  users: UserRepository;
  oauthAccounts: OAuthAccountRepository;
  teams: TeamRepository;
  teamMembers: TeamMemberRepository;
  projects: ProjectRepository;
  services: ServiceRepository;
  builds: BuildRepository;
  deployments: DeploymentRepository;
  refreshTokens: RefreshTokenRepository;
  outbox: OutboxRepository;
  audit: AuditEventRepository;
}

/** A build or deployment the reconciler should look at, with the tenant it belongs to. */
export interface UnsettledRow {
  id: string;
  tenantId: string;
}

/** A deployment whose instance should be running (`live`) or is being started (`deploying`). */
export interface RunningDeploymentRow extends UnsettledRow {
  status: 'live' | 'deploying';
}

export interface UnsettledOptions {
  /** Rows waiting for a worker (queued, pending) last changed before this. */
  waitingBefore: Date;
  /** Rows running whose lease ended before this (or that have none). */
  leaseEndedBefore: Date;
  limit: number;
}

/**
 * Every operation that crosses tenants, and nothing else: sign-in and registration (emails and
 * slugs are unique across tenants), the outbox relay, the reconcilers and maintenance. Handed out
 * only by `UnitOfWork.platform`, so the call sites of `platform` are the whole list of
 * cross-tenant accesses.
 */
export interface PlatformRepositories {
  /** The user with this email (trimmed, any case), whatever their tenant. */
  findUserByEmail(email: string): Promise<User | null>;
  /** Whether a tenant already uses this slug. */
  tenantSlugExists(slug: string): Promise<boolean>;
  /** For maintenance (cleanup, secret rotation): tenant ids after `afterId`, in id order. */
  listTenantIds(afterId: string | null, limit: number): Promise<string[]>;
  /** For OAuth sign-in: the account linked to a provider's account, and the tenant of its user. */
  findOAuthAccount(
    provider: OAuthProviderName,
    providerAccountId: string,
  ): Promise<{ account: OAuthAccount; tenantId: string } | null>;
  /**
   * For the reconciler: builds queued since before `waitingBefore`, and running ones whose lease
   * ended before `leaseEndedBefore` (or that have none), least recently changed first.
   */
  listUnsettledBuilds(options: UnsettledOptions): Promise<UnsettledRow[]>;
  /** As `listUnsettledBuilds`, for deployments (pending, deploying). */
  listUnsettledDeployments(options: UnsettledOptions): Promise<UnsettledRow[]>;
  /** For the runtime's reconciler: every deployment that is `live` or `deploying`, oldest first, at most `limit`. */
  listRunningDeployments(options: { limit: number }): Promise<RunningDeploymentRow[]>;
  /** For the artifact sweep: the artifact of every build that has one, at most `limit`. */
  listBuildArtifacts(options: { limit: number }): Promise<BuildArtifact[]>;
  /** For the relay: unsent outbox messages due at `now`, oldest first. */
  listPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]>;
  /**
   * As `listPendingMessages`, but locks the rows for this unit of work and skips rows another
   * unit holds, so concurrent relays take disjoint messages (`FOR UPDATE SKIP LOCKED`).
   */
  claimPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]>;
  /** For metrics: how many unsent outbox messages are due at `now` (the relay's backlog), across tenants. */
  countPendingMessages(now: Date): Promise<number>;
  /** For the relay: marks these messages sent, whatever their tenant. */
  markMessagesSent(ids: readonly string[], now: Date): Promise<void>;
  /**
   * For the retention: deletes at most `limit` audit events, of any tenant, that occurred before
   * `before`, oldest first; returns how many. The only path that deletes audit events.
   */
  pruneAuditEvents(before: Date, limit: number): Promise<number>;
  /**
   * The repositories of one tenant, in this same transaction: for a platform path that goes on to
   * work inside the tenant it found or created (sign-in, registration), and must do it atomically
   * with the platform-wide read.
   */
  inTenant(tenantId: string): Repositories;
}
