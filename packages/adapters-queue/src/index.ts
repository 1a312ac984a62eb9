export { InProcessJobQueue, type InProcessJobQueueOptions } from './in-process-job-queue.js';
export {
  backoffDelay,
  DEFAULT_BACKOFF_MS,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type JobState,
  JobTimeoutError,
  type PerQueue,
  type QueueHandlers,
} from './job-attempt.js';
export { type OutboxRelayHandle, type OutboxRelayOptions, startOutboxRelay } from './outbox-relay.js';
