import {
  type Job,
  type JobQueue,
  type JobRef,
  type Logger,
  QUEUES,
  type QueueName,
  ServiceUnavailableError,
  SilentLogger,
} from '@shipyard/core';
import BeeQueue from 'bee-queue';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type JobState,
  type PerQueue,
  perQueue,
} from './job-attempt.js';
import { nodeRedisSettings, type RedisConnectionOptions, toConnectionOptions } from './redis-connection.js';

/** bee-queue's default key prefix is `bq`; ours names the platform. */
export const DEFAULT_PREFIX = 'shipyard';

/**
 * bee-queue's own timeout is a backstop against a hung attempt keeping its lock (bee-queue#438);
 * the worker enforces the job's timeout itself, so it can still call `giveUp` on a last attempt
 * that timed out. The backstop leaves it this long to do so.
 */
export const TIMEOUT_GRACE_MS = 5_000;

/** What a job carries in Redis: the core's job plus the policy the worker applies to it. */
export interface JobEnvelope {
  name: string;
  payload: unknown;
  /** Retries granted at publish, to number attempts (bee-queue counts retries down). */
  retries: number;
  timeoutMs: number;
}

export interface BeeQueueJobQueueOptions {
  /** A `redis://` URL or connection options. */
  redis: string | RedisConnectionOptions;
  /** Key prefix; tests use their own. Default `shipyard`. */
  prefix?: string;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** First retry delay; each later one doubles. Default 1000 ms. */
  backoffMs?: number;
  /** Per attempt. Default 10 minutes. */
  timeoutMs?: PerQueue<number>;
  /** How long `enqueue` may take before it is refused. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Also raise delayed jobs (retries, `runAt`) from this process. Default true. */
  activateDelayedJobs?: boolean;
  logger?: Logger;
}

/** Per-queue counts, as bee-queue's `checkHealth` reports them. */
export type QueueCounts = Record<QueueName, BeeQueue.HealthCheckResult>;

interface Connection {
  name: QueueName;
  bq: BeeQueue;
  ready: Promise<BeeQueue>;
  closing?: Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Publishes jobs to bee-queue over Redis: one bee-queue queue per platform queue, the job id set
 * to the core's job id (a second publish of an id is a no-op while Redis keeps the job), 3
 * retries with exponential backoff, a timeout, and `runAt` as a delayed job. When Redis cannot
 * be reached `enqueue` rejects with `service_unavailable`, so the outbox keeps the job; the
 * connection is then rebuilt on the next publish.
 */
export class BeeQueueJobQueue implements JobQueue {
  readonly prefix: string;
  private readonly connection: RedisConnectionOptions;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly logger: Logger;
  private readonly connections = new Map<QueueName, Connection>();
  private readonly disposing = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: BeeQueueJobQueueOptions) {
    this.connection = toConnectionOptions(options.redis);
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.backoffMs = Math.max(1, Math.round(options.backoffMs ?? DEFAULT_BACKOFF_MS));
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.logger = options.logger ?? new SilentLogger();
  }

  async enqueue(job: Job): Promise<void> {
    if (this.closed) throw new ServiceUnavailableError('The job queue is closed');
    if (!QUEUES.includes(job.queue)) throw new TypeError(`Unknown queue ${String(job.queue)}`);
    const timeoutMs = perQueue(this.options.timeoutMs, job.queue, DEFAULT_TIMEOUT_MS);
    const envelope: JobEnvelope = { name: job.name, payload: job.payload, retries: this.retries, timeoutMs };
    const connection = this.connectionFor(job.queue);
    try {
      const bq = await connection.ready;
      const created = bq
        .createJob(envelope)
        .setId(job.id)
        .retries(this.retries)
        .backoff('exponential', this.backoffMs)
        .timeout(timeoutMs + TIMEOUT_GRACE_MS);
      if (job.runAt !== undefined) created.delayUntil(job.runAt);
      const saved = await withTimeout(created.save(), this.publishTimeoutMs, 'publishing a job');
      if (saved.id === null) this.logger.debug({ queue: job.queue, job_id: job.id }, 'job already published');
    } catch (error) {
      this.drop(connection);
      throw new ServiceUnavailableError('The job queue is unavailable', { cause: error });
    }
  }

  /** The state of a published job; `null` when Redis has no such job. */
  async status(job: { id: string; queue: QueueName }): Promise<JobState | null> {
    const found = await this.using(job.queue, (bq) => bq.getJob(job.id));
    if (found === null || found === undefined) return null;
    if (found.status === 'succeeded' || found.status === 'failed') return found.status;
    return 'pending';
  }

  /** Of `jobs`, those Redis still holds to run (waiting, delayed, active); rejects when Redis cannot be asked. */
  async liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    const live = new Set<string>();
    for (const queue of QUEUES) {
      const ids = jobs.filter((job) => job.queue === queue).map((job) => job.id);
      if (ids.length === 0) continue;
      const found = await this.using(queue, (bq) => Promise.all(ids.map((id) => bq.getJob(id))));
      for (const job of found) {
        if (job !== null && job !== undefined && job.status !== 'succeeded' && job.status !== 'failed')
          live.add(job.id);
      }
    }
    return live;
  }

  /** Waiting, active, delayed, succeeded and failed counts of every queue (for health checks). */
  async counts(): Promise<QueueCounts> {
    const entries = await Promise.all(
      QUEUES.map(async (name) => [name, await this.using(name, (bq) => bq.checkHealth())] as const),
    );
    return Object.fromEntries(entries) as QueueCounts;
  }

  /** Closes the connections. Further publishes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.connections.values()) this.drop(connection);
    while (this.disposing.size > 0) await Promise.all(this.disposing);
  }

  /** Runs a command; a failure drops the connection so the next call reconnects. */
  private async using<T>(name: QueueName, command: (bq: BeeQueue) => Promise<T>): Promise<T> {
    if (this.closed) throw new ServiceUnavailableError('The job queue is closed');
    const connection = this.connectionFor(name);
    try {
      return await withTimeout(command(await connection.ready), this.publishTimeoutMs, 'a Redis command');
    } catch (error) {
      this.drop(connection);
      throw new ServiceUnavailableError('The job queue is unavailable', { cause: error });
    }
  }

  private connectionFor(name: QueueName): Connection {
    const existing = this.connections.get(name);
    if (existing !== undefined) return existing;
    const bq = new BeeQueue(name, {
      prefix: this.prefix,
      redis: nodeRedisSettings(this.connection, { offlineQueue: false }),
      isWorker: false,
      getEvents: false,
      sendEvents: false,
      storeJobs: false,
      activateDelayedJobs: this.options.activateDelayedJobs ?? true,
    });
    bq.on('error', (error) => this.logger.warn({ err: error, queue: name }, 'job queue connection error'));
    const connection: Connection = {
      name,
      bq,
      // Handled at once: a first connection that fails must not be an unhandled rejection.
      ready: withTimeout(bq.ready(), this.publishTimeoutMs, 'connecting to Redis').then(
        () => bq,
        (error: unknown) => {
          this.drop(connection);
          throw error;
        },
      ),
    };
    this.connections.set(name, connection);
    return connection;
  }

  /** Forgets a connection (the next publish makes a new one) and closes it in the background. */
  private drop(connection: Connection): void {
    if (this.connections.get(connection.name) === connection) this.connections.delete(connection.name);
    if (connection.closing !== undefined) return;
    const closing = connection.bq
      .close(1_000)
      .catch(() => {})
      .finally(() => this.disposing.delete(closing));
    connection.closing = closing;
    this.disposing.add(closing);
  }
}
