import { NotFoundError } from '../domain/app.errors.js';
import type { AuditEvent } from '../domain/audit-event.entity.js';
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
import { normalizeEmail } from '../domain/validate.js';
import { isTenantRow, TENANT_ISOLATION } from '../policy/tenant-isolation.policy.js';
import type { BuildArtifact } from '../ports/build-runner.port.js';
import type {
  AuditEventRepository,
  BuildRepository,
  GetOptions,
  OutboxRepository,
  PlatformRepositories,
  RefreshTokenRepository,
  Repositories,
  RunningDeploymentRow,
  ScopedRepository,
  TimeRange,
  UnsettledOptions,
  UnsettledRow,
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

/** The tenant a row of `entity` belongs to, by the isolation policy; undefined when its chain is broken. */
function tenantOf(tx: InMemoryTransaction, entity: EntityName, row: Record<string, unknown>): string | undefined {
  const rule = TENANT_ISOLATION[entity];
  let current: Record<string, unknown> | undefined = row;
  for (const hop of rule.path) {
    const parentId: unknown = current[hop.field];
    current = typeof parentId === 'string' ? tx.read(hop.entity, parentId) : undefined;
    if (current === undefined) return undefined;
  }
  const tenantId = current[rule.tenantField];
  return typeof tenantId === 'string' ? tenantId : undefined;
}

/**
 * A repository over an in-memory transaction, bound to one tenant and scoped by
 * `TENANT_ISOLATION` exactly like the database adapter: the tenant of a row is found by walking
 * the policy's path.
 */
export class InMemoryScopedRepository<N extends EntityName> implements ScopedRepository<EntityTypes[N]> {
  constructor(
    protected readonly tx: InMemoryTransaction,
    protected readonly entity: N,
    protected readonly tenantId: string,
  ) {}

  protected visible(id: string): Row | undefined {
    if (typeof id !== 'string') return undefined;
    const row = this.tx.read(this.entity, id.toLowerCase());
    return row !== undefined && tenantOf(this.tx, this.entity, row) === this.tenantId ? row : undefined;
  }

  protected *scopedRows(filters?: Filters): Iterable<Row> {
    for (const row of this.tx.rows(this.entity)) {
      if (tenantOf(this.tx, this.entity, row) === this.tenantId && matches(row, filters)) yield row;
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

  async find(id: string, options?: GetOptions): Promise<EntityTypes[N] | null> {
    const include = parseInclude(this.entity, options?.include);
    const row = this.visible(id);
    return row === undefined ? null : this.output(row, include);
  }

  async get(id: string, options?: GetOptions): Promise<EntityTypes[N]> {
    const found = await this.find(id, options);
    if (found === null) throw this.notFound();
    return found;
  }

  async list(query: ListQuery): Promise<Page<EntityTypes[N]>> {
    assertListQuery(this.entity, query);
    const rows = [...this.scopedRows(query.filters)];
    rows.sort((a, b) => compareRows(a, b, query.sortBy, query.sortOrder));
    return {
      items: rows.slice(query.skip, query.skip + query.limit).map((row) => this.output(row, query.include)),
      total: rows.length,
      skip: query.skip,
      limit: query.limit,
    };
  }

  async count(filters?: Filters): Promise<number> {
    parseFilters(this.entity, filters as Record<string, unknown> | undefined);
    let total = 0;
    for (const _ of this.scopedRows(filters)) total += 1;
    return total;
  }

  /** Every foreign key of a written row must point into the unit's tenant. */
  protected checkReferences(row: Row): void {
    for (const fk of MODEL[this.entity].foreignKeys) {
      const value = row[fk.field];
      if (value === null || value === undefined) continue;
      const target = typeof value === 'string' ? this.tx.read(fk.references, value) : undefined;
      if (target === undefined || tenantOf(this.tx, fk.references, target) !== this.tenantId) {
        throw new NotFoundError(ENTITY_LABELS[fk.references], { field: fk.field });
      }
    }
  }

  async add(entity: EntityTypes[N]): Promise<void> {
    const row = cloneRow(entity, this.entity) as unknown as Row;
    if (isTenantRow(this.entity)) {
      if (row.id !== this.tenantId) throw this.notFound();
    } else {
      this.checkReferences(row);
    }
    this.tx.insert(this.entity, row);
  }

  async update(entity: EntityTypes[N]): Promise<void> {
    if (this.visible(entity.id) === undefined) throw this.notFound();
    const row = cloneRow(entity, this.entity) as unknown as Row;
    this.checkReferences(row);
    this.tx.update(this.entity, row, entity.version);
    (entity as Entity).version = row.version;
  }

  async remove(id: string): Promise<void> {
    const row = this.visible(id);
    if (row === undefined) throw this.notFound();
    this.tx.delete(this.entity, row.id);
  }
}

export class InMemoryBuildRepository extends InMemoryScopedRepository<'build'> implements BuildRepository {
  async findPrunable(options: { finishedBefore: Date; keepLatest: number; limit: number }): Promise<string[]> {
    const referenced = new Set<unknown>();
    for (const deployment of this.tx.rows('deployment')) referenced.add(deployment.buildId);
    const byService = new Map<string, Build[]>();
    for (const row of this.scopedRows()) {
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
  private async revokeWhere(filters: Filters, now: Date): Promise<number> {
    let revoked = 0;
    for (const row of [...this.scopedRows(filters)]) {
      const token = this.output(row, []) as RefreshToken;
      if (token.revokedAt !== null) continue;
      token.revoke(now);
      await this.update(token);
      revoked += 1;
    }
    return revoked;
  }

  revokeFamily(familyId: string, now: Date): Promise<number> {
    return this.revokeWhere({ familyId: [familyId] }, now);
  }

  revokeAllOfUser(userId: string, now: Date): Promise<number> {
    return this.revokeWhere({ userId: [userId] }, now);
  }
}

export class InMemoryOutboxRepository extends InMemoryScopedRepository<'outboxMessage'> implements OutboxRepository {
  async pruneSent(sentBefore: Date): Promise<number> {
    let pruned = 0;
    for (const row of [...this.scopedRows()]) {
      if (row.sentAt instanceof Date && row.sentAt < sentBefore) {
        this.tx.delete('outboxMessage', row.id);
        pruned += 1;
      }
    }
    return pruned;
  }
}

/** The scoped rows of the audit trail, with the time range a plain filter cannot say. */
class InMemoryAuditRows extends InMemoryScopedRepository<'auditEvent'> {
  listWithin(query: ListQuery, range: TimeRange): Page<AuditEvent> {
    assertListQuery('auditEvent', query);
    const from = range.from?.getTime();
    const to = range.to?.getTime();
    const rows = [...this.scopedRows(query.filters)].filter((row) => {
      const at = (row.occurredAt as Date).getTime();
      return (from === undefined || at >= from) && (to === undefined || at <= to);
    });
    rows.sort((a, b) => compareRows(a, b, query.sortBy, query.sortOrder));
    return {
      items: rows.slice(query.skip, query.skip + query.limit).map((row) => this.output(row, [])),
      total: rows.length,
      skip: query.skip,
      limit: query.limit,
    };
  }
}

/** The audit trail over an in-memory transaction: add and list only (append-only). */
export class InMemoryAuditEventRepository implements AuditEventRepository {
  readonly #rows: InMemoryAuditRows;

  constructor(tx: InMemoryTransaction, tenantId: string) {
    this.#rows = new InMemoryAuditRows(tx, 'auditEvent', tenantId);
  }

  add(event: AuditEvent): Promise<void> {
    return this.#rows.add(event);
  }

  async list(query: ListQuery, range: TimeRange = {}): Promise<Page<AuditEvent>> {
    return this.#rows.listWithin(query, range);
  }
}

/** The reconciler's view of builds or deployments: waiting ones changed long ago, running ones past their lease. */
function unsettledRows(
  rows: Iterable<Row>,
  tenantFor: (row: Row) => string | undefined,
  statuses: { waiting: string; running: string },
  options: UnsettledOptions,
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
    const tenantId = tenantFor(row);
    if (tenantId !== undefined) found.push({ id: row.id, tenantId });
    if (found.length >= options.limit) break;
  }
  return found;
}

/**
 * The platform-wide operations over an in-memory transaction: the only code of the in-memory
 * store that reads rows past the tenant scope.
 */
export class InMemoryPlatformRepositories implements PlatformRepositories {
  private readonly tenants = new Map<string, Repositories>();

  constructor(private readonly tx: InMemoryTransaction) {}

  private copy<N extends EntityName>(entity: N, row: Row): EntityTypes[N] {
    return cloneRow(row, entity) as unknown as EntityTypes[N];
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const wanted = normalizeEmail(email);
    for (const row of this.tx.rows('user')) if (row.email === wanted) return this.copy('user', row);
    return null;
  }

  async tenantSlugExists(slug: string): Promise<boolean> {
    for (const row of this.tx.rows('tenant')) if ((row as unknown as Tenant).slug === slug) return true;
    return false;
  }

  async listTenantIds(afterId: string | null, limit: number): Promise<string[]> {
    return [...this.tx.rows('tenant')]
      .map((row) => row.id)
      .filter((id) => afterId === null || id > afterId)
      .sort()
      .slice(0, limit);
  }

  async findOAuthAccount(
    provider: OAuthProviderName,
    providerAccountId: string,
  ): Promise<{ account: OAuthAccount; tenantId: string } | null> {
    for (const row of this.tx.rows('oauthAccount')) {
      if (row.provider !== provider || row.providerAccountId !== providerAccountId) continue;
      const tenantId = tenantOf(this.tx, 'oauthAccount', row);
      if (tenantId === undefined) return null;
      return { account: this.copy('oauthAccount', row), tenantId };
    }
    return null;
  }

  async listUnsettledBuilds(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return unsettledRows(
      this.tx.rows('build'),
      (row) => tenantOf(this.tx, 'build', row),
      { waiting: 'queued', running: 'running' },
      options,
    );
  }

  async listUnsettledDeployments(options: UnsettledOptions): Promise<UnsettledRow[]> {
    return unsettledRows(
      this.tx.rows('deployment'),
      (row) => tenantOf(this.tx, 'deployment', row),
      { waiting: 'pending', running: 'deploying' },
      options,
    );
  }

  async listRunningDeployments(options: { limit: number }): Promise<RunningDeploymentRow[]> {
    const rows = [...this.tx.rows('deployment')].filter((row) => row.status === 'live' || row.status === 'deploying');
    rows.sort((a, b) => compareRows(a, b, 'createdAt', 'asc'));
    const found: RunningDeploymentRow[] = [];
    for (const row of rows) {
      if (found.length >= options.limit) break;
      const tenantId = tenantOf(this.tx, 'deployment', row);
      if (tenantId !== undefined) found.push({ id: row.id, tenantId, status: row.status as 'live' | 'deploying' });
    }
    return found;
  }

  async listBuildArtifacts(options: { limit: number }): Promise<BuildArtifact[]> {
    const found: BuildArtifact[] = [];
    for (const row of this.tx.rows('build')) {
      if (found.length >= options.limit) break;
      if (row.artifact != null) found.push(structuredClone(row.artifact) as BuildArtifact);
    }
    return found;
  }

  async listPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]> {
    return [...this.tx.rows('outboxMessage')]
      .filter((row) => row.sentAt === null && (row.availableAt as Date) <= now)
      .sort((a, b) => compareRows(a, b, 'createdAt', 'asc'))
      .slice(0, limit)
      .map((row) => this.copy('outboxMessage', row));
  }

  async countPendingMessages(now: Date): Promise<number> {
    let count = 0;
    for (const row of this.tx.rows('outboxMessage'))
      if (row.sentAt === null && (row.availableAt as Date) <= now) count++;
    return count;
  }

  /** One in-memory transaction runs at a time, so nothing else can hold these rows. */
  claimPendingMessages(now: Date, limit: number): Promise<OutboxMessage[]> {
    return this.listPendingMessages(now, limit);
  }

  async markMessagesSent(ids: readonly string[], now: Date): Promise<void> {
    for (const id of ids) {
      const row = this.tx.read('outboxMessage', id);
      if (row === undefined || row.sentAt !== null) continue;
      const message = this.copy('outboxMessage', row);
      message.markSent(now);
      this.tx.update('outboxMessage', cloneRow(message, 'outboxMessage') as unknown as Row, row.version);
    }
  }

  async pruneAuditEvents(before: Date, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const old = [...this.tx.rows('auditEvent')]
      .filter((row) => (row.occurredAt as Date) < before)
      .sort((a, b) => compareRows(a, b, 'occurredAt', 'asc'))
      .slice(0, limit);
    for (const row of old) this.tx.delete('auditEvent', row.id);
    return old.length;
  }

  inTenant(tenantId: string): Repositories {
    let repos = this.tenants.get(tenantId);
    if (repos === undefined) {
      repos = createInMemoryRepositories(this.tx, tenantId);
      this.tenants.set(tenantId, repos);
    }
    return repos;
  }
}

/** The repositories of one in-memory transaction, bound to `tenantId`. */
export function createInMemoryRepositories(tx: InMemoryTransaction, tenantId: string): Repositories {
  return {
    tenantId,
    tenants: new InMemoryScopedRepository(tx, 'tenant', tenantId),
    users: new InMemoryScopedRepository(tx, 'user', tenantId),
    oauthAccounts: new InMemoryScopedRepository(tx, 'oauthAccount', tenantId),
    teams: new InMemoryScopedRepository(tx, 'team', tenantId),
    teamMembers: new InMemoryScopedRepository(tx, 'teamMember', tenantId),
    projects: new InMemoryScopedRepository(tx, 'project', tenantId),
    services: new InMemoryScopedRepository(tx, 'service', tenantId),
    builds: new InMemoryBuildRepository(tx, 'build', tenantId),
    deployments: new InMemoryScopedRepository(tx, 'deployment', tenantId),
    refreshTokens: new InMemoryRefreshTokenRepository(tx, 'refreshToken', tenantId),
    outbox: new InMemoryOutboxRepository(tx, 'outboxMessage', tenantId),
    audit: new InMemoryAuditEventRepository(tx, tenantId),
  };
}
