import type { EntityName } from '../domain/model.js';

/** One step from a row to the row it belongs to. */
export interface ScopeHop {
  /** The foreign-key property on the current row (`projectId`). */
  field: string;
  /** The relation's name, for adapters that navigate relations (`project`). */
  relation: string;
  /** The entity the foreign key points to. */
  entity: EntityName;
}

export type IsolationStrategy = 'tenant' | 'direct' | 'owner' | 'chain';

export interface TenantScopeRule {
  strategy: IsolationStrategy;
  /** Hops from the entity to the row that carries the tenant (empty for tenant and direct). */
  path: readonly ScopeHop[];
  /** The property of the last row that holds the tenant id (`id` for the tenant itself). */
  tenantField: 'tenantId' | 'id';
}

const hop = (field: string, entity: EntityName): ScopeHop => ({
  field,
  relation: field.replace(/Id$/, ''),
  entity,
});

/**
 * The tenant-isolation policy: for each entity, how a row is tied to its tenant. Every repository,
 * in memory or in the database, derives its scoping from this one table, for reads, counts,
 * updates and deletes alike. A row outside the caller's tenant behaves as if it did not exist.
 */
export const TENANT_ISOLATION: Readonly<Record<EntityName, TenantScopeRule>> = {
  tenant: { strategy: 'tenant', path: [], tenantField: 'id' },
  user: { strategy: 'direct', path: [], tenantField: 'tenantId' },
  project: { strategy: 'direct', path: [], tenantField: 'tenantId' },
  refreshToken: { strategy: 'direct', path: [], tenantField: 'tenantId' },
  outboxMessage: { strategy: 'direct', path: [], tenantField: 'tenantId' },
  oauthAccount: { strategy: 'owner', path: [hop('userId', 'user')], tenantField: 'tenantId' },
  team: { strategy: 'owner', path: [hop('ownerId', 'user')], tenantField: 'tenantId' },
  teamMember: {
    strategy: 'chain',
    path: [hop('teamId', 'team'), hop('ownerId', 'user')],
    tenantField: 'tenantId',
  },
  service: { strategy: 'chain', path: [hop('projectId', 'project')], tenantField: 'tenantId' },
  build: {
    strategy: 'chain',
    path: [hop('serviceId', 'service'), hop('projectId', 'project')],
    tenantField: 'tenantId',
  },
  deployment: {
    strategy: 'chain',
    path: [hop('serviceId', 'service'), hop('projectId', 'project')],
    tenantField: 'tenantId',
  },
};

/**
 * The property path from an entity to its tenant id, as relation names
 * (`build` → `['service', 'project', 'tenantId']`); adapters turn it into joins or nested where.
 */
export function tenantPropertyPath(entity: EntityName): string[] {
  const rule = TENANT_ISOLATION[entity];
  return [...rule.path.map((h) => h.relation), rule.tenantField];
}
