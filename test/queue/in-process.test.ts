import { randomUUID } from 'node:crypto';
import { InProcessJobQueue, startOutboxRelay } from '@shipyard/adapters-queue';
import {
  type Job,
  type JobQueue,
  type JobRef,
  OutboxMessage,
  RelayOutbox,
  ServiceUnavailableError,
} from '@shipyard/core';
import { MemoryLogger, SimulatedBuildRunner } from '@shipyard/core/testing';
import test from 'ava';
import { waitFor } from '../contracts/job-queue.contract.js';
import { coreWorld } from './core-world.js';

const job = (): Job<'cleanup.run'> => ({
  id: randomUUID(),
  name: 'cleanup.run',
  queue: 'cleanup',
  payload: { tenant_id: randomUUID() },
});

/** A queue that refuses every publish while `down` (Redis unreachable at commit time). */
class FlakyQueue implements JobQueue {
  down = false;
  constructor(private readonly inner: JobQueue) {}
  async enqueue(j: Job): Promise<void> {
    if (this.down) throw new ServiceUnavailableError('The job queue is unavailable');
    await this.inner.enqueue(j);
  }
  async liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    if (this.down) throw new ServiceUnavailableError('The job queue is unavailable');
    return this.inner.liveJobs(jobs);
  }
}

async function world(options: { infrastructureFailures?: number } = {}) {
  const logger = new MemoryLogger();
  const holder: { flaky?: FlakyQueue } = {};
  const w = await coreWorld(() => holder.flaky as FlakyQueue, {
    buildRunner: new SimulatedBuildRunner({ infrastructureFailures: options.infrastructureFailures ?? 0 }),
  });
  const queue = new InProcessJobQueue({ handlers: w.handlers, logger, backoffMs: 5 });
  const flaky = new FlakyQueue(queue);
  holder.flaky = flaky;
  const relay = new RelayOutbox({ ...w.deps, jobs: flaky });
  return { ...w, queue, flaky, relay, logger };
}

test('a build triggered through the outbox runs on the in-process queue and notifies', async (t) => {
  const w = await world();
  const build = await w.useCases.triggerBuild.execute(w.owner, w.service.id);
  const handle = startOutboxRelay({ relay: w.relay, intervalMs: 10, logger: w.logger });
  try {
    await waitFor(async () => (await w.useCases.getBuild.execute(w.owner, build.id)).status === 'succeeded', 'build');
    await waitFor(
      () => w.logger.entries.some((e) => e.fields.job_name === 'notification.send' && e.message === 'job succeeded'),
      'the notification job',
    );
  } finally {
    await handle.stop();
    await w.queue.close();
  }
  const done = w.logger.entries.find((e) => e.fields.job_name === 'build.run' && e.message === 'job succeeded');
  t.like(done?.fields, { queue: 'build', tenant_id: w.owner.tenantId, attempt: 1 });
});

test("a job's log lines carry its job id, its tenant and the rows it is about", async (t) => {
  const w = await world();
  const build = await w.useCases.triggerBuild.execute(w.owner, w.service.id);
  await w.relay.execute();
  await w.queue.onIdle();
  // The build's notification, written to the outbox when the build ended.
  await w.relay.execute();
  await w.queue.onIdle();
  await w.queue.close();
  const lines = w.logger.entries.filter((e) => e.fields.job_name === 'build.run');
  const jobId = lines[0]?.fields.job_id;
  t.is(typeof jobId, 'string');
  const worker = lines.find((e) => e.message === 'job succeeded');
  t.like(worker?.fields, { queue: 'build', job_id: jobId, tenant_id: w.owner.tenantId, build_id: build.id });
  // The handler writes through the job's logger, and adds the service once it read the row.
  const handler = lines.find((e) => e.message === 'build job done');
  t.like(handler?.fields, {
    job_id: jobId,
    tenant_id: w.owner.tenantId,
    build_id: build.id,
    service_id: w.service.id,
    build_attempt: 1,
    outcome: 'succeeded',
  });
  const notification = w.logger.entries.find(
    (e) => e.fields.job_name === 'notification.send' && e.message === 'build.finished: succeeded',
  );
  t.like(notification?.fields, { tenant_id: w.owner.tenantId, subject_id: build.id });
  t.is(typeof notification?.fields.job_id, 'string');
});

test('infrastructure failures are retried; after the last retry the build is given up', async (t) => {
  const flaky = await world({ infrastructureFailures: 2 });
  const retried = await flaky.useCases.triggerBuild.execute(flaky.owner, flaky.service.id);
  await flaky.relay.execute();
  await flaky.queue.onIdle();
  t.is((await flaky.useCases.getBuild.execute(flaky.owner, retried.id)).status, 'succeeded');

  const broken = await world({ infrastructureFailures: 100 });
  const failed = await broken.useCases.triggerBuild.execute(broken.owner, broken.service.id);
  await broken.relay.execute();
  await broken.queue.onIdle();
  const after = await broken.useCases.getBuild.execute(broken.owner, failed.id);
  t.is(after.status, 'failed');
  t.regex(after.error ?? '', /Gave up/);
  t.is(broken.harness.buildRunner.calls.length, 4);
  await Promise.all([flaky.queue.close(), broken.queue.close()]);
});

test('a rolled-back transaction enqueues nothing', async (t) => {
  const w = await world();
  await t.throwsAsync(
    w.harness.uow.run(w.owner.tenantId, async (repos) => {
      const message = OutboxMessage.create(
        { id: randomUUID(), now: w.harness.clock.now() },
        { tenantId: w.owner.tenantId, queue: 'cleanup', name: 'cleanup.run', payload: { tenant_id: w.owner.tenantId } },
      );
      await repos.outbox.add(message);
      throw new Error('request failed after scheduling');
    }),
  );
  t.deepEqual(await w.relay.execute(), { published: 0, blocked: false });
  await w.queue.onIdle();
  t.false(w.logger.entries.some((e) => e.fields.job_id !== undefined));
  await w.queue.close();
});

test('a queue outage at commit loses nothing: the outbox keeps the job until the queue is back', async (t) => {
  const w = await world();
  w.flaky.down = true;
  const build = await w.useCases.triggerBuild.execute(w.owner, w.service.id);
  t.deepEqual(await w.relay.execute(), { published: 0, blocked: true });
  await w.queue.onIdle();
  t.is((await w.useCases.getBuild.execute(w.owner, build.id)).status, 'queued');

  w.flaky.down = false;
  t.deepEqual(await w.relay.execute(), { published: 1, blocked: false });
  await waitFor(async () => (await w.useCases.getBuild.execute(w.owner, build.id)).status === 'succeeded', 'build');
  await w.queue.close();
});

test('close() waits for running jobs, then enqueue is refused', async (t) => {
  let started = false;
  let finished = false;
  const queue = new InProcessJobQueue({
    handlers: {
      run: async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished = true;
      },
      giveUp: async () => {},
    },
  });
  const first = job();
  await queue.enqueue(first);
  await waitFor(() => started, 'the job to start');
  await queue.close();
  t.true(finished);
  t.is(await queue.status(first), 'succeeded');
  await t.throwsAsync(queue.enqueue(job()), { code: 'service_unavailable' });
});

test('close() drops jobs not started and logs them', async (t) => {
  const logger = new MemoryLogger();
  const queue = new InProcessJobQueue({
    handlers: { run: () => new Promise((resolve) => setTimeout(resolve, 50)), giveUp: async () => {} },
    logger,
    concurrency: 1,
  });
  const jobs = [job(), job(), { ...job(), runAt: new Date(Date.now() + 60_000) }];
  for (const j of jobs) await queue.enqueue(j);
  await queue.close();
  const dropped = logger.entries.find((e) => e.message === 'job queue closed with jobs not run');
  t.like(dropped, { level: 'warn', fields: { dropped: 2 } });
  t.deepEqual([...((dropped?.fields.job_ids ?? []) as string[])].sort(), [jobs[1]?.id, jobs[2]?.id].sort());
  await queue.onIdle();
});

test('onIdle() resolves at once when nothing is queued, and after the last job otherwise', async (t) => {
  const ran: string[] = [];
  const queue = new InProcessJobQueue({
    handlers: {
      run: async (_name, payload) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ran.push((payload as { tenant_id: string }).tenant_id);
      },
      giveUp: async () => {},
    },
  });
  await queue.onIdle();
  const jobs = [job(), job(), job()];
  for (const j of jobs) await queue.enqueue(j);
  await queue.onIdle();
  t.is(ran.length, 3);
  await queue.close();
});

test('handlers may be given lazily, to break the cycle handlers → use cases → queue', async (t) => {
  let calls = 0;
  const queue = new InProcessJobQueue({
    handlers: () => ({
      run: async () => {
        calls += 1;
      },
      giveUp: async () => {},
    }),
  });
  await queue.enqueue(job());
  await queue.onIdle();
  t.is(calls, 1);
  await queue.close();
});

test('status() remembers the last rememberIds finished jobs; a job still to run is never forgotten', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const runs = new Map<string, number>();
  const slow = job();
  const queue = new InProcessJobQueue({
    rememberIds: 3,
    handlers: {
      run: async (_name, payload) => {
        const tenant = (payload as { tenant_id: string }).tenant_id;
        runs.set(tenant, (runs.get(tenant) ?? 0) + 1);
        if (tenant === slow.payload.tenant_id) await gate;
      },
      giveUp: async () => {},
    },
  });
  await queue.enqueue(slow);
  const quick = Array.from({ length: 5 }, (): Job => ({ ...job(), queue: 'default', name: 'cleanup.run' }));
  for (const j of quick) await queue.enqueue(j);
  await waitFor(async () => (await queue.status(quick[4] as Job)) === 'succeeded', 'the quick jobs to finish');

  t.deepEqual(await Promise.all(quick.map((j) => queue.status(j))), [
    null,
    null,
    'succeeded',
    'succeeded',
    'succeeded',
  ]);
  t.is(await queue.status(slow), 'pending');
  t.deepEqual([...(await queue.liveJobs([slow, ...quick]))], [slow.id]);
  await queue.enqueue(slow);
  release();
  await queue.onIdle();
  t.is(runs.get(slow.payload.tenant_id), 1);
  t.is(await queue.status(slow), 'succeeded');
  await queue.close();
});

test('after close(), liveJobs is refused, and the jobs it dropped are not pending', async (t) => {
  const queue = new InProcessJobQueue({
    handlers: { run: () => new Promise((resolve) => setTimeout(resolve, 50)), giveUp: async () => {} },
    concurrency: 1,
  });
  const [running, dropped] = [job(), job()];
  await queue.enqueue(running);
  await queue.enqueue(dropped);
  t.deepEqual([...(await queue.liveJobs([running, dropped]))].sort(), [running.id, dropped.id].sort());
  await queue.close();
  await t.throwsAsync(queue.liveJobs([running]), { code: 'service_unavailable' });
  t.is(await queue.status(running), 'succeeded');
  t.is(await queue.status(dropped), null);
});

test('closing the in-process queue stops a job still running after closeTimeoutMs through its signal', async (t) => {
  let started = false;
  let aborted = false;
  const queue = new InProcessJobQueue({
    closeTimeoutMs: 50,
    abortGraceMs: 1_000,
    handlers: {
      async run(_name, _payload, context) {
        started = true;
        await new Promise<void>((resolve) =>
          context?.signal?.addEventListener('abort', () => resolve(), { once: true }),
        );
        aborted = true;
        throw context?.signal?.reason;
      },
      async giveUp() {
        t.fail('a job stopped by a closing queue is released, not given up');
      },
    },
  });
  await queue.enqueue(job());
  await waitFor(() => started, 'the job to start');
  const closing = Date.now();
  await queue.close();
  t.true(aborted, "the handler's signal was aborted");
  t.true(Date.now() - closing < 1_000, 'close() did not wait for the job to end by itself');
});
