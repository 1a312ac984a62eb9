import { ServiceUnavailableError } from '../domain/app.errors.js';
import type { Job } from '../domain/job.types.js';
import type { JobQueue, JobRef } from '../ports/job-queue.port.js';

/** Records published jobs (one per id while it waits, like the real queue). `available = false` simulates an outage. */
export class RecordingJobQueue implements JobQueue {
  /** Every job ever published, in order. */
  readonly published: Job[] = [];
  private waiting: Job[] = [];
  available = true;

  async enqueue(job: Job): Promise<void> {
    if (!this.available) throw new ServiceUnavailableError('The job queue is unavailable');
    if (this.waiting.some((waiting) => waiting.id === job.id)) return;
    const copy = { ...job, payload: structuredClone(job.payload) };
    this.published.push(copy);
    this.waiting.push(copy);
  }

  /** Jobs published and not taken yet are live; a taken one is treated as finished. */
  async liveJobs(jobs: readonly JobRef[]): Promise<Set<string>> {
    if (!this.available) throw new ServiceUnavailableError('The job queue is unavailable');
    const waiting = new Set(this.waiting.map((job) => job.id));
    return new Set(jobs.filter((job) => waiting.has(job.id)).map((job) => job.id));
  }

  /** Jobs published since the last call, for a test to run. */
  take(): Job[] {
    const taken = this.waiting;
    this.waiting = [];
    return taken;
  }
}
