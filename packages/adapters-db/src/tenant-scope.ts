import type { FilterQuery } from '@mikro-orm/core';
import { type EntityName, isUuid, TENANT_ISOLATION } from '@shipyard/core';

type Where = Record<string, unknown>;

/**
 * Test-only: `SHIPYARD_TEST_ONLY_ORM_TENANT_SCOPE=off` drops the tenant condition from every
 * repository query (the ORM's and the fast path's), leaving row-level security as the only wall,
 * so that a test can show that wall holds alone. Refused in production.
 */
export const ormTenantScoping = (() => {
  if (process.env.SHIPYARD_TEST_ONLY_ORM_TENANT_SCOPE !== 'off') return true;
  if (process.env.NODE_ENV === 'production') {
    throw new Error('SHIPYARD_TEST_ONLY_ORM_TENANT_SCOPE=off is for tests only, never with NODE_ENV=production');
  }
  return false;
})();

/**
 * The condition that keeps a query inside one tenant, derived from the core's TENANT_ISOLATION:
 * a nested where along the policy's path (`build` → `{ serviceId: { projectId: { tenantId } } }`),
 * which MikroORM turns into inner joins. Every foreign key of the core's MODEL is mapped as a
 * relation under its own name (`defineSchema`), and every hop of the policy is such a foreign key
 * (the policy's test in the core), so each hop's `field` is the property to follow. Null when the
 * tenant id cannot match any row.
 */
export function tenantScope(entity: EntityName, tenantId: string): Where | null {
  if (!isUuid(tenantId)) return null;
  if (!ormTenantScoping) return {};
  const rule = TENANT_ISOLATION[entity];
  let where: Where = { [rule.tenantField]: tenantId.toLowerCase() };
  for (const hop of [...rule.path].reverse()) where = { [hop.field]: where };
  return where;
}

/** `condition` inside the tenant, or null when the tenant id cannot match any row. */
export function scoped(entity: EntityName, tenantId: string, condition: Where): FilterQuery<object> | null {
  const scope = tenantScope(entity, tenantId);
  // `$and` keeps a primary-key condition from being answered by the identity map alone.
  return scope === null ? null : { $and: [condition, scope] };
}
