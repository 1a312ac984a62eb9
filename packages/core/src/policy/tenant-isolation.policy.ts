import type { EntityName } from '../domain/model.js';

/** One step from a row to the row it belongs to: a foreign key of the model (`MODEL`). */
export interface ScopeHop {
  /** The foreign-key property on the current row (`projectId`). */
  field: string;
  /** The entity the foreign key points to. */
  entity: EntityName;
}

export interface TenantScopeRule {
  /** Hops from the entity to the row that carries the tenant (empty when the row carries it). */
  path: readonly ScopeHop[];
  /**
   * The property of the last row that holds the tenant id: `tenantId`, or `id` for the tenant
   * itself, whose own row is its scope (a new tenant row may be added only by a unit of its id).
   */
  tenantField: 'tenantId' | 'id';
}

const hop = (field: string, entity: EntityName): ScopeHop => ({ field, entity });

/**
 * The tenant-isolation policy: for each entity, how a row is tied to its tenant. Every repository,
 * in memory or in the database, derives its scoping from this one table, for reads, counts,
 * updates and deletes alike. A row outside the unit's tenant behaves as if it did not exist.
 */
export const TENANT_ISOLATION: Readonly<Record<EntityName, TenantScopeRule>> = {
  tenant: { path: [], tenantField: 'id' },
  user: { path: [], tenantField: 'tenantId' },
  project: { path: [], tenantField: 'tenantId' },
  refreshToken: { path: [], tenantField: 'tenantId' },
  outboxMessage: { path: [], tenantField: 'tenantId' },
  auditEvent: { path: [], tenantField: 'tenantId' },
  oauthAccount: { path: [hop('userId', 'user')], tenantField: 'tenantId' },
  team: { path: [hop('ownerId', 'user')], tenantField: 'tenantId' },
  teamMember: { path: [hop('teamId', 'team'), hop('ownerId', 'user')], tenantField: 'tenantId' },
  service: { path: [hop('projectId', 'project')], tenantField: 'tenantId' },
  build: { path: [hop('serviceId', 'service'), hop('projectId', 'project')], tenantField: 'tenantId' },
  deployment: { path: [hop('serviceId', 'service'), hop('projectId', 'project')], tenantField: 'tenantId' },
};

/** Whether the entity is the tenant itself (its row is scoped by its own id). */
export const isTenantRow = (entity: EntityName): boolean => TENANT_ISOLATION[entity].tenantField === 'id';
