/**
 * The port shapes of issue 10, as this package implements them. They are plain interfaces, so the
 * core can adopt them structurally (its `BuildRunner` and `DeploymentRuntime` ports) without this
 * package importing anything from it yet.
 */

/** What a build yields and its deployments (and rollbacks) receive. Images come later. */
export type BuildArtifact = { kind: 'directory'; path: string };

export interface LocalBuildRequest {
  tenantId: string;
  buildId: string;
  serviceId: string;
  attempt: number;
  repoUrl: string;
  branch: string;
  commitSha: string | null;
  buildCommand: string | null;
  /** Decrypted env vars of the service: the only environment the build sees, besides PATH/HOME/LANG. */
  env: Readonly<Record<string, string>>;
}

/** How a build ended on its own terms; `failed` is final (a bad command is not retried). */
export type LocalBuildOutcome =
  | { outcome: 'succeeded'; artifact: BuildArtifact }
  | { outcome: 'failed'; error: string };

/**
 * Runs a build. Resolves with its outcome; rejects only when the infrastructure failed (the git
 * host cannot be reached, the disk), so the job is retried. `log` receives each output line as it
 * is printed. Aborting `signal` kills every process of the build, then rejects with its reason.
 */
export interface BuildRunner {
  run(request: LocalBuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<LocalBuildOutcome>;
}

export interface LocalDeploymentRequest {
  tenantId: string;
  deploymentId: string;
  serviceId: string;
  serviceName: string;
  buildId: string;
  artifact: BuildArtifact;
  /** The service's declared port. The local runtime gives every instance a free port in `PORT` instead. */
  port: number | null;
  /** Run through `sh -c`; `null` runs `npm start`. */
  startCommand: string | null;
  /** Polled until it answers 2xx; `/` by default. */
  healthCheckPath: string;
  /** Decrypted env vars of the service. */
  env: Readonly<Record<string, string>>;
}

export type LocalDeploymentOutcome = { outcome: 'live'; url: string } | { outcome: 'failed'; error: string };

export type InstanceState = 'unknown' | 'starting' | 'live' | 'stopping' | 'stopped' | 'failed' | 'crashed';

export interface DeploymentStatus {
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

export interface ReconcileReport {
  /** Deployments that were not running and now answer their health check. */
  started: string[];
  /** Instances stopped because their deployment is no longer live (left over from a crash too). */
  stopped: string[];
  failed: Array<{ deploymentId: string; error: string }>;
}

/**
 * Runs built services. `deploy` resolves `live` only once the instance answers its health check,
 * after the router sends the service's traffic to it; `failed` leaves the previous instance
 * serving. It rejects on infrastructure failure (retried), and with the signal's reason when
 * aborted (the new instance is stopped). Deploying the same deployment twice starts one instance.
 */
export interface DeploymentRuntime {
  deploy(request: LocalDeploymentRequest, signal: AbortSignal): Promise<LocalDeploymentOutcome>;
  stop(deploymentId: string): Promise<void>;
  status(deploymentId: string): Promise<DeploymentStatus>;
  /** The instance's stdout and stderr, line by line (a bounded window of the latest lines). */
  logs(deploymentId: string, options?: LogsOptions): AsyncIterable<string>;
  /** Starts each of `liveDeployments` that is not running, stops every instance not among them. */
  reconcile(liveDeployments: readonly LocalDeploymentRequest[], signal?: AbortSignal): Promise<ReconcileReport>;
}
