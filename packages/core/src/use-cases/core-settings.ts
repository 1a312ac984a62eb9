/** Tunables of the use cases; every one has a default. */
export interface CoreSettings {
  /** Shortest accepted password. */
  passwordMinLength: number;
  /** Cleanup deletes finished builds older than this many days... */
  buildRetentionDays: number;
  /** ...but always keeps this many newest builds per service. */
  keepLatestBuilds: number;
  /** Sent outbox messages are deleted after this many days. */
  outboxRetentionDays: number;
  /** Audit events are deleted this many days after they occurred. */
  auditRetentionDays: number;
  /**
   * How often a running build or deployment reads its row: to see a cancel, to renew its lease,
   * and to notice another worker took it over (0 turns it off).
   */
  cancelCheckIntervalMs: number;
  /**
   * How long a worker's claim on a running build or deployment lasts unless renewed. A row still
   * running past its lease lost its worker: it may be claimed again, or the reconciler runs it.
   */
  jobLeaseMs: number;
  /** Runs of a build or deployment at most (stalls and redeliveries included); then it fails. */
  maxJobAttempts: number;
  /** A row queued for longer than this with no live job is published again by the reconciler. */
  reconcileGraceMs: number;
  /** How long a job waits for an unavailable database before its attempt fails. */
  databaseWaitMs: number;
  /**
   * Once an attempt is aborted (timeout, cancel), how long its runner has to stop before the
   * attempt ends without it. Keep it below the queue's own grace (5 s) so the row records why.
   */
  runnerAbortGraceMs: number;
  /** Accept `file://` and `http://` repositories and local hosts (development and tests only). */
  allowLocalRepos: boolean;
  /** Artifacts of this many newest succeeded builds per service are kept for rollbacks. */
  keepArtifacts: number;
  /** Build and deployment output is written to the log store at most this often. */
  logFlushMs: number;
  /** No refresh renews a sign-in session past this many seconds after it began. */
  sessionMaxAgeSeconds: number;
  /** How long an emailed link stays usable: verifying an address... */
  emailVerificationTtlSeconds: number;
  /** ...resetting a password... */
  passwordResetTtlSeconds: number;
  /** ...and accepting an invitation (setting the first password). */
  invitationTtlSeconds: number;
  /** Where emailed links point: the app's pages, given the token in the URL's fragment. */
  appUrl: string;
}

export const DEFAULT_SETTINGS: CoreSettings = {
  passwordMinLength: 8,
  buildRetentionDays: 30,
  keepLatestBuilds: 10,
  outboxRetentionDays: 7,
  auditRetentionDays: 365,
  cancelCheckIntervalMs: 2000,
  jobLeaseMs: 15_000,
  maxJobAttempts: 4,
  reconcileGraceMs: 10_000,
  databaseWaitMs: 60_000,
  runnerAbortGraceMs: 2_000,
  allowLocalRepos: false,
  keepArtifacts: 3,
  logFlushMs: 200,
  sessionMaxAgeSeconds: 30 * 86_400,
  emailVerificationTtlSeconds: 2 * 86_400,
  passwordResetTtlSeconds: 3600,
  invitationTtlSeconds: 7 * 86_400,
  appUrl: 'http://localhost:3000',
};
