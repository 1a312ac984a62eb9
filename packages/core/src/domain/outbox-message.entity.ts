import { Entity, type NewEntity } from './entity.js';
import type { JobName, QueueName } from './job.types.js';

/**
 * Where a job stands, as the database keeps it: `pending` until the relay publishes it, `sent`
 * once the queue has it, `failed` when the queue gave up on it (a dead letter an admin can see),
 * `retried` once an admin redrove it (the retry is a new job).
 */
export const JOB_STATES = ['pending', 'sent', 'failed', 'retried'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const MAX_JOB_ERROR_LENGTH = 2000;

/**
 * A job to publish, written in the same transaction as the rows it is about. A relay publishes
 * committed messages to the job queue (the message id is the job id) and marks them sent, so a
 * rolled-back transaction enqueues nothing and a queue outage loses nothing.
 */
export class OutboxMessage extends Entity {
  tenantId!: string;
  queue!: QueueName;
  name!: JobName;
  payload!: Record<string, unknown>;
  /** Earliest time the job may run. */
  availableAt!: Date;
  sentAt!: Date | null;
  /** Failed publish attempts, for the relay's backoff and logs. */
  publishAttempts!: number;
  state!: JobState;
  /** Runs of the job when it failed (the queue's count, or the row's attempts). */
  attempts!: number;
  lastError!: string | null;
  failedAt!: Date | null;

  static create(
    ctx: NewEntity,
    input: { tenantId: string; queue: QueueName; name: JobName; payload: Record<string, unknown>; availableAt?: Date },
  ): OutboxMessage {
    const message = new OutboxMessage();
    message.init(ctx);
    message.tenantId = input.tenantId;
    message.queue = input.queue;
    message.name = input.name;
    message.payload = input.payload;
    message.availableAt = input.availableAt ?? ctx.now;
    message.sentAt = null;
    message.publishAttempts = 0;
    message.state = 'pending';
    message.attempts = 0;
    message.lastError = null;
    message.failedAt = null;
    return message;
  }

  markSent(now: Date): void {
    this.sentAt = now;
    if (this.state === 'pending') this.state = 'sent';
    this.touch(now);
  }

  /** Publish it again under the same id: the queue lost it (the row it is about still waits). */
  republish(now: Date): void {
    this.state = 'pending';
    this.sentAt = null;
    this.availableAt = now;
    this.touch(now);
  }

  /** The queue gave up on the job: a dead letter. */
  markFailed(error: string, attempts: number | null, now: Date): void {
    this.state = 'failed';
    this.lastError = error.length > MAX_JOB_ERROR_LENGTH ? `${error.slice(0, MAX_JOB_ERROR_LENGTH)}…` : error;
    if (attempts !== null) this.attempts = attempts;
    this.failedAt = now;
    this.touch(now);
  }

  /** An admin redrove the dead letter; the retry is another message. */
  markRetried(now: Date): void {
    this.state = 'retried';
    this.touch(now);
  }

  recordPublishFailure(now: Date): void {
    this.publishAttempts += 1;
    this.touch(now);
  }
}
