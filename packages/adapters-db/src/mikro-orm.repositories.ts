import { sql } from '@mikro-orm/core';
import {
  type BuildRepository,
  isUuid,
  type OAuthAccount,
  type OAuthAccountRepository,
  type OAuthProviderName,
  type OutboxMessage,
  type OutboxRepository,
  type RefreshTokenRepository,
  type Repositories,
  type TenantRepository,
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
      // The whole row: a partial one would stay in the unit, and a later read of the user there
      // would hand out a copy without its version, which no versioned write accepts.
      const owner = await this.em.findOne(ENTITY_CLASSES.user, { id: account.userId });
      return owner === null ? null : { account: copyEntity('oauthAccount', account), tenantId: owner.tenantId };
    });
  }
}

export class MikroOrmBuildRepository extends MikroOrmScopedRepository<'build'> implements BuildRepository {
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
      });
      if (candidates.length === 0) return [];
      const referenced = new Set<string>();
      const deployments = await this.em.find(
        ENTITY_CLASSES.deployment,
        { buildId: { $in: candidates.map((build) => build.id) } },
        { fields: ['id', 'buildId'] },
      );
      for (const deployment of deployments) referenced.add(deployment.buildId);
      const kept = new Set<string>();
      if (options.keepLatest > 0) {
        // The newest builds of each service stay, finished or not.
        const services = [...new Set(candidates.map((build) => build.serviceId))];
        const all = await this.em.find(
          ENTITY_CLASSES.build,
          { serviceId: { $in: services } },
          { fields, orderBy: [{ serviceId: 'asc' }, { createdAt: 'desc' }, { id: 'desc' }] },
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
    deployments: new MikroOrmScopedRepository(unit, 'deployment'),
    refreshTokens: new MikroOrmRefreshTokenRepository(unit, 'refreshToken'),
    outbox: new MikroOrmOutboxRepository(unit, 'outboxMessage'),
  };
}
