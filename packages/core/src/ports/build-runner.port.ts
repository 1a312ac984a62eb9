export interface BuildRequest {
  tenantId: string;
  buildId: string;
  serviceId: string;
  attempt: number;
  repoUrl: string;
  branch: string;
  commitSha: string | null;
  buildCommand: string | null;
  /** Decrypted env vars of the service; the runner must not log them. */
  env: Readonly<Record<string, string>>;
}

/** How a build ended on its own terms; a build that ends `failed` is final, not retried. */
export type BuildOutcome = { outcome: 'succeeded' } | { outcome: 'failed'; error: string };

/**
 * Executes a build. It resolves with the build's outcome; it rejects only when the
 * infrastructure failed (the job is then retried). `log` receives output lines as they come.
 */
export interface BuildRunner {
  run(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildOutcome>;
}
