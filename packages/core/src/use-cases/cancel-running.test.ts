import test from 'ava';
import { SimulatedBuildRunner } from '../in-process/simulated-build-runner.js';
import { TestHarness } from '../testing/harness.js';

test('cancelling a running build stops its runner, and the build stays cancelled', async (t) => {
  // Ten minutes: the test ends in time only if cancelling aborts the runner.
  const runner = new SimulatedBuildRunner({ durationMs: 600_000 });
  const harness = new TestHarness({ buildRunner: runner, settings: { cancelCheckIntervalMs: 20 } });
  const { principal } = await harness.signUp();
  const project = await harness.useCases.createProject.execute(principal, { name: 'web' });
  const service = await harness.useCases.createService.execute(principal, project.id, {
    name: 'api',
    repoUrl: 'https://git.example.test/acme/api.git',
  });
  const build = await harness.useCases.triggerBuild.execute(principal, service.id);
  await harness.useCases.relayOutbox.execute();
  const [job] = harness.jobs.take();
  const running = harness.useCases.runBuild.execute(job?.payload as { tenant_id: string; build_id: string });
  while ((await harness.useCases.getBuild.execute(principal, build.id)).status !== 'running') {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await harness.useCases.cancelBuild.execute(principal, build.id);
  t.is(await running, 'skipped', 'the job ends without writing a result over the cancellation');
  const after = await harness.useCases.getBuild.execute(principal, build.id);
  t.is(after.status, 'cancelled');
  t.not(after.finishedAt, null);
  t.is((await harness.useCases.getService.execute(principal, service.id)).status, 'idle');
});
