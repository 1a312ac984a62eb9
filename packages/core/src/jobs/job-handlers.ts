import { type JobName, type JobPayloads, parseJobPayload } from '../domain/job.types.js';
import type { Logger } from '../ports/logger.port.js';
import type { UseCases } from '../use-cases/create-use-cases.js';

/** What the queue tells a handler about the delivery it runs. */
export interface JobContext {
  /** The job id (the outbox message id). */
  jobId?: string;
  /**
   * Aborted when the job's timeout passes or the worker shuts down: the handler must stop its
   * work (a build runner kills its processes) and settle soon after.
   */
  signal?: AbortSignal;
  /**
   * The delivery's logger, bound to its queue, job id, tenant and row (see `jobLogFields`): the
   * handler's lines carry them. Omitted: the handler binds the payload's fields itself.
   */
  logger?: Logger;
}

type Handlers = { [N in JobName]: (payload: JobPayloads[N], context: JobContext) => Promise<unknown> };
type GiveUps = { [N in JobName]: (payload: JobPayloads[N], reason: string) => Promise<void> };

const NEVER_ABORTED = new AbortController().signal;

/**
 * Routes jobs to the core's handlers. Queue adapters call `run` for every delivery and
 * `giveUp` once retries are exhausted. A malformed payload is a `ValidationError` (never retry).
 */
export class JobHandlers {
  private readonly handlers: Handlers;
  private readonly giveUps: GiveUps;

  constructor(
    private readonly useCases: Pick<
      UseCases,
      'runBuild' | 'runDeployment' | 'runCleanup' | 'sendNotification' | 'recordJobFailure'
    >,
  ) {
    this.handlers = {
      'build.run': (payload, context) =>
        useCases.runBuild.execute(payload, context.signal ?? NEVER_ABORTED, context.logger),
      'deployment.run': (payload, context) =>
        useCases.runDeployment.execute(payload, context.signal ?? NEVER_ABORTED, context.logger),
      'cleanup.run': (payload, context) => useCases.runCleanup.execute(payload, context.logger),
      'notification.send': (payload, context) => useCases.sendNotification.execute(payload, context.logger),
    };
    this.giveUps = {
      'build.run': (payload, reason) => useCases.runBuild.giveUp(payload, reason),
      'deployment.run': (payload, reason) => useCases.runDeployment.giveUp(payload, reason),
      'cleanup.run': async () => {},
      'notification.send': async () => {},
    };
  }

  async run(name: JobName, rawPayload: unknown, context: JobContext = {}): Promise<unknown> {
    const payload = parseJobPayload(name, rawPayload);
    return (this.handlers[name] as (p: unknown, c: JobContext) => Promise<unknown>)(payload, context);
  }

  /**
   * The queue gave up on a job (its last attempt failed). A build or deployment fails if its
   * attempts (kept in its row) are spent, and its job becomes a dead letter; if not, the
   * reconciler publishes it again. Any other job becomes a dead letter an admin can retry.
   */
  async giveUp(
    name: JobName,
    rawPayload: unknown,
    reason: string,
    context: { jobId?: string; attempts?: number } = {},
  ): Promise<void> {
    const payload = parseJobPayload(name, rawPayload);
    await (this.giveUps[name] as (p: unknown, r: string) => Promise<void>)(payload, reason);
    if (context.jobId !== undefined && name !== 'build.run' && name !== 'deployment.run') {
      await this.useCases.recordJobFailure.execute(payload.tenant_id, context.jobId, reason, context.attempts ?? null);
    }
  }
}
