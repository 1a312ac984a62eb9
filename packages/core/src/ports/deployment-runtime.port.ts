export interface DeploymentRequest {
  tenantId: string;
  deploymentId: string;
  serviceId: string;
  serviceName: string;
  buildId: string;
  port: number | null;
  startCommand: string | null;
  /** Decrypted env vars of the service. */
  env: Readonly<Record<string, string>>;
}

export type DeploymentOutcome = { outcome: 'live'; url: string } | { outcome: 'failed'; error: string };

/**
 * Runs a built service. Resolves with the outcome; rejects only on infrastructure failure
 * (retried). Deploying the same deployment id twice must not start two copies. `signal` is
 * aborted when the deployment is cancelled or its job times out: stop starting it and settle.
 */
export interface DeploymentRuntime {
  deploy(request: DeploymentRequest, signal: AbortSignal): Promise<DeploymentOutcome>;
}
