import test from 'ava';
import { SimulatedBuildRunner } from '../in-process/simulated-build-runner.js';
import { SimulatedDeploymentRuntime } from '../in-process/simulated-deployment-runtime.js';
import { TestHarness } from '../testing/harness.js';

test('builds and deployments of one service run side by side; none is left behind', async (t) => {
  const harness = new TestHarness({
    buildRunner: new SimulatedBuildRunner({ durationMs: 5 }),
    runtime: new SimulatedDeploymentRuntime({ durationMs: 5 }),
  });
  const { principal } = await harness.signUp();
  const project = await harness.useCases.createProject.execute(principal, { name: 'web' });
  const service = await harness.useCases.createService.execute(principal, project.id, {
    name: 'api',
    repoUrl: 'https://git.example.test/acme/api.git',
    autoDeploy: true,
  });
  const builds = await Promise.all(
    Array.from({ length: 6 }, () => harness.useCases.triggerBuild.execute(principal, service.id)),
  );
  // Like several workers: every job of a wave at once.
  for (;;) {
    await harness.useCases.relayOutbox.execute({ batchSize: 1000 });
    const jobs = harness.jobs.take();
    if (jobs.length === 0) break;
    await Promise.all(jobs.map((job) => harness.handlers.run(job.name, job.payload)));
  }
  for (const build of builds) {
    t.is((await harness.useCases.getBuild.execute(principal, build.id)).status, 'succeeded');
  }
  t.is(harness.buildRunner.calls.length, 6, 'each build ran once');
  const deployments = await harness.useCases.listDeployments.execute(principal, service.id);
  t.is(deployments.total, 6);
  t.is(deployments.items.filter((d) => d.status === 'live').length, 1, 'exactly one deployment is live');
  t.is(deployments.items.filter((d) => d.status === 'superseded').length, 5);
  t.is((await harness.useCases.getService.execute(principal, service.id)).status, 'live');
});
