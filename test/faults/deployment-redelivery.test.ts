/**
 * A deployment job delivered twice (a redelivery after a stall, a republished job) deploys once:
 * two "workers" (each the core on its own connection pool to the same PostgreSQL database) run
 * the same `deployment.run` job at once, or one while the other deploys; the runtime is called
 * once per deployment.
 */
import { createDatabase } from '@shipyard/adapters-db';
import { openScratchDatabase } from '@shipyard/adapters-db/testing';
import { createUseCases, JobHandlers, type UnitOfWork } from '@shipyard/core';
import { RecordingJobQueue, SimulatedBuildRunner, SimulatedDeploymentRuntime } from '@shipyard/core/testing';
import test from 'ava';
import { coreOnPostgres, tenantWithService } from '../queue/postgres-world.js';
import { sleep } from './support.js';

const DEPLOYMENTS = 4;

test('a redelivered deployment job deploys once', async (t) => {
  t.timeout(60_000);
  const scratch = await openScratchDatabase({ pool: { min: 0, max: 8 }, scratch: { prefix: 'shipyard_faults' } });
  t.teardown(() => scratch.close());
  const second = await createDatabase({ url: scratch.scratch.url, pool: { min: 0, max: 8 } });
  t.teardown(() => second.close());

  // One runtime for both workers: what the platform would start.
  const runtime = new SimulatedDeploymentRuntime({ durationMs: 300 });
  const worker = (uow: UnitOfWork) => {
    const core = coreOnPostgres(uow, new RecordingJobQueue());
    const useCases = createUseCases({
      ...core.deps,
      runtime,
      buildRunner: new SimulatedBuildRunner(),
      settings: { ...core.deps.settings, cancelCheckIntervalMs: 100, jobLeaseMs: 5_000 },
    });
    return { useCases, handlers: new JobHandlers(useCases) };
  };
  const a = worker(scratch.database.uow);
  const b = worker(second.uow);

  const payloads = await Promise.all(
    Array.from({ length: DEPLOYMENTS }, async () => {
      const { owner, service } = await tenantWithService(a.useCases);
      const build = await a.useCases.triggerBuild.execute(owner, service.id);
      t.is(await a.handlers.run('build.run', { tenant_id: owner.tenantId, build_id: build.id }), 'succeeded');
      const deployment = await a.useCases.createDeployment.execute(owner, service.id, { buildId: build.id });
      return { owner, payload: { tenant_id: owner.tenantId, deployment_id: deployment.id } };
    }),
  );

  // Half the jobs delivered to both workers at the same moment, half again while the first deploys.
  const results = await Promise.all(
    payloads.map(async ({ payload }, i) => {
      const first = a.handlers.run('deployment.run', payload);
      if (i % 2 === 1) await sleep(100);
      const again = b.handlers.run('deployment.run', payload);
      return [await first, await again].sort();
    }),
  );
  for (const pair of results) t.deepEqual(pair, ['live', 'skipped'], 'one delivery deployed, the other was skipped');

  // And once more after it went live.
  for (const { payload } of payloads) t.is(await b.handlers.run('deployment.run', payload), 'skipped');

  for (const { owner, payload } of payloads) {
    const calls = runtime.calls.filter((c) => c.deploymentId === payload.deployment_id).length;
    t.is(calls, 1, `the runtime deployed ${payload.deployment_id} once`);
    const deployment = await a.useCases.getDeployment.execute(owner, payload.deployment_id);
    t.like(deployment, { status: 'live', attempt: 1 });
  }
  t.is(runtime.instances.size, DEPLOYMENTS);
});
