import { ConflictError } from '../domain/app.errors.js';
import { type Deployment, isActiveDeployment } from '../domain/deployment.entity.js';
import { type JobPayloads, jobLogFields } from '../domain/job.types.js';
import type { DeploymentOutcome, DeploymentRequest } from '../ports/deployment-runtime.port.js';
import type { Logger } from '../ports/logger.port.js';
import { parseListQuery } from '../query/list-query.js';
import type { CoreDeps } from './core-deps.js';
import { abandonAfterAbort, abortKind, leaseEnd, linkedController, waitForDatabase } from './job-lease.js';
import { DEPLOYMENT_ROWS, endAttempt, watchAttempt } from './leased-rows.js';
import { scheduleJob } from './outbox.js';
import { DeploymentRequestError, deploymentRequest, type ShipDeploymentLogs } from './reconcile-runtime.use-case.js';
import { retryOnConflict } from './retry.js';
import { RuntimeGate } from './runtime-gate.js';
import { settleServiceStatus } from './service-status.js';

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

  /**
   * `logger`: the job's, bound to its id, tenant and deployment (see `JobContext`); omitted, one
   * bound to the tenant and deployment here. Every line of the run carries those, and the ids of
   * the service and the build.
   */
  execute(
    payload: JobPayloads['deployment.run'],
    signal: AbortSignal = NEVER_ABORTED,
    logger: Logger = this.deps.logger.child(jobLogFields(payload)),
  ): Promise<RunDeploymentResult> {
    // Never while the runtime's reconciler acts on the instances (see RuntimeGate).
    return this.gate.shared(() => this.run(payload, signal, logger));
  }

  private async run(
    payload: JobPayloads['deployment.run'],
    signal: AbortSignal,
    logger: Logger,
  ): Promise<RunDeploymentResult> {
    const tenantId = payload.tenant_id;
    const claim = await this.claim({ ...this.deps, logger }, tenantId, payload.deployment_id, signal);
    if (claim.kind === 'skipped') return 'skipped';
    if (claim.kind === 'exhausted') return 'failed';
    const { deployment } = claim;
    const attempt = deployment.attempt;
    const log = logger.child({
      service_id: deployment.serviceId,
      build_id: deployment.buildId,
      deployment_attempt: attempt,
    });
    const deps: DeploymentDeps = { ...this.deps, logger: log };
    const request = await waitForDatabase(deps, () => this.request(deps, tenantId, deployment), signal);
    let copying: Promise<void> = Promise.resolve();

    const { controller, unlink } = linkedController(signal);
    const at = { tenantId, id: deployment.id, attempt };
    const stopWatching = watchAttempt(deps, DEPLOYMENT_ROWS, at, controller);
    let outcome: DeploymentOutcome;
    try {
      if ('error' in request) {
        outcome = { outcome: 'failed', error: request.error };
      } else {
        const deploying = deps.runtime.deploy(request, controller.signal);
        // The runtime knows the instance from the moment deploy is called: its output is copied as printed.
        copying = this.shipper.follow(tenantId, deployment.id);
        outcome = await abandonAfterAbort(deploying, controller.signal, deps.settings.runnerAbortGraceMs);
      }
    } catch (error) {
      stopWatching();
      unlink();
      return endAttempt(deps, DEPLOYMENT_ROWS, at, controller.signal, error, signal);
    } finally {
      stopWatching();
      unlink();
    }
    if (abortKind(controller.signal) === 'job') {
      return endAttempt(deps, DEPLOYMENT_ROWS, at, controller.signal, controller.signal.reason, signal);
    }
    if (outcome.outcome === 'failed') {
      // The instance ended: its last lines reach the store before the deployment is final.
      await Promise.race([copying, new Promise((resolve) => setTimeout(resolve, 1_000).unref?.())]);
    }
    const result = await waitForDatabase(deps, () =>
      retryOnConflict(() => this.finishOnce(deps, tenantId, deployment.id, attempt, outcome)),
    );
    if (result === 'skipped' && outcome.outcome === 'live') {
      // Cancelled (or taken over) while it started: the instance must not serve. The previous live
      // deployment, which it replaced in the runtime, is started again by the runtime's reconciler.
      await deps.runtime
        .stop(deployment.id)
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'cannot stop a moot instance'));
    }
    deps.logger.info({ outcome: result }, 'deployment job done');
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
  private async claim(
    deps: DeploymentDeps,
    tenantId: string,
    deploymentId: string,
    signal: AbortSignal,
  ): Promise<Claim> {
    let claim: Claim;
    try {
      claim = await waitForDatabase(deps, () => this.takeRow(deps, tenantId, deploymentId), signal);
    } catch (error) {
      if (error instanceof ConflictError) return { kind: 'skipped' };
      throw error;
    }
    if (claim.kind !== 'claimed') return claim;
    const serviceId = claim.deployment.serviceId;
    // Apart, so that a database lost in between never makes this worker skip its own claim.
    await waitForDatabase(deps, () =>
      retryOnConflict(() =>
        deps.uow.run(tenantId, async (repos) => {
          const current = await repos.services.get(serviceId);
          if (current.setStatus('deploying', deps.clock.now())) await repos.services.update(current);
        }),
      ),
    );
    return claim;
  }

  private takeRow(deps: DeploymentDeps, tenantId: string, deploymentId: string): Promise<Claim> {
    return deps.uow.run(tenantId, async (repos): Promise<Claim> => {
      const found = await repos.deployments.find(deploymentId);
      if (found === null || !isActiveDeployment(found.status)) return { kind: 'skipped' };
      const now = deps.clock.now();
      if (found.isLeased(now)) return { kind: 'skipped' };
      if (found.attempt >= deps.settings.maxJobAttempts) {
        await DEPLOYMENT_ROWS.failForGood(deps, repos, found, found.error ?? 'its worker stopped each time');
        return { kind: 'exhausted' };
      }
      found.start(now, leaseEnd(deps, now));
      await repos.deployments.update(found);
      return { kind: 'claimed', deployment: found };
    });
  }

  private async request(
    deps: DeploymentDeps,
    tenantId: string,
    deployment: Deployment,
  ): Promise<DeploymentRequest | { error: string }> {
    try {
      return await deps.uow.run(tenantId, (repos) => deploymentRequest(deps, repos, deployment));
    } catch (error) {
      if (!(error instanceof DeploymentRequestError)) throw error;
      deps.logger.error({ err: error }, 'the deployment cannot be run');
      return { error: error.message };
    }
  }

  private finishOnce(
    deps: DeploymentDeps,
    tenantId: string,
    deploymentId: string,
    attempt: number,
    outcome: DeploymentOutcome,
  ): Promise<RunDeploymentResult> {
    return deps.uow.run(tenantId, async (repos) => {
      const deployment = await repos.deployments.find(deploymentId);
      // Cancelled meanwhile, or a later attempt took over: this run's result is moot.
      if (deployment === null || deployment.status !== 'deploying' || deployment.attempt !== attempt) {
        return 'skipped';
      }
      const now = deps.clock.now();
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
      await scheduleJob(deps, repos, 'notification.send', {
        event: 'deployment.finished',
        subject_id: deployment.id,
        status: result,
      });
      return result;
    });
  }
}
