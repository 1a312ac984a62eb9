import { ConflictError } from '../domain/app.errors.js';
import { type Deployment, isActiveDeployment } from '../domain/deployment.entity.js';
import type { JobPayloads } from '../jobs/job.types.js';
import type { DeploymentOutcome, DeploymentRequest } from '../ports/deployment-runtime.port.js';
import { parseListQuery } from '../query/list-query.js';
import type { CoreDeps } from './core-deps.js';
import { abandonAfterAbort, abortKind, leaseEnd, linkedController, waitForDatabase } from './job-lease.js';
import { DEPLOYMENT_ROWS, endAttempt, watchAttempt } from './leased-rows.js';
import { scheduleJob, settleServiceStatus } from './outbox.js';
import { DeploymentRequestError, deploymentRequest, type ShipDeploymentLogs } from './reconcile-runtime.use-case.js';
import { retryOnConflict } from './retry.js';
import { RuntimeGate } from './runtime-gate.js';

export type RunDeploymentResult = 'live' | 'failed' | 'skipped';

type DeploymentDeps = Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'runtime' | 'encryptor' | 'logger' | 'settings'>;

type Claim = { kind: 'claimed'; deployment: Deployment } | { kind: 'skipped' } | { kind: 'exhausted' };

const NEVER_ABORTED = new AbortController().signal;

/**
 * The deployment job: `pending → deploying → live | failed`; going live supersedes the service's
 * previous live deployment. Claimed under a lease like the build job, so a redelivered job never
 * deploys twice; a cancel or the job's timeout aborts the runtime through its signal; a runtime
 * that throws frees the row and the queue runs it again, up to `maxJobAttempts`.
 */
export class RunDeployment {
  constructor(
    private readonly deps: DeploymentDeps,
    private readonly shipper: ShipDeploymentLogs,
    private readonly gate: RuntimeGate = new RuntimeGate(),
  ) {}

  execute(payload: JobPayloads['deployment.run'], signal: AbortSignal = NEVER_ABORTED): Promise<RunDeploymentResult> {
    // Never while the runtime's reconciler acts on the instances (see RuntimeGate).
    return this.gate.shared(() => this.run(payload, signal));
  }

  private async run(payload: JobPayloads['deployment.run'], signal: AbortSignal): Promise<RunDeploymentResult> {
    const tenantId = payload.tenant_id;
    const claim = await this.claim(tenantId, payload.deployment_id, signal);
    if (claim.kind === 'skipped') return 'skipped';
    if (claim.kind === 'exhausted') return 'failed';
    const { deployment } = claim;
    const attempt = deployment.attempt;
    const request = await waitForDatabase(this.deps, () => this.request(tenantId, deployment), signal);
    let copying: Promise<void> = Promise.resolve();

    const { controller, unlink } = linkedController(signal);
    const at = { tenantId, id: deployment.id, attempt };
    const stopWatching = watchAttempt(this.deps, DEPLOYMENT_ROWS, at, controller);
    let outcome: DeploymentOutcome;
    try {
      if ('error' in request) {
        outcome = { outcome: 'failed', error: request.error };
      } else {
        const deploying = this.deps.runtime.deploy(request, controller.signal);
        // The runtime knows the instance from the moment deploy is called: its output is copied as printed.
        copying = this.shipper.follow(tenantId, deployment.id);
        outcome = await abandonAfterAbort(deploying, controller.signal, this.deps.settings.runnerAbortGraceMs);
      }
    } catch (error) {
      stopWatching();
      unlink();
      return endAttempt(this.deps, DEPLOYMENT_ROWS, at, controller.signal, error, signal);
    } finally {
      stopWatching();
      unlink();
    }
    if (abortKind(controller.signal) === 'job') {
      return endAttempt(this.deps, DEPLOYMENT_ROWS, at, controller.signal, controller.signal.reason, signal);
    }
    if (outcome.outcome === 'failed') {
      // The instance ended: its last lines reach the store before the deployment is final.
      await Promise.race([copying, new Promise((resolve) => setTimeout(resolve, 1_000).unref?.())]);
    }
    const result = await waitForDatabase(this.deps, () =>
      retryOnConflict(() => this.finishOnce(tenantId, deployment.id, attempt, outcome)),
    );
    if (result === 'skipped' && outcome.outcome === 'live') {
      // Cancelled (or taken over) while it started: the instance must not serve. The previous live
      // deployment, which it replaced in the runtime, is started again by the runtime's reconciler.
      await this.deps.runtime
        .stop(deployment.id)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, deployment_id: deployment.id }, 'cannot stop a moot instance'),
        );
    }
    this.deps.logger.info(
      { tenant_id: tenantId, deployment_id: deployment.id, attempt, outcome: result },
      'deployment job done',
    );
    return result;
  }

  /** The queue gave up on the job: fail it if its attempts are spent, else free it for the reconciler. */
  async giveUp(payload: JobPayloads['deployment.run'], reason: string): Promise<void> {
    await retryOnConflict(() =>
      this.deps.uow.run(payload.tenant_id, async (repos) => {
        const deployment = await repos.deployments.find(payload.deployment_id);
        if (deployment === null || !isActiveDeployment(deployment.status)) return;
        if (deployment.attempt >= this.deps.settings.maxJobAttempts) {
          await DEPLOYMENT_ROWS.failForGood(this.deps, repos, deployment, reason);
        } else if (deployment.status === 'deploying') {
          deployment.releaseLease(reason, this.deps.clock.now());
          await repos.deployments.update(deployment);
        }
      }),
    );
  }

  /** Takes the deployment (its row alone: a conflict means another delivery took it). */
  private async claim(tenantId: string, deploymentId: string, signal: AbortSignal): Promise<Claim> {
    let claim: Claim;
    try {
      claim = await waitForDatabase(this.deps, () => this.takeRow(tenantId, deploymentId), signal);
    } catch (error) {
      if (error instanceof ConflictError) return { kind: 'skipped' };
      throw error;
    }
    if (claim.kind !== 'claimed') return claim;
    const serviceId = claim.deployment.serviceId;
    // Apart, so that a database lost in between never makes this worker skip its own claim.
    await waitForDatabase(this.deps, () =>
      retryOnConflict(() =>
        this.deps.uow.run(tenantId, async (repos) => {
          const current = await repos.services.get(serviceId);
          if (current.setStatus('deploying', this.deps.clock.now())) await repos.services.update(current);
        }),
      ),
    );
    return claim;
  }

  private takeRow(tenantId: string, deploymentId: string): Promise<Claim> {
    return this.deps.uow.run(tenantId, async (repos): Promise<Claim> => {
      const found = await repos.deployments.find(deploymentId);
      if (found === null || !isActiveDeployment(found.status)) return { kind: 'skipped' };
      const now = this.deps.clock.now();
      if (found.isLeased(now)) return { kind: 'skipped' };
      if (found.attempt >= this.deps.settings.maxJobAttempts) {
        await DEPLOYMENT_ROWS.failForGood(this.deps, repos, found, found.error ?? 'its worker stopped each time');
        return { kind: 'exhausted' };
      }
      found.start(now, leaseEnd(this.deps, now));
      await repos.deployments.update(found);
      return { kind: 'claimed', deployment: found };
    });
  }

  private async request(tenantId: string, deployment: Deployment): Promise<DeploymentRequest | { error: string }> {
    try {
      return await this.deps.uow.run(tenantId, (repos) => deploymentRequest(this.deps, repos, deployment));
    } catch (error) {
      if (!(error instanceof DeploymentRequestError)) throw error;
      this.deps.logger.error({ err: error, deployment_id: deployment.id }, 'the deployment cannot be run');
      return { error: error.message };
    }
  }

  private finishOnce(
    tenantId: string,
    deploymentId: string,
    attempt: number,
    outcome: DeploymentOutcome,
  ): Promise<RunDeploymentResult> {
    return this.deps.uow.run(tenantId, async (repos) => {
      const deployment = await repos.deployments.find(deploymentId);
      // Cancelled meanwhile, or a later attempt took over: this run's result is moot.
      if (deployment === null || deployment.status !== 'deploying' || deployment.attempt !== attempt) {
        return 'skipped';
      }
      const now = this.deps.clock.now();
      const service = await repos.services.get(deployment.serviceId);
      if (outcome.outcome === 'live') {
        const live = await repos.deployments.list(
          parseListQuery('deployment', { filters: { serviceId: service.id, status: 'live' }, limit: 1000 }),
        );
        for (const previous of live.items) {
          previous.supersede(now);
          await repos.deployments.update(previous);
        }
        deployment.goLive(outcome.url, now);
        await repos.deployments.update(deployment);
        if (service.setStatus('live', now)) await repos.services.update(service);
      } else {
        deployment.fail(outcome.error, now);
        await repos.deployments.update(deployment);
        await settleServiceStatus(repos, service, now, 'failed');
      }
      const result = outcome.outcome === 'live' ? 'live' : 'failed';
      await scheduleJob(this.deps, repos, 'notification.send', {
        event: 'deployment.finished',
        subject_id: deployment.id,
        status: result,
      });
      return result;
    });
  }
}
