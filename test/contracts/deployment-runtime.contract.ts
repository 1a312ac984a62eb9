import { randomUUID } from 'node:crypto';
import type { BuildArtifact, DeploymentRequest, DeploymentRuntime, InstanceStatus } from '@shipyard/core';
import test, { type ExecutionContext } from 'ava';
import { SERVER_SECRETS, withServerSecrets } from './build-runner.contract.js';

/** A service of the suite's: the requests of one service share these. */
export interface ContractService {
  serviceId: string;
  serviceName: string;
}

/** What the service's address answers now: the version of the app and the env vars it sees. */
export interface AppAnswer {
  version: string;
  env: { GREETING: string | null; JWT_SECRET: string | null; DATABASE_URL: string | null };
}

/**
 * What the suite needs from an implementation, for one test. The fixture app answers `GET /`
 * with its version and env, and fails its health check when its env has `HEALTH_FAIL=1`.
 */
export interface DeploymentRuntimeSubject {
  /** The runtime as it is now (`restart` replaces it). */
  runtime(): DeploymentRuntime;
  /**
   * The artifact of a build of the fixture app at `version` made for `service`: a runtime may run
   * a service only from its own builds (the local one runs each service as a uid of its own, which
   * its build directories belong to).
   */
  artifact(service: ContractService, version: 'v1' | 'v2'): Promise<BuildArtifact>;
  /** A deployment of `service` (its v2 unless overridden); each call is a new deployment id. */
  request(service: ContractService, overrides?: Partial<DeploymentRequest>): Promise<DeploymentRequest>;
  /** What the service answers through the runtime's routing, `null` when nothing serves it. */
  ask(service: ContractService): Promise<AppAnswer | null>;
  /**
   * A restart of the machine or of the process that owns the runtime: what ran is gone or
   * orphaned, the rows stay; afterwards `runtime()` is the new runtime (on the same state).
   */
  restart(): Promise<void>;
  /** Whether a process of the instance still runs, where the runtime runs processes. */
  processAlive?(status: InstanceStatus): boolean;
  close(): Promise<void>;
}

export type DeploymentRuntimeFactory = () => Promise<DeploymentRuntimeSubject>;

const never = new AbortController().signal;

export function newService(): ContractService {
  const serviceId = randomUUID();
  return { serviceId, serviceName: `web-${serviceId.slice(0, 4)}` };
}

/** The contract of every `DeploymentRuntime`. */
export function deploymentRuntimeContract(label: string, factory: DeploymentRuntimeFactory): void {
  const name = `${label} deployment runtime`;
  withServerSecrets();

  async function subject(t: ExecutionContext): Promise<DeploymentRuntimeSubject> {
    const made = await factory();
    t.teardown(() => made.close());
    return made;
  }

  const stopped = async (t: ExecutionContext, made: DeploymentRuntimeSubject, deploymentId: string) => {
    const status = await made.runtime().status(deploymentId);
    t.is(status.state, 'stopped');
    if (made.processAlive !== undefined) t.false(made.processAlive(status), 'a process of the instance still runs');
  };

  test(`${name}: a deployment goes live; the app sees its env vars and nothing of the server's`, async (t) => {
    const made = await subject(t);
    const service = newService();
    const request = await made.request(service, { env: { GREETING: 'hello from the contract' } });
    const outcome = await made.runtime().deploy(request, never);
    t.is(outcome.outcome, 'live', outcome.outcome === 'failed' ? outcome.error : '');
    if (outcome.outcome === 'live') t.regex(outcome.url, /^https?:\/\//);
    t.is((await made.runtime().status(request.deploymentId)).state, 'live');
    t.deepEqual(await made.ask(service), {
      version: 'v2',
      env: { GREETING: 'hello from the contract', JWT_SECRET: null, DATABASE_URL: null },
    });
    t.truthy(process.env.JWT_SECRET === SERVER_SECRETS.JWT_SECRET); // it was there to be leaked
  });

  test(`${name}: a deploy whose health check fails is failed, and the old instance still answers`, async (t) => {
    const made = await subject(t);
    const service = newService();
    const old = await made.request(service, { artifact: await made.artifact(service, 'v1') });
    t.is((await made.runtime().deploy(old, never)).outcome, 'live');
    const broken = await made.request(service, { env: { HEALTH_FAIL: '1' } });
    const outcome = await made.runtime().deploy(broken, never);
    t.is(outcome.outcome, 'failed');
    if (outcome.outcome === 'failed') t.true(outcome.error.length > 0);
    t.is((await made.runtime().status(broken.deploymentId)).state, 'failed');
    t.like(await made.ask(service), { version: 'v1' });
    t.is((await made.runtime().status(old.deploymentId)).state, 'live');
  });

  test(`${name}: a new live deployment stops the old instance; the earlier artifact rolls back`, async (t) => {
    const made = await subject(t);
    const service = newService();
    const first = await made.request(service, { artifact: await made.artifact(service, 'v1') });
    await made.runtime().deploy(first, never);
    t.like(await made.ask(service), { version: 'v1' });

    const second = await made.request(service);
    t.is((await made.runtime().deploy(second, never)).outcome, 'live');
    t.like(await made.ask(service), { version: 'v2' });
    await stopped(t, made, first.deploymentId);

    const rollback = await made.request(service, { artifact: await made.artifact(service, 'v1') });
    t.is((await made.runtime().deploy(rollback, never)).outcome, 'live');
    t.like(await made.ask(service), { version: 'v1' });
    await stopped(t, made, second.deploymentId);
  });

  test(`${name}: deploying the same deployment twice starts one instance`, async (t) => {
    const made = await subject(t);
    const request = await made.request(newService());
    const [a, b] = await Promise.all([made.runtime().deploy(request, never), made.runtime().deploy(request, never)]);
    t.deepEqual(a, b);
    t.is(a.outcome, 'live');
    const { pid, startedAt } = await made.runtime().status(request.deploymentId);
    t.deepEqual(await made.runtime().deploy(request, never), a);
    t.like(await made.runtime().status(request.deploymentId), { state: 'live', pid, startedAt });
  });

  test(`${name}: after a restart, reconcile(live) makes the live app answer again`, async (t) => {
    const made = await subject(t);
    const service = newService();
    const request = await made.request(service, { env: { GREETING: 'back again' } });
    t.is((await made.runtime().deploy(request, never)).outcome, 'live');
    await made.restart();
    t.is(await made.ask(service), null);
    const report = await made.runtime().reconcile([request], { signal: never });
    t.deepEqual(report, { started: [request.deploymentId], stopped: [], failed: [] });
    t.like(await made.ask(service), { version: 'v2', env: { GREETING: 'back again' } });
    t.is((await made.runtime().status(request.deploymentId)).state, 'live');
  });

  test(`${name}: reconcile stops what is not live, and leaves a kept deployment alone`, async (t) => {
    const made = await subject(t);
    const [a, b, c] = [newService(), newService(), newService()];
    const live = await made.request(a);
    const gone = await made.request(b);
    const deploying = await made.request(c);
    for (const request of [live, gone, deploying]) await made.runtime().deploy(request, never);
    const notRunning = await made.request(newService());

    // `deploying` just went live: its row is not live yet. `notRunning` is being deployed right now.
    const report = await made.runtime().reconcile([live, notRunning], {
      keep: [deploying.deploymentId, notRunning.deploymentId],
      signal: never,
    });
    t.deepEqual(report, { started: [], stopped: [gone.deploymentId], failed: [] });
    await stopped(t, made, gone.deploymentId);
    t.is(await made.ask(b), null);
    t.like(await made.ask(a), { version: 'v2' });
    t.like(await made.ask(c), { version: 'v2' });
    t.is((await made.runtime().status(notRunning.deploymentId)).state, 'unknown');
  });

  test(`${name}: stop, status and logs`, async (t) => {
    const made = await subject(t);
    const service = newService();
    const request = await made.request(service);
    await made.runtime().deploy(request, never);
    const lines: string[] = [];
    for await (const line of made.runtime().logs(request.deploymentId)) lines.push(line);
    t.true(lines.length > 0);
    await made.runtime().stop(request.deploymentId);
    await stopped(t, made, request.deploymentId);
    t.is(await made.ask(service), null);
    await made.runtime().stop(request.deploymentId); // twice: no error
    await made.runtime().stop('never-deployed');
    t.like(await made.runtime().status('never-deployed'), { state: 'unknown', url: null, pid: null });
  });
}
