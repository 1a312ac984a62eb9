import { randomUUID } from 'node:crypto';
import { BeeQueueJobQueue, startWorker } from '@shipyard/adapters-queue';
import { type Job, RelayOutbox } from '@shipyard/core';
import { MemoryLogger } from '@shipyard/core/testing';
import test from 'ava';
import { waitFor } from '../contracts/job-queue.contract.js';
import { coreWorld } from './core-world.js';
import { closedPort, REDIS_URL, randomPrefix, redisProxy, removeKeys } from './redis-support.js';

const prefix = randomPrefix();
const cleanups: Array<() => Promise<unknown>> = [];
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await removeKeys(prefix);
});
let counter = 0;
const subPrefix = () => `${prefix}:${++counter}`;

function publisher(redis: string, p: string): BeeQueueJobQueue {
  const queue = new BeeQueueJobQueue({ redis, prefix: p, backoffMs: 50, publishTimeoutMs: 3_000 });
  cleanups.push(() => queue.close());
  return queue;
}

/** The Redis commands `work` sends on `queue`'s connections, by name (bee-queue's node-redis clients). */
async function countCommands(queue: BeeQueueJobQueue, work: () => Promise<unknown>): Promise<Record<string, number>> {
  interface Client {
    internal_send_command(command: { command: string }): unknown;
  }
  // Warm the connections first: connecting sends commands of its own.
  await queue.counts();
  const clients = [
    ...(queue as unknown as { connections: Map<string, { bq: { client: Client } }> }).connections.values(),
  ].map((c) => c.bq.client);
  const counts: Record<string, number> = {};
  const originals = clients.map((client) => client.internal_send_command);
  clients.forEach((client, i) => {
    client.internal_send_command = function (this: Client, command) {
      counts[command.command] = (counts[command.command] ?? 0) + 1;
      return originals[i]?.call(this, command);
    };
  });
  try {
    await work();
  } finally {
    clients.forEach((client, i) => {
      client.internal_send_command = originals[i] as Client['internal_send_command'];
    });
  }
  return counts;
}

const cleanupJob = (): Job<'cleanup.run'> => ({
  id: randomUUID(),
  name: 'cleanup.run',
  queue: 'cleanup',
  payload: { tenant_id: randomUUID() },
});

test('while Redis cannot be reached, enqueue is refused and the outbox keeps the job; then it is published and run', async (t) => {
  const p = subPrefix();
  const down = publisher(`redis://127.0.0.1:${await closedPort()}`, p);
  const up = publisher(REDIS_URL, p);
  const world = await coreWorld(() => up);
  const logger = new MemoryLogger();

  const build = await world.useCases.triggerBuild.execute(world.owner, world.service.id);
  const blockedRelay = new RelayOutbox({ ...world.deps, jobs: down, logger });
  t.deepEqual(await blockedRelay.execute(), { published: 0, blocked: true });
  t.deepEqual(await blockedRelay.execute(), { published: 0, blocked: true });
  t.like(
    logger.entries.find((e) => e.message === 'cannot publish outbox message; will retry'),
    { level: 'warn' },
  );
  await t.throwsAsync(down.enqueue(cleanupJob()), { code: 'service_unavailable' });
  // Asked which jobs it holds, it has no answer: never "none".
  await t.throwsAsync(down.liveJobs([{ id: build.id, queue: 'build' }, cleanupJob()]), {
    code: 'service_unavailable',
  });

  const relay = new RelayOutbox({ ...world.deps, jobs: up, logger });
  t.deepEqual(await relay.execute(), { published: 1, blocked: false });
  t.deepEqual(await relay.execute(), { published: 0, blocked: false });

  const worker = await startWorker({ redis: REDIS_URL, prefix: p, handlers: world.handlers, logger });
  cleanups.push(() => worker.close());
  await waitFor(
    async () => (await world.useCases.getBuild.execute(world.owner, build.id)).status === 'succeeded',
    'the build to succeed on the worker',
  );
  const done = logger.entries.find((e) => e.fields.job_name === 'build.run' && e.message === 'job succeeded');
  t.like(done?.fields, { queue: 'build', tenant_id: world.owner.tenantId, attempt: 1 });
});

test('a publisher that loses its connection refuses jobs, then publishes again once Redis is back', async (t) => {
  const p = subPrefix();
  const proxy = await redisProxy();
  cleanups.push(proxy.stop);
  const queue = publisher(proxy.url(), p);
  const direct = publisher(REDIS_URL, p);

  const before = cleanupJob();
  await queue.enqueue(before);
  t.deepEqual([...(await queue.liveJobs([before]))], [before.id]);
  await proxy.stop();
  const during = cleanupJob();
  await t.throwsAsync(queue.enqueue(during), { code: 'service_unavailable' });
  await t.throwsAsync(queue.liveJobs([before]), { code: 'service_unavailable' });
  await t.throwsAsync(queue.enqueue(during), { code: 'service_unavailable' });
  await t.throwsAsync(queue.liveJobs([before, during]), { code: 'service_unavailable' });
  t.is(await direct.status(during), null);

  await proxy.start();
  await queue.enqueue(during);
  t.is(await direct.status(before), 'pending');
  t.is(await direct.status(during), 'pending');
  t.deepEqual([...(await queue.liveJobs([before, during]))].sort(), [before.id, during.id].sort());
});

test('a job id published by two publishers (a relay replayed after a crash) is one job', async (t) => {
  const p = subPrefix();
  const first = publisher(REDIS_URL, p);
  const second = publisher(REDIS_URL, p);
  const job = cleanupJob();
  await first.enqueue(job);
  await second.enqueue(job);
  await second.enqueue({ ...job, payload: { tenant_id: randomUUID() } });
  t.like((await first.counts()).cleanup, { waiting: 1, delayed: 0 });
});

test('a worker that cannot reach Redis at start fails to start', async (t) => {
  const redis = `redis://127.0.0.1:${await closedPort()}`;
  await t.throwsAsync(
    startWorker({ redis, prefix: subPrefix(), handlers: { run: async () => {}, giveUp: async () => {} } }),
    { code: 'service_unavailable' },
  );
});

test('a publisher after close() refuses jobs and liveJobs', async (t) => {
  const queue = publisher(REDIS_URL, subPrefix());
  const job = cleanupJob();
  await queue.enqueue(job);
  await queue.close();
  await t.throwsAsync(queue.enqueue(cleanupJob()), { code: 'service_unavailable' });
  await t.throwsAsync(queue.liveJobs([job]), { code: 'service_unavailable' });
});

test('liveJobs asks each queue once, whatever the number of jobs', async (t) => {
  const p = subPrefix();
  const queue = publisher(REDIS_URL, p);
  const jobs = Array.from({ length: 50 }, cleanupJob);
  await Promise.all(jobs.map((job) => queue.enqueue(job)));
  const builds = Array.from({ length: 3 }, () => ({ id: randomUUID(), queue: 'build' as const }));
  const commands = await countCommands(queue, () => queue.liveJobs([...jobs, ...builds]));
  t.deepEqual(commands, { hmget: 2 });
});
