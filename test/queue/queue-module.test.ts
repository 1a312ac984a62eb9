import {
  BeeQueueJobQueue,
  type ClosableJobQueue,
  InProcessJobQueue,
  parseRedisUrl,
  QUEUE_TOKENS,
  queueModule,
} from '@shipyard/adapters-queue';
import { type Job, type JobHandlers, type JobQueue, type Logger, TOKENS } from '@shipyard/core';
import { MemoryLogger } from '@shipyard/core/testing';
import test from 'ava';
import { Container } from 'inversify';
import { REDIS_URL, randomPrefix, removeKeys } from './redis-support.js';

test('parseRedisUrl reads host, port, database, credentials and TLS', (t) => {
  t.deepEqual(parseRedisUrl('redis://127.0.0.1:6379'), { host: '127.0.0.1', port: 6379 });
  t.deepEqual(parseRedisUrl('redis://cache.internal/3'), { host: 'cache.internal', port: 6379, db: 3 });
  t.deepEqual(parseRedisUrl('rediss://app:p%40ss@cache:6380/0'), {
    host: 'cache',
    port: 6380,
    db: 0,
    user: 'app',
    password: 'p@ss',
    tls: true,
  });
  t.deepEqual(parseRedisUrl('redis://:secret@[::1]:7000'), { host: '::1', port: 7000, password: 'secret' });
  t.throws(() => parseRedisUrl('http://localhost'), { message: /redis:\/\// });
  t.throws(() => parseRedisUrl('redis://localhost/x'), { message: /database/ });
  t.throws(() => parseRedisUrl('not a url'), { instanceOf: TypeError });
});

test('without Redis, the module binds the in-process queue, running jobs with TOKENS.JobHandlers', async (t) => {
  const container = new Container();
  const logger = new MemoryLogger();
  const ran: unknown[] = [];
  container.bind<Logger>(TOKENS.Logger).toConstantValue(logger);
  await container.load(queueModule({ backoffMs: 5 }));
  const queue = container.get<JobQueue>(TOKENS.JobQueue);
  // Bound after the queue was resolved: the handlers are looked up when a job runs.
  const handlers: Pick<JobHandlers, 'run' | 'giveUp'> = {
    run: async (_name, payload) => {
      ran.push(payload);
    },
    giveUp: async () => {},
  };
  container.bind(TOKENS.JobHandlers).toConstantValue(handlers);

  t.true(queue instanceof InProcessJobQueue);
  t.is<unknown, unknown>(container.get<ClosableJobQueue>(QUEUE_TOKENS.ClosableJobQueue), queue);
  t.is(container.get<JobQueue>(TOKENS.JobQueue), queue);
  const job: Job = {
    id: crypto.randomUUID(),
    name: 'cleanup.run',
    queue: 'cleanup',
    payload: { tenant_id: crypto.randomUUID() },
  };
  await queue.enqueue(job);
  await (queue as InProcessJobQueue).onIdle();
  t.deepEqual(ran, [job.payload]);
  await container.get<ClosableJobQueue>(QUEUE_TOKENS.ClosableJobQueue).close();
});

test('with Redis, the module binds the bee-queue publisher', async (t) => {
  const prefix = randomPrefix();
  const container = new Container();
  container.bind<Logger>(TOKENS.Logger).toConstantValue(new MemoryLogger());
  await container.load(queueModule({ redis: REDIS_URL, prefix }));
  const queue = container.get<JobQueue>(TOKENS.JobQueue);
  t.true(queue instanceof BeeQueueJobQueue);
  t.is<unknown, unknown>(container.get<ClosableJobQueue>(QUEUE_TOKENS.ClosableJobQueue), queue);
  const job: Job = {
    id: crypto.randomUUID(),
    name: 'cleanup.run',
    queue: 'cleanup',
    payload: { tenant_id: crypto.randomUUID() },
  };
  await queue.enqueue(job);
  t.is(await (queue as BeeQueueJobQueue).status(job), 'pending');
  await (queue as BeeQueueJobQueue).close();
  await removeKeys(prefix);
});
