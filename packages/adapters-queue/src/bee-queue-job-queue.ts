import {
  type Job,
  type JobQueue,
  type JobRef,
  type Logger,
  QUEUES,
  type QueueName,
  ServiceUnavailableError,
  SilentLogger,
  withTimeout,
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
 * the worker enforces the job's timeout itself (it aborts the handler, leaves it a grace to
 * settle, and can still call `giveUp` on a last attempt that timed out). The backstop leaves it
 * this long to do so; the worker keeps its abort grace to at most half of it.
 */
export const TIMEOUT_GRACE_MS = 30_000;

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

const tookTooLong = (what: string) => (ms: number) => new Error(`${what} took longer than ${ms} ms`);

/** What `liveJobs` reads of bee-queue: its command client and key names (not in its typings). */
interface BeeQueueInternals {
  client: { hmget(key: string, fields: string[], cb: (err: Error | null, values: Array<string | null>) => void): void };
  toKey(name: string): string;
}

/** Ids per HMGET: one round trip per queue for any batch a reconciler asks about. */
const LIVE_JOBS_CHUNK = 1_000;

/**
 * Publishes jobs to bee-queue over Redis: one bee-queue queue per platform queue, the job id set
 * to the core's job id (a second publish of an id is a no-op while Redis holds the job: waiting,
 * delayed or running; workers prune finished jobs, the database rows deduplicate those), 3
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
      const saved = await withTimeout(created.save(), this.publishTimeoutMs, tookTooLong('publishing a job'));
      if (saved.id === null) this.logger.debug({ queue: job.queue, job_id: job.id }, 'job already published');
    } catch (error) {
      this.drop(connection);
      throw new ServiceUnavailableError('The job queue is unavailable', { cause: error });
    }
  }

  /**
   * The state of a published job; `null` when Redis has no such job: never published, or
   * finished and pruned (workers drop finished records by default).
   */
  async status(job: { id: string; queue: QueueName }): Promise<JobState | null> {
    const found = await this.using(job.queue, (bq) => bq.getJob(job.id));
    if (found === null || found === undefined) return null;
    if (found.status === 'succeeded' || found.status === 'failed') return found.status;
    return 'pending';
  }

  /**
   * Of `jobs`, those Redis still holds to run: waiting, delayed (a retry, a `runAt`) or running.
   * One HMGET on each queue's `jobs` hash, the queues asked at once: a job with no record (pruned
   * or lost) or whose record says it finished is not live, nor is a job of an unknown queue.
   * Rejects with `service_unavailable` when any queue cannot be asked, never reporting a partial
   * answer.
   */
  async liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    const byQueue = new Map<QueueName, Set<string>>();
    for (const job of jobs) {
      if (!QUEUES.includes(job.queue)) continue;
      const ids = byQueue.get(job.queue) ?? new Set<string>();
      ids.add(job.id);
      byQueue.set(job.queue, ids);
    }
    const found = await Promise.all(
      [...byQueue].map(([queue, ids]) => this.using(queue, (bq) => liveIn(bq, [...ids]))),
    );
    return new Set(found.flat());
  }

  /**
   * Waiting, active, delayed, succeeded and failed counts of every queue (for health checks and
   * metrics). Rejects with `service_unavailable` when Redis does not answer within `timeoutMs`
   * (default: the publish timeout), connecting included.
   */
  async counts(options: { timeoutMs?: number } = {}): Promise<QueueCounts> {
    const timeoutMs = options.timeoutMs ?? this.publishTimeoutMs;
    const entries = await Promise.all(
      QUEUES.map(async (name) => [name, await this.using(name, (bq) => bq.checkHealth(), timeoutMs)] as const),
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
  private async using<T>(
    name: QueueName,
    command: (bq: BeeQueue) => Promise<T>,
    timeoutMs = this.publishTimeoutMs,
  ): Promise<T> {
    if (this.closed) throw new ServiceUnavailableError('The job queue is closed');
    const connection = this.connectionFor(name);
    try {
      // A shorter timeout than the publish timeout bounds the wait for the connection too.
      const ready =
        timeoutMs < this.publishTimeoutMs
          ? withTimeout(connection.ready, timeoutMs, tookTooLong('connecting to Redis'))
          : connection.ready;
      return await withTimeout(command(await ready), timeoutMs, tookTooLong('a Redis command'));
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
      ready: withTimeout(bq.ready(), this.publishTimeoutMs, tookTooLong('connecting to Redis')).then(
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

/** The ids of `ids` whose record in `bq`'s `jobs` hash says they are still to run. */
async function liveIn(bq: BeeQueue, ids: readonly string[]): Promise<string[]> {
  const internals = bq as unknown as BeeQueueInternals;
  const key = internals.toKey('jobs');
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += LIVE_JOBS_CHUNK) chunks.push(ids.slice(i, i + LIVE_JOBS_CHUNK));
  const records = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<Array<string | null>>((resolve, reject) =>
          internals.client.hmget(key, chunk, (err, values) => (err ? reject(err) : resolve(values))),
        ),
    ),
  );
  const flat = records.flat();
  return ids.filter((_, i) => isLiveRecord(flat[i]));
}

/** A record as bee-queue's `Job#toData` writes it: `status` is `created`, `retrying`, `succeeded` or `failed`. */
function isLiveRecord(record: string | null | undefined): boolean {
  if (record === null || record === undefined) return false;
  try {
    const status = (JSON.parse(record) as { status?: unknown }).status;
    return status !== 'succeeded' && status !== 'failed';
  } catch {
    // Not ours to judge: bee-queue still holds it.
    return true;
  }
}
