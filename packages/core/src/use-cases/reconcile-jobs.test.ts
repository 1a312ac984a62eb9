import test from 'ava';
import type { BuildOutcome, BuildRequest, BuildRunner } from '../ports/build-runner.port.js';
import type { DeploymentOutcome, DeploymentRequest } from '../ports/deployment-runtime.port.js';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime, TestHarness } from '../testing/index.js';
import type { CoreSettings } from './core-settings.js';

const LEASE_MS = 15_000;
const GRACE_MS = 10_000;

async function setup(
  options: {
    buildRunner?: SimulatedBuildRunner;
    runtime?: SimulatedDeploymentRuntime;
    settings?: Partial<CoreSettings>;
  } = {},
) {
  const harness = new TestHarness({
    ...options,
    settings: { jobLeaseMs: LEASE_MS, reconcileGraceMs: GRACE_MS, ...options.settings },
  });
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
  });
  const payloadOf = (buildId: string) => ({ tenant_id: owner.tenantId, build_id: buildId });
  return { harness, uc, owner, service, payloadOf };
}

/** A worker that claimed the build and died: the attempt is recorded, nothing finishes it. */
async function claimAndDie(harness: TestHarness, tenantId: string, buildId: string): Promise<void> {
  await harness.uow.run(tenantId, async (repos) => {
    const build = await repos.builds.get(buildId);
    const now = harness.clock.now();
    build.start(now, new Date(now.getTime() + LEASE_MS));
    await repos.builds.update(build);
  });
}

test('a queued build whose job the queue lost is published again under the same job id, and runs once', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  const lost = harness.jobs.take(); // Redis flushed: the published job is gone
  t.is(lost.length, 1);

  t.deepEqual(
    await uc.reconcileJobs.execute(),
    { republished: 0, failed: 0, checked: true },
    'too young: left to the relay',
  );
  harness.clock.advance(GRACE_MS + 1);
  t.is((await uc.reconcileJobs.execute()).republished, 1);
  await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'succeeded');
  t.is(done.attempt, 1);
  t.is(harness.buildRunner.calls.length, 1);
  t.is(harness.jobs.published.filter((job) => job.name === 'build.run' && job.id === lost[0]?.id).length, 2);
  t.is((await uc.reconcileJobs.execute()).republished, 0, 'a finished build is left alone');
});

test('a queued build whose job is still waiting in the queue is not published again', async (t) => {
  const { harness, uc, owner, service } = await setup();
  await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  harness.clock.advance(GRACE_MS * 10);
  t.is((await uc.reconcileJobs.execute()).republished, 0);
  t.is(harness.jobs.take().length, 1);
});

test('the reconciler decides nothing when the queue cannot be asked', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  harness.jobs.take();
  harness.clock.advance(GRACE_MS + 1);
  harness.jobs.outage.begin();
  t.deepEqual(await uc.reconcileJobs.execute(), { republished: 0, failed: 0, checked: false });
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'queued');
});

test('a delivery while another worker holds the lease is skipped; after the lease lapses the build is taken over', async (t) => {
  const { harness, uc, owner, service, payloadOf } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await claimAndDie(harness, owner.tenantId, build.id);
  t.is(await harness.handlers.run('build.run', payloadOf(build.id)), 'skipped');
  t.is(harness.buildRunner.calls.length, 0);

  harness.clock.advance(LEASE_MS + 1);
  t.is(await harness.handlers.run('build.run', payloadOf(build.id)), 'succeeded');
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.attempt, 2, 'the dead worker’s attempt counts');
  t.is(done.leaseUntil, null);
});

test('a running build past its lease is published again by the reconciler, which the next worker runs', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  harness.jobs.take();
  await claimAndDie(harness, owner.tenantId, build.id);
  t.is((await uc.reconcileJobs.execute()).republished, 0, 'its lease still runs');
  harness.clock.advance(LEASE_MS + 1);
  t.is((await uc.reconcileJobs.execute()).republished, 1);
  await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'succeeded');
  t.is(done.attempt, 2);
});

test('on start, a process that owns its database treats running rows as abandoned at once', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  harness.jobs.take();
  await claimAndDie(harness, owner.tenantId, build.id);
  t.is((await uc.reconcileJobs.execute({ expireLeases: true })).republished, 1);
  await harness.drain();
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'succeeded');
});

test('a build whose worker died on every attempt fails once its attempts are spent, and is never run again', async (t) => {
  const { harness, uc, owner, service, payloadOf } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  for (let i = 0; i < harness.deps.settings.maxJobAttempts; i += 1) {
    await claimAndDie(harness, owner.tenantId, build.id);
    harness.clock.advance(LEASE_MS + 1);
  }
  const report = await uc.reconcileJobs.execute();
  t.is(report.failed, 1);
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'failed');
  t.is(done.attempt, 4);
  t.regex(done.error ?? '', /^Gave up after 4 attempt\(s\): its worker stopped/);
  t.is((await uc.getService.execute(owner, service.id)).status, 'failed');
  t.is(await harness.handlers.run('build.run', payloadOf(build.id)), 'skipped');
  t.is(harness.buildRunner.calls.length, 0);
  const dead = await uc.listJobs.execute(owner, { filters: { state: 'failed' } });
  t.deepEqual(
    dead.items.map((job) => job.id),
    [done.jobId],
  );
});

/** A runner that runs until its signal is aborted, and records that it was. */
class HangingRunner implements BuildRunner {
  aborted = 0;
  calls = 0;
  async run(_request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildOutcome> {
    this.calls += 1;
    log('started');
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.aborted += 1;
    return { outcome: 'failed', error: 'stopped' };
  }
  async discardArtifact(): Promise<void> {}
}

test('a job aborted by its timeout frees the build for a retry, and the last timed-out attempt fails it', async (t) => {
  const runner = new HangingRunner();
  const harness = new TestHarness({ settings: { jobLeaseMs: LEASE_MS } });
  harness.deps.buildRunner = runner;
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
  });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const payload = { tenant_id: owner.tenantId, build_id: build.id };
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    const timeout = new AbortController();
    const run = uc.runBuild.execute(payload, timeout.signal);
    await new Promise((resolve) => setTimeout(resolve, 5));
    timeout.abort(new Error('Job timed out after 5 ms'));
    if (attempt < 4) {
      await t.throwsAsync(run, { message: /timed out/ }, 'the queue retries it');
      const between = await uc.getBuild.execute(owner, build.id);
      t.is(between.status, 'running');
      t.is(between.leaseUntil, null, 'free for the next attempt at once');
    } else {
      t.is(await run, 'failed');
    }
  }
  t.is(runner.calls, 4);
  t.is(runner.aborted, 4, "every attempt's runner saw its signal aborted");
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'failed');
  t.regex(done.error ?? '', /Gave up after 4 attempt\(s\): attempt 4 aborted: Job timed out/);
});

/** A runtime that deploys until aborted, counting its calls. */
class SlowRuntime extends SimulatedDeploymentRuntime {
  deploys = 0;
  aborted = 0;
  override async deploy(request: DeploymentRequest, signal: AbortSignal): Promise<DeploymentOutcome> {
    this.deploys += 1;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 200);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          this.aborted += 1;
          resolve();
        },
        { once: true },
      );
    });
    return { outcome: 'live', url: `https://${request.serviceName}.apps.localhost` };
  }
}

async function deployable(settings: Partial<CoreSettings> = {}) {
  const runtime = new SlowRuntime();
  const harness = new TestHarness({ settings: { jobLeaseMs: LEASE_MS, ...settings } });
  harness.deps.runtime = runtime;
  const uc = harness.useCases;
  const { principal: owner } = await harness.signUp();
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
  });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.runBuild.execute({ tenant_id: owner.tenantId, build_id: build.id });
  const deployment = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  const payload = { tenant_id: owner.tenantId, deployment_id: deployment.id };
  return { runtime, harness, uc, owner, service, deployment, payload };
}

test('a deployment job delivered twice at once deploys once', async (t) => {
  const { runtime, uc, owner, deployment, payload } = await deployable();
  const results = await Promise.all([uc.runDeployment.execute(payload), uc.runDeployment.execute(payload)]);
  t.deepEqual([...results].sort(), ['live', 'skipped']);
  t.is(runtime.deploys, 1);
  const done = await uc.getDeployment.execute(owner, deployment.id);
  t.is(done.status, 'live');
  t.is(done.attempt, 1);
});

test('cancelling a deploying deployment aborts its runtime and settles the service', async (t) => {
  const { runtime, uc, owner, service, deployment, payload } = await deployable({ cancelCheckIntervalMs: 10 });
  const run = uc.runDeployment.execute(payload);
  while ((await uc.getDeployment.execute(owner, deployment.id)).status !== 'deploying') {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const cancelled = await uc.cancelDeployment.execute(owner, deployment.id);
  t.is(cancelled.status, 'cancelled');
  t.is(await run, 'skipped');
  t.is(runtime.aborted, 1, "the runtime's signal was aborted");
  t.is((await uc.getDeployment.execute(owner, deployment.id)).status, 'cancelled');
  t.not((await uc.getService.execute(owner, service.id)).status, 'deploying');
  const error = await t.throwsAsync(uc.cancelDeployment.execute(owner, deployment.id));
  t.is((error as { code?: string } | undefined)?.code, 'conflict', 'a final deployment cannot be cancelled');
});

test('retrying a dead build job queues a new build of the same commit; the dead letter is marked retried', async (t) => {
  const { harness, uc, owner, service } = await setup({
    buildRunner: new SimulatedBuildRunner({ infrastructureFailures: 4 }),
  });
  const build = await uc.triggerBuild.execute(owner, service.id, { commitSha: 'abc1234' });
  await harness.drain();
  const [dead] = (await uc.listJobs.execute(owner, { filters: { state: 'failed' } })).items;
  t.truthy(dead);
  const retry = await uc.retryJob.execute(owner, dead!.id);
  t.is(retry.name, 'build.run');
  t.not(retry.id, dead!.id);
  t.is((await uc.getJob.execute(owner, dead!.id)).state, 'retried');
  await harness.drain();
  const builds = await uc.listBuilds.execute(owner, service.id);
  t.is(builds.total, 2);
  const fresh = builds.items.find((b) => b.id !== build.id);
  t.is(fresh?.status, 'succeeded');
  t.is(fresh?.commitSha, 'abc1234');
  const again = await t.throwsAsync(uc.retryJob.execute(owner, dead!.id));
  t.is((again as { code?: string } | undefined)?.code, 'conflict');
});

test('the dead letters of one tenant are invisible to another', async (t) => {
  const { harness, uc, owner, service } = await setup({
    buildRunner: new SimulatedBuildRunner({ infrastructureFailures: 4 }),
  });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const [dead] = (await uc.listJobs.execute(owner, { filters: { state: 'failed' } })).items;
  const { principal: stranger } = await harness.signUp();
  t.is((await uc.listJobs.execute(stranger, { filters: { state: 'failed' } })).total, 0);
  const error = await t.throwsAsync(uc.retryJob.execute(stranger, dead!.id));
  t.is((error as { code?: string } | undefined)?.code, 'not_found');
});

test('a runner that ignores its aborted signal loses its attempt anyway: the row is freed with the reason', async (t) => {
  const harness = new TestHarness({ settings: { jobLeaseMs: LEASE_MS } });
  let calls = 0;
  harness.deps.buildRunner = {
    run: () => {
      calls += 1;
      return new Promise<BuildOutcome>(() => {});
    },
    discardArtifact: async () => {},
  };
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
  });
  const build = await uc.triggerBuild.execute(owner, service.id);
  const timeout = new AbortController();
  const run = uc.runBuild.execute({ tenant_id: owner.tenantId, build_id: build.id }, timeout.signal);
  await new Promise((resolve) => setTimeout(resolve, 5));
  timeout.abort(new Error('Job timed out after 5 ms'));
  await t.throwsAsync(run, { message: /timed out/ });
  const row = await uc.getBuild.execute(owner, build.id);
  t.is(calls, 1);
  t.is(row.status, 'running');
  t.is(row.leaseUntil, null, 'the next attempt may take it at once');
  t.regex(row.error ?? '', /Attempt 1 failed: attempt 1 aborted: Job timed out/);
});

test('a job published again a moment ago is not published a second time before the grace', async (t) => {
  const { harness, uc, owner, service } = await setup();
  await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  harness.jobs.take(); // lost with Redis
  harness.clock.advance(GRACE_MS + 1);
  t.is((await uc.reconcileJobs.execute()).republished, 1);
  await uc.relayOutbox.execute();
  harness.jobs.take(); // relayed, and not in the queue yet (or lost again)
  harness.clock.advance(500);
  t.is((await uc.reconcileJobs.execute()).republished, 0, 'the relay sent it half a second ago');
  harness.clock.advance(GRACE_MS);
  t.is((await uc.reconcileJobs.execute()).republished, 1, 'lost again after the grace: published again');
});
