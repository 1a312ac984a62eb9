import type { Job } from '../domain/job.types.js';

/** A published job as the queue knows it: its id and the queue that carries it. */
export type JobRef = Pick<Job, 'id' | 'queue'>;

/**
 * Publishes jobs to their queue. Publishing a job id the queue still holds (waiting, delayed or
 * running) is a no-op, so the outbox relay may publish again after a crash. The queue is a cache
 * of the database: a finished job may be forgotten at once, and the rows deduplicate the rest.
 * Rejects when the queue cannot be reached.
 */
export interface JobQueue {
  enqueue(job: Job): Promise<void>;
  /**
   * Of `jobs`, the ids the queue still holds to run: waiting, delayed (a retry, a `runAt`) or
   * running. A job that finished, or that the queue lost (Redis flushed, a process restarted),
   * is absent. Rejects when the queue cannot be asked, so a caller never mistakes an outage for
   * lost jobs.
   */
  liveJobs(jobs: readonly JobRef[]): Promise<Set<string>>;
}
