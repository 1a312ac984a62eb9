import { changedFields, snapshot } from '../domain/audit-redaction.js';
import { type Principal, requireRole } from '../domain/role.js';
import type { Tenant } from '../domain/tenant.entity.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';

export class GetTenant {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal): Promise<Tenant> {
    return this.deps.uow.run(actor.tenantId, (repos) => repos.tenants.get(actor.tenantId));
  }
}

/** Renames the tenant or changes its slug; owners only. */
export class UpdateTenant {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, changes: { name?: string; slug?: string }): Promise<Tenant> {
    requireRole(actor, 'owner');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const tenant = await repos.tenants.get(actor.tenantId);
      const before = snapshot(tenant);
      tenant.update(changes, this.deps.clock.now());
      await repos.tenants.update(tenant);
      await recordAudit(this.deps, repos, actor, {
        action: 'tenant.update',
        target: { type: 'tenant', id: tenant.id },
        summary: { changed: changedFields(before, tenant, ['name', 'slug']) },
      });
      return tenant;
    });
  }
}
