import type { BuildArtifact } from './build-runner.port.js';

export interface DeploymentRequest {
  tenantId: string;
  deploymentId: string;
  serviceId: string;
  serviceName: string;
  buildId: string;
  /** What the build produced; a rollback receives the earlier build's, never a rebuild. */
  artifact: BuildArtifact;
  /** The service's declared port. A runtime may hand every instance its own `PORT` instead. */
  port: number | null;
  /** Run through a shell as the user wrote it; `null` runs the runtime's default (`npm start`). */
  startCommand: string | null;
  /** Polled until it answers 2xx before the instance takes traffic; `/` by default. */
  healthCheckPath: string;
  /** Decrypted env vars of the service: the app sees them and nothing of the server's environment. */
  env: Readonly<Record<string, string>>;
}

export type DeploymentOutcome = { outcome: 'live'; url: string } | { outcome: 'failed'; error: string };

export type InstanceState = 'unknown' | 'starting' | 'live' | 'stopping' | 'stopped' | 'failed' | 'crashed';

export interface InstanceStatus {
  deploymentId: string;
  /** `crashed`: it was live and exited on its own; `unknown`: this runtime never ran it (or forgot it). */
  state: InstanceState;
  url: string | null;
  port: number | null;
  pid: number | null;
  startedAt: Date | null;
  exitCode: number | null;
}

export interface LogsOptions {
  /** Keep the iterable open and yield new lines until the instance stops or `signal` aborts. */
  follow?: boolean;
  /** Only lines printed at or after this instant. */
  since?: Date;
  signal?: AbortSignal;
}

export interface RuntimeReconcileOptions {
  /**
   * Deployments being deployed right now: neither started nor stopped by this reconcile (a
   * deployment that just went live may not be `live` in the rows yet).
   */
  keep?: readonly string[];
  signal?: AbortSignal;
}

export interface RuntimeReconcileReport {
  /** Deployments that were not running and now answer their health check. */
  started: string[];
  /** Instances stopped because their deployment is no longer live (left over from a crash too). */
  stopped: string[];
  failed: Array<{ deploymentId: string; error: string }>;
}

/**
 * Runs built services. `deploy` resolves `live` with the instance's URL only once it answers its
 * health check and takes the service's traffic, the previous instance of the service being
 * stopped after it drains; `failed` leaves the previous instance serving. It rejects on
 * infrastructure failure (retried), and with the signal's reason when aborted (the new instance
 * is stopped, no process of it left). Deploying the same deployment twice starts one instance.
 */
export interface DeploymentRuntime {
  deploy(request: DeploymentRequest, signal: AbortSignal): Promise<DeploymentOutcome>;
  /** Stops the deployment's instance (every process of it); stopping one that is not running is no error. */
  stop(deploymentId: string): Promise<void>;
  status(deploymentId: string): Promise<InstanceStatus>;
  /** The instance's stdout and stderr line by line, as printed (a bounded window of the latest lines). */
  logs(deploymentId: string, options?: LogsOptions): AsyncIterable<string>;
  /**
   * Makes what runs match the rows: starts each of `liveDeployments` that is not running (after a
   * restart, a crash), stops every instance that is neither among them nor in `keep`.
   */
  reconcile(
    liveDeployments: readonly DeploymentRequest[],
    options?: RuntimeReconcileOptions,
  ): Promise<RuntimeReconcileReport>;
}
