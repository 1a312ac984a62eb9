import { type JobHandlers, type JobQueue, type Logger, type QueueName, TOKENS } from '@shipyard/core';
import { ContainerModule } from 'inversify';
import { BeeQueueJobQueue, type BeeQueueJobQueueOptions } from './bee-queue-job-queue.js';
import { InProcessJobQueue, type InProcessJobQueueOptions } from './in-process-job-queue.js';
import type { QueueDepth } from './job-attempt.js';
import type { RedisConnectionOptions } from './redis-connection.js';

/** A job queue the composition root must close on shutdown, and can ask how many jobs it holds. */
export interface ClosableJobQueue extends JobQueue {
  /** Jobs still to finish per queue; rejects when they cannot be counted within `timeoutMs`. */
  counts(options?: { timeoutMs?: number }): Promise<Record<QueueName, QueueDepth>>;
  close(): Promise<void>;
}

/** Tokens this module adds to the core's. */
export const QUEUE_TOKENS = {
  /** The same instance as `TOKENS.JobQueue`, typed with `close()`. */
  ClosableJobQueue: Symbol.for('shipyard.queue.ClosableJobQueue'),
} as const;

export type QueueModuleOptions =
  | ({ redis: string | RedisConnectionOptions } & Omit<BeeQueueJobQueueOptions, 'redis' | 'logger'>)
  | ({ redis?: undefined } & Omit<InProcessJobQueueOptions, 'handlers' | 'logger'>);

/**
 * Binds the core's `TOKENS.JobQueue`: bee-queue over Redis when `redis` is given (workers are
 * separate processes, see `startWorker`), otherwise the in-process queue, which runs jobs with
 * `TOKENS.JobHandlers` (resolved when the first job runs, since the handlers' use cases need the
 * queue). Both take `TOKENS.Logger`.
 */
export function queueModule(options: QueueModuleOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (options.redis !== undefined) {
      const redis = options.redis;
      bind<ClosableJobQueue>(QUEUE_TOKENS.ClosableJobQueue)
        .toResolvedValue((logger: Logger) => new BeeQueueJobQueue({ ...options, redis, logger }), [TOKENS.Logger])
        .inSingletonScope();
    } else {
      bind<ClosableJobQueue>(QUEUE_TOKENS.ClosableJobQueue)
        .toDynamicValue(
          (context) =>
            new InProcessJobQueue({
              ...options,
              handlers: () => context.get<JobHandlers>(TOKENS.JobHandlers),
              logger: context.get<Logger>(TOKENS.Logger),
            }),
        )
        .inSingletonScope();
    }
    bind<JobQueue>(TOKENS.JobQueue).toService(QUEUE_TOKENS.ClosableJobQueue);
  });
}
