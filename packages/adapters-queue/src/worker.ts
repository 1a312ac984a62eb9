import { type Logger, QUEUES, type QueueName, ServiceUnavailableError, SilentLogger } from '@shipyard/core';
import BeeQueue from 'bee-queue';
import { DEFAULT_PREFIX, type JobEnvelope } from './bee-queue-job-queue.js';
import {
  type AttemptObserver,
  DEFAULT_ABORT_GRACE_MS,
  DEFAULT_TIMEOUT_MS,
  observedAttempt,
  type PerQueue,
  perQueue,
  type QueueHandlers,
  WorkerStoppingError,
} from './job-attempt.js';
import { nodeRedisSettings, type RedisConnectionOptions, toConnectionOptions } from './redis-connection.js';

export interface WorkerOptions {
  /** A `redis://` URL or connection options. */
  redis: string | RedisConnectionOptions;
  /** Key prefix, the same as the publisher's. Default `shipyard`. */
  prefix?: string;
  /** The core's `JobHandlers` (or the same two methods). */
  handlers: QueueHandlers;
  /** Jobs run at once per queue. Default 2. */
  concurrency?: PerQueue<number>;
  /** Which queues this worker takes. Default all four. */
  queues?: readonly QueueName[];
  /**
   * A running job proves it is alive every half of this; a job silent for longer (its worker
   * died) is run again by another worker. Default 5000 ms.
   */
  stallInterval?: number;
  /**
   * How long `close()` waits for running jobs; then their signals are aborted (worker stopping)
   * and they are released. Default 10 000 ms.
   */
  closeTimeoutMs?: number;
  /**
   * Once a handler's signal is aborted (its job's timeout, the worker stopping), how long it has
   * to settle before its attempt ends without it. Default 5000 ms; never more than half of what
   * bee-queue's own backstop (`TIMEOUT_GRACE_MS` past the job's timeout) leaves.
   */
  abortGraceMs?: number;
  /**
   * Delete a job's record from Redis once it succeeded. Default true: the database rows are the
   * truth, and they deduplicate a job published again after it ran.
   */
  removeOnSuccess?: boolean;
  /**
   * Delete a job's record from Redis once it failed for good. Default true: the dead letter is
   * kept in the database (`giveUp`).
   */
  removeOnFailure?: boolean;
  /**
   * Longest pause between two tries to take a job after Redis errors (bee-queue doubles it on
   * every error, without a bound). Default 5000 ms.
   */
  maxRedisRetryDelayMs?: number;
  logger?: Logger;
  /** Told how every attempt ended and how long it took (for metrics). */
  onAttempt?: AttemptObserver;
}

export interface Worker {
  readonly queues: readonly QueueName[];
  /**
   * Stops taking jobs and waits for the running ones (up to `closeTimeoutMs`). Jobs still running
   * then have their signals aborted (`WorkerStoppingError`), get `abortGraceMs` to release what
   * they hold, and are released: their record stays active and stall detection hands them to
   * another worker.
   */
  close(): Promise<void>;
}

interface ReceivedJob {
  id: string;
  data: unknown;
  options: { retries?: number; backoff?: { delay?: number }; timeout?: number };
}

const envelopeOf = (data: unknown): Partial<JobEnvelope> =>
  typeof data === 'object' && data !== null ? (data as Partial<JobEnvelope>) : {};

export const DEFAULT_MAX_REDIS_RETRY_DELAY_MS = 5_000;

/**
 * bee-queue 2.0.0 `Queue#_waitForJob` (lib/queue.js) doubles `this._redisFailureRetryDelay` on
 * every failed BRPOPLPUSH, from `initialRedisFailureRetryDelay` (1 s), without a cap; only a job
 * taken resets it (`_getNextJob`), and every concurrent waiter of the queue doubles the same
 * field. A Redis that errors for a few minutes (loading, failover, OOM) would leave the worker
 * waiting for hours. Writes to the field are clamped to `maxMs` on this instance.
 */
export function capRedisFailureRetryDelay(bq: BeeQueue, maxMs: number): void {
  const cap = Math.max(1, Math.round(maxMs));
  let delay = 0;
  Object.defineProperty(bq, '_redisFailureRetryDelay', {
    configurable: true,
    enumerable: true,
    get: () => delay,
    set: (value: unknown) => {
      const next = Number(value);
      delay = Number.isFinite(next) ? Math.min(Math.max(0, next), cap) : cap;
    },
  });
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * Processes the platform's queues with the core's handlers: validates each payload on receipt
 * (a malformed one is failed at once, never retried), retries infrastructure failures with the
 * job's backoff, calls `giveUp` when the last retry fails, and checks for stalled jobs so that
 * a job whose worker died runs again. Resolves once every queue is connected.
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const connection = toConnectionOptions(options.redis);
  const logger = options.logger ?? new SilentLogger();
  const names = options.queues ?? QUEUES;
  const stallInterval = options.stallInterval ?? 5_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const abortGraceMs = Math.max(0, options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS);
  const maxRedisRetryDelayMs = options.maxRedisRetryDelayMs ?? DEFAULT_MAX_REDIS_RETRY_DELAY_MS;
  const stopping = new AbortController();
  const attempts = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  const queues = names.map((name) => {
    const bq = new BeeQueue(name, {
      prefix: options.prefix ?? DEFAULT_PREFIX,
      // Commands wait for a lost connection to come back rather than fail.
      redis: nodeRedisSettings(connection, { offlineQueue: true }),
      isWorker: true,
      getEvents: false,
      sendEvents: false,
      storeJobs: false,
      activateDelayedJobs: true,
      removeOnSuccess: options.removeOnSuccess ?? true,
      removeOnFailure: options.removeOnFailure ?? true,
      stallInterval,
    });
    capRedisFailureRetryDelay(bq, maxRedisRetryDelayMs);
    bq.on('error', (error) => {
      // While closing, a released job cannot be recorded (bee-queue has quit): expected.
      if (closing !== undefined) logger.warn({ err: error, queue: name }, 'job queue error while stopping');
      else logger.error({ err: error, queue: name }, 'job queue error');
    });
    bq.on('stalled', (jobId) =>
      logger.warn({ queue: name, job_id: jobId }, 'stalled job put back in the queue (its worker stopped)'),
    );
    return { name, bq };
  });

  const closeAll = () => Promise.allSettled(queues.map(({ bq }) => bq.close(closeTimeoutMs)));
  try {
    await Promise.all(queues.map(({ bq }) => bq.ready()));
  } catch (error) {
    await closeAll();
    // node-redis rejects with plain objects too (an AbortError for a reset connection).
    throw new ServiceUnavailableError('The job queue is unavailable: cannot connect to Redis', { cause: error });
  }

  for (const { name, bq } of queues) {
    const concurrency = Math.max(1, perQueue(options.concurrency, name, 2));
    bq.process(concurrency, (job) => processJob(name, job as unknown as ReceivedJob));
    // Every worker checks; Redis lets one check through per stall interval.
    bq.checkStalledJobs(Math.max(1, Math.floor(stallInterval / 2)));
  }
  logger.info({ queues: names, stall_interval_ms: stallInterval }, 'worker started');

  async function processJob(queue: QueueName, job: ReceivedJob): Promise<void> {
    const envelope = envelopeOf(job.data);
    const retriesLeft = job.options.retries ?? 0;
    const granted = typeof envelope.retries === 'number' ? envelope.retries : retriesLeft;
    const timeoutMs = typeof envelope.timeoutMs === 'number' ? envelope.timeoutMs : DEFAULT_TIMEOUT_MS;
    // bee-queue fails the job itself at `job.options.timeout`: the grace, and a `giveUp` after it, must end before.
    const backstopMs =
      typeof job.options.timeout === 'number' ? job.options.timeout - timeoutMs : Number.POSITIVE_INFINITY;
    const attempt = observedAttempt(
      options.handlers,
      logger,
      {
        queue,
        jobId: job.id,
        name: envelope.name,
        payload: envelope.payload,
        attempt: granted - retriesLeft + 1,
        final: retriesLeft <= 0,
        retryDelayMs: job.options.backoff?.delay ?? 0,
        timeoutMs,
        abortGraceMs: Math.min(abortGraceMs, Math.max(0, Math.floor(backstopMs / 2))),
        stop: stopping.signal,
      },
      options.onAttempt,
    );
    attempts.add(attempt);
    const outcome = await attempt.finally(() => attempts.delete(attempt));
    if (outcome.status === 'succeeded') return;
    // bee-queue retries any failure while retries are left: none for a job that can never succeed.
    if (outcome.status === 'invalid') job.options.retries = 0;
    throw outcome.error;
  }

  return {
    queues: names,
    close() {
      closing ??= (async () => {
        const results = await closeAll();
        const released = results.filter((r) => r.status === 'rejected');
        if (released.length > 0 || attempts.size > 0) {
          // bee-queue has quit by now, so nothing these handlers do is recorded as the job's outcome.
          const running = attempts.size;
          stopping.abort(new WorkerStoppingError());
          await Promise.race([Promise.allSettled([...attempts]), sleep(abortGraceMs + 1_000)]);
          logger.warn(
            { queues: released.length, aborted: running, still_running: attempts.size, timeout_ms: closeTimeoutMs },
            'worker closed with jobs still running; stall detection will run them again',
          );
        }
        logger.info({ queues: names }, 'worker stopped');
      })();
      return closing;
    },
  };
}

export interface WorkerProcessOptions extends WorkerOptions {
  /** Signals that stop the worker. Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
  /** Called after the worker stopped on a signal. Default: `process.exit(0)` (1 on a second signal). */
  exit?: (code: number) => void;
}

/**
 * Starts a worker for a worker process: on SIGTERM (or SIGINT) it stops taking jobs, lets the
 * running ones finish (or releases them after `closeTimeoutMs`), then exits. A second signal
 * exits at once.
 */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<Worker> {
  const logger = options.logger ?? new SilentLogger();
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const worker = await startWorker(options);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping the worker');
    worker
      .close()
      .then(
        () => 0,
        (error: unknown) => {
          logger.error({ err: error }, 'worker did not stop cleanly');
          return 1;
        },
      )
      .then((code) => {
        for (const s of signals) process.off(s, onSignal);
        exit(code);
      });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return worker;
}
