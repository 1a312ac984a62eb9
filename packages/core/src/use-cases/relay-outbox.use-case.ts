import type { CoreDeps } from './core-deps.js';

export interface RelayReport {
  published: number;
  /** True when publishing failed and messages are still waiting. */
  blocked: boolean;
}

/**
 * Publishes committed outbox messages to the job queue, oldest first, and marks them sent, in one
 * unit of work that locks the messages it takes: concurrent relays (several servers and workers)
 * take disjoint messages, and a relay that dies before its commit leaves them for the next run.
 * The message id is the job id, so a message published twice (a crash between publish and
 * commit) is still one job. Stops at the first failure: the queue is likely down and the messages
 * stay for the next run.
 */
export class RelayOutbox {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'jobs' | 'logger'>) {}

  async execute(options: { batchSize?: number } = {}): Promise<RelayReport> {
    const batchSize = options.batchSize ?? 100;
    // Platform-wide: the relay takes the messages of every tenant, in one unit that claims and marks them.
    return this.deps.uow.platform(async (platform) => {
      const pending = await platform.claimPendingMessages(this.deps.clock.now(), batchSize);
      const sent: string[] = [];
      let blocked = false;
      for (const message of pending) {
        try {
          await this.deps.jobs.enqueue({
            id: message.id,
            name: message.name,
            queue: message.queue,
            payload: message.payload as never,
          });
          sent.push(message.id);
        } catch (error) {
          blocked = true;
          this.deps.logger.warn(
            { err: error, outbox_id: message.id, queue: message.queue, pending: pending.length - sent.length },
            'cannot publish outbox message; will retry',
          );
          break;
        }
      }
      if (sent.length > 0) await platform.markMessagesSent(sent, this.deps.clock.now());
      return { published: sent.length, blocked };
    });
  }
}
