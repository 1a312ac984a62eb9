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
 * A repository scoped by the tenant-isolation policy: every method takes the caller's tenant id
 * and treats a row of another tenant exactly like a missing one (`NotFoundError`, absent from
 * lists and counts). Repositories never commit: writes become durable when the unit of work
 * that handed them out commits.
 */
export interface ScopedRepository<T extends Entity> {
  /** The row, or `NotFoundError` (also for an id that is not a UUID). */
  get(tenantId: string, id: string, options?: GetOptions): Promise<T>;
  find(tenantId: string, id: string, options?: GetOptions): Promise<T | null>;
  list(tenantId: string, query: ListQuery): Promise<Page<T>>;
  count(tenantId: string, filters?: Filters): Promise<number>;
  /**
   * Stores a new row. `NotFoundError` when the row's parent is not in `tenantId`; `ConflictError`
   * naming the field when a unique key is taken.
   */
  add(tenantId: string, entity: T): Promise<void>;
  /**
   * Writes the changes of a row read earlier. `NotFoundError` when it is not in `tenantId`;
   * `ConflictError` when someone else changed it since it was read. Bumps `entity.version`.
   */
  update(tenantId: string, entity: T): Promise<void>;
  /** Deletes the row and, by the model's foreign keys, what depends on it. */
  remove(tenantId: string, id: string): Promise<void>;
}

export interface TenantRepository extends ScopedRepository<Tenant> {
  /** Platform-wide: whether a tenant already uses this slug. */
  slugExists(slug: string): Promise<boolean>;
  /** Platform-wide, for maintenance (secret rotation): tenant ids after `afterId`, in id order. */
  listIds(afterId: string | null, limit: number): Promise<string[]>;
}

export interface UserRepository extends ScopedRepository<User> {
  /** Platform-wide lookup for sign-in; emails are unique across tenants. */
  findByEmail(email: string): Promise<User | null>;
}

export interface OAuthAccountRepository extends ScopedRepository<OAuthAccount> {
  /** Platform-wide lookup for OAuth sign-in: the linked account and the tenant of its user. */
  findByProviderAccount(
    provider: OAuthProviderName,
    providerAccountId: string,
  ): Promise<{ account: OAuthAccount; tenantId: string } | null>;
}

export type TeamRepository = ScopedRepository<Team>;
export type TeamMemberRepository = ScopedRepository<TeamMember>;
export type ProjectRepository = ScopedRepository<Project>;
export type ServiceRepository = ScopedRepository<Service>;
/** A build or deployment the reconciler should look at, with the tenant it belongs to. */
export interface UnsettledRow {
  id: string;
  tenantId: string;
}

/** Rows carried by jobs (builds, deployments): the reconciler's platform-wide view of them. */
export interface JobRowRepository<T extends Entity> extends ScopedRepository<T> {
  /**
   * Platform-wide, for the reconciler: rows waiting for a worker (queued, pending) last changed
   * before `waitingBefore`, and rows running whose lease ended before `leaseEndedBefore` (or that
   * have none), least recently changed first.
   */
  listUnsettled(options: { waitingBefore: Date; leaseEndedBefore: Date; limit: number }): Promise<UnsettledRow[]>;
}

/** A deployment whose instance should be running (`live`) or is being started (`deploying`). */
export interface RunningDeploymentRow extends UnsettledRow {
  status: 'live' | 'deploying';
}

export interface DeploymentRepository extends JobRowRepository<Deployment> {
  /**
   * Platform-wide, for the runtime's reconciler: every deployment that is `live` or `deploying`,
   * oldest first, at most `limit`.
   */
  listRunning(options: { limit: number }): Promise<RunningDeploymentRow[]>;
}

export interface BuildRepository extends JobRowRepository<Build> {
  /** Platform-wide, for the artifact sweep: the artifact of every build that has one, at most `limit`. */
  listArtifacts(options: { limit: number }): Promise<BuildArtifact[]>;

  /**
   * Ids of finished builds that cleanup may delete: finished before `finishedBefore`, not among
   * the `keepLatest` newest builds of their service, and not referenced by any deployment.
   */
  findPrunable(
    tenantId: string,
    options: { finishedBefore: Date; keepLatest: number; limit: number },
  ): Promise<string[]>;
}

export interface RefreshTokenRepository extends ScopedRepository<RefreshToken> {
  /** Revokes every token of a family; returns how many were still active. */
  revokeFamily(tenantId: string, familyId: string, now: Date): Promise<number>;
  /** Revokes every token of a user (role change, deactivation). */
  revokeAllOfUser(tenantId: string, userId: string, now: Date): Promise<number>;
}

export interface OutboxRepository extends ScopedRepository<OutboxMessage> {
  /** Platform-wide, for the relay: unsent messages due at `now`, oldest first. */
  listPending(now: Date, limit: number): Promise<OutboxMessage[]>;
  /**
   * As `listPending`, but locks the rows for this unit of work and skips rows another unit holds,
   * so concurrent relays take disjoint messages (`FOR UPDATE SKIP LOCKED`).
   */
  claimPending(now: Date, limit: number): Promise<OutboxMessage[]>;
  /** Platform-wide, for the relay. */
  markSent(ids: readonly string[], now: Date): Promise<void>;
  /** Deletes sent messages of a tenant sent before `sentBefore`; returns how many. */
  pruneSent(tenantId: string, sentBefore: Date): Promise<number>;
}

/** The repositories of one unit of work. */
export interface Repositories {
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
}
