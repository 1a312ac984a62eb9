import { EntitySchema, type EntitySchemaMetadata } from '@mikro-orm/core';
import {
  AuditEvent,
  Build,
  Deployment,
  type EntityName,
  type EntityTypes,
  MODEL,
  OAuthAccount,
  OutboxMessage,
  Project,
  RefreshToken,
  Service,
  snakeCase,
  TENANT_ISOLATION,
  Team,
  TeamMember,
  Tenant,
  User,
} from '@shipyard/core';
import { foreignKeyConstraintName, uniqueConstraintName } from './constraint-names.js';
import { TABLES } from './table-names.js';

/** The core's entity class of each entity name. */
export const ENTITY_CLASSES: { readonly [N in EntityName]: new () => EntityTypes[N] } = {
  tenant: Tenant,
  user: User,
  oauthAccount: OAuthAccount,
  team: Team,
  teamMember: TeamMember,
  project: Project,
  service: Service,
  build: Build,
  deployment: Deployment,
  refreshToken: RefreshToken,
  outboxMessage: OutboxMessage,
  auditEvent: AuditEvent,
};

/** A column mapping, as `EntitySchema` takes it. */
export type Column = Record<string, unknown>;

/** The adapter's own property holding a chain row's tenant id (no field of the core's entity). */
export const ROW_TENANT = 'rowTenantId';

/** The mapped (persisted) property names of each entity, filled as the schemas are defined. */
export const MAPPED_FIELDS = new Map<EntityName, readonly string[]>();

export const TIMESTAMPTZ = { type: 'datetime', columnType: 'timestamptz' } as const;

export interface SchemaSpec<N extends EntityName> {
  entity: N;
  /** Columns other than the base ones (id, timestamps, version) and the foreign keys of MODEL. */
  columns: { [K in keyof EntityTypes[N] & string]?: Column };
  /** Indexes that serve the list queries and the foreign keys' lookups. */
  indexes?: ({ name: string; properties: string[] } | { name: string; expression: string })[];
  /** Unique keys of MODEL that need an expression (e.g. `lower(email)`), by unique name. */
  uniqueExpressions?: Record<string, (constraint: string, table: string) => string>;
}

/**
 * Maps a core entity class to its table. Base columns, foreign keys (with their ON DELETE rule)
 * and unique keys come from the core's MODEL, so the database keeps exactly the shape the
 * in-memory store enforces. Foreign keys stay scalar ids on the entity (`mapToPk`).
 */
export function defineSchema<N extends EntityName>(spec: SchemaSpec<N>): EntitySchema<EntityTypes[N]> {
  const model = MODEL[spec.entity];
  const properties: Record<string, Column> = { id: { type: 'uuid', primary: true } };
  for (const fk of model.foreignKeys) {
    const nullable = fk.onDelete === 'set null';
    properties[fk.field] = {
      kind: 'm:1',
      entity: () => ENTITY_CLASSES[fk.references],
      mapToPk: true,
      fieldName: snakeCase(fk.field),
      deleteRule: fk.onDelete,
      updateRule: 'no action',
      foreignKeyName: foreignKeyConstraintName(spec.entity, fk.field),
      nullable,
    };
  }
  Object.assign(properties, spec.columns, {
    createdAt: { ...TIMESTAMPTZ },
    updatedAt: { ...TIMESTAMPTZ },
    version: { type: 'integer', version: true },
  });
  const uniques = model.uniques.map((unique) => {
    const name = uniqueConstraintName(spec.entity, unique.name);
    const expression = spec.uniqueExpressions?.[unique.name];
    return expression === undefined
      ? { name, properties: [...unique.fields] }
      : { name, expression: expression(name, TABLES[spec.entity]) };
  });
  MAPPED_FIELDS.set(spec.entity, Object.keys(properties));
  if (TENANT_ISOLATION[spec.entity].path.length > 0) {
    // The row's tenant, denormalised for row-level security (see the migration
    // `Migration20261202180000_row_level_security`): written by the column's default from the
    // connection's tenant, never read nor written by the ORM (lazy, and not a field of the core's
    // entity, so not in MAPPED_FIELDS).
    properties[ROW_TENANT] = {
      type: 'uuid',
      fieldName: 'tenant_id',
      defaultRaw: 'shipyard_current_tenant()',
      lazy: true,
    };
  }
  const metadata = {
    class: ENTITY_CLASSES[spec.entity],
    tableName: TABLES[spec.entity],
    properties,
    uniques,
    indexes: spec.indexes ?? [],
  };
  return new EntitySchema(metadata as unknown as EntitySchemaMetadata<EntityTypes[N]>);
}
