import { performance } from 'node:perf_hooks';
import {
  isJobName,
  type JobHandlers,
  type JobName,
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

/** A handler that did not settle within the job's timeout. */
export class JobTimeoutError extends Error {
  readonly code = 'job_timeout';
  constructor(readonly timeoutMs: number) {
    super(`Job timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
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
  timeoutMs: number;
}

export type AttemptOutcome =
  | { status: 'succeeded' }
  /** Malformed job: failed at once, never retried, no `giveUp`. */
  | { status: 'invalid'; error: ValidationError }
  | { status: 'retry'; error: unknown }
  /** The last attempt failed; `giveUp` has run. */
  | { status: 'failed'; error: unknown };

const tenantOf = (payload: unknown): unknown =>
  typeof payload === 'object' && payload !== null ? (payload as { tenant_id?: unknown }).tenant_id : undefined;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const elapsed = (start: number): number => Math.round(performance.now() - start);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JobTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs one delivery of a job the way every queue adapter must: validate the payload on receipt,
 * run the handler under a timeout, and on failure decide between retry, `giveUp` (last attempt)
 * and failing at once (`ValidationError`). Logs one line per attempt with queue, job id,
 * tenant, attempt and duration. Never throws.
 */
export async function runAttempt(handlers: QueueHandlers, logger: Logger, spec: AttemptSpec): Promise<AttemptOutcome> {
  const log = logger.child({
    queue: spec.queue,
    job_id: spec.jobId,
    job_name: spec.name,
    tenant_id: tenantOf(spec.payload),
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
  try {
    await withTimeout(
      Promise.resolve().then(() => handlers.run(name, spec.payload)),
      spec.timeoutMs,
    );
    log.info({ duration_ms: elapsed(start) }, 'job succeeded');
    return { status: 'succeeded' };
  } catch (error) {
    if (error instanceof ValidationError) return invalid(log, error, start);
    if (!spec.final) {
      log.warn({ err: error, duration_ms: elapsed(start), retry_in_ms: spec.retryDelayMs }, 'job failed; will retry');
      return { status: 'retry', error };
    }
    log.error({ err: error, duration_ms: elapsed(start) }, 'job failed on its last attempt; giving up');
    try {
      await handlers.giveUp(name, spec.payload, messageOf(error));
    } catch (giveUpError) {
      log.error({ err: giveUpError }, 'giving up on the job failed');
    }
    return { status: 'failed', error };
  }
}

function invalid(log: Logger, error: unknown, start: number): AttemptOutcome {
  if (!(error instanceof ValidationError)) throw error;
  log.error(
    { err: error, details: error.details, duration_ms: elapsed(start) },
    'job is malformed; failed without retry',
  );
  return { status: 'invalid', error };
}
