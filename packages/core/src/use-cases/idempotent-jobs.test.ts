import test from 'ava';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime, TestHarness } from '../testing/index.js';

const DAY = 86_400_000;

async function setup(options: { autoDeploy?: boolean; buildRunner?: SimulatedBuildRunner } = {}) {
  const harness = new TestHarness(options.buildRunner ? { buildRunner: options.buildRunner } : {});
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    autoDeploy: options.autoDeploy ?? true,
  });
  return { harness, uc, owner, service };
}

const notificationsAbout = (harness: TestHarness, subjectId: string) =>
  [...harness.db.table('outboxMessage').values()].filter(
    (row) => row.name === 'notification.send' && (row.payload as { subject_id?: string }).subject_id === subjectId,
  );

test('a build job delivered twice runs the build once', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  const payload = { tenant_id: owner.tenantId, build_id: build.id };

  t.is(await harness.handlers.run('build.run', payload), 'succeeded');
  const afterFirst = await uc.getBuild.execute(owner, build.id);
  t.is(await harness.handlers.run('build.run', payload), 'skipped');
  const afterSecond = await uc.getBuild.execute(owner, build.id);

  t.is(harness.buildRunner.calls.length, 1);
  t.is(afterSecond.logs, afterFirst.logs, 'the logs are not duplicated');
  t.is(afterSecond.attempt, 1);
  t.is(afterSecond.version, afterFirst.version, 'the second delivery wrote nothing');
  t.is((await uc.listDeployments.execute(owner, service.id)).total, 1, 'one deployment was created');
  t.is(notificationsAbout(harness, build.id).length, 1);
});

test('running the build use case twice with one payload does the work once', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  const payload = { tenant_id: owner.tenantId, build_id: build.id };
  await uc.runBuild.execute(payload);
  await uc.runBuild.execute(payload);
  await harness.drain(); // the original job is delivered a third time, and deployments run
  t.is(harness.buildRunner.calls.length, 1);
  t.is((await uc.listDeployments.execute(owner, service.id)).total, 1);
  t.is(harness.runtime.calls.length, 1);
});

test('two concurrent deliveries of one build job run the runner once', async (t) => {
  const buildRunner = new SimulatedBuildRunner({ durationMs: 20 });
  const { harness, uc, owner, service } = await setup({ buildRunner });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const payload = { tenant_id: owner.tenantId, build_id: build.id };
  const results = await Promise.all([
    harness.handlers.run('build.run', payload),
    harness.handlers.run('build.run', payload),
  ]);
  t.deepEqual([...results].sort(), ['skipped', 'succeeded']);
  t.is(buildRunner.calls.length, 1);
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'succeeded');
  t.is(done.attempt, 1);
  t.is((await uc.listDeployments.execute(owner, service.id)).total, 1);
});

test('a queue giving up on a build that has attempts left leaves it to the reconciler, not failed', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  const payload = { tenant_id: owner.tenantId, build_id: build.id };
  await harness.handlers.giveUp('build.run', payload, 'database unreachable');
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'queued');
  t.is(await harness.handlers.run('build.run', payload), 'succeeded');
});

test('a build job delivered after its build was given up does nothing', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  const payload = { tenant_id: owner.tenantId, build_id: build.id };
  // Every attempt's worker died mid-build: the row counted them.
  await harness.uow.run(owner.tenantId, async (repos) => {
    const row = await repos.builds.get(build.id);
    for (let i = 0; i < harness.deps.settings.maxJobAttempts; i += 1) row.start(harness.clock.now());
    await repos.builds.update(row);
  });
  await harness.handlers.giveUp('build.run', payload, 'worker lost');
  await harness.handlers.giveUp('build.run', payload, 'worker lost again');
  t.is(await harness.handlers.run('build.run', payload), 'skipped');
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'failed');
  t.regex(done.error ?? '', /worker lost$/);
  t.is(harness.buildRunner.calls.length, 0);
  t.is(notificationsAbout(harness, build.id).length, 1, 'a second giveUp announces nothing more');
});

test('a deployment job delivered twice deploys once', async (t) => {
  const { harness, uc, owner, service } = await setup({ autoDeploy: false });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployment = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  const payload = { tenant_id: owner.tenantId, deployment_id: deployment.id };

  t.is(await harness.handlers.run('deployment.run', payload), 'live');
  const afterFirst = await uc.getDeployment.execute(owner, deployment.id);
  t.is(await harness.handlers.run('deployment.run', payload), 'skipped');
  await harness.drain();
  const afterAll = await uc.getDeployment.execute(owner, deployment.id);

  t.is(harness.runtime.calls.length, 1);
  t.is(afterAll.status, 'live');
  t.is(afterAll.url, afterFirst.url);
  t.is(afterAll.version, afterFirst.version);
  t.is(notificationsAbout(harness, deployment.id).length, 1);
});

test('two concurrent deliveries of one deployment job deploy once', async (t) => {
  const runtime = new SimulatedDeploymentRuntime({ durationMs: 20 });
  const harness = new TestHarness({ runtime });
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/w' });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployment = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  const payload = { tenant_id: owner.tenantId, deployment_id: deployment.id };
  const results = await Promise.all([
    harness.handlers.run('deployment.run', payload),
    harness.handlers.run('deployment.run', payload),
  ]);
  t.deepEqual([...results].sort(), ['live', 'skipped']);
  t.is(runtime.calls.length, 1);
});

test('a deployment given up after it went live stays live', async (t) => {
  const { harness, uc, owner, service } = await setup();
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployment = (await uc.listDeployments.execute(owner, service.id)).items[0];
  await harness.handlers.giveUp('deployment.run', { tenant_id: owner.tenantId, deployment_id: deployment?.id }, 'x');
  t.is((await uc.getDeployment.execute(owner, deployment?.id ?? '')).status, 'live');
});

test('a cleanup job run twice deletes nothing the second time', async (t) => {
  const harness = new TestHarness({ settings: { keepLatestBuilds: 1 } });
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/w' });
  for (let i = 0; i < 4; i += 1) {
    await uc.triggerBuild.execute(owner, service.id);
    await harness.drain();
    harness.clock.advance(60_000);
  }
  harness.clock.advance(60 * DAY);
  const payload = { tenant_id: owner.tenantId };
  const first = await uc.runCleanup.execute(payload);
  const second = await uc.runCleanup.execute(payload);
  t.is(first.buildsDeleted, 3);
  t.true(first.outboxMessagesDeleted > 0);
  t.deepEqual(second, { buildsDeleted: 0, outboxMessagesDeleted: 0, artifactsDiscarded: 0, auditEventsDeleted: 0 });
  t.is(harness.db.table('build').size, 1);
});
