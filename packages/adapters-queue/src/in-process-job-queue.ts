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
import {
  type AttemptObserver,
  backoffDelay,
  DEFAULT_ABORT_GRACE_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type JobState,
  observedAttempt,
  type PerQueue,
  perQueue,
  type QueueDepth,
  type QueueHandlers,
  WorkerStoppingError,
} from './job-attempt.js';

export interface InProcessJobQueueOptions {
  /** The core's `JobHandlers`, or a function returning them (to break the cycle handlers → use cases → queue). */
  handlers: QueueHandlers | (() => QueueHandlers);
  logger?: Logger;
  /** Jobs run at once per queue. Default 2. */
  concurrency?: PerQueue<number>;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** First retry delay; each later one doubles. Default 1000 ms. */
  backoffMs?: number;
  /** Per attempt: then the handler's signal is aborted. Default 10 minutes. */
  timeoutMs?: PerQueue<number>;
  /** Once a handler's signal is aborted, how long it has to settle before its attempt ends without it. Default 5000 ms. */
  abortGraceMs?: number;
  /**
   * How long `close()` waits for running jobs before aborting their signals (the process is
   * stopping): their handlers release their rows, which the reconciler runs again. Default 5000 ms.
   */
  closeTimeoutMs?: number;
  /**
   * How many finished jobs `status()` remembers (oldest forgotten first). Only jobs still waiting,
   * delayed or running deduplicate, however many there are. Default 10 000.
   */
  rememberIds?: number;
  /** Told how every attempt ended and how long it took (for metrics). */
  onAttempt?: AttemptObserver;
}

interface Entry {
  job: Job;
  attempt: number;
}

interface Lane {
  waiting: Entry[];
  running: number;
  concurrency: number;
  timeoutMs: number;
}

/**
 * Runs jobs inside this process with the Redis queue's semantics: a job id published while its
 * job is waiting, delayed or running is one job (published again after it finished, it runs
 * again: the database rows deduplicate), a concurrency limit per queue, 3 retries with
 * exponential backoff, a timeout per attempt that aborts the handler, malformed payloads failed
 * at once, `giveUp` after the last retry. Nothing is persisted: jobs not started when the
 * process stops are lost (they are logged on `close()`).
 */
export class InProcessJobQueue implements JobQueue {
  private readonly getHandlers: () => QueueHandlers;
  private readonly logger: Logger;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly rememberIds: number;
  private readonly abortGraceMs: number;
  private readonly lanes: Record<QueueName, Lane>;
  /** Jobs waiting, delayed or running, by id: never forgotten while they are. */
  private readonly live = new Map<string, Job>();
  /** How recent jobs ended, oldest first, at most `rememberIds`: for `status()` only. */
  private readonly finished = new Map<string, Exclude<JobState, 'pending'>>();
  private readonly timers = new Map<NodeJS.Timeout, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly closeTimeoutMs: number;
  private readonly stopping = new AbortController();
  private readonly onAttempt: AttemptObserver | undefined;

  constructor(options: InProcessJobQueueOptions) {
    const { handlers } = options;
    this.getHandlers = typeof handlers === 'function' ? handlers : () => handlers;
    this.logger = options.logger ?? new SilentLogger();
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.rememberIds = Math.max(0, options.rememberIds ?? 10_000);
    this.abortGraceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.onAttempt = options.onAttempt;
    const lane = (queue: QueueName): Lane => ({
      waiting: [],
      running: 0,
      concurrency: Math.max(1, perQueue(options.concurrency, queue, 2)),
      timeoutMs: perQueue(options.timeoutMs, queue, DEFAULT_TIMEOUT_MS),
    });
    this.lanes = Object.fromEntries(QUEUES.map((q) => [q, lane(q)])) as Record<QueueName, Lane>;
  }

  /**
   * Accepts a job; ignored while a job of that id is waiting, delayed or running. Rejects once
   * the queue is closed.
   */
  async enqueue(job: Job): Promise<void> {
    if (this.closed) throw new ServiceUnavailableError('The job queue is closed');
    if (!Object.hasOwn(this.lanes, job.queue)) throw new TypeError(`Unknown queue ${String(job.queue)}`);
    if (this.live.has(job.id)) return;
    // A copy as it would come out of Redis: later changes by the caller do not leak in.
    const copy: Job = { ...job, payload: JSON.parse(JSON.stringify(job.payload)) };
    this.live.set(job.id, copy);
    this.finished.delete(job.id);
    const delay = job.runAt === undefined ? 0 : job.runAt.getTime() - Date.now();
    this.schedule({ job: copy, attempt: 1 }, delay);
  }

  /**
   * The state of a published job: `pending` while waiting, delayed or running, then how it ended
   * for the last `rememberIds` finished jobs; `null` for an id never published (or forgotten).
   */
  async status(job: { id: string }): Promise<JobState | null> {
    if (this.live.has(job.id)) return 'pending';
    return this.finished.get(job.id) ?? null;
  }

  /**
   * Of `jobs`, those waiting, delayed or running here, on the queue named (a restarted process
   * holds none). Rejects once the queue is closed: what it held is gone, but that is for its
   * successor to say.
   */
  async liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    if (this.closed) throw new ServiceUnavailableError('The job queue is closed');
    return new Set(jobs.filter((job) => this.live.get(job.id)?.queue === job.queue).map((job) => job.id));
  }

  /** Jobs waiting, running and delayed (retries, `runAt`) on every queue. */
  async counts(): Promise<Record<QueueName, QueueDepth>> {
    const counts = Object.fromEntries(
      QUEUES.map((queue) => {
        const lane = this.lanes[queue];
        return [queue, { waiting: lane.waiting.length, active: lane.running, delayed: 0 }];
      }),
    ) as Record<QueueName, QueueDepth>;
    for (const entry of this.timers.values()) counts[entry.job.queue].delayed += 1;
    return counts;
  }

  /** Resolves when no job is waiting, delayed or running. */
  onIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking jobs and waits for the running ones, up to `closeTimeoutMs`; then their signals
   * are aborted and each has `abortGraceMs` to let go. Waiting and delayed jobs are dropped (and
   * logged): an in-process queue keeps nothing across restarts; the rows do, and the reconciler
   * publishes them again at the next start.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      const dropped: Entry[] = [...this.timers.values()];
      for (const timer of this.timers.keys()) clearTimeout(timer);
      this.timers.clear();
      for (const lane of Object.values(this.lanes)) dropped.push(...lane.waiting.splice(0));
      for (const entry of dropped) this.live.delete(entry.job.id);
      if (dropped.length > 0) {
        this.logger.warn(
          { dropped: dropped.length, job_ids: dropped.map((e) => e.job.id) },
          'job queue closed with jobs not run',
        );
      }
    }
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.closeTimeoutMs);
      });
      const first = await Promise.race([Promise.all(this.inFlight), waited]);
      clearTimeout(timer);
      if (first === 'timeout' && this.inFlight.size > 0) {
        this.logger.warn(
          { running: this.inFlight.size, timeout_ms: this.closeTimeoutMs },
          'job queue closing: stopping the jobs still running; they run again after the restart',
        );
        this.stopping.abort(new WorkerStoppingError());
      }
    }
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.settleIdle();
  }

  private finish(id: string, state: Exclude<JobState, 'pending'>): void {
    this.live.delete(id);
    this.finished.delete(id);
    if (this.rememberIds === 0) return;
    this.finished.set(id, state);
    if (this.finished.size > this.rememberIds) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (this.closed) {
      // A retry after close(): dropped like the waiting jobs.
      this.live.delete(entry.job.id);
      this.logger.warn(
        { queue: entry.job.queue, job_id: entry.job.id, attempt: entry.attempt },
        'job queue closed; a retry is not run',
      );
      return;
    }
    if (delayMs <= 0) {
      this.lanes[entry.job.queue].waiting.push(entry);
      this.pump(entry.job.queue);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.schedule(entry, 0);
    }, delayMs);
    this.timers.set(timer, entry);
  }

  private pump(queue: QueueName): void {
    const lane = this.lanes[queue];
    while (!this.closed && lane.running < lane.concurrency && lane.waiting.length > 0) {
      const entry = lane.waiting.shift() as Entry;
      lane.running += 1;
      const run: Promise<void> = this.runEntry(entry, lane).finally(() => {
        lane.running -= 1;
        this.inFlight.delete(run);
        this.pump(queue);
        this.settleIdle();
      });
      this.inFlight.add(run);
    }
  }

  private async runEntry(entry: Entry, lane: Lane): Promise<void> {
    const { job, attempt } = entry;
    const retryDelayMs = backoffDelay(this.backoffMs, attempt);
    const outcome = await observedAttempt(
      this.getHandlers(),
      this.logger,
      {
        queue: job.queue,
        jobId: job.id,
        name: job.name,
        payload: job.payload,
        attempt,
        final: attempt > this.retries,
        retryDelayMs,
        timeoutMs: lane.timeoutMs,
        abortGraceMs: this.abortGraceMs,
        stop: this.stopping.signal,
      },
      this.onAttempt,
    );
    if (outcome.status === 'released') this.live.delete(job.id);
    else if (outcome.status === 'retry') this.schedule({ job, attempt: attempt + 1 }, retryDelayMs);
    else this.finish(job.id, outcome.status === 'succeeded' ? 'succeeded' : 'failed');
  }

  private isIdle(): boolean {
    return this.timers.size === 0 && Object.values(this.lanes).every((l) => l.running === 0 && l.waiting.length === 0);
  }

  private settleIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
