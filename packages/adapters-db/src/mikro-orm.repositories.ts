import { type EntityManager, LockMode, sql } from '@mikro-orm/core';
import {
  type BuildArtifact,
  type BuildRepository,
  type DeploymentRepository,
  isUuid,
  type OAuthAccount,
  type OAuthAccountRepository,
  type OAuthProviderName,
  type OutboxMessage,
  type OutboxRepository,
  type RefreshTokenRepository,
  type Repositories,
  type RunningDeploymentRow,
  type TenantRepository,
  type UnsettledRow,
  type User,
  type UserRepository,
} from '@shipyard/core';
import { copyEntity } from './entity-copy.js';
import { MikroOrmScopedRepository } from './mikro-orm-scoped.repository.js';
import { ENTITY_CLASSES } from './schemas/define-schema.js';
import type { UnitContext } from './unit-context.js';

const FINISHED_BUILD_STATUSES = ['succeeded', 'failed', 'cancelled'];

export class MikroOrmTenantRepository extends MikroOrmScopedRepository<'tenant'> implements TenantRepository {
  slugExists(slug: string): Promise<boolean> {
    return this.guard(async () => (await this.em.count(ENTITY_CLASSES.tenant, { slug })) > 0);
  }

  listIds(afterId: string | null, limit: number): Promise<string[]> {
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
}

export class MikroOrmUserRepository extends MikroOrmScopedRepository<'user'> implements UserRepository {
  findByEmail(email: string): Promise<User | null> {
    return this.guard(async () => {
      // Matches the unique index on lower(email).
      const user = await this.em.findOne(ENTITY_CLASSES.user, { [sql.lower('email')]: email.trim().toLowerCase() });
      return user === null ? null : copyEntity('user', user);
    });
  }
}

export class MikroOrmOAuthAccountRepository
  extends MikroOrmScopedRepository<'oauthAccount'>
  implements OAuthAccountRepository
{
  findByProviderAccount(
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
}

type UnsettledOptions = { waitingBefore: Date; leaseEndedBefore: Date; limit: number };

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

export class MikroOrmDeploymentRepository
  extends MikroOrmScopedRepository<'deployment'>
  implements DeploymentRepository
{
  listUnsettled(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return this.guard(() =>
      unsettledRows(this.em, 'deployment', { waiting: 'pending', running: 'deploying' }, options),
    );
  }

  listRunning(options: { limit: number }): Promise<RunningDeploymentRow[]> {
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
}

export class MikroOrmBuildRepository extends MikroOrmScopedRepository<'build'> implements BuildRepository {
  listArtifacts(options: { limit: number }): Promise<BuildArtifact[]> {
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

  listUnsettled(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return this.guard(() => unsettledRows(this.em, 'build', { waiting: 'queued', running: 'running' }, options));
  }

  findPrunable(
    tenantId: string,
    options: { finishedBefore: Date; keepLatest: number; limit: number },
  ): Promise<string[]> {
    return this.guard(async () => {
      const fields = ['id', 'serviceId', 'createdAt'] as const;
      const where = this.where(tenantId, {
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
  private revokeWhere(tenantId: string, condition: Record<string, unknown>, now: Date): Promise<number> {
    return this.guard(async () => {
      let revoked = 0;
      const tokens = await this.managedWhere(tenantId, { ...condition, revokedAt: null });
      if (tokens.length > 0) await this.unit.beforeWrite();
      for (const token of tokens) {
        if (token.revokedAt !== null) continue;
        token.revoke(now);
        revoked += 1;
      }
      return revoked;
    });
  }

  revokeFamily(tenantId: string, familyId: string, now: Date): Promise<number> {
    if (!isUuid(familyId)) return Promise.resolve(0);
    return this.revokeWhere(tenantId, { familyId: familyId.toLowerCase() }, now);
  }

  revokeAllOfUser(tenantId: string, userId: string, now: Date): Promise<number> {
    if (!isUuid(userId)) return Promise.resolve(0);
    return this.revokeWhere(tenantId, { userId: userId.toLowerCase() }, now);
  }
}

export class MikroOrmOutboxRepository extends MikroOrmScopedRepository<'outboxMessage'> implements OutboxRepository {
  listPending(now: Date, limit: number): Promise<OutboxMessage[]> {
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

  claimPending(now: Date, limit: number): Promise<OutboxMessage[]> {
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

  markSent(ids: readonly string[], now: Date): Promise<void> {
    return this.guard(async () => {
      const wanted = ids.filter(isUuid).map((id) => id.toLowerCase());
      if (wanted.length === 0) return;
      const messages = await this.em.find(ENTITY_CLASSES.outboxMessage, { id: { $in: wanted }, sentAt: null });
      if (messages.length > 0) await this.unit.beforeWrite();
      for (const message of messages) if (message.sentAt === null) message.markSent(now);
    });
  }

  pruneSent(tenantId: string, sentBefore: Date): Promise<number> {
    return this.guard(async () => {
      const sent = await this.managedWhere(tenantId, { sentAt: { $lt: sentBefore } });
      if (sent.length > 0) await this.unit.beforeWrite();
      for (const message of sent) this.em.remove(message);
      return sent.length;
    });
  }
}

/** The repositories of one unit of work, all on its EntityManager. */
export function createMikroOrmRepositories(unit: UnitContext): Repositories {
  return {
    tenants: new MikroOrmTenantRepository(unit, 'tenant'),
    users: new MikroOrmUserRepository(unit, 'user'),
    oauthAccounts: new MikroOrmOAuthAccountRepository(unit, 'oauthAccount'),
    teams: new MikroOrmScopedRepository(unit, 'team'),
    teamMembers: new MikroOrmScopedRepository(unit, 'teamMember'),
    projects: new MikroOrmScopedRepository(unit, 'project'),
    services: new MikroOrmScopedRepository(unit, 'service'),
    builds: new MikroOrmBuildRepository(unit, 'build'),
    deployments: new MikroOrmDeploymentRepository(unit, 'deployment'),
    refreshTokens: new MikroOrmRefreshTokenRepository(unit, 'refreshToken'),
    outbox: new MikroOrmOutboxRepository(unit, 'outboxMessage'),
  };
}
