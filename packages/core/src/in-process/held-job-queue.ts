import { ValidationError } from '../domain/app.errors.js';
import type { Job } from '../domain/job.types.js';
import type { JobHandlers } from '../jobs/job-handlers.js';
import type { JobQueue, JobRef } from '../ports/job-queue.port.js';
import type { UseCases } from '../use-cases/create-use-cases.js';

/**
 * Jobs published in this process, held until `take()` hands them to whoever runs them (one per
 * id while it waits, like the real queue): nothing runs by itself, nothing outlives the process.
 * For a script that embeds the core and plays its own worker (`drainHeldJobs`); a process that
 * runs jobs as they come uses a queue adapter (`@shipyard/adapters-queue`).
 */
export class HeldJobQueue implements JobQueue {
  private waiting: Job[] = [];

  async enqueue(job: Job): Promise<void> {
    if (this.waiting.some((waiting) => waiting.id === job.id)) return;
    const copy = { ...job, payload: structuredClone(job.payload) };
    this.accepted(copy);
    this.waiting.push(copy);
  }

  /** Told of every job accepted (the copy that is held), for a queue that records them. */
  protected accepted(_job: Job): void {}

  /** Jobs published and not taken yet are live; a taken one is treated as finished. */
  async liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    const waiting = new Set(this.waiting.map((job) => job.id));
    return new Set(jobs.filter((job) => waiting.has(job.id)).map((job) => job.id));
  }

  /** Jobs published since the last call, for the caller to run. */
  take(): Job[] {
    const taken = this.waiting;
    this.waiting = [];
    return taken;
  }
}

export interface DrainReport {
  /** Jobs run, retries included. */
  runs: number;
  /** Jobs that ended failed after their retries (their `giveUp` ran). */
  gaveUp: Job[];
}

/** Retries after the first attempt, as the platform's queues make them. */
export const HELD_JOB_RETRIES = 3;

/**
 * Runs one job as a worker would: retried on infrastructure errors (`retries` times), failed at
 * once on a bad payload; a job that fails for good is given up (`JobHandlers.giveUp`).
 */
export async function runHeldJob(
  handlers: Pick<JobHandlers, 'run' | 'giveUp'>,
  job: Job,
  report: DrainReport = { runs: 0, gaveUp: [] },
  retries = HELD_JOB_RETRIES,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    report.runs += 1;
    try {
      await handlers.run(job.name, job.payload);
      return;
    } catch (error) {
      const final = error instanceof ValidationError || attempt >= retries;
      if (!final) continue;
      report.gaveUp.push(job);
      if (!(error instanceof ValidationError)) {
        await handlers.giveUp(job.name, job.payload, error instanceof Error ? error.message : String(error));
      }
      return;
    }
  }
}

/**
 * Plays the worker in this process: relays the outbox and runs every job `queue` holds (see
 * `runHeldJob`) until nothing is left, jobs that the run published included.
 */
export async function drainHeldJobs(
  core: { useCases: Pick<UseCases, 'relayOutbox'>; handlers: Pick<JobHandlers, 'run' | 'giveUp'> },
  queue: HeldJobQueue,
  retries = HELD_JOB_RETRIES,
): Promise<DrainReport> {
  const report: DrainReport = { runs: 0, gaveUp: [] };
  for (;;) {
    await core.useCases.relayOutbox.execute({ batchSize: 1000 });
    const jobs = queue.take();
    if (jobs.length === 0) return report;
    for (const job of jobs) await runHeldJob(core.handlers, job, report, retries);
  }
}
