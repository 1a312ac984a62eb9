import test from 'ava';
import { ValidationError } from '../domain/app.errors.js';
import { type DrainReport, SimulatedBuildRunner, SimulatedDeploymentRuntime, TestHarness } from '../testing/index.js';
import type { CoreSettings } from '../use-cases/core-settings.js';

interface Options {
  buildRunner?: SimulatedBuildRunner;
  runtime?: SimulatedDeploymentRuntime;
  settings?: Partial<CoreSettings>;
  autoDeploy?: boolean;
  buildCommand?: string;
}

async function setup(options: Options = {}) {
  const harness = new TestHarness({
    ...(options.buildRunner ? { buildRunner: options.buildRunner } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    buildCommand: options.buildCommand ?? 'npm ci && npm run build',
    autoDeploy: options.autoDeploy ?? false,
  });
  const status = async () => (await uc.getService.execute(owner, service.id)).status;
  return { harness, uc, owner, project, service, status };
}

/** Relays the outbox once and runs the jobs it published (not the jobs those jobs schedule). */
async function step(harness: TestHarness): Promise<DrainReport> {
  const report: DrainReport = { runs: 0, gaveUp: [] };
  await harness.useCases.relayOutbox.execute();
  for (const job of harness.jobs.take()) await harness.runJob(job, report);
  return report;
}

test('a triggered build runs through drain and succeeds with logs at attempt 1', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id, { commitSha: 'ABCDEF1234567', branch: 'release' });
  t.is(build.status, 'queued');
  const report = await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'succeeded');
  t.is(done.attempt, 1);
  t.is(done.error, null);
  t.true(done.logs.includes('Cloning https://github.com/acme/web.git (abcdef1234567)'));
  t.true(done.logs.includes('$ npm ci && npm run build'));
  t.truthy(done.startedAt);
  t.truthy(done.finishedAt);
  t.deepEqual(report.gaveUp, []);
  t.is(harness.buildRunner.calls.length, 1);
  const request = harness.buildRunner.calls[0];
  t.is(request?.buildId, build.id);
  t.is(request?.branch, 'release');
  t.is(request?.commitSha, 'abcdef1234567');
  t.is(request?.tenantId, owner.tenantId);
});

test('a build defaults to the service branch and validates its input', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  t.is(build.branch, 'main');
  const error = await t.throwsAsync(uc.triggerBuild.execute(owner, service.id, { commitSha: 'nothex!' }), {
    instanceOf: ValidationError,
  });
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    ['commitSha'],
  );
  await t.throwsAsync(uc.triggerBuild.execute(owner, service.id, { branch: 'bad..branch' }), {
    code: 'validation_error',
  });
  t.is(harness.db.table('build').size, 1);
});

test('a build whose command fails is failed at once, with its error, and not retried', async (t) => {
  const { harness, uc, owner, service, status } = await setup({ buildCommand: 'npm test && exit 1' });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const report = await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'failed');
  t.regex(done.error ?? '', /non-zero status: npm test && exit 1/);
  t.true(done.logs.length > 0);
  t.is(done.attempt, 1);
  t.is(harness.buildRunner.calls.length, 1);
  t.deepEqual(report.gaveUp, []);
  t.is(await status(), 'failed');
});

test('a build that meets two infrastructure failures succeeds on its third run, at attempt 3', async (t) => {
  const buildRunner = new SimulatedBuildRunner({ infrastructureFailures: 2 });
  const { harness, uc, owner, service } = await setup({ buildRunner });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const report = await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'succeeded');
  t.is(done.attempt, 3);
  t.deepEqual(
    buildRunner.calls.map((call) => call.attempt),
    [1, 2, 3],
  );
  t.deepEqual(report.gaveUp, []);
  t.is((done.logs.match(/Build succeeded/g) ?? []).length, 1, 'only the successful run left logs');
});

test('a build whose infrastructure always fails is failed after its 4 attempts, and its job is a dead letter', async (t) => {
  const buildRunner = new SimulatedBuildRunner({ infrastructureFailures: Number.POSITIVE_INFINITY });
  const { harness, uc, owner, service, status } = await setup({ buildRunner });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const report = await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(buildRunner.calls.length, 4);
  t.is(report.gaveUp.length, 0, 'the row counts the attempts: the last one fails the build itself');
  t.is(done.status, 'failed');
  t.is(done.attempt, 4);
  t.regex(done.error ?? '', /Gave up after 4 attempt\(s\): simulated infrastructure failure/);
  t.is(await status(), 'failed');
  const dead = await uc.listJobs.execute(owner, { filters: { state: 'failed' } });
  t.deepEqual(
    dead.items.map((job) => [job.id, job.name, job.attempts]),
    [[done.jobId, 'build.run', 4]],
  );
  t.regex(dead.items[0]?.lastError ?? '', /simulated infrastructure failure/);
});

test('a finished build announces itself with a notification job', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const notes = harness.jobs.published.filter((job) => job.name === 'notification.send');
  t.deepEqual(
    notes.map((job) => job.payload),
    [{ tenant_id: owner.tenantId, event: 'build.finished', subject_id: build.id, status: 'succeeded' }],
  );
  t.is(notes[0]?.queue, 'default');
});

test('with auto_deploy a succeeded build goes live with a url and the service is live', async (t) => {
  const { harness, uc, owner, service, status } = await setup({ autoDeploy: true });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployments = await uc.listDeployments.execute(owner, service.id);
  t.is(deployments.total, 1);
  const deployment = deployments.items[0];
  t.is(deployment?.buildId, build.id);
  t.is(deployment?.status, 'live');
  t.regex(deployment?.url ?? '', /^https:\/\/web-/);
  t.truthy(deployment?.finishedAt);
  t.is(await status(), 'live');
  t.is(harness.runtime.calls.length, 1);
});

test('without auto_deploy a succeeded build is not deployed and the service is idle', async (t) => {
  const { harness, uc, owner, service, status } = await setup();
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is((await uc.listDeployments.execute(owner, service.id)).total, 0);
  t.is(await status(), 'idle');
});

test('a failed build is not deployed even with auto_deploy', async (t) => {
  const { harness, uc, owner, service } = await setup({ autoDeploy: true, buildCommand: 'false' });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is((await uc.listDeployments.execute(owner, service.id)).total, 0);
  t.is(harness.runtime.calls.length, 0);
});

test('a second live deployment supersedes the first', async (t) => {
  const { harness, uc, owner, service, status } = await setup({ autoDeploy: true });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  harness.clock.advance(60_000);
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const all = await uc.listDeployments.execute(owner, service.id, { sortOrder: 'asc' });
  t.deepEqual(
    all.items.map((d) => d.status),
    ['superseded', 'live'],
  );
  t.is(await status(), 'live');
});

test('a deployment made by hand of a succeeded build goes live', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployment = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  t.is(deployment.status, 'pending');
  await harness.drain();
  t.is((await uc.getDeployment.execute(owner, deployment.id)).status, 'live');
  const notes = harness.jobs.published.filter(
    (job) =>
      job.name === 'notification.send' && 'subject_id' in job.payload && job.payload.subject_id === deployment.id,
  );
  t.deepEqual(
    notes.map((job) => job.payload),
    [{ tenant_id: owner.tenantId, event: 'deployment.finished', subject_id: deployment.id, status: 'live' }],
  );
});

test('rollback deploys the build that was live before', async (t) => {
  const { harness, uc, owner, service } = await setup({ autoDeploy: true });
  const first = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  harness.clock.advance(60_000);
  const second = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const current = (await uc.listDeployments.execute(owner, service.id, { filters: { status: 'live' } })).items[0];
  t.is(current?.buildId, second.id);
  harness.clock.advance(60_000);
  const rollback = await uc.rollbackDeployment.execute(owner, current?.id ?? '');
  t.is(rollback.buildId, first.id);
  t.is(rollback.status, 'pending');
  await harness.drain();
  t.is((await uc.getDeployment.execute(owner, rollback.id)).status, 'live');
  t.is((await uc.getDeployment.execute(owner, current?.id ?? '')).status, 'superseded');
});

test('rollback with no earlier deployment is a conflict', async (t) => {
  const { harness, uc, owner, service } = await setup({ autoDeploy: true });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const only = (await uc.listDeployments.execute(owner, service.id)).items[0];
  const outbox = harness.db.table('outboxMessage').size;
  await t.throwsAsync(uc.rollbackDeployment.execute(owner, only?.id ?? ''), { code: 'conflict' });
  t.is((await uc.listDeployments.execute(owner, service.id)).total, 1);
  t.is(harness.db.table('outboxMessage').size, outbox);
});

test('rollback skips earlier deployments of the same build', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const first = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  await harness.drain();
  harness.clock.advance(60_000);
  const again = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  await harness.drain();
  t.is((await uc.getDeployment.execute(owner, first.id)).status, 'superseded');
  await t.throwsAsync(uc.rollbackDeployment.execute(owner, again.id), { code: 'conflict' });
});

test('deploying a build that has not succeeded is a conflict', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const queued = await uc.triggerBuild.execute(owner, service.id);
  const outbox = harness.db.table('outboxMessage').size;
  await t.throwsAsync(uc.createDeployment.execute(owner, service.id, { buildId: queued.id }), { code: 'conflict' });
  t.is(harness.db.table('outboxMessage').size, outbox, 'no deployment job was scheduled');
  await uc.updateService.execute(owner, service.id, { buildCommand: 'exit 2' });
  const failing = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is((await uc.getBuild.execute(owner, failing.id)).status, 'failed');
  await t.throwsAsync(uc.createDeployment.execute(owner, service.id, { buildId: failing.id }), { code: 'conflict' });
  t.is(harness.db.table('deployment').size, 0);
});

test('a build of another service cannot be deployed on this one', async (t) => {
  const { harness, uc, owner, project, service } = await setup();
  const other = await uc.createService.execute(owner, project.id, { name: 'api', repoUrl: 'https://example.com/api' });
  const build = await uc.triggerBuild.execute(owner, other.id);
  await harness.drain();
  await t.throwsAsync(uc.createDeployment.execute(owner, service.id, { buildId: build.id }), { code: 'not_found' });
  await t.throwsAsync(uc.createDeployment.execute(owner, service.id, { buildId: 'not-a-uuid' }), {
    code: 'validation_error',
  });
});

test('a cancelled queued build stays cancelled through drain and never reaches the runner', async (t) => {
  const { harness, uc, owner, service, status } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  t.is(await status(), 'building');
  const cancelled = await uc.cancelBuild.execute(owner, build.id);
  t.is(cancelled.status, 'cancelled');
  t.is(await status(), 'idle');
  await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'cancelled');
  t.is(done.attempt, 0);
  t.is(harness.buildRunner.calls.length, 0);
});

test('cancelling a finished build is a conflict', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const succeeded = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  await t.throwsAsync(uc.cancelBuild.execute(owner, succeeded.id), { code: 'conflict' });
  t.is((await uc.getBuild.execute(owner, succeeded.id)).status, 'succeeded');
  const cancelled = await uc.triggerBuild.execute(owner, service.id);
  await uc.cancelBuild.execute(owner, cancelled.id);
  await t.throwsAsync(uc.cancelBuild.execute(owner, cancelled.id), { code: 'conflict' });
});

test('a running build cancelled meanwhile keeps its cancelled status when the runner returns', async (t) => {
  const buildRunner = new SimulatedBuildRunner({ durationMs: 50 });
  const { harness, uc, owner, service } = await setup({ buildRunner });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const running = harness.handlers.run('build.run', { tenant_id: owner.tenantId, build_id: build.id });
  while (buildRunner.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'running');
  await uc.cancelBuild.execute(owner, build.id);
  t.is(await running, 'skipped');
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'cancelled');
});

test('a running build that is cancelled is stopped at its next cancellation check', async (t) => {
  const buildRunner = new SimulatedBuildRunner({ durationMs: 20_000 });
  const { harness, uc, owner, service } = await setup({ buildRunner, settings: { cancelCheckIntervalMs: 5 } });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const started = Date.now();
  const running = harness.handlers.run('build.run', { tenant_id: owner.tenantId, build_id: build.id });
  while (buildRunner.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  await uc.cancelBuild.execute(owner, build.id);
  t.is(await running, 'skipped');
  t.true(Date.now() - started < 10_000, 'the runner was aborted, not waited for');
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'cancelled');
});

test('the service status follows its builds and deployments', async (t) => {
  const { harness, uc, owner, service, status } = await setup({ autoDeploy: true });
  t.is(await status(), 'idle');
  await uc.triggerBuild.execute(owner, service.id);
  t.is(await status(), 'building');
  await step(harness); // the build job
  t.is(await status(), 'deploying');
  await step(harness); // the deployment job
  t.is(await status(), 'live');
  await harness.drain();
  t.is(await status(), 'live');

  await uc.updateService.execute(owner, service.id, { autoDeploy: false });
  await uc.triggerBuild.execute(owner, service.id);
  t.is(await status(), 'building');
  await harness.drain();
  t.is(await status(), 'live', 'a new build that is not deployed leaves the live deployment live');
});

test('a service with nothing live goes idle after a build and failed after a failed build', async (t) => {
  const { harness, uc, owner, service, status } = await setup();
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(await status(), 'idle');
  await uc.updateService.execute(owner, service.id, { buildCommand: 'make || exit 3' });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(await status(), 'failed');
});

test('a deployment the runtime refuses is failed with its error, and the service is failed', async (t) => {
  const runtime = new SimulatedDeploymentRuntime({ failWhen: () => 'health check timed out' });
  const { harness, uc, owner, service, status } = await setup({ runtime, autoDeploy: true });
  await uc.triggerBuild.execute(owner, service.id);
  const report = await harness.drain();
  const deployment = (await uc.listDeployments.execute(owner, service.id)).items[0];
  t.is(deployment?.status, 'failed');
  t.is(deployment?.error, 'health check timed out');
  t.is(deployment?.url, null);
  t.is(runtime.calls.length, 1, 'a refused deployment is not retried');
  t.deepEqual(report.gaveUp, []);
  t.is(await status(), 'failed');
});

test('a deployment retried after an infrastructure failure goes live', async (t) => {
  const runtime = new SimulatedDeploymentRuntime({ infrastructureFailures: 1 });
  const { harness, uc, owner, service, status } = await setup({ runtime, autoDeploy: true });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(runtime.calls.length, 2);
  t.is((await uc.listDeployments.execute(owner, service.id)).items[0]?.status, 'live');
  t.is(await status(), 'live');
});

test('a deployment whose runtime is always unreachable is failed after its retries', async (t) => {
  const runtime = new SimulatedDeploymentRuntime({ infrastructureFailures: Number.POSITIVE_INFINITY });
  const { harness, uc, owner, service, status } = await setup({ runtime, autoDeploy: true });
  await uc.triggerBuild.execute(owner, service.id);
  const report = await harness.drain();
  t.is(runtime.calls.length, 4);
  t.is(report.gaveUp.length, 0, 'the row counts the attempts: the last one fails the deployment itself');
  const deployment = (await uc.listDeployments.execute(owner, service.id)).items[0];
  t.is(deployment?.status, 'failed');
  t.is(deployment?.attempt, 4);
  t.regex(deployment?.error ?? '', /Gave up after 4 attempt\(s\): simulated infrastructure failure/);
  t.is(await status(), 'failed');
});

test('a failed deployment leaves the previous live deployment live', async (t) => {
  let fail = false;
  const runtime = new SimulatedDeploymentRuntime({ failWhen: () => (fail ? 'crashed on start' : null) });
  const { harness, uc, owner, service, status } = await setup({ runtime, autoDeploy: true });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  fail = true;
  harness.clock.advance(60_000);
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const all = await uc.listDeployments.execute(owner, service.id, { sortOrder: 'asc' });
  t.deepEqual(
    all.items.map((d) => d.status),
    ['live', 'failed'],
  );
  t.is(await status(), 'live');
});
