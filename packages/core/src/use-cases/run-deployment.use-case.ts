import { ConflictError } from '../domain/app.errors.js';
import type { Deployment } from '../domain/deployment.entity.js';
import type { JobPayloads } from '../jobs/job.types.js';
import type { DeploymentOutcome, DeploymentRequest } from '../ports/deployment-runtime.port.js';
import { parseListQuery } from '../query/list-query.js';
import type { CoreDeps } from './core-deps.js';
import { scheduleJob, settleServiceStatus } from './outbox.js';
import { retryOnConflict } from './retry.js';
import { decryptEnv } from './service-env.js';

export type RunDeploymentResult = 'live' | 'failed' | 'skipped';

/**
 * The deployment job: `pending → deploying → live | failed`; going live supersedes the service's
 * previous live deployment. Idempotent like the build job; a runtime that throws is retried.
 */
export class RunDeployment {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'runtime' | 'encryptor' | 'logger'>) {}

  async execute(payload: JobPayloads['deployment.run'], signal?: AbortSignal): Promise<RunDeploymentResult> {
    const tenantId = payload.tenant_id;
    const request = await this.claim(tenantId, payload.deployment_id);
    if (request === null) return 'skipped';
    let outcome: DeploymentOutcome;
    if ('error' in request) {
      outcome = { outcome: 'failed', error: request.error };
    } else {
      outcome = await this.deps.runtime.deploy(request, signal ?? new AbortController().signal);
    }
    const result = await this.finish(tenantId, payload.deployment_id, outcome);
    this.deps.logger.info(
      { tenant_id: tenantId, deployment_id: payload.deployment_id, outcome: result },
      'deployment job done',
    );
    return result;
  }

  /** Marks the deployment failed once the queue has given up retrying it. */
  async giveUp(payload: JobPayloads['deployment.run'], reason: string): Promise<void> {
    await this.finish(payload.tenant_id, payload.deployment_id, {
      outcome: 'failed',
      error: `Gave up after retries: ${reason}`,
    });
  }

  /** Takes the deployment (its row alone, so a conflict means another delivery took it), then
   * marks the service deploying apart, retried on conflicts with its other builds and deployments. */
  private async claim(tenantId: string, deploymentId: string): Promise<DeploymentRequest | { error: string } | null> {
    let deployment: Deployment | null;
    try {
      deployment = await this.deps.uow.run(async (repos) => {
        const found = await repos.deployments.find(tenantId, deploymentId);
        if (found === null || (found.status !== 'pending' && found.status !== 'deploying')) return null;
        if (found.status === 'pending') {
          found.start(this.deps.clock.now());
          await repos.deployments.update(tenantId, found);
        }
        return found;
      });
    } catch (error) {
      if (error instanceof ConflictError) return null;
      throw error;
    }
    if (deployment === null) return null;
    const serviceId = deployment.serviceId;
    const service = await retryOnConflict(() =>
      this.deps.uow.run(async (repos) => {
        const current = await repos.services.get(tenantId, serviceId);
        if (current.setStatus('deploying', this.deps.clock.now())) await repos.services.update(tenantId, current);
        return current;
      }),
    );
    const request = {
      tenantId,
      deploymentId: deployment.id,
      serviceId: service.id,
      serviceName: service.name,
      buildId: deployment.buildId,
      port: service.port,
      startCommand: service.startCommand,
    };
    try {
      return { ...request, env: await decryptEnv(this.deps.encryptor, tenantId, service.id, service.env) };
    } catch (error) {
      this.deps.logger.error({ err: error, deployment_id: deploymentId }, 'cannot decrypt the service env vars');
      return { error: 'The service env vars cannot be decrypted' };
    }
  }

  /** Other builds and deployments of the service write its row too: re-read and retry. */
  private finish(tenantId: string, deploymentId: string, outcome: DeploymentOutcome): Promise<RunDeploymentResult> {
    return retryOnConflict(() => this.finishOnce(tenantId, deploymentId, outcome));
  }

  private finishOnce(tenantId: string, deploymentId: string, outcome: DeploymentOutcome): Promise<RunDeploymentResult> {
    return this.deps.uow.run(async (repos) => {
      const deployment = await repos.deployments.find(tenantId, deploymentId);
      if (deployment === null || (deployment.status !== 'deploying' && deployment.status !== 'pending')) {
        return 'skipped';
      }
      const now = this.deps.clock.now();
      const service = await repos.services.get(tenantId, deployment.serviceId);
      if (outcome.outcome === 'live') {
        const live = await repos.deployments.list(
          tenantId,
          parseListQuery('deployment', { filters: { serviceId: service.id, status: 'live' }, limit: 1000 }),
        );
        for (const previous of live.items) {
          previous.supersede(now);
          await repos.deployments.update(tenantId, previous);
        }
        deployment.goLive(outcome.url, now);
        await repos.deployments.update(tenantId, deployment);
        if (service.setStatus('live', now)) await repos.services.update(tenantId, service);
      } else {
        deployment.fail(outcome.error, now);
        await repos.deployments.update(tenantId, deployment);
        await settleServiceStatus(repos, tenantId, service, now, 'failed');
      }
      const result = outcome.outcome === 'live' ? 'live' : 'failed';
      await scheduleJob(this.deps, repos, 'notification.send', {
        tenant_id: tenantId,
        event: 'deployment.finished',
        subject_id: deployment.id,
        status: result,
      });
      return result;
    });
  }
}
