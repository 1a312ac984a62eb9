import test from 'ava';
import type { BuildArtifact } from '../ports/build-runner.port.js';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime, TestHarness } from '../testing/index.js';
import type { CoreSettings } from './core-settings.js';

async function setup(
  options: {
    runner?: SimulatedBuildRunner;
    runtime?: SimulatedDeploymentRuntime;
    settings?: Partial<CoreSettings>;
  } = {},
) {
  const harness = new TestHarness({
    ...(options.runner ? { buildRunner: options.runner } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
    settings: { logFlushMs: 5, ...options.settings },
  });
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    healthCheckPath: '/healthz',
  });
  const buildAndDeploy = async () => {
    const build = await uc.triggerBuild.execute(owner, service.id);
    await harness.drain();
    const deployment = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
    await harness.drain();
    return { build, deployment: await uc.getDeployment.execute(owner, deployment.id) };
  };
  return { harness, uc, owner, service, buildAndDeploy };
}

/** Polls until `check` holds (the log writer flushes on a timer), for at most 2 s. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const linesOf = (page: { chunks: Array<{ lines: string[] }> }) => page.chunks.flatMap((chunk) => chunk.lines);

test("a build's lines reach the log store while it runs, and every one is there once it is final", async (t) => {
  const { harness, uc, owner, service } = await setup({ runner: new SimulatedBuildRunner({ durationMs: 300 }) });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.relayOutbox.execute();
  const [job] = harness.jobs.take();
  const running = harness.runJob(job!);
  await new Promise((resolve) => setTimeout(resolve, 120));
  const during = await uc.readLogs.execute(owner, { kind: 'build', id: build.id });
  t.false(during.ended);
  t.true(linesOf(during).some((line) => line.startsWith('Cloning https://github.com/acme/web.git')));
  t.false(linesOf(during).includes('Build succeeded'), 'the end is not written yet');
  await running;
  const after = await uc.readLogs.execute(owner, { kind: 'build', id: build.id }, { after: during.cursor });
  t.true(after.ended);
  t.deepEqual(linesOf(after).slice(-2), ['Build succeeded', '==> Succeeded']);
  const whole = await uc.readLogs.execute(owner, { kind: 'build', id: build.id });
  t.deepEqual(linesOf(whole), [...linesOf(during), ...linesOf(after)], 'a cursor resumes exactly after the lines read');
  t.is(whole.chunks.length > 1, true, 'written in chunks as it ran, not at the end');
});

test('another tenant cannot read a log, and a viewer can', async (t) => {
  const { harness, uc, owner, buildAndDeploy } = await setup();
  const { build, deployment } = await buildAndDeploy();
  const { principal: stranger } = await harness.signUp();
  for (const subject of [
    { kind: 'build' as const, id: build.id },
    { kind: 'deployment' as const, id: deployment.id },
  ]) {
    const error = await t.throwsAsync(uc.readLogs.execute(stranger, subject));
    t.is((error as { code?: string }).code, 'not_found');
  }
  const viewer = { ...owner, role: 'viewer' as const };
  t.true(linesOf(await uc.readLogs.execute(viewer, { kind: 'build', id: build.id })).length > 0);
});

test('a deployment receives its build artifact and the health check path; its app output is kept', async (t) => {
  const { harness, uc, owner, buildAndDeploy } = await setup();
  const { build, deployment } = await buildAndDeploy();
  t.is(deployment.status, 'live');
  const request = harness.runtime.calls.at(-1);
  t.deepEqual(request?.artifact, { kind: 'image', ref: `simulated/${build.serviceId}:${build.id}` });
  t.is(request?.healthCheckPath, '/healthz');
  t.deepEqual((await uc.getBuild.execute(owner, build.id)).artifact, request?.artifact);
  const page = await eventually(
    () => uc.readLogs.execute(owner, { kind: 'deployment', id: deployment.id }),
    (read) => linesOf(read).some((line) => line.startsWith('==> Live at')),
  );
  t.false(page.ended, 'a live app goes on printing');
  t.true(linesOf(page).some((line) => line.startsWith('==> Live at')));
});

test('a rollback deploys the earlier build artifact, not a rebuild; the superseded instance is stopped', async (t) => {
  const { harness, uc, owner, buildAndDeploy } = await setup();
  const first = await buildAndDeploy();
  const second = await buildAndDeploy();
  t.true(harness.runtime.serves(second.deployment.id));
  t.false(harness.runtime.serves(first.deployment.id));
  t.is((await harness.runtime.status(first.deployment.id)).state, 'stopped');
  const builds = harness.buildRunner.calls.length;
  const rollback = await uc.rollbackDeployment.execute(owner, second.deployment.id);
  await harness.drain();
  t.is(harness.buildRunner.calls.length, builds, 'nothing was built again');
  t.is((await uc.getDeployment.execute(owner, rollback.id)).status, 'live');
  t.deepEqual(harness.runtime.calls.at(-1)?.artifact, (await uc.getBuild.execute(owner, first.build.id)).artifact);
  t.true(harness.runtime.serves(rollback.id));
  t.true((await uc.readLogs.execute(owner, { kind: 'deployment', id: second.deployment.id })).ended);
});

test('after a restart the runtime reconciler starts every live deployment again and stops what is not live', async (t) => {
  const { harness, uc, owner, buildAndDeploy } = await setup();
  const { deployment } = await buildAndDeploy();
  harness.runtime.forgetAll();
  t.false(harness.runtime.serves(deployment.id));
  const first = await uc.reconcileRuntime.execute();
  t.deepEqual(first.started, [deployment.id]);
  t.true(harness.runtime.serves(deployment.id));
  const again = await uc.reconcileRuntime.execute();
  t.deepEqual([again.started, again.stopped], [[], []], 'a second run changes nothing');

  // An instance whose deployment is not live (its service was deleted) is stopped.
  const { deployment: other } = await buildAndDeploy();
  await uc.deleteService.execute(owner, other.serviceId);
  const cleared = await uc.reconcileRuntime.execute();
  t.true(cleared.stopped.includes(other.id));
  t.is((await harness.runtime.status(other.id)).state, 'stopped');
});

test('a live deployment that cannot start again is retried later, not on every run', async (t) => {
  let broken = false;
  const runtime = new SimulatedDeploymentRuntime({ failWhen: () => (broken ? 'port in use' : null) });
  const { harness, uc, buildAndDeploy } = await setup({ runtime });
  const { deployment } = await buildAndDeploy();
  harness.runtime.forgetAll();
  broken = true;
  const first = await uc.reconcileRuntime.execute();
  t.deepEqual(
    first.failed.map((failure) => failure.deploymentId),
    [deployment.id],
  );
  const calls = runtime.calls.length;
  const second = await uc.reconcileRuntime.execute();
  t.deepEqual(second.backingOff, [deployment.id]);
  t.is(runtime.calls.length, calls, 'not tried again during its pause');
  broken = false;
  harness.clock.advance(11_000);
  const third = await uc.reconcileRuntime.execute();
  t.deepEqual(third.started, [deployment.id]);
});

test('cleanup keeps the artifacts of the newest builds and of what runs, and discards the rest', async (t) => {
  const { harness, uc, owner, service, buildAndDeploy } = await setup({ settings: { keepArtifacts: 2 } });
  const { build: deployed } = await buildAndDeploy();
  const later = [];
  for (let i = 0; i < 4; i += 1) {
    later.push(await uc.triggerBuild.execute(owner, service.id));
    harness.clock.advance(1000);
  }
  await harness.drain();
  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.artifactsDiscarded, 2);
  const artifactOf = async (id: string) => (await uc.getBuild.execute(owner, id)).artifact;
  t.not(await artifactOf(deployed.id), null, 'the live build keeps its artifact');
  t.is(await artifactOf(later[0]!.id), null);
  t.is(await artifactOf(later[1]!.id), null);
  t.not(await artifactOf(later[2]!.id), null);
  t.not(await artifactOf(later[3]!.id), null);
  t.deepEqual(
    harness.buildRunner.discarded.map((artifact) => (artifact.kind === 'image' ? artifact.ref : artifact.path)).sort(),
    [later[0]!, later[1]!].map((build) => `simulated/${service.id}:${build.id}`).sort(),
  );
  const error = await t.throwsAsync(uc.createDeployment.execute(owner, service.id, { buildId: later[0]!.id }));
  t.is((error as { code?: string }).code, 'conflict');
  t.regex((error as Error).message, /no artifact \(cleaned up/);
});

test('repository credentials are stored encrypted, reach only the build, and a masked URL keeps them', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const token = 'ghp_0123456789abcdef';
  const updated = await uc.updateService.execute(owner, service.id, {
    repoUrl: `https://x-access-token:${token}@github.com/acme/private.git`,
  });
  t.is(updated.repoUrl, 'https://github.com/acme/private.git');
  t.not(updated.repoCredentials, null);
  t.false(JSON.stringify(updated).includes(token), 'the stored row never holds the token in the clear');
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(harness.buildRunner.calls.at(-1)?.repoUrl, `https://x-access-token:${token}@github.com/acme/private.git`);
  const logs = await uc.readLogs.execute(owner, { kind: 'build', id: build.id });
  t.false(JSON.stringify(logs).includes(token), 'the build log does not show it');

  const kept = await uc.updateService.execute(owner, service.id, {
    repoUrl: 'https://****@github.com/acme/private.git',
  });
  t.is(kept.repoCredentials, updated.repoCredentials);
  const dropped = await uc.updateService.execute(owner, service.id, { repoUrl: 'https://github.com/acme/public.git' });
  t.is(dropped.repoCredentials, null);
  const error = await t.throwsAsync(
    uc.updateService.execute(owner, service.id, { repoUrl: 'https://****@github.com/acme/public.git' }),
  );
  t.is((error as { code?: string }).code, 'validation_error');
});

test('file:// repositories are refused unless the server allows local repositories', async (t) => {
  const strict = await setup();
  const error = await t.throwsAsync(
    strict.uc.updateService.execute(strict.owner, strict.service.id, { repoUrl: 'file:///srv/git/web.git' }),
  );
  t.is((error as { code?: string }).code, 'validation_error');
  const local = await setup({ settings: { allowLocalRepos: true } });
  const service = await local.uc.updateService.execute(local.owner, local.service.id, {
    repoUrl: 'file:///srv/git/web.git',
  });
  t.is(service.repoUrl, 'file:///srv/git/web.git');
});

test('masked credentials are kept only for the same host: they never follow the URL elsewhere', async (t) => {
  const { uc, owner, service } = await setup();
  await uc.updateService.execute(owner, service.id, { repoUrl: 'https://ghp_secret123@github.com/acme/private.git' });
  const kept = await uc.updateService.execute(owner, service.id, {
    repoUrl: 'https://****@github.com/acme/other.git',
  });
  t.not(kept.repoCredentials, null, 'another repository on the same host keeps them');
  for (const repoUrl of ['https://****@evil.example/x.git', 'https://****@github.com:8443/acme/private.git']) {
    const error = await t.throwsAsync(uc.updateService.execute(owner, service.id, { repoUrl }));
    t.is((error as { code?: string }).code, 'validation_error', repoUrl);
  }
  t.is((await uc.getService.execute(owner, service.id)).repoUrl, 'https://github.com/acme/other.git');
});

test('credentials stored inline before they were kept apart are masked, and secrets:rotate encrypts them', async (t) => {
  const { harness, uc, owner, service } = await setup();
  // A row as an earlier version stored it: the token inside the URL.
  await harness.uow.run(owner.tenantId, async (repos) => {
    const row = await repos.services.get(service.id);
    row.repoUrl = 'https://x-access-token:ghp_legacy999@github.com/acme/web.git';
    await repos.services.update(row);
  });
  const { maskRepoUrl } = await import('../domain/repo-url.js');
  const legacy = await uc.getService.execute(owner, service.id);
  t.is(maskRepoUrl(legacy.repoUrl, legacy.repoCredentials !== null), 'https://****@github.com/acme/web.git');
  const report = await uc.rotateSecrets.execute({ batchSize: 10 });
  t.true(report.reencrypted >= 1);
  const moved = await uc.getService.execute(owner, service.id);
  t.is(moved.repoUrl, 'https://github.com/acme/web.git');
  t.not(moved.repoCredentials, null);
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(harness.buildRunner.calls.at(-1)?.repoUrl, 'https://x-access-token:ghp_legacy999@github.com/acme/web.git');
});

test('a health check path must be a URL path', async (t) => {
  const { uc, owner, service } = await setup();
  for (const healthCheckPath of ['/✓', 'healthz', '//evil.example/', '/a b', '/x#frag', '/bad%zz']) {
    const error = await t.throwsAsync(uc.updateService.execute(owner, service.id, { healthCheckPath }));
    t.is((error as { code?: string }).code, 'validation_error', healthCheckPath);
  }
  const ok = await uc.updateService.execute(owner, service.id, { healthCheckPath: '/health/ready?full=1&x=%20' });
  t.is(ok.healthCheckPath, '/health/ready?full=1&x=%20');
});

test('a deployment cancelled while its instance started does not keep serving', async (t) => {
  const runtime = new SimulatedDeploymentRuntime({ durationMs: 50 });
  const { harness, uc, owner, service, buildAndDeploy } = await setup({ runtime });
  const { deployment: first } = await buildAndDeploy();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const second = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  await uc.relayOutbox.execute();
  const [job] = harness.jobs.take();
  const running = harness.runJob(job!);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await uc.cancelDeployment.execute(owner, second.id);
  await running;
  t.is((await uc.getDeployment.execute(owner, second.id)).status, 'cancelled');
  t.false(runtime.serves(second.id), 'the cancelled instance was stopped');
  await uc.reconcileRuntime.execute();
  t.true(runtime.serves(first.id), 'the live deployment serves again');
});

test('the runtime reconciler waits for the deployments in flight, and they wait for it', async (t) => {
  const { RuntimeGate } = await import('./runtime-gate.js');
  const gate = new RuntimeGate();
  const order: string[] = [];
  const hold = (name: string, ms: number) => async () => {
    order.push(`${name} in`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    order.push(`${name} out`);
  };
  await Promise.all([
    gate.shared(hold('deploy 1', 30)),
    gate.shared(hold('deploy 2', 10)),
    gate.exclusive(hold('reconcile', 10)),
    gate.shared(hold('deploy 3', 5)),
  ]);
  t.deepEqual(order, [
    'deploy 1 in',
    'deploy 2 in',
    'deploy 2 out',
    'deploy 1 out',
    'reconcile in',
    'reconcile out',
    'deploy 3 in',
    'deploy 3 out',
  ]);
});

test('the hourly cleanup sweeps the artifacts no build names, keeping every one a build still has', async (t) => {
  const swept: Array<{ keep: string[]; before: Date }> = [];
  class SweepingRunner extends SimulatedBuildRunner {
    async sweepArtifacts(keep: readonly BuildArtifact[], madeBefore: Date): Promise<number> {
      swept.push({ keep: keep.map((a) => (a.kind === 'image' ? a.ref : a.path)), before: madeBefore });
      return 2;
    }
  }
  const { harness, uc, owner, service } = await setup({ runner: new SweepingRunner() });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  await uc.scheduleCleanup.execute();
  t.deepEqual(swept[0]?.keep, [`simulated/${service.id}:${build.id}`]);
  t.is(swept[0]?.before.getTime(), harness.clock.now().getTime() - 86_400_000, 'only what is a day old');
  t.true(harness.logger.entries.some((entry) => entry.fields.artifactsSwept === 2));
});

test("a cancelled build's log ends a few seconds after the cancel, once its runner had the time to print its last lines", async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  await uc.cancelBuild.execute(owner, build.id);
  t.false((await uc.readLogs.execute(owner, { kind: 'build', id: build.id })).ended);
  harness.clock.advance(6_000);
  t.true((await uc.readLogs.execute(owner, { kind: 'build', id: build.id })).ended);
});
