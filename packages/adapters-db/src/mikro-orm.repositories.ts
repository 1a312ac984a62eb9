import type { EntityManager, QueryOrderMap } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import {
  type AuditEvent,
  type AuditEventRepository,
  assertListQuery,
  type BuildArtifact,
  type BuildRepository,
  isUuid,
  type ListQuery,
  normalizeEmail,
  type OAuthAccount,
  type OAuthProviderName,
  type OutboxMessage,
  type OutboxRepository,
  type Page,
  type PlatformRepositories,
  parseFilters,
  type RefreshTokenRepository,
  type Repositories,
  type RunningDeploymentRow,
  type TimeRange,
  type UnsettledOptions,
  type UnsettledRow,
  type User,
} from '@shipyard/core';
import { translateError } from './driver-errors.js';
import { copyEntity } from './entity-copy.js';
import { filterCondition, MikroOrmScopedRepository } from './mikro-orm-scoped.repository.js';
import { ENTITY_CLASSES } from './schemas/define-schema.js';
import type { UnitContext } from './unit-context.js';

const FINISHED_BUILD_STATUSES = ['succeeded', 'failed', 'cancelled'];

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

/** The scoped rows of the audit trail, with the time range a plain filter cannot say. */
class MikroOrmAuditRows extends MikroOrmScopedRepository<'auditEvent'> {
  listWithin(query: ListQuery, range: TimeRange): Promise<Page<AuditEvent>> {
    return this.guard(async () => {
      assertListQuery('auditEvent', query);
      const filters = parseFilters('auditEvent', query.filters as Record<string, unknown>);
      const page = { skip: query.skip, limit: query.limit };
      const occurredAt: Record<string, Date> = {};
      if (range.from != null) occurredAt.$gte = range.from;
      if (range.to != null) occurredAt.$lte = range.to;
      const condition = filterCondition(filters);
      if (Object.keys(occurredAt).length > 0) condition.occurredAt = occurredAt;
      const where = this.where(condition);
      if (where === null) return { items: [], total: 0, ...page };
      const orderBy = [{ [query.sortBy]: query.sortOrder }, { id: query.sortOrder }] as QueryOrderMap<object>[];
      const [rows, total] = await Promise.all([
        this.rows(where, { orderBy, limit: query.limit, offset: query.skip }),
        this.em.count(this.entityClass, where),
      ]);
      return { items: await this.output(rows, []), total, ...page };
    });
  }
}

/** The audit trail on the unit's EntityManager: add and list only (append-only). */
export class MikroOrmAuditEventRepository implements AuditEventRepository {
  readonly #rows: MikroOrmAuditRows;

  constructor(unit: UnitContext, tenantId: string) {
    this.#rows = new MikroOrmAuditRows(unit, 'auditEvent', tenantId);
  }

  add(event: AuditEvent): Promise<void> {
    return this.#rows.add(event);
  }

  list(query: ListQuery, range: TimeRange = {}): Promise<Page<AuditEvent>> {
    return this.#rows.listWithin(query, range);
  }
}

/**
 * The platform-wide operations, on the unit's EntityManager: the only queries of the adapter that
 * carry no tenant condition. Under row-level security a platform unit sees no tenant's rows, so
 * each goes through one of the SECURITY DEFINER functions of the migration
 * `Migration20261202180000_row_level_security` (ids, flags, the relay's messages), and reads a
 * tenant's rows through `inTenant`, whose repositories run under that tenant.
 */
export class MikroOrmPlatformRepositories implements PlatformRepositories {
  private readonly tenants = new Map<string, Repositories>();

  constructor(private readonly unit: UnitContext) {}

  private get em(): EntityManager {
    return this.unit.em;
  }

  /** Calls a platform function, turning database errors into the core's. */
  private async call<R extends object>(sqlText: string, params: unknown[]): Promise<R[]> {
    try {
      return (await (this.em as SqlEntityManager).execute(sqlText, params)) as R[];
    } catch (error) {
      throw translateError(error);
    }
  }

  /** Outbox rows as the function returns them (columns), as entities outside the identity map. */
  private messages(rows: Record<string, unknown>[]): OutboxMessage[] {
    return rows.map((row) => copyEntity('outboxMessage', this.em.map(ENTITY_CLASSES.outboxMessage, row)));
  }

  async findUserByEmail(email: string): Promise<User | null> {
    // Matches the unique index on lower(email); stored emails are normalised the same way.
    const [found] = await this.call<{ id: string; tenant_id: string }>('select * from shipyard_user_by_email(?)', [
      normalizeEmail(email),
    ]);
    return found === undefined ? null : this.inTenant(found.tenant_id).users.find(found.id);
  }

  async tenantSlugExists(slug: string): Promise<boolean> {
    const [row] = await this.call<{ exists: boolean }>('select shipyard_tenant_slug_exists(?) as "exists"', [slug]);
    return row?.exists === true;
  }

  async listTenantIds(afterId: string | null, limit: number): Promise<string[]> {
    if (limit <= 0 || (afterId !== null && !isUuid(afterId))) return [];
    const rows = await this.call<{ id: string }>('select "id" from shipyard_tenant_ids(?, ?) as "id"', [
      afterId?.toLowerCase() ?? null,
      limit,
    ]);
    return rows.map((row) => row.id);
  }

  async findOAuthAccount(
    provider: OAuthProviderName,
    providerAccountId: string,
  ): Promise<{ account: OAuthAccount; tenantId: string } | null> {
    const [found] = await this.call<{ id: string; tenant_id: string }>('select * from shipyard_oauth_account(?, ?)', [
      provider,
      providerAccountId,
    ]);
    if (found === undefined) return null;
    const account = await this.inTenant(found.tenant_id).oauthAccounts.find(found.id);
    return account === null ? null : { account, tenantId: found.tenant_id };
  }

  private async unsettled(fn: string, options: UnsettledOptions): Promise<UnsettledRow[]> {
    if (options.limit <= 0) return [];
    const rows = await this.call<{ id: string; tenant_id: string }>(`select * from ${fn}(?, ?, ?)`, [
      options.waitingBefore,
      options.leaseEndedBefore,
      options.limit,
    ]);
    return rows.map((row) => ({ id: row.id, tenantId: row.tenant_id }));
  }

  listUnsettledBuilds(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return this.unsettled('shipyard_unsettled_builds', options);
  }

  listUnsettledDeployments(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return this.unsettled('shipyard_unsettled_deployments', options);
  }

  async listRunningDeployments(options: { limit: number }): Promise<RunningDeploymentRow[]> {
    if (options.limit <= 0) return [];
    const rows = await this.call<{ id: string; tenant_id: string; status: 'live' | 'deploying' }>(
      'select * from shipyard_running_deployments(?)',
      [options.limit],
    );
    return rows.map((row) => ({ id: row.id, tenantId: row.tenant_id, status: row.status }));
  }

  async listBuildArtifacts(options: { limit: number }): Promise<BuildArtifact[]> {
    if (options.limit <= 0) return [];
    const rows = await this.call<{ artifact: BuildArtifact | string | null }>(
      'select "artifact" from shipyard_build_artifacts(?) as "artifact"',
      [options.limit],
    );
    return rows.flatMap((row) =>
      row.artifact === null
        ? []
        : [typeof row.artifact === 'string' ? (JSON.parse(row.artifact) as BuildArtifact) : row.artifact],
    );
  }

  async listPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]> {
    if (limit <= 0) return [];
    return this.messages(await this.call('select * from shipyard_pending_messages(?, ?)', [now, limit]));
  }

  async claimPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]> {
    if (limit <= 0) return [];
    // Row locks need the transaction, which a lazily opened unit has not begun yet.
    await this.unit.beforeWrite();
    return this.messages(await this.call('select * from shipyard_claim_pending_messages(?, ?)', [now, limit]));
  }

  async markMessagesSent(ids: readonly string[], now: Date): Promise<void> {
    const wanted = ids.filter(isUuid).map((id) => id.toLowerCase());
    if (wanted.length === 0) return;
    await this.unit.beforeWrite();
    // An array literal: the query builder would spread an array binding into a list.
    await this.call('select shipyard_mark_messages_sent(?::uuid[], ?)', [`{${wanted.join(',')}}`, now]);
  }

  /** The audit retention's delete, across tenants: the application role may not delete audit events. */
  async pruneAuditEvents(before: Date, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    await this.unit.beforeWrite();
    const [row] = await this.call<{ removed: number }>('select shipyard_prune_audit_events(?, ?) as "removed"', [
      before,
      Math.floor(limit),
    ]);
    return row?.removed ?? 0;
  }

  /** The outbox backlog across tenants (for metrics). */
  async countPendingMessages(now: Date): Promise<number> {
    const [row] = await this.call<{ count: number }>('select shipyard_count_pending_messages(?) as "count"', [now]);
    return row?.count ?? 0;
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
    audit: new MikroOrmAuditEventRepository(unit, tenantId),
  };
}
