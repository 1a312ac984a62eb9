import { NotFoundError } from '../domain/app.errors.js';
import type { Build } from '../domain/build.entity.js';
import { isFinishedBuild } from '../domain/build.entity.js';
import type { Entity } from '../domain/entity.js';
import {
  ENTITY_LABELS,
  type EntityName,
  type EntityTypes,
  MODEL,
  RELATIONS,
  type RelationModel,
} from '../domain/model.js';
import type { OAuthAccount, OAuthProviderName } from '../domain/oauth-account.entity.js';
import type { OutboxMessage } from '../domain/outbox-message.entity.js';
import type { RefreshToken } from '../domain/refresh-token.entity.js';
import type { Tenant } from '../domain/tenant.entity.js';
import type { User } from '../domain/user.entity.js';
import { TENANT_ISOLATION } from '../policy/tenant-isolation.policy.js';
import type { BuildArtifact } from '../ports/build-runner.port.js';
import type {
  BuildRepository,
  DeploymentRepository,
  GetOptions,
  OAuthAccountRepository,
  OutboxRepository,
  RefreshTokenRepository,
  Repositories,
  RunningDeploymentRow,
  ScopedRepository,
  TenantRepository,
  UnsettledRow,
  UserRepository,
} from '../ports/repository.port.js';
import {
  assertListQuery,
  type Filters,
  type ListQuery,
  type Page,
  parseFilters,
  parseInclude,
} from '../query/list-query.js';
import { cloneRow, type InMemoryTransaction, type Row } from './in-memory-database.js';

type Comparable = string | number | boolean | null;

const comparable = (value: unknown): Comparable =>
  value instanceof Date ? value.getTime() : ((value as Comparable | undefined) ?? null);

/** Postgres order: NULLs last ascending, first descending; ties broken by id. */
function compareRows(a: Row, b: Row, column: string, order: 'asc' | 'desc'): number {
  const sign = order === 'asc' ? 1 : -1;
  const x = comparable(a[column]);
  const y = comparable(b[column]);
  if (x !== y) {
    if (x === null) return sign;
    if (y === null) return -sign;
    return (x < y ? -1 : 1) * sign;
  }
  return (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * sign;
}

function matches(row: Row, filters: Filters | undefined): boolean {
  for (const [column, values] of Object.entries(filters ?? {})) {
    if (!values.includes(row[column] as never)) return false;
  }
  return true;
}

/**
 * A repository over an in-memory transaction, scoped by `TENANT_ISOLATION` exactly like the
 * database adapter: the tenant of a row is found by walking the policy's path.
 */
export class InMemoryScopedRepository<N extends EntityName> implements ScopedRepository<EntityTypes[N]> {
  constructor(
    protected readonly tx: InMemoryTransaction,
    protected readonly entity: N,
  ) {}

  /** The tenant a row belongs to, by the isolation policy; undefined when its chain is broken. */
  protected tenantOf(row: Record<string, unknown>): string | undefined {
    const rule = TENANT_ISOLATION[this.entity];
    let current: Record<string, unknown> | undefined = row;
    for (const hop of rule.path) {
      const parentId: unknown = current[hop.field];
      current = typeof parentId === 'string' ? this.tx.read(hop.entity, parentId) : undefined;
      if (current === undefined) return undefined;
    }
    const tenantId = current[rule.tenantField];
    return typeof tenantId === 'string' ? tenantId : undefined;
  }

  protected visible(tenantId: string, id: string): Row | undefined {
    if (typeof id !== 'string') return undefined;
    const row = this.tx.read(this.entity, id.toLowerCase());
    return row !== undefined && this.tenantOf(row) === tenantId ? row : undefined;
  }

  protected *scopedRows(tenantId: string, filters?: Filters): Iterable<Row> {
    for (const row of this.tx.rows(this.entity)) {
      if (this.tenantOf(row) === tenantId && matches(row, filters)) yield row;
    }
  }

  protected notFound(): NotFoundError {
    return new NotFoundError(ENTITY_LABELS[this.entity]);
  }

  /** A copy for the caller, with the requested relations loaded. */
  protected output(row: Row, include: readonly string[]): EntityTypes[N] {
    const copy = cloneRow(row, this.entity) as Row;
    const relations: Readonly<Record<string, RelationModel>> = RELATIONS[this.entity] ?? {};
    for (const name of include) {
      const relation = relations[name];
      if (relation === undefined) continue;
      if (relation.kind === 'one') {
        const target = this.tx.read(relation.entity, row[relation.field] as string);
        copy[name] = target === undefined ? undefined : cloneRow(target, relation.entity);
      } else {
        copy[name] = [...this.tx.rows(relation.entity)]
          .filter((child) => child[relation.field] === row.id)
          .sort((a, b) => compareRows(a, b, 'createdAt', 'asc'))
          .map((child) => cloneRow(child, relation.entity));
      }
    }
    return copy as unknown as EntityTypes[N];
  }

  async find(tenantId: string, id: string, options?: GetOptions): Promise<EntityTypes[N] | null> {
    const include = parseInclude(this.entity, options?.include);
    const row = this.visible(tenantId, id);
    return row === undefined ? null : this.output(row, include);
  }

  async get(tenantId: string, id: string, options?: GetOptions): Promise<EntityTypes[N]> {
    const found = await this.find(tenantId, id, options);
    if (found === null) throw this.notFound();
    return found;
  }

  async list(tenantId: string, query: ListQuery): Promise<Page<EntityTypes[N]>> {
    assertListQuery(this.entity, query);
    const rows = [...this.scopedRows(tenantId, query.filters)];
    rows.sort((a, b) => compareRows(a, b, query.sortBy, query.sortOrder));
    return {
      items: rows.slice(query.skip, query.skip + query.limit).map((row) => this.output(row, query.include)),
      total: rows.length,
      skip: query.skip,
      limit: query.limit,
    };
  }

  async count(tenantId: string, filters?: Filters): Promise<number> {
    parseFilters(this.entity, filters as Record<string, unknown> | undefined);
    let total = 0;
    for (const _ of this.scopedRows(tenantId, filters)) total += 1;
    return total;
  }

  /** Every foreign key of a written row must point into the writer's tenant. */
  protected checkReferences(tenantId: string, row: Row): void {
    for (const fk of MODEL[this.entity].foreignKeys) {
      const value = row[fk.field];
      if (value === null || value === undefined) continue;
      const target = typeof value === 'string' ? this.tx.read(fk.references, value) : undefined;
      const scope = new InMemoryScopedRepository(this.tx, fk.references);
      if (target === undefined || scope.tenantOf(target) !== tenantId) {
        throw new NotFoundError(ENTITY_LABELS[fk.references], { field: fk.field });
      }
    }
  }

  async add(tenantId: string, entity: EntityTypes[N]): Promise<void> {
    const row = cloneRow(entity, this.entity) as unknown as Row;
    if (TENANT_ISOLATION[this.entity].strategy === 'tenant') {
      if (row.id !== tenantId) throw this.notFound();
    } else {
      this.checkReferences(tenantId, row);
    }
    this.tx.insert(this.entity, row);
  }

  async update(tenantId: string, entity: EntityTypes[N]): Promise<void> {
    if (this.visible(tenantId, entity.id) === undefined) throw this.notFound();
    const row = cloneRow(entity, this.entity) as unknown as Row;
    this.checkReferences(tenantId, row);
    this.tx.update(this.entity, row, entity.version);
    (entity as Entity).version = row.version;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const row = this.visible(tenantId, id);
    if (row === undefined) throw this.notFound();
    this.tx.delete(this.entity, row.id);
  }

  /** Rows of the whole store, past the tenant scope: only for the platform-wide lookups. */
  protected *allRows(): Iterable<Row> {
    yield* this.tx.rows(this.entity);
  }
}

export class InMemoryTenantRepository extends InMemoryScopedRepository<'tenant'> implements TenantRepository {
  async slugExists(slug: string): Promise<boolean> {
    for (const row of this.allRows()) if ((row as unknown as Tenant).slug === slug) return true;
    return false;
  }

  async listIds(afterId: string | null, limit: number): Promise<string[]> {
    return [...this.allRows()]
      .map((row) => row.id)
      .filter((id) => afterId === null || id > afterId)
      .sort()
      .slice(0, limit);
  }
}

export class InMemoryUserRepository extends InMemoryScopedRepository<'user'> implements UserRepository {
  async findByEmail(email: string): Promise<User | null> {
    const wanted = email.trim().toLowerCase();
    for (const row of this.allRows()) if (row.email === wanted) return this.output(row, []);
    return null;
  }
}

export class InMemoryOAuthAccountRepository
  extends InMemoryScopedRepository<'oauthAccount'>
  implements OAuthAccountRepository
{
  async findByProviderAccount(
    provider: OAuthProviderName,
    providerAccountId: string,
  ): Promise<{ account: OAuthAccount; tenantId: string } | null> {
    for (const row of this.allRows()) {
      if (row.provider !== provider || row.providerAccountId !== providerAccountId) continue;
      const tenantId = this.tenantOf(row);
      if (tenantId === undefined) return null;
      return { account: this.output(row, []), tenantId };
    }
    return null;
  }
}

/** The reconciler's view of builds or deployments: waiting ones changed long ago, running ones past their lease. */
function unsettledRows(
  rows: Iterable<Row>,
  tenantOf: (row: Row) => string | undefined,
  statuses: { waiting: string; running: string },
  options: { waitingBefore: Date; leaseEndedBefore: Date; limit: number },
): UnsettledRow[] {
  const due = [...rows].filter((row) => {
    if (row.status === statuses.waiting) return (row.updatedAt as Date) < options.waitingBefore;
    if (row.status !== statuses.running) return false;
    const lease = row.leaseUntil as Date | null;
    return lease === null || lease < options.leaseEndedBefore;
  });
  due.sort((a, b) => compareRows(a, b, 'updatedAt', 'asc'));
  const found: UnsettledRow[] = [];
  for (const row of due) {
    const tenantId = tenantOf(row);
    if (tenantId !== undefined) found.push({ id: row.id, tenantId });
    if (found.length >= options.limit) break;
  }
  return found;
}

export class InMemoryDeploymentRepository
  extends InMemoryScopedRepository<'deployment'>
  implements DeploymentRepository
{
  async listUnsettled(options: {
    waitingBefore: Date;
    leaseEndedBefore: Date;
    limit: number;
  }): Promise<UnsettledRow[]> {
    return unsettledRows(
      this.allRows(),
      (row) => this.tenantOf(row),
      { waiting: 'pending', running: 'deploying' },
      options,
    );
  }

  async listRunning(options: { limit: number }): Promise<RunningDeploymentRow[]> {
    const rows = [...this.allRows()].filter((row) => row.status === 'live' || row.status === 'deploying');
    rows.sort((a, b) => compareRows(a, b, 'createdAt', 'asc'));
    const found: RunningDeploymentRow[] = [];
    for (const row of rows) {
      if (found.length >= options.limit) break;
      const tenantId = this.tenantOf(row);
      if (tenantId !== undefined) found.push({ id: row.id, tenantId, status: row.status as 'live' | 'deploying' });
    }
    return found;
  }
}

export class InMemoryBuildRepository extends InMemoryScopedRepository<'build'> implements BuildRepository {
  async listArtifacts(options: { limit: number }): Promise<BuildArtifact[]> {
    const found: BuildArtifact[] = [];
    for (const row of this.allRows()) {
      if (found.length >= options.limit) break;
      if (row.artifact != null) found.push(structuredClone(row.artifact) as BuildArtifact);
    }
    return found;
  }

  async listUnsettled(options: {
    waitingBefore: Date;
    leaseEndedBefore: Date;
    limit: number;
  }): Promise<UnsettledRow[]> {
    return unsettledRows(
      this.allRows(),
      (row) => this.tenantOf(row),
      { waiting: 'queued', running: 'running' },
      options,
    );
  }

  async findPrunable(
    tenantId: string,
    options: { finishedBefore: Date; keepLatest: number; limit: number },
  ): Promise<string[]> {
    const referenced = new Set<unknown>();
    for (const deployment of this.tx.rows('deployment')) referenced.add(deployment.buildId);
    const byService = new Map<string, Build[]>();
    for (const row of this.scopedRows(tenantId)) {
      const build = row as unknown as Build;
      const list = byService.get(build.serviceId) ?? [];
      list.push(build);
      byService.set(build.serviceId, list);
    }
    const prunable: Build[] = [];
    for (const builds of byService.values()) {
      builds.sort((a, b) => compareRows(a as unknown as Row, b as unknown as Row, 'createdAt', 'desc'));
      for (const build of builds.slice(options.keepLatest)) {
        if (
          isFinishedBuild(build.status) &&
          build.finishedAt !== null &&
          build.finishedAt < options.finishedBefore &&
          !referenced.has(build.id)
        ) {
          prunable.push(build);
        }
      }
    }
    prunable.sort((a, b) => compareRows(a as unknown as Row, b as unknown as Row, 'createdAt', 'asc'));
    return prunable.slice(0, options.limit).map((build) => build.id);
  }
}

export class InMemoryRefreshTokenRepository
  extends InMemoryScopedRepository<'refreshToken'>
  implements RefreshTokenRepository
{
  private async revokeWhere(tenantId: string, filters: Filters, now: Date): Promise<number> {
    let revoked = 0;
    for (const row of [...this.scopedRows(tenantId, filters)]) {
      const token = this.output(row, []) as RefreshToken;
      if (token.revokedAt !== null) continue;
      token.revoke(now);
      await this.update(tenantId, token);
      revoked += 1;
    }
    return revoked;
  }

  revokeFamily(tenantId: string, familyId: string, now: Date): Promise<number> {
    return this.revokeWhere(tenantId, { familyId: [familyId] }, now);
  }

  revokeAllOfUser(tenantId: string, userId: string, now: Date): Promise<number> {
    return this.revokeWhere(tenantId, { userId: [userId] }, now);
  }
}

export class InMemoryOutboxRepository extends InMemoryScopedRepository<'outboxMessage'> implements OutboxRepository {
  async listPending(now: Date, limit: number): Promise<OutboxMessage[]> {
    return [...this.allRows()]
      .filter((row) => row.sentAt === null && (row.availableAt as Date) <= now)
      .sort((a, b) => compareRows(a, b, 'createdAt', 'asc'))
      .slice(0, limit)
      .map((row) => this.output(row, []));
  }

  /** One in-memory transaction runs at a time, so nothing else can hold these rows. */
  claimPending(now: Date, limit: number): Promise<OutboxMessage[]> {
    return this.listPending(now, limit);
  }

  async markSent(ids: readonly string[], now: Date): Promise<void> {
    for (const id of ids) {
      const row = this.tx.read('outboxMessage', id);
      if (row === undefined || row.sentAt !== null) continue;
      const message = this.output(row, []);
      message.markSent(now);
      this.tx.update('outboxMessage', cloneRow(message, 'outboxMessage') as unknown as Row, row.version);
    }
  }

  async pruneSent(tenantId: string, sentBefore: Date): Promise<number> {
    let pruned = 0;
    for (const row of [...this.scopedRows(tenantId)]) {
      if (row.sentAt instanceof Date && row.sentAt < sentBefore) {
        this.tx.delete('outboxMessage', row.id);
        pruned += 1;
      }
    }
    return pruned;
  }
}

/** The repositories of one in-memory transaction. */
export function createInMemoryRepositories(tx: InMemoryTransaction): Repositories {
  return {
    tenants: new InMemoryTenantRepository(tx, 'tenant'),
    users: new InMemoryUserRepository(tx, 'user'),
    oauthAccounts: new InMemoryOAuthAccountRepository(tx, 'oauthAccount'),
    teams: new InMemoryScopedRepository(tx, 'team'),
    teamMembers: new InMemoryScopedRepository(tx, 'teamMember'),
    projects: new InMemoryScopedRepository(tx, 'project'),
    services: new InMemoryScopedRepository(tx, 'service'),
    builds: new InMemoryBuildRepository(tx, 'build'),
    deployments: new InMemoryDeploymentRepository(tx, 'deployment'),
    refreshTokens: new InMemoryRefreshTokenRepository(tx, 'refreshToken'),
    outbox: new InMemoryOutboxRepository(tx, 'outboxMessage'),
  };
}
