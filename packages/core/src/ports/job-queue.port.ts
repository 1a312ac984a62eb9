import type { Job } from '../jobs/job.types.js';

/**
 * Publishes jobs to their queue. Publishing a job id that was already published is a no-op, so
 * the outbox relay may publish again after a crash. Rejects when the queue cannot be reached.
 */
export interface JobQueue {
  enqueue(job: Job): Promise<void>;
}
