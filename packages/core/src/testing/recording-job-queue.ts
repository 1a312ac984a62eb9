import type { Job } from '../domain/job.types.js';
import { HeldJobQueue } from '../in-process/held-job-queue.js';

/**
 * Records published jobs (one per id while it waits, like the real queue) and holds them until a
 * test takes them. An outage is played by `withJobQueueOutage`.
 */
export class RecordingJobQueue extends HeldJobQueue {
  /** Every job ever published, in order. */
  readonly published: Job[] = [];

  protected override accepted(job: Job): void {
    this.published.push(job);
  }
}
