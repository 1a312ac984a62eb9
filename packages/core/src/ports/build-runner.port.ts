import type { BuildArtifact } from '../domain/build.entity.js';

export type { BuildArtifact };

export interface BuildRequest {
  tenantId: string;
  buildId: string;
  serviceId: string;
  attempt: number;
  /** The repository to clone, with its credentials (decrypted) when the service has any. */
  repoUrl: string;
  branch: string;
  commitSha: string | null;
  buildCommand: string | null;
  /**
   * Decrypted env vars of the service: the only environment the build sees besides PATH, HOME and
   * LANG (never the server's own). The runner must not log them.
   */
  env: Readonly<Record<string, string>>;
}

/** How a build ended on its own terms; a build that ends `failed` is final, not retried. */
export type BuildOutcome = { outcome: 'succeeded'; artifact: BuildArtifact } | { outcome: 'failed'; error: string };

/**
 * Executes a build. It resolves with the build's outcome; it rejects only when the
 * infrastructure failed (the git host cannot be reached, the disk: the job is then retried).
 * `log` receives each output line as it is printed. Aborting `signal` (a cancel, the job's
 * timeout) kills every process of the build, then the run rejects with the signal's reason or
 * resolves `failed`.
 */
export interface BuildRunner {
  run(request: BuildRequest, log: (line: string) => void, signal: AbortSignal): Promise<BuildOutcome>;
  /**
   * Deletes an artifact that no deployment will receive again (cleanup keeps the latest few of
   * each service for rollbacks). Deleting one that is already gone is no error.
   */
  discardArtifact(artifact: BuildArtifact): Promise<void>;
  /**
   * Deletes every artifact this runner holds that is not in `keep` and was made before
   * `madeBefore` (what no row names any more: its service was deleted, its build's result was
   * moot). Returns how many. Optional: a runner whose artifacts live elsewhere need not sweep.
   */
  sweepArtifacts?(keep: readonly BuildArtifact[], madeBefore: Date): Promise<number>;
}
