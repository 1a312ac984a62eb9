import type { JobName, QueueName } from '../jobs/job.types.js';
import { Entity, type NewEntity } from './entity.js';

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
    return message;
  }

  markSent(now: Date): void {
    this.sentAt = now;
    this.touch(now);
  }

  recordPublishFailure(now: Date): void {
    this.publishAttempts += 1;
    this.touch(now);
  }
}
