import type { Principal, UseCases } from '@shipyard/core';

/**
 * An example of code another project writes on top of the core: it counts a tenant's
 * successful builds to bill them. Its tests (billing.test.ts) run against the in-memory harness.
 */
export async function billableBuilds(useCases: UseCases, actor: Principal): Promise<number> {
  let total = 0;
  const projects = await useCases.listProjects.execute(actor, { limit: 1000 });
  for (const project of projects.items) {
    const services = await useCases.listServices.execute(actor, project.id, { limit: 1000 });
    for (const service of services.items) {
      const builds = await useCases.listBuilds.execute(actor, service.id, { filters: { status: 'succeeded' } });
      total += builds.total;
    }
  }
  return total;
}
