import { createHash } from 'node:crypto';
import type { EntityManager, EntityMetadata } from '@mikro-orm/core';
import { type EntityName, type EntityTypes, isUuid, type ListQuery, TENANT_ISOLATION } from '@shipyard/core';
import { ENTITY_CLASSES } from './schemas/define-schema.js';
import { ormTenantScoping } from './tenant-scope.js';

type Row = Record<string, unknown>;

/** What a pg connection from the pool answers (the part used here). */
interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
}

/** The SQL pieces of one entity, computed once from the ORM's metadata and TENANT_ISOLATION. */
interface EntitySql {
  /** `select "t"."id", … from "builds" as "t" join … ` */
  from: string;
  /** `select count(*)::int as "count" from … ` */
  countFrom: string;
  /** The condition on the tenant id, always `$1`. */
  tenantCondition: string;
  /** Column (quoted, with alias) of each scalar or foreign-key property. */
  columns: ReadonlyMap<string, string>;
  /** How a selected row becomes an entity: property, column, and the mapped type's conversion. */
  fields: readonly { property: string; column: string; convert?: (value: unknown) => unknown }[];
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/**
 * Reads of a unit of work that has written nothing yet, on PostgreSQL: the tenant-scoped lookup
 * by id, the page and the count of a list, as parameterised SQL sent as named prepared
 * statements (parsed once per pooled connection, planned with bound values), and converted by
 * the ORM's mapped types, as on the ORM's path. The SQL is the
 * same the ORM writes for the same request: explicit columns, the tenant's join chain from
 * TENANT_ISOLATION, `=` for one value and `= any(…)` for several. A unit that has begun writing
 * reads through the ORM instead, which first writes its pending changes. A tenant id that is not
 * a UUID matches nothing, as on the ORM's path.
 */
export class FastReads {
  private readonly sql = new Map<EntityName, EntitySql>();
  /** The statement name of each SQL text (a fixed set: one per entity, filter columns and order). */
  private readonly names = new Map<string, string>();

  constructor(private readonly knex: () => { client: unknown }) {}

  private entitySql(em: EntityManager, entity: EntityName): EntitySql {
    let found = this.sql.get(entity);
    if (found !== undefined) return found;
    const metadata = em.getMetadata();
    const meta = metadata.get(ENTITY_CLASSES[entity].name) as EntityMetadata;
    const columns = new Map<string, string>();
    const fields: EntitySql['fields'][number][] = [];
    const platform = em.getPlatform();
    for (const prop of meta.props) {
      if (prop.persist === false || prop.fieldNames === undefined || prop.fieldNames.length !== 1) continue;
      if (prop.kind !== 'scalar' && prop.kind !== 'm:1') continue;
      // The denormalised tenant of a chain row: for row-level security, not a field of the entity.
      if (prop.lazy === true) continue;
      const column = prop.fieldNames[0] as string;
      columns.set(prop.name, `"t".${quote(column)}`);
      // As the ORM's hydrator: the mapped type's conversion, else dates parsed (the driver hands
      // timestamps over as text), else the value as it comes.
      const type = prop.customType;
      const convert =
        type !== undefined
          ? (value: unknown) => type.convertToJSValue(value, platform)
          : prop.runtimeType === 'Date'
            ? (value: unknown) => (value instanceof Date ? value : (platform.parseDate(value as string) as Date))
            : prop.runtimeType === 'boolean'
              ? (value: unknown) => Boolean(value)
              : undefined;
      fields.push({ property: prop.name, column, ...(convert === undefined ? {} : { convert }) });
    }
    const rule = TENANT_ISOLATION[entity];
    let joins = '';
    let alias = 't';
    let current: EntityMetadata = meta;
    rule.path.forEach((hop, index) => {
      const fk = current.properties[hop.field as keyof object] as { fieldNames: string[] } | undefined;
      const target = metadata.get(ENTITY_CLASSES[hop.entity].name) as EntityMetadata;
      if (fk === undefined) throw new Error(`${entity}: no foreign key ${hop.field}`);
      const next = `h${index + 1}`;
      joins += ` join ${quote(target.tableName)} as "${next}" on "${next}"."id" = "${alias}".${quote(fk.fieldNames[0] as string)}`;
      alias = next;
      current = target;
    });
    const tenantProp = current.properties[rule.tenantField as keyof object] as { fieldNames: string[] } | undefined;
    if (tenantProp === undefined) throw new Error(`${entity}: no tenant field ${rule.tenantField}`);
    const table = `${quote(meta.tableName)} as "t"${joins}`;
    found = {
      from: `select ${[...columns.values()].join(', ')} from ${table}`,
      countFrom: `select count(*)::int as "count" from ${table}`,
      // Without the ORM's tenant scoping (a test-only switch), `$1` is still bound but only typed.
      tenantCondition: ormTenantScoping
        ? `"${alias}".${quote(tenantProp.fieldNames[0] as string)} = $1`
        : `$1::uuid is not null`,
      columns,
      fields,
    };
    this.sql.set(entity, found);
    return found;
  }

  /** Runs `text` as a named prepared statement on a pooled connection. */
  private async query(text: string, values: unknown[]): Promise<Row[]> {
    const client = this.knex().client as {
      acquireConnection(): Promise<PgConnection>;
      releaseConnection(connection: PgConnection): Promise<void>;
    };
    const connection = await client.acquireConnection();
    try {
      let name = this.names.get(text);
      if (name === undefined) {
        name = `sy_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
        this.names.set(text, name);
      }
      return (await connection.query({ name, text, values })).rows;
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /**
   * Rows as instances of the core's class, converted by each property's mapped type (what the
   * ORM's hydrator does), outside the unit's identity map: a later update reloads its row anyway.
   */
  private hydrate<N extends EntityName>(em: EntityManager, entity: N, rows: Row[]): EntityTypes[N][] {
    const { fields } = this.entitySql(em, entity);
    const Class = ENTITY_CLASSES[entity];
    return rows.map((row) => {
      const instance = new Class() as unknown as Row;
      for (const { property, column, convert } of fields) {
        const value = row[column];
        instance[property] = convert === undefined || value === null || value === undefined ? value : convert(value);
      }
      return instance as unknown as EntityTypes[N];
    });
  }

  /** The row `id` of the tenant (not held by the unit's identity map), or null. */
  async find<N extends EntityName>(
    em: EntityManager,
    entity: N,
    tenantId: string,
    id: string,
  ): Promise<EntityTypes[N] | null> {
    if (!isUuid(tenantId) || !isUuid(id)) return null;
    const sql = this.entitySql(em, entity);
    const rows = await this.query(`${sql.from} where "t"."id" = $2 and ${sql.tenantCondition} limit 1`, [
      tenantId.toLowerCase(),
      id.toLowerCase(),
    ]);
    return this.hydrate(em, entity, rows)[0] ?? null;
  }

  /** The conditions of `filters` (property → values), numbered from `$2`. */
  private filterSql(sql: EntitySql, filters: Readonly<Record<string, readonly unknown[]>>, values: unknown[]): string {
    let where = sql.tenantCondition;
    for (const [property, list] of Object.entries(filters)) {
      const column = sql.columns.get(property);
      if (column === undefined) throw new Error(`no column for ${property}`);
      if (list.length === 1) {
        values.push(list[0]);
        where += ` and ${column} = $${values.length}`;
      } else {
        values.push([...list]);
        where += ` and ${column} = any($${values.length})`;
      }
    }
    return where;
  }

  /** One page of the tenant's rows matching `filters`, and their count, at once. */
  async list<N extends EntityName>(
    em: EntityManager,
    entity: N,
    tenantId: string,
    query: ListQuery,
    filters: Readonly<Record<string, readonly unknown[]>>,
  ): Promise<{ rows: EntityTypes[N][]; total: number }> {
    if (!isUuid(tenantId)) return { rows: [], total: 0 };
    const sql = this.entitySql(em, entity);
    const values: unknown[] = [tenantId.toLowerCase()];
    const where = this.filterSql(sql, filters, values);
    const sortColumn = sql.columns.get(query.sortBy);
    if (sortColumn === undefined) throw new Error(`no column for ${query.sortBy}`);
    const direction = query.sortOrder === 'desc' ? 'desc' : 'asc';
    const n = values.length;
    const [rows, count] = await Promise.all([
      this.query(
        `${sql.from} where ${where} order by ${sortColumn} ${direction}, "t"."id" ${direction} limit $${n + 1} offset $${n + 2}`,
        [...values, query.limit, query.skip],
      ),
      this.query(`${sql.countFrom} where ${where}`, values),
    ]);
    return { rows: this.hydrate(em, entity, rows), total: (count[0]?.count as number | undefined) ?? 0 };
  }

  /** How many of the tenant's rows match `filters`. */
  async count(
    em: EntityManager,
    entity: EntityName,
    tenantId: string,
    filters: Readonly<Record<string, readonly unknown[]>>,
  ): Promise<number> {
    if (!isUuid(tenantId)) return 0;
    const sql = this.entitySql(em, entity);
    const values: unknown[] = [tenantId.toLowerCase()];
    const rows = await this.query(`${sql.countFrom} where ${this.filterSql(sql, filters, values)}`, values);
    return (rows[0]?.count as number | undefined) ?? 0;
  }
}
