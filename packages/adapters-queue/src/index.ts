export {
  BeeQueueJobQueue,
  type BeeQueueJobQueueOptions,
  DEFAULT_PREFIX,
  type JobEnvelope,
  type QueueCounts,
  TIMEOUT_GRACE_MS,
} from './bee-queue-job-queue.js';
export { InProcessJobQueue, type InProcessJobQueueOptions } from './in-process-job-queue.js';
export {
  type AttemptObserver,
  type AttemptOutcome,
  type AttemptRecord,
  backoffDelay,
  DEFAULT_ABORT_GRACE_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type JobState,
  JobTimeoutError,
  type PerQueue,
  type QueueDepth,
  type QueueHandlers,
  WorkerStoppingError,
} from './job-attempt.js';
export { type OutboxRelayHandle, type OutboxRelayOptions, startOutboxRelay } from './outbox-relay.js';
export { type ClosableJobQueue, QUEUE_TOKENS, type QueueModuleOptions, queueModule } from './queue.module.js';
export { parseRedisUrl, type RedisConnectionOptions } from './redis-connection.js';
export {
  DEFAULT_MAX_REDIS_RETRY_DELAY_MS,
  runWorkerProcess,
  startWorker,
  type Worker,
  type WorkerOptions,
  type WorkerProcessOptions,
} from './worker.js';
