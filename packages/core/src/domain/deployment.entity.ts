import type { Build } from './build.entity.js';
import { assertTransition, Entity, type NewEntity, type StatusMachine } from './entity.js';

export const DEPLOYMENT_STATUSES = ['pending', 'deploying', 'live', 'failed', 'superseded'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const DEPLOYMENT_TRANSITIONS: StatusMachine<DeploymentStatus> = {
  pending: ['deploying', 'failed'],
  deploying: ['live', 'failed'],
  live: ['superseded'],
  failed: [],
  superseded: [],
};

export class Deployment extends Entity {
  serviceId!: string;
  buildId!: string;
  status!: DeploymentStatus;
  url!: string | null;
  /** Why the deployment failed, when it did. */
  error!: string | null;
  startedAt!: Date | null;
  finishedAt!: Date | null;
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
    return deployment;
  }

  start(now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'deploying');
    this.status = 'deploying';
    this.startedAt = now;
    this.touch(now);
  }

  goLive(url: string, now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'live');
    this.status = 'live';
    this.url = url;
    this.finishedAt = now;
    this.touch(now);
  }

  fail(error: string, now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'failed');
    this.status = 'failed';
    this.error = error;
    this.finishedAt = now;
    this.touch(now);
  }

  supersede(now: Date): void {
    assertTransition('deployment', DEPLOYMENT_TRANSITIONS, this.status, 'superseded');
    this.status = 'superseded';
    this.touch(now);
  }
}
