import type { UseCases } from '../use-cases/create-use-cases.js';
import { type JobName, type JobPayloads, parseJobPayload } from './job.types.js';

type Handlers = { [N in JobName]: (payload: JobPayloads[N]) => Promise<unknown> };
type GiveUps = { [N in JobName]: (payload: JobPayloads[N], reason: string) => Promise<void> };

/**
 * Routes jobs to the core's handlers. Queue adapters call `run` for every delivery and
 * `giveUp` once retries are exhausted. A malformed payload is a `ValidationError` (never retry).
 */
export class JobHandlers {
  private readonly handlers: Handlers;
  private readonly giveUps: GiveUps;

  constructor(useCases: Pick<UseCases, 'runBuild' | 'runDeployment' | 'runCleanup' | 'sendNotification'>) {
    this.handlers = {
      'build.run': (payload) => useCases.runBuild.execute(payload),
      'deployment.run': (payload) => useCases.runDeployment.execute(payload),
      'cleanup.run': (payload) => useCases.runCleanup.execute(payload),
      'notification.send': (payload) => useCases.sendNotification.execute(payload),
    };
    this.giveUps = {
      'build.run': (payload, reason) => useCases.runBuild.giveUp(payload, reason),
      'deployment.run': (payload, reason) => useCases.runDeployment.giveUp(payload, reason),
      'cleanup.run': async () => {},
      'notification.send': async () => {},
    };
  }

  async run(name: JobName, rawPayload: unknown): Promise<unknown> {
    const payload = parseJobPayload(name, rawPayload);
    return (this.handlers[name] as (p: unknown) => Promise<unknown>)(payload);
  }

  async giveUp(name: JobName, rawPayload: unknown, reason: string): Promise<void> {
    const payload = parseJobPayload(name, rawPayload);
    await (this.giveUps[name] as (p: unknown, r: string) => Promise<void>)(payload, reason);
  }
}
