import { InProcessJobQueue } from '@shipyard/adapters-queue';
import { jobQueueContract } from '../contracts/job-queue.contract.js';

jobQueueContract('InProcessJobQueue', async ({ handlers, logger, backoffMs, timeoutMs, abortGraceMs, concurrency }) => {
  const queue = new InProcessJobQueue({ handlers, logger, backoffMs, timeoutMs, abortGraceMs, concurrency });
  return {
    queue,
    status: (job) => queue.status(job),
    idle: () => queue.onIdle(),
    close: () => queue.close(),
  };
});
