import type { Logger, ReconcileJobs, ReconcileRuntime } from '@shipyard/core';

export interface ReconcilerOptions {
  reconcile: Pick<ReconcileJobs, 'execute'>;
  intervalMs: number;
  /** The first run treats every running row as abandoned (a process that owns its database alone). */
  expireLeasesFirst: boolean;
  /** After a run that published jobs again (to nudge the outbox relay). */
  onRepublished: () => void;
  logger: Logger;
}

/** Runs `run` at once and then `intervalMs` after each run ends, never two at once. */
function startLoop(run: () => Promise<void>, intervalMs: number): { stop: () => Promise<void> } {
  let stopped = false;
  let current: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped || current !== undefined) return;
    current = run().finally(() => {
      current = undefined;
      if (!stopped) {
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      }
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}

/**
 * Runs the core's job reconciler at once and then every `intervalMs`. A run that fails (the
 * database is down) is logged as a warning; the next one tries again.
 */
export function startReconciler(options: ReconcilerOptions): { stop: () => Promise<void> } {
  let first = true;
  return startLoop(async () => {
    try {
      const report = await options.reconcile.execute({ expireLeases: first && options.expireLeasesFirst });
      first = false;
      if (report.republished > 0) options.onRepublished();
    } catch (error) {
      options.logger.warn({ err: error }, 'reconciler run failed; trying again later');
    }
  }, options.intervalMs);
}

/**
 * In the process that owns the runtime: makes the running apps match the live deployments, at
 * start (after a restart every live app is started again) and then every `intervalMs` (a
 * crashed app is restarted, the instance of a deleted service stopped). Stopping aborts a run.
 */
export function startRuntimeReconciler(options: {
  reconcile: Pick<ReconcileRuntime, 'execute'>;
  intervalMs: number;
  logger: Logger;
}): { stop: () => Promise<void> } {
  const controller = new AbortController();
  const loop = startLoop(async () => {
    try {
      await options.reconcile.execute({ signal: controller.signal });
    } catch (error) {
      if (!controller.signal.aborted) {
        options.logger.warn({ err: error }, 'runtime reconciler run failed; trying again later');
      }
    }
  }, options.intervalMs);
  return {
    async stop() {
      controller.abort();
      await loop.stop();
    },
  };
}
