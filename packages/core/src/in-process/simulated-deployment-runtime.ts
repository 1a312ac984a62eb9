import type {
  DeploymentOutcome,
  DeploymentRequest,
  DeploymentRuntime,
  InstanceState,
  InstanceStatus,
  LogsOptions,
  RuntimeReconcileOptions,
  RuntimeReconcileReport,
} from '../ports/deployment-runtime.port.js';
import { delay, remember, SIMULATION_HISTORY, type SimulationOptions } from './simulated-build-runner.js';

/** An instance the simulated runtime "runs". */
export interface SimulatedInstance {
  request: DeploymentRequest;
  url: string;
  state: InstanceState;
  startedAt: Date;
  lines: string[];
}

const RUNNING: ReadonlySet<InstanceState> = new Set(['starting', 'live']);

/**
 * A deterministic runtime: "starts" a service and returns its URL; deploying the same deployment
 * twice reuses the first instance. It keeps the port's promises the way a real runtime does: a
 * new live instance stops the service's previous one, a failed deploy leaves it serving, `stop`,
 * `status`, `logs` and `reconcile` answer for what it runs. Can fail on purpose or simulate
 * outages; `forgetAll()` plays a restart of the machine (nothing runs until `reconcile`). It keeps
 * the latest requests and ended instances (`calls`, `instances`; `history`, 1000 by default) for
 * tests to read, and every running instance.
 */
export class SimulatedDeploymentRuntime implements DeploymentRuntime {
  /** The latest `deploy` calls (up to `history`), in order. */
  readonly calls: DeploymentRequest[] = [];
  /** Deployment id → every running instance, and the latest ended ones (up to `history`). */
  readonly instances = new Map<string, SimulatedInstance>();
  /** The latest deployment ids passed to `stop` (up to `history`), in order. */
  readonly stops: string[] = [];
  private readonly liveByService = new Map<string, string>();
  private readonly followers = new Map<string, Set<() => void>>();
  /** Ended instances, oldest first: past `history` they are forgotten. */
  private readonly ended: string[] = [];
  private remainingInfraFailures: number;

  constructor(private readonly options: SimulationOptions<DeploymentRequest> & { baseDomain?: string } = {}) {
    this.remainingInfraFailures = options.infrastructureFailures ?? 0;
  }

  async deploy(request: DeploymentRequest, signal?: AbortSignal): Promise<DeploymentOutcome> {
    remember(this.calls, request, this.history);
    if (this.remainingInfraFailures > 0) {
      this.remainingInfraFailures -= 1;
      throw new Error('simulated infrastructure failure: runtime unreachable');
    }
    const existing = this.instances.get(request.deploymentId);
    if (existing !== undefined && RUNNING.has(existing.state)) return { outcome: 'live', url: existing.url };
    const instance: SimulatedInstance = {
      request,
      url: `https://${request.serviceName}-${request.serviceId.replace(/-/g, '').slice(0, 8)}.${this.options.baseDomain ?? 'apps.localhost'}`,
      state: 'starting',
      startedAt: new Date(),
      lines: [],
    };
    this.instances.set(request.deploymentId, instance);
    this.print(instance, `==> Starting ${request.startCommand ?? 'npm start'} from ${describeArtifact(request)}`);
    try {
      await delay(this.options.durationMs ?? 0, signal);
    } catch (error) {
      this.end(instance, 'stopped');
      throw error;
    }
    const failure = this.options.failWhen?.(request) ?? null;
    if (failure !== null) {
      this.print(instance, `==> ${failure}`);
      this.end(instance, 'failed');
      return { outcome: 'failed', error: failure };
    }
    const previous = this.liveByService.get(request.serviceId);
    instance.state = 'live';
    this.liveByService.set(request.serviceId, request.deploymentId);
    this.print(instance, `==> Live at ${instance.url}`);
    const old = previous === undefined ? undefined : this.instances.get(previous);
    if (old !== undefined && previous !== request.deploymentId && RUNNING.has(old.state)) this.end(old, 'stopped');
    return { outcome: 'live', url: instance.url };
  }

  async stop(deploymentId: string): Promise<void> {
    remember(this.stops, deploymentId, this.history);
    const instance = this.instances.get(deploymentId);
    if (instance !== undefined && RUNNING.has(instance.state)) this.end(instance, 'stopped');
  }

  async status(deploymentId: string): Promise<InstanceStatus> {
    const instance = this.instances.get(deploymentId);
    return {
      deploymentId,
      state: instance?.state ?? 'unknown',
      url: instance?.url ?? null,
      port: instance?.request.port ?? null,
      pid: null,
      startedAt: instance?.startedAt ?? null,
      exitCode: null,
    };
  }

  async *logs(deploymentId: string, options: LogsOptions = {}): AsyncIterable<string> {
    let next = 0;
    for (;;) {
      const instance = this.instances.get(deploymentId);
      if (instance === undefined) return;
      while (next < instance.lines.length) yield instance.lines[next++] as string;
      if (options.follow !== true || !RUNNING.has(instance.state) || options.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const waiters = this.followers.get(deploymentId) ?? new Set();
        this.followers.set(deploymentId, waiters);
        const wake = () => {
          waiters.delete(wake);
          options.signal?.removeEventListener('abort', wake);
          resolve();
        };
        waiters.add(wake);
        options.signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  async reconcile(
    liveDeployments: readonly DeploymentRequest[],
    options: RuntimeReconcileOptions = {},
  ): Promise<RuntimeReconcileReport> {
    const wanted = new Set(liveDeployments.map((request) => request.deploymentId));
    const keep = new Set(options.keep ?? []);
    const report: RuntimeReconcileReport = { started: [], stopped: [], failed: [] };
    for (const [deploymentId, instance] of this.instances) {
      if (!wanted.has(deploymentId) && !keep.has(deploymentId) && RUNNING.has(instance.state)) {
        this.end(instance, 'stopped');
        report.stopped.push(deploymentId);
      }
    }
    for (const request of liveDeployments) {
      options.signal?.throwIfAborted();
      if (keep.has(request.deploymentId)) continue; // being deployed right now: not started twice
      const instance = this.instances.get(request.deploymentId);
      if (instance !== undefined && RUNNING.has(instance.state)) continue;
      try {
        const outcome = await this.deploy(request, options.signal ?? new AbortController().signal);
        if (outcome.outcome === 'live') report.started.push(request.deploymentId);
        else report.failed.push({ deploymentId: request.deploymentId, error: outcome.error });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        report.failed.push({ deploymentId: request.deploymentId, error: (error as Error).message });
      }
    }
    return report;
  }

  /** A restart of the machine: every instance is gone (their deployments stay live in the rows). */
  forgetAll(): void {
    for (const instance of this.instances.values()) this.end(instance, 'stopped');
    this.instances.clear();
    this.liveByService.clear();
  }

  /** Whether the service's traffic reaches this deployment now. */
  serves(deploymentId: string): boolean {
    const instance = this.instances.get(deploymentId);
    return instance?.state === 'live' && this.liveByService.get(instance.request.serviceId) === deploymentId;
  }

  private print(instance: SimulatedInstance, line: string): void {
    instance.lines.push(line);
    this.wake(instance.request.deploymentId);
  }

  private end(instance: SimulatedInstance, state: 'stopped' | 'failed'): void {
    if (this.liveByService.get(instance.request.serviceId) === instance.request.deploymentId) {
      this.liveByService.delete(instance.request.serviceId);
    }
    instance.state = state;
    this.print(instance, `==> ${state === 'stopped' ? 'Stopped' : 'Failed'}`);
    this.ended.push(instance.request.deploymentId);
    while (this.ended.length > this.history) {
      const id = this.ended.shift() as string;
      const old = this.instances.get(id);
      // One that runs again, or whose logs are being followed, stays.
      if (old !== undefined && !RUNNING.has(old.state) && !this.followers.has(id)) this.instances.delete(id);
    }
  }

  private get history(): number {
    return this.options.history ?? SIMULATION_HISTORY;
  }

  private wake(deploymentId: string): void {
    for (const wake of [...(this.followers.get(deploymentId) ?? [])]) wake();
  }
}

const describeArtifact = (request: DeploymentRequest): string =>
  request.artifact.kind === 'directory' ? request.artifact.path : request.artifact.ref;
