import { ServiceUnavailableError } from '../domain/app.errors.js';
import type { Job } from '../jobs/job.types.js';
import type { JobQueue } from '../ports/job-queue.port.js';

/** Records published jobs (one per id, like the real queue). `available = false` simulates an outage. */
export class RecordingJobQueue implements JobQueue {
  /** Every job ever published, in order. */
  readonly published: Job[] = [];
  private readonly seen = new Set<string>();
  private waiting: Job[] = [];
  available = true;

  async enqueue(job: Job): Promise<void> {
    if (!this.available) throw new ServiceUnavailableError('The job queue is unavailable');
    if (this.seen.has(job.id)) return;
    this.seen.add(job.id);
    const copy = { ...job, payload: structuredClone(job.payload) };
    this.published.push(copy);
    this.waiting.push(copy);
  }

  /** Jobs published since the last call, for a test to run. */
  take(): Job[] {
    const taken = this.waiting;
    this.waiting = [];
    return taken;
  }
}
