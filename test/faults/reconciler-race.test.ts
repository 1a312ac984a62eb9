/**
 * Every worker runs a reconciler, so two of them see the same stranded build (its job lost with
 * Redis). The first publishes it again; the second, which scanned before that, must leave it to
 * the first rather than schedule a second job for the same build.
 */
import { openScratchDatabase } from '@shipyard/adapters-db/testing';
import { createUseCases, type JobQueue, type JobRef } from '@shipyard/core';
import { RecordingJobQueue } from '@shipyard/core/testing';
import test from 'ava';
import { coreOnPostgres, tenantWithService } from '../queue/postgres-world.js';

test('two reconcilers that saw the same stranded build publish it again once', async (t) => {
  t.timeout(30_000);
  const scratch = await openScratchDatabase({ pool: { min: 0, max: 4 }, scratch: { prefix: 'shipyard_faults' } });
  t.teardown(() => scratch.close());
  const uow = scratch.database.uow;

  // The queue the build was first published to, then lost (Redis flushed): nothing is live.
  const lost = new RecordingJobQueue();
  const core = coreOnPostgres(uow, lost);
  const settings = { ...core.deps.settings, reconcileGraceMs: 0 };
  const api = createUseCases({ ...core.deps, settings });
  const { owner, service } = await tenantWithService(api);
  const build = await api.triggerBuild.execute(owner, service.id);
  await api.relayOutbox.execute();
  t.is(lost.take().length, 1, 'the build job was published, then lost');

  // Both reconcilers scan before either acts; the second acts once the first is done.
  let arrived = 0;
  let bothScanned!: () => void;
  const scanned = new Promise<void>((resolve) => {
    bothScanned = resolve;
  });
  let firstDone!: () => void;
  const firstFinished = new Promise<void>((resolve) => {
    firstDone = resolve;
  });
  const gated = (after: Promise<void> | undefined): JobQueue => ({
    enqueue: (job) => lost.enqueue(job),
    async liveJobs(refs: readonly JobRef[]) {
      arrived += 1;
      if (arrived === 2) bothScanned();
      await scanned;
      await after;
      return lost.liveJobs(refs);
    },
  });
  const reconciler = (jobs: JobQueue) => createUseCases({ ...core.deps, jobs, settings }).reconcileJobs;
  const first = reconciler(gated(undefined))
    .execute()
    .finally(() => firstDone());
  const second = reconciler(gated(firstFinished)).execute();
  const reports = await Promise.all([first, second]);
  t.log(`reports: ${JSON.stringify(reports)}`);

  await api.relayOutbox.execute();
  const republished = lost
    .take()
    .filter((job) => job.name === 'build.run' && (job.payload as { build_id: string }).build_id === build.id);
  t.is(republished.length, 1, `one job for the build, not ${republished.length}`);
  t.true(republished[0]?.id === build.jobId, 'the build keeps its job id');
  t.is(
    reports.reduce((sum, r) => sum + r.republished, 0),
    1,
  );
  const row = await uow.run(owner.tenantId, (repos) => repos.builds.get(build.id));
  t.true(row.jobId === build.jobId, `the row names its first job, not ${row.jobId}`);
});
