import { BeeQueueJobQueue, startWorker } from '@shipyard/adapters-queue';
import { type Job, QUEUES } from '@shipyard/core';
import type { MemoryLogger } from '@shipyard/core/testing';
import test from 'ava';
import { type JobQueueState, jobQueueContract, waitFor } from '../contracts/job-queue.contract.js';
import { listKeys, REDIS_URL, randomPrefix, removeKeys } from './redis-support.js';

const prefixes: string[] = [];

/** The worker's last word on a job: the line each attempt ends with. */
const ENDINGS: Record<string, JobQueueState> = {
  'job succeeded': 'succeeded',
  'job failed on its last attempt; giving up': 'failed',
  'job is malformed; failed without retry': 'failed',
};

/**
 * Workers prune finished jobs from Redis, so how a job ended is read from the worker's log (its
 * per-attempt lines are part of the contract); a job Redis still holds is pending.
 */
async function status(queue: BeeQueueJobQueue, logger: MemoryLogger, job: Job): Promise<JobQueueState | null> {
  if ((await queue.liveJobs([job])).has(job.id)) return 'pending';
  const endings = logger.entries.filter((e) => e.fields.job_id === job.id && ENDINGS[e.message ?? ''] !== undefined);
  const last = endings.at(-1);
  return last === undefined ? null : (ENDINGS[last.message ?? ''] ?? null);
}

jobQueueContract('BeeQueueJobQueue', async ({ handlers, logger, backoffMs, timeoutMs, abortGraceMs, concurrency }) => {
  const prefix = randomPrefix();
  prefixes.push(prefix);
  const queue = new BeeQueueJobQueue({ redis: REDIS_URL, prefix, backoffMs, timeoutMs, logger });
  const worker = await startWorker({ redis: REDIS_URL, prefix, handlers, concurrency, abortGraceMs, logger });
  return {
    queue,
    status: (job) => status(queue, logger, job),
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
