import { type EntityManager, LockMode, sql } from '@mikro-orm/core';
import {
  type BuildArtifact,
  type BuildRepository,
  isUuid,
  type OAuthAccount,
  type OAuthProviderName,
  type OutboxMessage,
  type OutboxRepository,
  type PlatformRepositories,
  type RefreshTokenRepository,
  type Repositories,
  type RunningDeploymentRow,
  type UnsettledOptions,
  type UnsettledRow,
  type User,
} from '@shipyard/core';
import { translateError } from './driver-errors.js';
import { copyEntity } from './entity-copy.js';
import { MikroOrmScopedRepository } from './mikro-orm-scoped.repository.js';
import { ENTITY_CLASSES } from './schemas/define-schema.js';
import type { UnitContext } from './unit-context.js';

const FINISHED_BUILD_STATUSES = ['succeeded', 'failed', 'cancelled'];

/** Builds or deployments waiting since before `waitingBefore` or running past their lease, with their tenant. */
async function unsettledRows(
  manager: EntityManager,
  entity: 'build' | 'deployment',
  statuses: { waiting: string; running: string },
  options: UnsettledOptions,
): Promise<UnsettledRow[]> {
  if (options.limit <= 0) return [];
  const rows = (await manager.find(
    ENTITY_CLASSES[entity],
    {
      $or: [
        { status: statuses.waiting, updatedAt: { $lt: options.waitingBefore } },
        { status: statuses.running, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: options.leaseEndedBefore } }] },
      ],
    } as never,
    {
      fields: ['id', 'serviceId'] as never,
      orderBy: { updatedAt: 'asc' } as never,
      limit: options.limit,
      // Partial rows must not stand in for whole ones later in the unit (the identity map).
      disableIdentityMap: true,
    },
  )) as unknown as { id: string; serviceId: string }[];
  return withTenants(manager, rows);
}

/** The tenant of each build or deployment row, through its service and project (rows gone meanwhile are left out). */
async function withTenants<R extends { id: string; serviceId: string }>(
  manager: EntityManager,
  rows: readonly R[],
): Promise<Array<R & UnsettledRow>> {
  if (rows.length === 0) return [];
  const services = await manager.find(
    ENTITY_CLASSES.service,
    { id: { $in: [...new Set(rows.map((row) => row.serviceId))] } },
    { fields: ['id', 'projectId'], disableIdentityMap: true },
  );
  const projects = await manager.find(
    ENTITY_CLASSES.project,
    { id: { $in: [...new Set(services.map((service) => service.projectId))] } },
    { fields: ['id', 'tenantId'], disableIdentityMap: true },
  );
  const projectOf = new Map(services.map((service) => [service.id, service.projectId]));
  const tenantOf = new Map(projects.map((project) => [project.id, project.tenantId]));
  const found: Array<R & UnsettledRow> = [];
  for (const row of rows) {
    const tenantId = tenantOf.get(projectOf.get(row.serviceId) ?? '');
    if (tenantId !== undefined) found.push({ ...row, id: row.id, tenantId });
  }
  return found;
}

export class MikroOrmBuildRepository extends MikroOrmScopedRepository<'build'> implements BuildRepository {
  findPrunable(options: { finishedBefore: Date; keepLatest: number; limit: number }): Promise<string[]> {
    return this.guard(async () => {
      const fields = ['id', 'serviceId', 'createdAt'] as const;
      const where = this.where({
        status: { $in: FINISHED_BUILD_STATUSES },
        finishedAt: { $lt: options.finishedBefore },
      });
      if (where === null || options.limit <= 0) return [];
      const candidates = await this.em.find(ENTITY_CLASSES.build, where, {
        fields,
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        disableIdentityMap: true,
      });
      if (candidates.length === 0) return [];
      const referenced = new Set<string>();
      const deployments = await this.em.find(
        ENTITY_CLASSES.deployment,
        { buildId: { $in: candidates.map((build) => build.id) } },
        { fields: ['id', 'buildId'], disableIdentityMap: true },
      );
      for (const deployment of deployments) referenced.add(deployment.buildId);
      const kept = new Set<string>();
      if (options.keepLatest > 0) {
        // The newest builds of each service stay, finished or not.
        const services = [...new Set(candidates.map((build) => build.serviceId))];
        const all = await this.em.find(
          ENTITY_CLASSES.build,
          { serviceId: { $in: services } },
          { fields, orderBy: [{ serviceId: 'asc' }, { createdAt: 'desc' }, { id: 'desc' }], disableIdentityMap: true },
        );
        const seen = new Map<string, number>();
        for (const build of all) {
          const rank = seen.get(build.serviceId) ?? 0;
          if (rank < options.keepLatest) kept.add(build.id);
          seen.set(build.serviceId, rank + 1);
        }
      }
      return candidates
        .filter((build) => !referenced.has(build.id) && !kept.has(build.id))
        .slice(0, options.limit)
        .map((build) => build.id);
    });
  }
}

export class MikroOrmRefreshTokenRepository
  extends MikroOrmScopedRepository<'refreshToken'>
  implements RefreshTokenRepository
{
  private revokeWhere(condition: Record<string, unknown>, now: Date): Promise<number> {
    return this.guard(async () => {
      let revoked = 0;
      const tokens = await this.managedWhere({ ...condition, revokedAt: null });
      if (tokens.length > 0) await this.unit.beforeWrite();
      for (const token of tokens) {
        if (token.revokedAt !== null) continue;
        token.revoke(now);
        revoked += 1;
      }
      return revoked;
    });
  }

  revokeFamily(familyId: string, now: Date): Promise<number> {
    if (!isUuid(familyId)) return Promise.resolve(0);
    return this.revokeWhere({ familyId: familyId.toLowerCase() }, now);
  }

  revokeAllOfUser(userId: string, now: Date): Promise<number> {
    if (!isUuid(userId)) return Promise.resolve(0);
    return this.revokeWhere({ userId: userId.toLowerCase() }, now);
  }
}

export class MikroOrmOutboxRepository extends MikroOrmScopedRepository<'outboxMessage'> implements OutboxRepository {
  pruneSent(sentBefore: Date): Promise<number> {
    return this.guard(async () => {
      const sent = await this.managedWhere({ sentAt: { $lt: sentBefore } });
      if (sent.length > 0) await this.unit.beforeWrite();
      for (const message of sent) this.em.remove(message);
      return sent.length;
    });
  }
}

/**
 * The platform-wide operations, on the unit's EntityManager: the only queries of the adapter that
 * carry no tenant condition.
 */
export class MikroOrmPlatformRepositories implements PlatformRepositories {
  private readonly tenants = new Map<string, Repositories>();

  constructor(private readonly unit: UnitContext) {}

  private get em(): EntityManager {
    return this.unit.em;
  }

  /** Runs an operation, turning database errors into the core's. */
  private async guard<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      throw translateError(error);
    }
  }

  findUserByEmail(email: string): Promise<User | null> {
    return this.guard(async () => {
      // Matches the unique index on lower(email).
      const user = await this.em.findOne(ENTITY_CLASSES.user, { [sql.lower('email')]: email.trim().toLowerCase() });
      return user === null ? null : copyEntity('user', user);
    });
  }

  tenantSlugExists(slug: string): Promise<boolean> {
    return this.guard(async () => (await this.em.count(ENTITY_CLASSES.tenant, { slug })) > 0);
  }

  listTenantIds(afterId: string | null, limit: number): Promise<string[]> {
    return this.guard(async () => {
      const rows = await this.em.find(ENTITY_CLASSES.tenant, afterId === null ? {} : { id: { $gt: afterId } }, {
        fields: ['id'],
        orderBy: { id: 'asc' },
        limit,
        disableIdentityMap: true,
      });
      return rows.map((row) => row.id);
    });
  }

  findOAuthAccount(
    provider: OAuthProviderName,
    providerAccountId: string,
  ): Promise<{ account: OAuthAccount; tenantId: string } | null> {
    return this.guard(async () => {
      const account = await this.em.findOne(ENTITY_CLASSES.oauthAccount, { provider, providerAccountId });
      if (account === null) return null;
      const owner = await this.em.findOne(
        ENTITY_CLASSES.user,
        { id: account.userId },
        { fields: ['tenantId'], disableIdentityMap: true },
      );
      return owner === null ? null : { account: copyEntity('oauthAccount', account), tenantId: owner.tenantId };
    });
  }

  listUnsettledBuilds(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return this.guard(() => unsettledRows(this.em, 'build', { waiting: 'queued', running: 'running' }, options));
  }

  listUnsettledDeployments(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return this.guard(() =>
      unsettledRows(this.em, 'deployment', { waiting: 'pending', running: 'deploying' }, options),
    );
  }

  listRunningDeployments(options: { limit: number }): Promise<RunningDeploymentRow[]> {
    return this.guard(async () => {
      if (options.limit <= 0) return [];
      const rows = (await this.em.find(ENTITY_CLASSES.deployment, { status: { $in: ['live', 'deploying'] } } as never, {
        fields: ['id', 'serviceId', 'status'] as never,
        orderBy: { createdAt: 'asc', id: 'asc' } as never,
        limit: options.limit,
        disableIdentityMap: true,
      })) as unknown as { id: string; serviceId: string; status: 'live' | 'deploying' }[];
      const found = await withTenants(this.em, rows);
      return found.map(({ id, tenantId, status }) => ({ id, tenantId, status }));
    });
  }

  listBuildArtifacts(options: { limit: number }): Promise<BuildArtifact[]> {
    return this.guard(async () => {
      if (options.limit <= 0) return [];
      const rows = (await this.em.find(ENTITY_CLASSES.build, { artifact: { $ne: null } } as never, {
        fields: ['id', 'artifact'] as never,
        limit: options.limit,
        disableIdentityMap: true,
      })) as unknown as { artifact: BuildArtifact | null }[];
      return rows.flatMap((row) => (row.artifact === null ? [] : [row.artifact]));
    });
  }

  listPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]> {
    return this.guard(async () => {
      if (limit <= 0) return [];
      const messages = await this.em.find(
        ENTITY_CLASSES.outboxMessage,
        { sentAt: null, availableAt: { $lte: now } },
        { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], limit },
      );
      return messages.map((message) => copyEntity('outboxMessage', message));
    });
  }

  claimPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]> {
    return this.guard(async () => {
      if (limit <= 0) return [];
      // Row locks need the transaction, which a lazily opened unit (PGlite) has not begun yet.
      await this.unit.beforeWrite();
      const messages = await this.em.find(
        ENTITY_CLASSES.outboxMessage,
        { sentAt: null, availableAt: { $lte: now } },
        { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], limit, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      return messages.map((message) => copyEntity('outboxMessage', message));
    });
  }

  countPendingMessages(now: Date): Promise<number> {
    return this.guard(() => this.em.count(ENTITY_CLASSES.outboxMessage, { sentAt: null, availableAt: { $lte: now } }));
  }

  markMessagesSent(ids: readonly string[], now: Date): Promise<void> {
    return this.guard(async () => {
      const wanted = ids.filter(isUuid).map((id) => id.toLowerCase());
      if (wanted.length === 0) return;
      const messages = await this.em.find(ENTITY_CLASSES.outboxMessage, { id: { $in: wanted }, sentAt: null });
      if (messages.length > 0) await this.unit.beforeWrite();
      for (const message of messages) if (message.sentAt === null) message.markSent(now);
    });
  }

  inTenant(tenantId: string): Repositories {
    let repos = this.tenants.get(tenantId);
    if (repos === undefined) {
      repos = createMikroOrmRepositories(this.unit, tenantId);
      this.tenants.set(tenantId, repos);
    }
    return repos;
  }
}

/** The repositories of one unit of work, bound to `tenantId`, all on its EntityManager. */
export function createMikroOrmRepositories(unit: UnitContext, tenantId: string): Repositories {
  return {
    tenantId,
    tenants: new MikroOrmScopedRepository(unit, 'tenant', tenantId),
    users: new MikroOrmScopedRepository(unit, 'user', tenantId),
    oauthAccounts: new MikroOrmScopedRepository(unit, 'oauthAccount', tenantId),
    teams: new MikroOrmScopedRepository(unit, 'team', tenantId),
    teamMembers: new MikroOrmScopedRepository(unit, 'teamMember', tenantId),
    projects: new MikroOrmScopedRepository(unit, 'project', tenantId),
    services: new MikroOrmScopedRepository(unit, 'service', tenantId),
    builds: new MikroOrmBuildRepository(unit, 'build', tenantId),
    deployments: new MikroOrmScopedRepository(unit, 'deployment', tenantId),
    refreshTokens: new MikroOrmRefreshTokenRepository(unit, 'refreshToken', tenantId),
    outbox: new MikroOrmOutboxRepository(unit, 'outboxMessage', tenantId),
  };
}
