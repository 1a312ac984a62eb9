import type { DeploymentOutcome, DeploymentRequest, DeploymentRuntime } from '../ports/deployment-runtime.port.js';
import { delay, type SimulationOptions } from './simulated-build-runner.js';

/**
 * A deterministic runtime: "starts" a service and returns its URL; deploying the same
 * deployment twice reuses the first instance. Can fail on purpose or simulate outages.
 */
export class SimulatedDeploymentRuntime implements DeploymentRuntime {
  readonly calls: DeploymentRequest[] = [];
  /** Deployment id → URL of every instance started. */
  readonly instances = new Map<string, string>();
  private remainingInfraFailures: number;

  constructor(private readonly options: SimulationOptions<DeploymentRequest> & { baseDomain?: string } = {}) {
    this.remainingInfraFailures = options.infrastructureFailures ?? 0;
  }

  async deploy(request: DeploymentRequest, signal?: AbortSignal): Promise<DeploymentOutcome> {
    this.calls.push(request);
    if (this.remainingInfraFailures > 0) {
      this.remainingInfraFailures -= 1;
      throw new Error('simulated infrastructure failure: runtime unreachable');
    }
    const existing = this.instances.get(request.deploymentId);
    if (existing !== undefined) return { outcome: 'live', url: existing };
    try {
      await delay(this.options.durationMs ?? 0, signal);
    } catch {
      return { outcome: 'failed', error: 'Deployment cancelled' };
    }
    const failure = this.options.failWhen?.(request) ?? null;
    if (failure !== null) return { outcome: 'failed', error: failure };
    const url = `https://${request.serviceName}-${request.deploymentId.slice(-8)}.${this.options.baseDomain ?? 'apps.localhost'}`;
    this.instances.set(request.deploymentId, url);
    return { outcome: 'live', url };
  }
}
