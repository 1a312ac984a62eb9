import { ServiceUnavailableError } from '../domain/app.errors.js';
import type { Repositories } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';
import { isStaleWrite } from './retry.js';

/**
 * Why a running attempt's signal was aborted: the user cancelled the row, another worker took it
 * over (this worker's lease lapsed), or the job itself was aborted (its timeout, a worker
 * shutting down).
 */
export class AttemptAborted extends Error {
  constructor(
    readonly kind: 'cancelled' | 'lost' | 'job',
    message: string,
  ) {
    super(message);
    this.name = 'AttemptAborted';
  }
}

export const abortKind = (signal: AbortSignal): AttemptAborted['kind'] | null =>
  signal.aborted ? (signal.reason instanceof AttemptAborted ? signal.reason.kind : 'job') : null;

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `work` (a unit of work of a job) and, while the database is unavailable, runs it again
 * with a capped backoff, up to `settings.databaseWaitMs` or until `signal` aborts. A database
 * outage is not the job's fault: the job waits it out instead of spending its attempts.
 */
export async function waitForDatabase<T>(
  deps: Pick<CoreDeps, 'logger' | 'settings'>,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + deps.settings.databaseWaitMs;
  let delay = 100;
  let warned = false;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError) || Date.now() + delay > deadline || signal?.aborted) throw error;
      if (!warned) {
        deps.logger.warn({ err: error, wait_ms: deps.settings.databaseWaitMs }, 'database unavailable; the job waits');
        warned = true;
      }
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/** The end of a new lease taken or renewed at `now`. */
export const leaseEnd = (deps: Pick<CoreDeps, 'settings'>, now: Date): Date =>
  new Date(now.getTime() + deps.settings.jobLeaseMs);

/** What a tick of the lease watch found about the row. */
export type LeaseCheck = 'held' | 'renew' | 'cancelled' | 'lost';

/**
 * While an attempt runs: every `settings.cancelCheckIntervalMs` reads the row (`check`, in a unit
 * of the row's tenant), renews
 * the lease once a third of it has passed (`renew`), and aborts `controller` when the row was
 * cancelled or another worker took it. A tick that cannot reach the database is logged and the
 * next one tries again. Returns the function that stops watching.
 */
export function watchLease(
  deps: Pick<CoreDeps, 'uow' | 'clock' | 'logger' | 'settings'>,
  controller: AbortController,
  tenantId: string,
  check: (repos: Repositories, now: Date) => Promise<LeaseCheck>,
  renew: (repos: Repositories, now: Date) => Promise<void>,
): () => void {
  const interval = deps.settings.cancelCheckIntervalMs;
  if (interval <= 0) return () => {};
  let running = false;
  const tick = async () => {
    if (running || controller.signal.aborted) return;
    running = true;
    try {
      const found = await deps.uow.run(tenantId, async (repos) => {
        const now = deps.clock.now();
        const state = await check(repos, now);
        if (state === 'renew') await renew(repos, now);
        return state;
      });
      if (found === 'cancelled') controller.abort(new AttemptAborted('cancelled', 'Cancelled'));
      if (found === 'lost') controller.abort(new AttemptAborted('lost', 'Another worker took over'));
    } catch (error) {
      // A cancel written at the same moment wins the row; the next tick sees it.
      if (isStaleWrite(error)) deps.logger.debug({ err: error }, 'lease renewal lost a race; checking again');
      else deps.logger.warn({ err: error }, 'lease check failed; trying again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), interval);
  timer.unref?.();
  return () => clearInterval(timer);
}

/** Whether a lease ending at `until` should be renewed now (a third of it has passed). */
export const leaseNeedsRenewal = (deps: Pick<CoreDeps, 'settings'>, until: Date | null, now: Date): boolean =>
  until === null || until.getTime() - now.getTime() < (deps.settings.jobLeaseMs * 2) / 3;

/** An abort signal that follows `outer` and can also be aborted on its own. */
export function linkedController(outer: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const follow = () => controller.abort(outer.reason);
  if (outer.aborted) follow();
  else outer.addEventListener('abort', follow, { once: true });
  return { controller, unlink: () => outer.removeEventListener('abort', follow) };
}

/**
 * `work`, unless `signal` aborts and `work` has not settled `graceMs` later: then it rejects with
 * the abort reason. A runner that ignores its signal cannot keep its row: the attempt ends, the
 * row is freed, and whatever the runner returns later is moot (a later attempt fenced it out).
 */
export function abandonAfterAbort<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason ?? new AttemptAborted('job', 'Aborted')), graceMs);
    };
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}
