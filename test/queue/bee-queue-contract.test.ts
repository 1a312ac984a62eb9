import { BeeQueueJobQueue, startWorker } from '@shipyard/adapters-queue';
import { QUEUES } from '@shipyard/core';
import test from 'ava';
import { jobQueueContract, waitFor } from '../contracts/job-queue.contract.js';
import { listKeys, REDIS_URL, randomPrefix, removeKeys } from './redis-support.js';

const prefixes: string[] = [];

jobQueueContract('BeeQueueJobQueue', async ({ handlers, logger, backoffMs, timeoutMs, concurrency }) => {
  const prefix = randomPrefix();
  prefixes.push(prefix);
  const queue = new BeeQueueJobQueue({ redis: REDIS_URL, prefix, backoffMs, timeoutMs, logger });
  const worker = await startWorker({ redis: REDIS_URL, prefix, handlers, concurrency, logger });
  return {
    queue,
    status: (job) => queue.status(job),
    idle: () =>
      waitFor(async () => {
        const counts = await queue.counts();
        return QUEUES.every((q) => counts[q].waiting + counts[q].active + counts[q].delayed === 0);
      }, 'the queues to be idle'),
    async close() {
      await worker.close();
      await queue.close();
      await removeKeys(prefix);
    },
  };
});

test.after.always('every subject removed its keys', async (t) => {
  for (const prefix of prefixes) t.deepEqual(await listKeys(prefix), []);
  await Promise.all(prefixes.map(removeKeys));
});
