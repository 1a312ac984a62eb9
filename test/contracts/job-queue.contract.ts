import { randomUUID } from 'node:crypto';
import type { Job, JobContext, JobHandlers, JobName, JobPayloads, JobQueue } from '@shipyard/core';
import { type LogEntry, MemoryLogger } from '@shipyard/core/testing';
import test, { type ExecutionContext } from 'ava';

/** A job's state as the implementation reports it. */
export type JobQueueState = 'pending' | 'succeeded' | 'failed';

/** What the suite needs from an implementation: a queue whose jobs run on the given handlers. */
export interface JobQueueSubject {
  queue: JobQueue;
  /**
   * The job's state: `pending` while the queue holds it, then how it ended (as long as the
   * subject remembers); `null` for a job never published.
   */
  status(job: Job): Promise<JobQueueState | null>;
  /** Resolves when no job is waiting, delayed or running. */
  idle(): Promise<void>;
  /** Stops the workers, releases connections and removes what the subject stored. */
  close(): Promise<void>;
}

export interface JobQueueSubjectOptions {
  handlers: Pick<JobHandlers, 'run' | 'giveUp'>;
  /** Every line the subject logs; the suite reads it back. */
  logger: MemoryLogger;
  /** First retry delay (then doubled). */
  backoffMs: number;
  /** Per attempt: then the handler's signal is aborted. */
  timeoutMs: number;
  /** After the abort, how long a handler has to settle. */
  abortGraceMs: number;
  /** Jobs run at once per queue. */
  concurrency: number;
}

/** Builds a fresh, isolated subject (its own store or key prefix) for one test. */
export type JobQueueFactory = (options: JobQueueSubjectOptions) => Promise<JobQueueSubject>;

const BACKOFF_MS = 100;
/** Long enough that no ordinary test meets it on a loaded machine. */
const TIMEOUT_MS = 30_000;
/** For the timeout tests only. */
const SHORT_TIMEOUT_MS = 500;
const ABORT_GRACE_MS = 200;
const CONCURRENCY = 2;
/** Timers may fire a little early against `Date.now()`; never assert tighter than this. */
const TIMER_SLACK_MS = 5;

/** Polls `condition` until it holds; generous, so a loaded machine does not fail the suite. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Run {
  name: JobName;
  payload: unknown;
  context: JobContext;
  at: number;
}

interface GaveUp {
  name: JobName;
  payload: unknown;
  reason: string;
  context: { jobId?: string; attempts?: number };
}

type Behaviour = (run: number, context: JobContext) => Promise<void>;

/** Resolves with the signal's reason once it is aborted. */
const abortOf = (signal: AbortSignal | undefined): Promise<unknown> =>
  new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });

/**
 * Fake handlers keyed by the payload's subject id: each test registers how its job behaves and
 * reads back every run and every `giveUp`.
 */
class ScriptedHandlers {
  readonly runs = new Map<string, Run[]>();
  readonly gaveUp: GaveUp[] = [];
  readonly effects = new Map<string, number>();
  private readonly behaviours = new Map<string, Behaviour>();
  /** Runs in progress, and the most seen at once, per job name. */
  readonly running = new Map<JobName, number>();
  readonly maxRunning = new Map<JobName, number>();

  on(key: string, behaviour: Behaviour): void {
    this.behaviours.set(key, behaviour);
  }

  runsOf(key: string): Run[] {
    return this.runs.get(key) ?? [];
  }

  /** Records the run, then plays the registered behaviour. */
  run = async (name: JobName, payload: unknown, context: JobContext = {}): Promise<unknown> => {
    const key = keyOf(payload);
    const runs = this.runs.get(key) ?? [];
    runs.push({ name, payload, context, at: Date.now() });
    this.runs.set(key, runs);
    const now = (this.running.get(name) ?? 0) + 1;
    this.running.set(name, now);
    this.maxRunning.set(name, Math.max(this.maxRunning.get(name) ?? 0, now));
    try {
      await this.behaviours.get(key)?.(runs.length, context);
      this.effects.set(key, (this.effects.get(key) ?? 0) + 1);
      return undefined;
    } finally {
      this.running.set(name, (this.running.get(name) ?? 1) - 1);
    }
  };

  giveUp = async (name: JobName, payload: unknown, reason: string, context: GaveUp['context'] = {}): Promise<void> => {
    this.gaveUp.push({ name, payload, reason, context });
  };
}

const keyOf = (payload: unknown): string => {
  const p = payload as Record<string, unknown>;
  return String(p.build_id ?? p.deployment_id ?? p.subject_id ?? p.tenant_id);
};

function buildJob(over: Partial<JobPayloads['build.run']> = {}): Job<'build.run'> {
  return {
    id: randomUUID(),
    name: 'build.run',
    queue: 'build',
    payload: { tenant_id: randomUUID(), build_id: randomUUID(), ...over },
  };
}

function notificationJob(): Job<'notification.send'> {
  return {
    id: randomUUID(),
    name: 'notification.send',
    queue: 'default',
    payload: { tenant_id: randomUUID(), event: 'build.finished', subject_id: randomUUID(), status: 'succeeded' },
  };
}

const jobLogs = (logger: MemoryLogger, job: Job): LogEntry[] =>
  logger.entries.filter((e) => e.fields.job_id === job.id);

/**
 * The contract of every `JobQueue`: a published job reaches its handler once, with its id and a
 * signal; a job id published again while the queue holds the job is one job, and published after
 * it finished it runs again (the queue is a cache, the database rows deduplicate); `liveJobs`
 * names the jobs the queue holds; infrastructure failures are retried 3 times with growing
 * delays and then given up; a malformed payload fails at once; an attempt's timeout aborts its
 * handler, which is left behind if it ignores that; concurrency is per queue; and every attempt
 * is logged with queue, job id, tenant, attempt and duration.
 */
export function jobQueueContract(label: string, factory: JobQueueFactory): void {
  const withSubject = (
    title: string,
    body: (t: ExecutionContext, s: JobQueueSubject, h: ScriptedHandlers, logger: MemoryLogger) => Promise<void>,
    over: Partial<Pick<JobQueueSubjectOptions, 'timeoutMs' | 'abortGraceMs'>> = {},
  ) =>
    test(`${label}: ${title}`, async (t) => {
      const handlers = new ScriptedHandlers();
      const logger = new MemoryLogger();
      const subject = await factory({
        handlers,
        logger,
        backoffMs: BACKOFF_MS,
        timeoutMs: TIMEOUT_MS,
        abortGraceMs: ABORT_GRACE_MS,
        concurrency: CONCURRENCY,
        ...over,
      });
      try {
        await body(t, subject, handlers, logger);
      } finally {
        await subject.close();
      }
    });

  const settled = async (subject: JobQueueSubject, job: Job): Promise<JobQueueState | null> => {
    let state = null as JobQueueState | null;
    await waitFor(async () => {
      state = await subject.status(job);
      return state === 'succeeded' || state === 'failed';
    }, `job ${job.id} to settle`);
    return state;
  };

  withSubject('a published job reaches its handler once, with its payload', async (t, subject, handlers, logger) => {
    const job = buildJob();
    t.is(await subject.status(job), null);
    await subject.queue.enqueue(job);
    t.is(await settled(subject, job), 'succeeded');
    await subject.idle();
    const runs = handlers.runsOf(job.payload.build_id);
    t.is(runs.length, 1);
    t.is(runs[0]?.name, 'build.run');
    t.deepEqual(runs[0]?.payload, job.payload);
    t.is(runs[0]?.context.jobId, job.id);
    t.true(runs[0]?.context.signal instanceof AbortSignal);
    t.false(runs[0]?.context.signal?.aborted);
    t.is(handlers.gaveUp.length, 0);

    const done = jobLogs(logger, job).find((e) => e.message === 'job succeeded');
    t.like(done, {
      level: 'info',
      fields: { queue: 'build', job_id: job.id, job_name: 'build.run', tenant_id: job.payload.tenant_id, attempt: 1 },
    });
    t.is(typeof done?.fields.duration_ms, 'number');
  });

  const forgotten = (subject: JobQueueSubject, jobs: Job[]) =>
    waitFor(async () => (await subject.queue.liveJobs(jobs)).size === 0, 'the queue to forget the finished jobs');

  withSubject(
    'a job id published again while its job waits or runs is one job; published after it finished, it runs again',
    async (t, subject, handlers) => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const job = buildJob();
      const key = job.payload.build_id;
      handlers.on(key, async (run) => {
        if (run === 1) await gate;
      });
      await Promise.all([subject.queue.enqueue(job), subject.queue.enqueue(job)]);
      await subject.queue.enqueue({ ...job, payload: { ...job.payload } });
      await waitFor(() => handlers.runsOf(key).length === 1, 'the job to start');
      // Running: still the same job.
      await subject.queue.enqueue(job);
      release();
      t.is(await settled(subject, job), 'succeeded');
      await subject.idle();
      t.is(handlers.runsOf(key).length, 1);
      t.is(handlers.effects.get(key), 1);

      // Finished: the queue forgets it (the rows deduplicate), so a new publish is a new run.
      await forgotten(subject, [job]);
      await subject.queue.enqueue(job);
      await waitFor(() => handlers.effects.get(key) === 2, 'the job to run again');
      await subject.idle();
      t.is(handlers.runsOf(key).length, 2);
    },
  );

  withSubject(
    'liveJobs: waiting, delayed and running jobs are live; finished ones, succeeded or failed, and unknown ones are not',
    async (t, subject, handlers) => {
      const succeeded = notificationJob();
      const failed = buildJob();
      handlers.on(failed.payload.build_id, async () => {
        throw new Error('runner unreachable');
      });
      await subject.queue.enqueue(succeeded);
      await subject.queue.enqueue(failed);
      t.is(await settled(subject, succeeded), 'succeeded');
      t.is(await settled(subject, failed), 'failed');

      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const running = Array.from({ length: CONCURRENCY }, () => buildJob());
      for (const job of running) handlers.on(job.payload.build_id, () => gate);
      for (const job of running) await subject.queue.enqueue(job);
      await waitFor(() => handlers.running.get('build.run') === CONCURRENCY, 'the build queue to fill its slots');
      const waiting = buildJob();
      const delayed: Job = { ...buildJob(), runAt: new Date(Date.now() + 60_000) };
      await subject.queue.enqueue(waiting);
      await subject.queue.enqueue(delayed);
      const unknown = buildJob();
      const all = [...running, waiting, delayed, succeeded, failed, unknown];

      await forgotten(subject, [succeeded, failed]);
      const sorted = (ids: Iterable<string>) => [...ids].sort();
      t.deepEqual(sorted(await subject.queue.liveJobs(all)), sorted([...running, waiting, delayed].map((j) => j.id)));
      t.deepEqual(sorted(await subject.queue.liveJobs([{ id: waiting.id, queue: 'deployment' }])), [], 'another queue');
      t.deepEqual(sorted(await subject.queue.liveJobs([])), []);

      release();
      for (const job of [...running, waiting]) t.is(await settled(subject, job), 'succeeded');
      await forgotten(subject, [...running, waiting]);
      t.deepEqual(sorted(await subject.queue.liveJobs(all)), [delayed.id]);
    },
  );

  withSubject('a job that failed for good, published again, runs again', async (t, subject, handlers) => {
    const job = buildJob();
    const key = job.payload.build_id;
    handlers.on(key, async (run) => {
      if (run <= 4) throw new Error('runner unreachable');
    });
    await subject.queue.enqueue(job);
    t.is(await settled(subject, job), 'failed');
    t.is(handlers.gaveUp.length, 1);
    await forgotten(subject, [job]);
    await subject.queue.enqueue(job);
    await waitFor(() => handlers.effects.get(key) === 1, 'the job to run again');
    await subject.idle();
    t.is(handlers.runsOf(key).length, 5);
    t.is(handlers.gaveUp.length, 1);
  });

  withSubject(
    'a handler that throws twice runs three times, with growing delays, and its effect applies once',
    async (t, subject, handlers, logger) => {
      const job = buildJob();
      handlers.on(job.payload.build_id, async (run) => {
        if (run <= 2) throw new Error(`database unreachable (run ${run})`);
      });
      await subject.queue.enqueue(job);
      t.is(await settled(subject, job), 'succeeded');
      await subject.idle();

      const runs = handlers.runsOf(job.payload.build_id);
      t.is(runs.length, 3);
      t.is(handlers.effects.get(job.payload.build_id), 1);
      t.is(handlers.gaveUp.length, 0);
      const [first, second, third] = runs.map((r) => r.at) as [number, number, number];
      t.true(second - first >= BACKOFF_MS - TIMER_SLACK_MS, `first retry after ${second - first} ms`);
      t.true(third - second >= 2 * BACKOFF_MS - TIMER_SLACK_MS, `second retry after ${third - second} ms`);

      const retries = jobLogs(logger, job).filter((e) => e.message === 'job failed; will retry');
      t.deepEqual(
        retries.map((e) => [e.level, e.fields.attempt, e.fields.retry_in_ms]),
        [
          ['warn', 1, BACKOFF_MS],
          ['warn', 2, 2 * BACKOFF_MS],
        ],
      );
      t.like(
        jobLogs(logger, job).find((e) => e.message === 'job succeeded'),
        { fields: { attempt: 3 } },
      );
    },
  );

  withSubject(
    'a handler that always throws ends failed after 3 retries, and giveUp runs once',
    async (t, subject, handlers, logger) => {
      const job = buildJob();
      handlers.on(job.payload.build_id, async () => {
        throw new Error('runner unreachable');
      });
      await subject.queue.enqueue(job);
      t.is(await settled(subject, job), 'failed');
      await subject.idle();

      t.is(handlers.runsOf(job.payload.build_id).length, 4);
      t.is(handlers.gaveUp.length, 1);
      t.is(handlers.gaveUp[0]?.name, 'build.run');
      t.deepEqual(handlers.gaveUp[0]?.payload, job.payload);
      t.regex(handlers.gaveUp[0]?.reason ?? '', /runner unreachable/);
      t.deepEqual(handlers.gaveUp[0]?.context, { jobId: job.id, attempts: 4 });
      t.like(
        jobLogs(logger, job).find((e) => e.message === 'job failed on its last attempt; giving up'),
        { level: 'error', fields: { attempt: 4, tenant_id: job.payload.tenant_id } },
      );
    },
  );

  withSubject(
    'a malformed payload fails at once: no run, no retry, no giveUp',
    async (t, subject, handlers, logger) => {
      const badTenant = buildJob({ tenant_id: 'not-a-uuid' });
      const extraField = { ...buildJob(), payload: { ...buildJob().payload, command: 'rm -rf /' } } as Job;
      const wrongName = { ...buildJob(), name: 'build.explode' } as unknown as Job;
      for (const job of [badTenant, extraField, wrongName]) await subject.queue.enqueue(job);
      for (const job of [badTenant, extraField, wrongName]) t.is(await settled(subject, job), 'failed');
      await subject.idle();

      t.is(handlers.runs.size, 0);
      t.is(handlers.gaveUp.length, 0);
      for (const job of [badTenant, extraField, wrongName]) {
        const entries = jobLogs(logger, job);
        t.is(entries.length, 1, `one log line for ${job.id}`);
        t.like(entries[0], { level: 'error', fields: { queue: 'build', attempt: 1 } });
      }
    },
  );

  const ignoredAbort = (logger: MemoryLogger, job: Job) =>
    jobLogs(logger, job).filter(
      (e) => e.message === 'job handler ignored its abort signal; its attempt ends without it',
    );

  withSubject(
    "the timeout aborts the handler's signal with a JobTimeoutError; a handler that then resolves succeeded, not retried",
    async (t, subject, handlers, logger) => {
      const job = buildJob();
      let reason: unknown;
      let abortedAt = 0;
      handlers.on(job.payload.build_id, async (_run, context) => {
        reason = await abortOf(context.signal);
        abortedAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, ABORT_GRACE_MS / 4)); // cleans up
      });
      const published = Date.now();
      await subject.queue.enqueue(job);
      t.is(await settled(subject, job), 'succeeded');
      await subject.idle();
      t.is(handlers.runsOf(job.payload.build_id).length, 1);
      t.like(reason, { name: 'JobTimeoutError', code: 'job_timeout', timeoutMs: SHORT_TIMEOUT_MS });
      // Not at once but at the timeout; loosely, as a timer armed on a busy event loop counts from
      // the loop's cached time, which may be well behind Date.now().
      const abortedAfter = abortedAt - published;
      t.true(abortedAfter >= SHORT_TIMEOUT_MS / 2, `aborted ${abortedAfter} ms after publishing`);
      t.is(handlers.gaveUp.length, 0);
      t.like(
        jobLogs(logger, job).find((e) => e.message === 'job succeeded'),
        { level: 'info', fields: { attempt: 1, aborted_by: 'job_timeout' } },
      );
      t.deepEqual(ignoredAbort(logger, job), []);
    },
    { timeoutMs: SHORT_TIMEOUT_MS },
  );

  withSubject(
    'a handler that rejects on its abort is failed and retried',
    async (t, subject, handlers, logger) => {
      const job = buildJob();
      handlers.on(job.payload.build_id, async (run, context) => {
        if (run === 1) throw await abortOf(context.signal);
      });
      await subject.queue.enqueue(job);
      t.is(await settled(subject, job), 'succeeded');
      await subject.idle();
      t.is(handlers.runsOf(job.payload.build_id).length, 2);
      t.is(handlers.gaveUp.length, 0);
      t.like(
        jobLogs(logger, job).find((e) => e.message === 'job failed; will retry'),
        { level: 'warn', fields: { attempt: 1, aborted_by: 'job_timeout' } },
      );
      t.deepEqual(ignoredAbort(logger, job), []);
    },
    { timeoutMs: SHORT_TIMEOUT_MS },
  );

  withSubject(
    'a handler that ignores its abort still ends its attempt after the grace, and is retried',
    async (t, subject, handlers, logger) => {
      const job = buildJob();
      handlers.on(job.payload.build_id, async (run) => {
        if (run === 1) await new Promise(() => {}); // hangs, deaf to its signal
      });
      await subject.queue.enqueue(job);
      t.is(await settled(subject, job), 'succeeded');
      const runs = handlers.runsOf(job.payload.build_id);
      t.is(runs.length, 2);
      t.true(runs[0]?.context.signal?.aborted);
      t.false(runs[1]?.context.signal?.aborted);
      // Timeout, grace, then backoff: 1000 ms (600 without the grace), less what early timers take.
      const gap = (runs[1]?.at ?? 0) - (runs[0]?.at ?? 0);
      t.true(gap >= SHORT_TIMEOUT_MS + 2 * ABORT_GRACE_MS - 200 + BACKOFF_MS, `retried after ${gap} ms`);
      t.is(handlers.gaveUp.length, 0);
      t.like(ignoredAbort(logger, job), [{ level: 'warn', fields: { attempt: 1, aborted_by: 'job_timeout' } }]);
    },
    { timeoutMs: SHORT_TIMEOUT_MS, abortGraceMs: 2 * ABORT_GRACE_MS },
  );

  withSubject(
    'a handler that always ignores its abort is given up after its last attempt, with its job id and attempts',
    async (t, subject, handlers, logger) => {
      const job = buildJob();
      handlers.on(job.payload.build_id, () => new Promise(() => {}));
      await subject.queue.enqueue(job);
      t.is(await settled(subject, job), 'failed');
      t.is(handlers.runsOf(job.payload.build_id).length, 4);
      t.is(handlers.gaveUp.length, 1);
      t.like(handlers.gaveUp[0], { name: 'build.run', context: { jobId: job.id, attempts: 4 } });
      t.regex(handlers.gaveUp[0]?.reason ?? '', /timed out after 500 ms/);
      t.is(ignoredAbort(logger, job).length, 4);
      t.like(
        jobLogs(logger, job).find((e) => e.message === 'job failed on its last attempt; giving up'),
        { level: 'error', fields: { attempt: 4, aborted_by: 'job_timeout' } },
      );
    },
    { timeoutMs: SHORT_TIMEOUT_MS },
  );

  withSubject('concurrency is limited per queue, and queues run independently', async (t, subject, handlers) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const builds = Array.from({ length: 3 * CONCURRENCY }, () => buildJob());
    for (const job of builds) handlers.on(job.payload.build_id, () => gate);
    for (const job of builds) await subject.queue.enqueue(job);
    await waitFor(() => handlers.running.get('build.run') === CONCURRENCY, 'the build queue to fill its slots');

    // The build queue is full; a job on another queue still runs.
    const other = notificationJob();
    await subject.queue.enqueue(other);
    t.is(await settled(subject, other), 'succeeded');
    t.is(handlers.running.get('build.run'), CONCURRENCY);

    release();
    for (const job of builds) t.is(await settled(subject, job), 'succeeded');
    t.is(handlers.maxRunning.get('build.run'), CONCURRENCY);
    t.is(handlers.runs.size, builds.length + 1);
  });

  withSubject('a job with runAt waits until then', async (t, subject, handlers) => {
    const job: Job = { ...buildJob(), runAt: new Date(Date.now() + 300) };
    const published = Date.now();
    await subject.queue.enqueue(job);
    t.is(await settled(subject, job), 'succeeded');
    const [run] = handlers.runsOf((job.payload as JobPayloads['build.run']).build_id);
    t.true((run?.at ?? 0) - published >= 300 - TIMER_SLACK_MS);
  });
}
