import type { Deployment } from '../domain/deployment.entity.js';
import { withTimeout } from '../domain/with-timeout.js';
import type { DeploymentRequest, RuntimeReconcileReport } from '../ports/deployment-runtime.port.js';
import type { Repositories } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';
import { LogWriter } from './log-writer.js';
import { RuntimeGate } from './runtime-gate.js';
import { decryptEnv } from './service-env.js';

type RuntimeDeps = Pick<CoreDeps, 'uow' | 'runtime' | 'encryptor' | 'logStore' | 'logger' | 'settings' | 'clock'>;

/**
 * Copies what a deployment's app prints from the runtime to the log store, for as long as it
 * runs, so any process (the API server) can show it. One follower per deployment; `close()`
 * stops them all (the process is stopping).
 */
export class ShipDeploymentLogs {
  private readonly followers = new Map<string, AbortController>();
  private readonly copies = new Set<Promise<void>>();

  constructor(private readonly deps: Pick<CoreDeps, 'runtime' | 'logStore' | 'logger' | 'settings'>) {}

  /** Starts copying the instance's output (no-op if it is copied already). Resolves once it ends. */
  follow(tenantId: string, deploymentId: string): Promise<void> {
    if (this.followers.has(deploymentId)) return Promise.resolve();
    const controller = new AbortController();
    this.followers.set(deploymentId, controller);
    const copying = this.copy(tenantId, deploymentId, controller.signal, true).finally(() => {
      if (this.followers.get(deploymentId) === controller) this.followers.delete(deploymentId);
      this.copies.delete(copying);
    });
    this.copies.add(copying);
    return copying;
  }

  /** Copies what the runtime kept of an instance that ended (a failed deploy), once. */
  async copyEnded(tenantId: string, deploymentId: string): Promise<void> {
    if (this.followers.has(deploymentId)) return;
    await this.copy(tenantId, deploymentId, new AbortController().signal, false);
  }

  /** Whether the deployment's output is being copied. */
  following(deploymentId: string): boolean {
    return this.followers.has(deploymentId);
  }

  /** Stops every copy and waits (a second at most) for their last lines to be written. */
  async close(): Promise<void> {
    for (const controller of this.followers.values()) controller.abort();
    this.followers.clear();
    // The timer is cleared once the copies end: closing holds the process no longer than they do.
    const late = () => new Error('the log copies did not end in time');
    await withTimeout(Promise.allSettled([...this.copies]), 1_000, late).catch(() => undefined);
  }

  private async copy(tenantId: string, deploymentId: string, signal: AbortSignal, follow: boolean): Promise<void> {
    const writer = new LogWriter(this.deps, tenantId, { kind: 'deployment', id: deploymentId });
    try {
      for await (const line of this.deps.runtime.logs(deploymentId, { follow, signal })) writer.push(line);
    } catch (error) {
      if (!signal.aborted) {
        this.deps.logger.warn({ err: error, deployment_id: deploymentId }, 'reading the app output failed');
      }
    } finally {
      await writer.close();
    }
  }
}

export interface RuntimeReconcileResult extends RuntimeReconcileReport {
  /** Live deployments left alone this time: they failed to start lately and wait for their next try. */
  backingOff: string[];
}

const FIRST_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Makes what the runtime runs match the rows, in the process that owns the runtime: at start
 * every `live` deployment is started again from its build's artifact (after a restart, or a
 * crash of the app), and instances whose deployment is no longer live (superseded, cancelled,
 * its service deleted) are stopped. Deployments being deployed are left to their job. A live
 * deployment that fails to start is tried again later, with a growing pause (10 s up to
 * 10 min), so one broken app never holds the others up. Started instances' output is copied to
 * the log store.
 */
export class ReconcileRuntime {
  private readonly failures = new Map<string, { count: number; retryAt: number }>();

  constructor(
    private readonly deps: RuntimeDeps,
    private readonly shipper: ShipDeploymentLogs,
    private readonly gate: RuntimeGate = new RuntimeGate(),
  ) {}

  /** Runs alone: after the deployments in flight, before the next ones (see RuntimeGate). */
  execute(options: { signal?: AbortSignal; limit?: number } = {}): Promise<RuntimeReconcileResult> {
    return this.gate.exclusive(() => this.run(options));
  }

  private async run(options: { signal?: AbortSignal; limit?: number }): Promise<RuntimeReconcileResult> {
    const rows = await this.deps.uow.platform((platform) =>
      platform.listRunningDeployments({ limit: options.limit ?? 10_000 }),
    );
    const now = this.deps.clock.now().getTime();
    const keep: string[] = [];
    const live: DeploymentRequest[] = [];
    const backingOff: string[] = [];
    for (const row of rows) {
      if (row.status === 'deploying') {
        keep.push(row.id);
        continue;
      }
      const failure = this.failures.get(row.id);
      const status = await this.deps.runtime.status(row.id);
      const running = status.state === 'live' || status.state === 'starting';
      if (!running && failure !== undefined && failure.retryAt > now) {
        // Not started now, and not stopped either: it is still the deployment that should run.
        keep.push(row.id);
        backingOff.push(row.id);
        continue;
      }
      const request = await this.request(row.tenantId, row.id);
      if (request === null) {
        // Its rows cannot start it (the artifact is gone): tried again after the same pauses.
        this.backOff(row.id, now);
        keep.push(row.id);
        continue;
      }
      live.push(request);
    }
    const signal = options.signal ?? new AbortController().signal;
    const report = await this.deps.runtime.reconcile(live, { keep, signal });
    const tenantOf = new Map(rows.map((row) => [row.id, row.tenantId]));
    for (const id of report.started) {
      this.failures.delete(id);
      this.deps.logger.info({ deployment_id: id, tenant_id: tenantOf.get(id) }, 'live deployment started again');
    }
    for (const { deploymentId, error } of report.failed) {
      const pause = this.backOff(deploymentId, now);
      this.deps.logger.error(
        { deployment_id: deploymentId, tenant_id: tenantOf.get(deploymentId), error, retry_in_ms: pause },
        'a live deployment could not be started again',
      );
      const tenantId = tenantOf.get(deploymentId);
      if (tenantId !== undefined) void this.shipper.copyEnded(tenantId, deploymentId);
    }
    for (const id of report.stopped)
      this.deps.logger.info({ deployment_id: id }, 'instance of a settled deployment stopped');
    // Every live instance has its output copied, the ones that kept running across this process's start too.
    for (const row of rows) {
      if (row.status !== 'live' || this.shipper.following(row.id)) continue;
      const status = await this.deps.runtime.status(row.id);
      if (status.state === 'live') void this.shipper.follow(row.tenantId, row.id);
    }
    for (const id of this.failures.keys()) if (!tenantOf.has(id)) this.failures.delete(id);
    return { ...report, backingOff };
  }

  /** Records one more failure to start the deployment; returns the pause before the next try. */
  private backOff(deploymentId: string, now: number): number {
    const count = (this.failures.get(deploymentId)?.count ?? 0) + 1;
    const pause = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (count - 1));
    this.failures.set(deploymentId, { count, retryAt: now + pause });
    return pause;
  }

  private async request(tenantId: string, deploymentId: string): Promise<DeploymentRequest | null> {
    try {
      return await this.deps.uow.run(tenantId, (repos) => deploymentRequest(this.deps, repos, deploymentId));
    } catch (error) {
      this.deps.logger.error(
        { err: error, deployment_id: deploymentId, tenant_id: tenantId },
        'cannot read what a live deployment needs to start',
      );
      return null;
    }
  }
}

/**
 * What the runtime needs to run a deployment of the unit's tenant: its build's artifact, the
 * service's start command, health check path and env vars (decrypted). Rejects with a message
 * when it cannot be had.
 */
export async function deploymentRequest(
  deps: Pick<CoreDeps, 'encryptor'>,
  repos: Repositories,
  deploymentOrId: Deployment | string,
): Promise<DeploymentRequest> {
  const tenantId = repos.tenantId;
  const deployment = typeof deploymentOrId === 'string' ? await repos.deployments.get(deploymentOrId) : deploymentOrId;
  const service = await repos.services.get(deployment.serviceId);
  const build = await repos.builds.find(deployment.buildId);
  if (build?.artifact == null) {
    throw new DeploymentRequestError(
      'The artifact of its build is gone (cleaned up, or the build was deleted): build again',
    );
  }
  let env: Record<string, string>;
  try {
    env = await decryptEnv(deps.encryptor, tenantId, service.id, service.env);
  } catch (error) {
    throw new DeploymentRequestError('The service env vars cannot be decrypted', { cause: error });
  }
  return {
    tenantId,
    deploymentId: deployment.id,
    serviceId: service.id,
    serviceName: service.name,
    buildId: deployment.buildId,
    artifact: build.artifact,
    port: service.port,
    startCommand: service.startCommand,
    healthCheckPath: service.healthCheckPath ?? '/',
    env,
  };
}

/** A deployment cannot be run as its rows stand (final: retrying does not help). */
export class DeploymentRequestError extends Error {}
