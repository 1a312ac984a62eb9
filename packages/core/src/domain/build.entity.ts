import { ValidationError } from './app.errors.js';
import { assertTransition, Entity, type NewEntity, type StatusMachine } from './entity.js';
import type { Service } from './service.entity.js';

/**
 * What a build yields and its deployments (and rollbacks) receive: a directory on the machine
 * that runs the apps (the local runtime), or an image reference (a container runtime).
 */
export type BuildArtifact = { kind: 'directory'; path: string } | { kind: 'image'; ref: string };

export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export const BUILD_TRANSITIONS: StatusMachine<BuildStatus> = {
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export const isFinishedBuild = (status: BuildStatus): boolean => BUILD_TRANSITIONS[status].length === 0;

const COMMIT_SHA = /^[0-9a-f]{7,40}$/;
/** Logs kept per build; older lines are dropped first. */
export const MAX_BUILD_LOG_LENGTH = 256 * 1024;

export function checkCommitSha(value: unknown): string {
  if (typeof value !== 'string' || !COMMIT_SHA.test(value.toLowerCase())) {
    throw ValidationError.field('commitSha', 'must be 7 to 40 hexadecimal characters');
  }
  return value.toLowerCase();
}

export class Build extends Entity {
  serviceId!: string;
  commitSha!: string | null;
  branch!: string;
  status!: BuildStatus;
  /** How many times a worker has started this build (redeliveries included). */
  attempt!: number;
  logs!: string;
  error!: string | null;
  startedAt!: Date | null;
  finishedAt!: Date | null;
  /**
   * While running: until when the worker that claimed it holds it. It renews the lease while it
   * works; a build still running past its lease lost its worker and may be claimed again.
   */
  leaseUntil!: Date | null;
  /** The job (outbox message id) that carries the build to a worker. */
  jobId!: string | null;
  /**
   * What a succeeded build produced, which its deployments (and later rollbacks) receive; `null`
   * before it succeeds, and once cleanup discarded it (a rollback to it then needs a rebuild).
   */
  artifact!: BuildArtifact | null;
  /** Filled only when loaded with the `service` relation. */
  service?: Service;

  static create(ctx: NewEntity, input: { serviceId: string; branch: string; commitSha?: string | null }): Build {
    const build = new Build();
    build.init(ctx);
    build.serviceId = input.serviceId;
    build.branch = input.branch;
    build.commitSha = input.commitSha == null ? null : checkCommitSha(input.commitSha);
    build.status = 'queued';
    build.attempt = 0;
    build.logs = '';
    build.error = null;
    build.startedAt = null;
    build.finishedAt = null;
    build.leaseUntil = null;
    build.jobId = null;
    build.artifact = null;
    return build;
  }

  /**
   * A worker takes the build for a new attempt: `queued → running`, or a running build whose
   * lease expired (its worker is gone). `leaseUntil` is when the claim lapses unless renewed.
   */
  start(now: Date, leaseUntil: Date | null = null): void {
    if (this.status !== 'running') assertTransition('build', BUILD_TRANSITIONS, this.status, 'running');
    this.status = 'running';
    this.attempt += 1;
    this.startedAt = now;
    this.leaseUntil = leaseUntil;
    this.touch(now);
  }

  /** Whether a worker holds the running build now. */
  isLeased(now: Date): boolean {
    return this.status === 'running' && this.leaseUntil !== null && this.leaseUntil.getTime() > now.getTime();
  }

  renewLease(until: Date, now: Date): void {
    this.leaseUntil = until;
    this.touch(now);
  }

  /** The attempt ended without an outcome (infrastructure, timeout): free for the next one at once. */
  releaseLease(error: string, now: Date): void {
    this.leaseUntil = null;
    this.error = error;
    this.touch(now);
  }

  succeed(logs: string, artifact: BuildArtifact, now: Date): void {
    this.finish('succeeded', logs, null, now);
    this.artifact = artifact;
  }

  /**
   * A deployment of this build was created: a versioned write of the row, so that cleanup, which
   * discards artifacts with a write of the same row, cannot commit a discard alongside it.
   */
  markDeployed(now: Date): void {
    this.touch(now);
  }

  /** Cleanup deleted the artifact: a deployment of this build now needs a rebuild. */
  discardArtifact(now: Date): void {
    this.artifact = null;
    this.touch(now);
  }

  fail(error: string, logs: string, now: Date): void {
    this.finish('failed', logs, error, now);
  }

  cancel(now: Date): void {
    this.finish('cancelled', '', null, now);
  }

  private finish(status: BuildStatus, logs: string, error: string | null, now: Date): void {
    assertTransition('build', BUILD_TRANSITIONS, this.status, status);
    this.status = status;
    this.error = error;
    this.appendLogs(logs);
    this.finishedAt = now;
    this.leaseUntil = null;
    this.touch(now);
  }

  private appendLogs(logs: string): void {
    if (logs === '') return;
    const all = this.logs === '' ? logs : `${this.logs}\n${logs}`;
    this.logs = all.length > MAX_BUILD_LOG_LENGTH ? all.slice(all.length - MAX_BUILD_LOG_LENGTH) : all;
  }
}
