import type { Repositories } from '../ports/repository.port.js';

/**
 * Records that a job failed for good: its outbox message becomes a dead letter (`failed`, with
 * the error and the attempts) that an admin can list and retry. A message already pruned is
 * simply not recorded. In the caller's unit of work.
 */
export async function markJobFailed(
  repos: Repositories,
  jobId: string | null,
  error: string,
  attempts: number | null,
  now: Date,
): Promise<void> {
  if (jobId === null) return;
  const message = await repos.outbox.find(jobId);
  if (message === null || message.state === 'failed' || message.state === 'retried') return;
  message.markFailed(error, attempts, now);
  await repos.outbox.update(message);
}
