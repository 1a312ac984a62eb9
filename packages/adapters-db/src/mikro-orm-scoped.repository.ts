import type { EntityClass, EntityManager, FilterQuery, FindOptions, QueryOrderMap } from '@mikro-orm/core';
import {
  assertListQuery,
  ConflictError,
  ENTITY_LABELS,
  type EntityName,
  type EntityTypes,
  type Filters,
  type GetOptions,
  isTenantRow,
  isUuid,
  type ListQuery,
  MODEL,
  NotFoundError,
  type Page,
  parseFilters,
  parseInclude,
  RELATIONS,
  type RelationModel,
  type ScopedRepository,
} from '@shipyard/core';
import { translateError } from './driver-errors.js';
import { assignFields, copyEntity } from './entity-copy.js';
import { ENTITY_CLASSES } from './schemas/define-schema.js';
import { scoped } from './tenant-scope.js';
import { settingOf } from './tenant-session.js';
import type { UnitContext } from './unit-context.js';

type Row = Record<string, unknown>;
type Where = FilterQuery<object>;

/** Filters of a list request as a MikroORM condition: one value is equality, several are IN. */
export function filterCondition(filters: Filters): Row {
  const where: Row = {};
  for (const [column, values] of Object.entries(filters)) {
    where[column] = values.length === 1 ? values[0] : { $in: [...values] };
  }
  return where;
}

/**
 * A repository over one unit of work's EntityManager, bound to the unit's tenant and scoped by
 * TENANT_ISOLATION: every read, count, update and delete carries the tenant condition in its own
 * query (none matches when the tenant id is not a UUID). Callers get copies of
 * the rows; the managed instances stay in the unit, which flushes and commits them. Repositories
 * never flush or commit: with the unit's `FlushMode.ALWAYS`, MikroORM writes pending changes
 * inside the transaction before each query, so a unit reads its own writes.
 */
export class MikroOrmScopedRepository<N extends EntityName> implements ScopedRepository<EntityTypes[N]> {
  /** The unit's tenant as the connections' setting holds it (row-level security). */
  private readonly setting: string;

  constructor(
    protected readonly unit: UnitContext,
    protected readonly entity: N,
    protected readonly tenantId: string,
  ) {
    this.setting = settingOf(tenantId);
  }

  protected get em(): EntityManager {
    return this.unit.em;
  }

  protected get entityClass(): EntityClass<object> {
    return ENTITY_CLASSES[this.entity];
  }

  /** Managed rows matching `where` (typed loosely for MikroORM, whose types know no core entity). */
  protected async rows(where: Where, options: FindOptions<object> = {}): Promise<EntityTypes[N][]> {
    return (await this.em.find(this.entityClass, where, options)) as EntityTypes[N][];
  }

  protected notFound(): NotFoundError {
    return new NotFoundError(ENTITY_LABELS[this.entity]);
  }

  /** Runs a repository operation under the repository's tenant, turning database errors into the core's. */
  protected async guard<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await this.unit.inTenant(this.setting, operation);
    } catch (error) {
      throw translateError(error);
    }
  }

  /** `condition` inside the unit's tenant, or null when nothing can match. */
  protected where(condition: Row = {}): Where | null {
    return scoped(this.entity, this.tenantId, condition);
  }

  /**
   * The managed row, when it exists and belongs to the tenant. `fresh` reloads a row the unit
   * already holds from what is stored now, its version included: without it the ORM merges the
   * stored fields into the held row but keeps the version it had.
   */
  protected async managed(id: unknown, fresh = false): Promise<EntityTypes[N] | null> {
    if (!isUuid(id)) return null;
    const where = this.where({ id: id.toLowerCase() });
    if (where === null) return null;
    return (await this.em.findOne(this.entityClass, where, { refresh: fresh })) as EntityTypes[N] | null;
  }

  /**
   * Copies of managed rows for the caller, with the requested relations loaded (scoped too).
   * `fresh` rows (read by the fast path, which the ORM does not hold) are handed out as they are.
   */
  protected async output(rows: EntityTypes[N][], include: readonly string[], fresh = false): Promise<EntityTypes[N][]> {
    const copies = fresh ? rows : rows.map((row) => copyEntity(this.entity, row));
    const relations: Readonly<Record<string, RelationModel>> = RELATIONS[this.entity] ?? {};
    for (const name of include) {
      const relation = relations[name];
      if (relation === undefined || rows.length === 0) continue;
      const related = new MikroOrmScopedRepository(this.unit, relation.entity, this.tenantId);
      if (relation.kind === 'one') {
        const ids = [...new Set(rows.map((row) => (row as unknown as Row)[relation.field]).filter(isUuid))];
        const targets = await related.managedWhere({ id: { $in: ids } });
        const byId = new Map(targets.map((target) => [target.id, target]));
        copies.forEach((copy, index) => {
          const target = byId.get((rows[index] as unknown as Row)[relation.field] as string);
          (copy as unknown as Row)[name] = target === undefined ? undefined : copyEntity(relation.entity, target);
        });
      } else {
        const children = await related.managedWhere({ [relation.field]: { $in: rows.map((row) => row.id) } }, [
          { createdAt: 'asc' },
          { id: 'asc' },
        ]);
        copies.forEach((copy) => {
          (copy as unknown as Row)[name] = children
            .filter((child) => (child as unknown as Row)[relation.field] === copy.id)
            .map((child) => copyEntity(relation.entity, child));
        });
      }
    }
    return copies;
  }

  /** Managed rows of the tenant matching `condition`. */
  protected async managedWhere(condition: Row, orderBy?: QueryOrderMap<object>[]): Promise<EntityTypes[N][]> {
    const where = this.where(condition);
    if (where === null) return [];
    return this.rows(where, orderBy === undefined ? {} : { orderBy });
  }

  find(id: string, options?: GetOptions): Promise<EntityTypes[N] | null> {
    return this.guard(async () => {
      const include = parseInclude(this.entity, options?.include);
      const fast = this.unit.fastReads;
      const row =
        fast === undefined ? await this.managed(id) : await fast.find(this.em, this.entity, this.tenantId, id);
      if (row === null) return null;
      const [copy] = await this.output([row], include, fast !== undefined);
      return copy ?? null;
    });
  }

  async get(id: string, options?: GetOptions): Promise<EntityTypes[N]> {
    const found = await this.find(id, options);
    if (found === null) throw this.notFound();
    return found;
  }

  list(query: ListQuery): Promise<Page<EntityTypes[N]>> {
    return this.guard(async () => {
      assertListQuery(this.entity, query);
      const filters = parseFilters(this.entity, query.filters as Record<string, unknown>);
      const page = { skip: query.skip, limit: query.limit };
      const fast = this.unit.fastReads;
      if (fast !== undefined) {
        const { rows, total } = await fast.list(this.em, this.entity, this.tenantId, query, filters);
        return { items: await this.output(rows, query.include, true), total, ...page };
      }
      const where = this.where(filterCondition(filters));
      if (where === null) return { items: [], total: 0, ...page };
      // PostgreSQL puts NULLs last ascending and first descending, as the in-memory store does;
      // the id breaks ties so that pages never overlap.
      const orderBy = [{ [query.sortBy]: query.sortOrder }, { id: query.sortOrder }] as QueryOrderMap<object>[];
      // Page and count are independent: outside a transaction they go out on two connections at once.
      const [rows, total] = await Promise.all([
        this.rows(where, { orderBy, limit: query.limit, offset: query.skip }),
        this.em.count(this.entityClass, where),
      ]);
      return { items: await this.output(rows, query.include), total, ...page };
    });
  }

  count(filters?: Filters): Promise<number> {
    return this.guard(async () => {
      const parsed = parseFilters(this.entity, filters as Record<string, unknown> | undefined);
      const fast = this.unit.fastReads;
      if (fast !== undefined) return fast.count(this.em, this.entity, this.tenantId, parsed);
      const where = this.where(filterCondition(parsed));
      return where === null ? 0 : this.em.count(this.entityClass, where);
    });
  }

  /** Every foreign key of a written row must point to a row of the unit's tenant. */
  protected async checkReferences(row: Row): Promise<void> {
    for (const fk of MODEL[this.entity].foreignKeys) {
      const value = row[fk.field];
      if (value === null || value === undefined) continue;
      const where = isUuid(value) ? scoped(fk.references, this.tenantId, { id: value.toLowerCase() }) : null;
      if (where === null || (await this.em.count(ENTITY_CLASSES[fk.references], where)) === 0) {
        throw new NotFoundError(ENTITY_LABELS[fk.references], { field: fk.field });
      }
    }
  }

  add(entity: EntityTypes[N]): Promise<void> {
    return this.guard(async () => {
      if (isTenantRow(this.entity)) {
        if (entity.id !== this.tenantId) throw this.notFound();
      } else {
        await this.checkReferences(entity as unknown as Row);
      }
      await this.unit.beforeWrite();
      this.em.persist(copyEntity(this.entity, entity));
    });
  }

  update(entity: EntityTypes[N]): Promise<void> {
    return this.guard(async () => {
      // The query first writes what the unit changed before, and reloads the row, so
      // `current.version` is the stored one even when another unit committed a change since this
      // unit read it. (Merged into the held row instead, a change equal to the caller's would
      // leave nothing to write, and the write would pass unchecked: two winners of one race.)
      const current = await this.managed(entity.id, true);
      if (current === null) throw this.notFound();
      await this.checkReferences(entity as unknown as Row);
      if (current.version !== entity.version) throw ConflictError.stale(ENTITY_LABELS[this.entity]);
      await this.unit.beforeWrite();
      const before = this.em.getUnitOfWork().getOriginalEntityData(current) ?? {};
      assignFields(this.entity, current, entity);
      const comparator = this.em.getComparator();
      const changes = comparator.diffEntities(this.entityClass.name, before, comparator.prepareEntity(current));
      // The flush writes `version = version + 1 where version = <read>`; the caller's copy follows.
      if (Object.keys(changes).length > 0) entity.version = current.version + 1;
    });
  }

  remove(id: string): Promise<void> {
    return this.guard(async () => {
      const current = await this.managed(id);
      if (current === null) throw this.notFound();
      await this.unit.beforeWrite();
      // The database applies the model's ON DELETE rules to the rows that reference it.
      this.em.remove(current);
    });
  }
}
