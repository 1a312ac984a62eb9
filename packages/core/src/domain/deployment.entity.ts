import type { Build } from './build.entity.js';
import { assertTransition, Entity, type NewEntity, type StatusMachine } from './entity.js';

export const DEPLOYMENT_STATUSES = ['pending', 'deploying', 'live', 'failed', 'superseded', 'cancelled'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const DEPLOYMENT_TRANSITIONS: StatusMachine<DeploymentStatus> = {
  pending: ['deploying', 'failed', 'cancelled'],
  deploying: ['live', 'failed', 'cancelled'],
  live: ['superseded'],
  failed: [],
  superseded: [],
  cancelled: [],
};

/** Pending or deploying: a job still has work to do for it. */
export const isActiveDeployment = (status: DeploymentStatus): boolean => status === 'pending' || status === 'deploying';

export class Deployment extends Entity {
  serviceId!: string;
  buildId!: string;
  status!: DeploymentStatus;
  url!: string | null;
  /** Why the deployment failed, when it did. */
  error!: string | null;
  startedAt!: Date | null;
  finishedAt!: Date | null;
  /** How many times a worker has started this deployment (redeliveries included). */
  attempt!: number;
  /** While deploying: until when the claiming worker holds it (see `Build.leaseUntil`). */
  leaseUntil!: Date | null;
  /** The job (outbox message id) that carries the deployment to a worker. */
  jobId!: string | null;
  /** Filled only when loaded with the `build` relation. */
  build?: Build;

  static create(ctx: NewEntity, input: { serviceId: string; buildId: string }): Deployment {
    const deployment = new Deployment();
    deployment.init(ctx);
    deployment.serviceId = input.serviceId;
    deployment.buildId = input.buildId;
    deployment.status = 'pending';
    deployment.url = null;
    deployment.error = null;
    deployment.startedAt = null;
    deployment.finishedAt = null;
    deployment.attempt = 0;
    deployment.leaseUntil = null;
    deployment.jobId = null;
    return deployment;
  }

  /** A worker takes it for a new attempt: `pending → deploying`, or again once its lease expired. */
  start(now: Date, leaseUntil: Date | null = null): void {
    if (this.status !== 'deploying') assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'deploying');
    this.status = 'deploying';
    this.attempt += 1;
    this.startedAt = now;
    this.leaseUntil = leaseUntil;
    this.touch(now);
  }

  isLeased(now: Date): boolean {
    return this.status === 'deploying' && this.leaseUntil !== null && this.leaseUntil.getTime() > now.getTime();
  }

  renewLease(until: Date, now: Date): void {
    this.leaseUntil = until;
    this.touch(now);
  }

  releaseLease(error: string, now: Date): void {
    this.leaseUntil = null;
    this.error = error;
    this.touch(now);
  }

  cancel(now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'cancelled');
    this.status = 'cancelled';
    this.leaseUntil = null;
    this.finishedAt = now;
    this.touch(now);
  }

  goLive(url: string, now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'live');
    this.status = 'live';
    this.url = url;
    this.error = null;
    this.leaseUntil = null;
    this.finishedAt = now;
    this.touch(now);
  }

  fail(error: string, now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'failed');
    this.status = 'failed';
    this.error = error;
    this.leaseUntil = null;
    this.finishedAt = now;
    this.touch(now);
  }

  supersede(now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'superseded');
    this.status = 'superseded';
    this.touch(now);
  }
}
