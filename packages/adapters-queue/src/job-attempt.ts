import { performance } from 'node:perf_hooks';
import {
  isJobName,
  type JobHandlers,
  type JobName,
  jobLogFields,
  type Logger,
  parseJobPayload,
  type QueueName,
  ValidationError,
} from '@shipyard/core';

/** What a queue adapter needs from the core: `JobHandlers`, or any object with the same two methods. */
export type QueueHandlers = Pick<JobHandlers, 'run' | 'giveUp'>;

/** The platform's retry policy: 3 retries after the first attempt, exponential backoff. */
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF_MS = 1_000;
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Jobs of one queue still to finish: waiting to run, running, and waiting for their time (retries, `runAt`). */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
}

/** Where a published job stands: not finished yet, or its final outcome. */
export type JobState = 'pending' | 'succeeded' | 'failed';

/** A value for every queue, or one value for all of them. */
export type PerQueue<T> = T | Partial<Record<QueueName, T>>;

export const perQueue = <T>(value: PerQueue<T> | undefined, queue: QueueName, fallback: T): T => {
  if (value === undefined) return fallback;
  if (typeof value === 'object' && value !== null) return (value as Partial<Record<QueueName, T>>)[queue] ?? fallback;
  return value as T;
};

/** Delay before retry number `retry` (1-based): base, 2×base, 4×base… as bee-queue's `exponential`. */
export const backoffDelay = (baseMs: number, retry: number): number => baseMs * 2 ** (retry - 1);

/**
 * How long a handler has, once its signal is aborted (timeout, worker stopping), to settle before
 * its attempt ends without it.
 */
export const DEFAULT_ABORT_GRACE_MS = 5_000;

/** The abort reason of a handler whose job outlived its timeout; the error of an attempt that then ignored it. */
export class JobTimeoutError extends Error {
  readonly code = 'job_timeout';
  constructor(readonly timeoutMs: number) {
    super(`Job timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/** The abort reason of a handler still running when its worker stops. */
export class WorkerStoppingError extends Error {
  readonly code = 'worker_stopping';
  constructor() {
    super('The worker is stopping');
    this.name = 'WorkerStoppingError';
  }
}

export interface AttemptSpec {
  queue: QueueName;
  jobId: string;
  /** As received: validated here. */
  name: unknown;
  payload: unknown;
  /** 1 for the first run. */
  attempt: number;
  /** No retry is left after this attempt. */
  final: boolean;
  /** Delay before the next attempt if this one fails (for the logs). */
  retryDelayMs: number;
  /** The handler's signal is aborted after this long (none when not a positive finite number). */
  timeoutMs: number;
  /** After the abort, how long the handler has to settle before the attempt ends without it. */
  abortGraceMs: number;
  /**
   * Aborted when the worker stops: the handler's signal follows, and a handler that then fails
   * (or ignores it) is released, neither retried nor given up, since the job runs again elsewhere.
   */
  stop?: AbortSignal;
}

export type AttemptOutcome =
  | { status: 'succeeded' }
  /** Malformed job: failed at once, never retried, no `giveUp`. */
  | { status: 'invalid'; error: ValidationError }
  | { status: 'retry'; error: unknown }
  /** The last attempt failed; `giveUp` has run. */
  | { status: 'failed'; error: unknown }
  /** The worker stopped during the attempt: no retry used, no `giveUp`. */
  | { status: 'released'; error: unknown };

/** One attempt that ended, for metrics: its queue, its job's name, how it ended, how long it took. */
export interface AttemptRecord {
  queue: QueueName;
  /** The job's name; `unknown` for a name that is not one of the platform's jobs. */
  name: JobName | 'unknown';
  outcome: AttemptOutcome['status'];
  durationMs: number;
}

/**
 * Told about every attempt a queue adapter ran (the composition root turns these into metrics).
 * Called synchronously once the attempt ended; it must be cheap and must not throw.
 */
export type AttemptObserver = (record: AttemptRecord) => void;

/** Runs `runAttempt` and tells `observer` how it went; an observer that throws is logged, never the job's failure. */
export async function observedAttempt(
  handlers: QueueHandlers,
  logger: Logger,
  spec: AttemptSpec,
  observer: AttemptObserver | undefined,
): Promise<AttemptOutcome> {
  if (observer === undefined) return runAttempt(handlers, logger, spec);
  const start = performance.now();
  const outcome = await runAttempt(handlers, logger, spec);
  try {
    observer({
      queue: spec.queue,
      name: isJobName(spec.name) ? spec.name : 'unknown',
      outcome: outcome.status,
      durationMs: performance.now() - start,
    });
  } catch (error) {
    logger.error({ err: error, queue: spec.queue, job_id: spec.jobId }, 'the attempt observer failed');
  }
  return outcome;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const elapsed = (start: number): number => Math.round(performance.now() - start);

type Settled = { ok: true } | { ok: false; error: unknown };

/** What the handler did: settled (maybe after its abort), or still running after the grace. */
type Supervised = Settled & { aborted: boolean; ignoredAbort: boolean };

/**
 * Waits for `settled`, aborting `controller` at the timeout or when `stop` aborts, then leaving
 * the handler `abortGraceMs` to settle. Clears its timers and listeners in every case.
 */
async function supervise(
  settled: Promise<Settled>,
  controller: AbortController,
  spec: AttemptSpec,
): Promise<Supervised> {
  const { timeoutMs, stop } = spec;
  const cleanups: Array<() => void> = [];
  try {
    const aborted = new Promise<'aborted'>((resolve) => {
      const onAbort = () => resolve('aborted');
      controller.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => controller.signal.removeEventListener('abort', onAbort));
    });
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      const timer = setTimeout(() => controller.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
      cleanups.push(() => clearTimeout(timer));
    }
    if (stop !== undefined) {
      const onStop = () => controller.abort(stop.reason ?? new WorkerStoppingError());
      if (stop.aborted) onStop();
      else {
        stop.addEventListener('abort', onStop, { once: true });
        cleanups.push(() => stop.removeEventListener('abort', onStop));
      }
    }
    const first = await Promise.race([settled, aborted]);
    if (first !== 'aborted') return { ...first, aborted: false, ignoredAbort: false };
    const grace = new Promise<'ignored'>((resolve) => {
      const timer = setTimeout(() => resolve('ignored'), Math.max(0, spec.abortGraceMs));
      cleanups.push(() => clearTimeout(timer));
    });
    const second = await Promise.race([settled, grace]);
    if (second !== 'ignored') return { ...second, aborted: true, ignoredAbort: false };
    return { ok: false, error: controller.signal.reason, aborted: true, ignoredAbort: true };
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}

/**
 * Runs one delivery of a job the way every queue adapter must: validate the payload on receipt,
 * run the handler with the job's id and an `AbortSignal`, and on failure decide between retry,
 * `giveUp` (last attempt) and failing at once (`ValidationError`).
 *
 * At `timeoutMs` the signal is aborted with a `JobTimeoutError`, and the handler has
 * `abortGraceMs` to settle: resolving then is a success (it dealt with its timeout), rejecting
 * is a failure as any other, and a handler still running after the grace is left behind: the
 * attempt fails with the `JobTimeoutError` (and a warning says it ignored its abort). The same
 * when `stop` aborts, except that the attempt is then released rather than failed.
 *
 * Logs one line per attempt with queue, job id, tenant, the row the job is about (`jobLogFields`),
 * attempt and duration; the handler gets the same logger (`JobContext.logger`). Never throws.
 */
export async function runAttempt(handlers: QueueHandlers, logger: Logger, spec: AttemptSpec): Promise<AttemptOutcome> {
  const log = logger.child({
    queue: spec.queue,
    job_id: spec.jobId,
    job_name: spec.name,
    ...jobLogFields(spec.payload),
    attempt: spec.attempt,
  });
  const start = performance.now();
  let name: JobName;
  try {
    if (!isJobName(spec.name)) throw ValidationError.field('name', `unknown job ${String(spec.name)}`);
    name = spec.name;
    parseJobPayload(name, spec.payload);
  } catch (error) {
    return invalid(log, error, start);
  }

  log.debug({}, 'job started');
  const controller = new AbortController();
  const settled: Promise<Settled> = Promise.resolve()
    .then(() => handlers.run(name, spec.payload, { jobId: spec.jobId, signal: controller.signal, logger: log }))
    .then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  const result = await supervise(settled, controller, spec);
  const abortReason = result.aborted ? (controller.signal.reason as unknown) : undefined;
  const aborted = abortReason === undefined ? {} : { aborted_by: codeOf(abortReason) };
  if (result.ignoredAbort) {
    log.warn(
      { ...aborted, grace_ms: spec.abortGraceMs, duration_ms: elapsed(start) },
      'job handler ignored its abort signal; its attempt ends without it',
    );
  }
  if (result.ok) {
    log.info({ ...aborted, duration_ms: elapsed(start) }, 'job succeeded');
    return { status: 'succeeded' };
  }
  const { error } = result;
  if (abortReason instanceof WorkerStoppingError) {
    log.warn({ err: error, duration_ms: elapsed(start) }, 'job released: the worker is stopping');
    return { status: 'released', error };
  }
  if (error instanceof ValidationError) return invalid(log, error, start);
  if (!spec.final) {
    log.warn(
      { ...aborted, err: error, duration_ms: elapsed(start), retry_in_ms: spec.retryDelayMs },
      'job failed; will retry',
    );
    return { status: 'retry', error };
  }
  log.error({ ...aborted, err: error, duration_ms: elapsed(start) }, 'job failed on its last attempt; giving up');
  try {
    await handlers.giveUp(name, spec.payload, messageOf(error), { jobId: spec.jobId, attempts: spec.attempt });
  } catch (giveUpError) {
    log.error({ err: giveUpError }, 'giving up on the job failed');
  }
  return { status: 'failed', error };
}

const codeOf = (reason: unknown): unknown =>
  typeof reason === 'object' && reason !== null && 'code' in reason ? reason.code : String(reason);

function invalid(log: Logger, error: unknown, start: number): AttemptOutcome {
  if (!(error instanceof ValidationError)) throw error;
  log.error(
    { err: error, details: error.details, duration_ms: elapsed(start) },
    'job is malformed; failed without retry',
  );
  return { status: 'invalid', error };
}
