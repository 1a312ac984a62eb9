import type { Logger, ReconcileJobs } from '@shipyard/core';

export interface ReconcilerOptions {
  reconcile: Pick<ReconcileJobs, 'execute'>;
  intervalMs: number;
  /** The first run treats every running row as abandoned (a process that owns its database alone). */
  expireLeasesFirst: boolean;
  /** After a run that published jobs again (to nudge the outbox relay). */
  onRepublished: () => void;
  logger: Logger;
}

/**
 * Runs the core's reconciler at once and then every `intervalMs`, never two runs at once. A run
 * that fails (the database is down) is logged as a warning; the next one tries again.
 */
export function startReconciler(options: ReconcilerOptions): { stop: () => Promise<void> } {
  let stopped = false;
  let current: Promise<void> | undefined;
  let first = true;
  let timer: NodeJS.Timeout | undefined;

  const run = async () => {
    try {
      const report = await options.reconcile.execute({ expireLeases: first && options.expireLeasesFirst });
      first = false;
      if (report.republished > 0) options.onRepublished();
    } catch (error) {
      options.logger.warn({ err: error }, 'reconciler run failed; trying again later');
    }
  };
  const tick = () => {
    if (stopped || current !== undefined) return;
    current = run().finally(() => {
      current = undefined;
      if (!stopped) {
        timer = setTimeout(tick, options.intervalMs);
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
