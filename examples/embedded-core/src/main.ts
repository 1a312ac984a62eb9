/**
 * The core embedded in a plain Node script: no HTTP, no database server. It registers a
 * tenant, creates a project and a service, triggers a build and runs the jobs in process.
 * Swap the in-memory adapters for your own implementations of the ports to embed it for real.
 */
import { createTestHarness } from '@shipyard/core/testing';

export async function run(): Promise<{ build: string; deployment: string; url: string | null }> {
  const core = createTestHarness();
  const { principal } = await core.signUp({ tenantName: 'Acme', email: 'ada@example.com' });
  const project = await core.useCases.createProject.execute(principal, { name: 'web' });
  const service = await core.useCases.createService.execute(principal, project.id, {
    name: 'api',
    repoUrl: 'https://github.com/acme/api.git',
    autoDeploy: true,
  });
  await core.useCases.setServiceEnv.execute(principal, service.id, { DATABASE_URL: 'postgres://db/api' });
  const build = await core.useCases.triggerBuild.execute(principal, service.id, {});
  await core.drain(); // what a worker does: relay the outbox, run the build and deployment jobs
  const finished = await core.useCases.getBuild.execute(principal, build.id);
  const deployments = await core.useCases.listDeployments.execute(principal, service.id);
  const live = deployments.items[0];
  return { build: finished.status, deployment: live?.status ?? 'none', url: live?.url ?? null };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((result) => console.log(result));
}
