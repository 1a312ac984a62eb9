import { join } from 'node:path';
import type { BuildArtifact, DeploymentRequest } from '@shipyard/core';
import test, { type ExecutionContext } from 'ava';
import { AppsRouter } from './apps-router.js';
import { LocalBuildRunner } from './local-build-runner.js';
import { LocalProcessRuntime, type LocalProcessRuntimeOptions } from './local-process-runtime.js';
import { groupAlive } from './process-group.js';
import { ServiceIdentities } from './service-identities.js';
import { createFixtureRepo, get, killProcessesUnder, OFFLINE_NPM, tempDir } from './testing/fixture-repo.js';

// Only in this test process: an app must never see them.
process.env.JWT_SECRET = 'server-only-secret-of-the-test-process';
process.env.DATABASE_URL = 'postgres://server-only@127.0.0.1/secret';

let root: { dir: string; cleanup: () => Promise<void> };
const artifacts: Record<'v1' | 'v2', BuildArtifact> = {} as never;
const SERVICE_ID = '1a2b3c4d-0000-4000-8000-000000000001';
/**
 * The runtimes' work roots differ from the builds' here: they share the uids (as root, an app
 * runs as its service's uid, which its build directory belongs to).
 */
let identities: ServiceIdentities;

test.before(async () => {
  root = await tempDir();
  const repo = await createFixtureRepo(root.dir);
  identities = new ServiceIdentities({ workRoot: join(root.dir, 'builds') });
  const builds = new LocalBuildRunner({ workRoot: join(root.dir, 'builds'), allowLocalRepos: true, identities });
  for (const [version, commitSha] of [
    ['v1', repo.commits[0]],
    ['v2', repo.commits[1]],
  ] as const) {
    const outcome = await builds.run(
      {
        tenantId: 'tenant-1',
        buildId: `build-${version}`,
        serviceId: SERVICE_ID,
        attempt: 1,
        repoUrl: repo.url,
        branch: 'main',
        commitSha,
        buildCommand: 'node build.js',
        env: {},
      },
      () => {},
      new AbortController().signal,
    );
    if (outcome.outcome !== 'succeeded') throw new Error(`fixture build ${version} failed: ${outcome.error}`);
    artifacts[version] = outcome.artifact;
  }
});

test.after.always(async () => {
  const leftovers = root === undefined ? [] : await killProcessesUnder(root.dir);
  await root?.cleanup();
  if (leftovers.length > 0) throw new Error(`Processes left running by the tests: ${leftovers.join(', ')}`);
});

let sequence = 0;

interface World {
  router: AppsRouter;
  runtime: LocalProcessRuntime;
  workRoot: string;
}

/** A router and a runtime, both closed (every instance stopped) when the test ends. */
async function world(
  t: ExecutionContext,
  options: Partial<LocalProcessRuntimeOptions> & { workRoot?: string } = {},
): Promise<World> {
  const router = new AppsRouter({ port: 0, host: '127.0.0.1' });
  await router.listen();
  sequence += 1;
  const workRoot = options.workRoot ?? join(root.dir, `runtime-${sequence}`);
  const runtime = new LocalProcessRuntime({
    healthTimeoutMs: 20_000,
    drainMs: 100,
    killGraceMs: 1_000,
    identities,
    ...options,
    workRoot,
    router,
  });
  t.teardown(async () => {
    await runtime.close();
    await router.close();
  });
  return { router, runtime, workRoot };
}

function deployment(overrides: Partial<DeploymentRequest> = {}): DeploymentRequest {
  sequence += 1;
  return {
    tenantId: 'tenant-1',
    deploymentId: `deployment-${sequence}`,
    serviceId: SERVICE_ID,
    serviceName: 'web',
    buildId: 'build-v2',
    artifact: artifacts.v2,
    port: null,
    startCommand: 'node server.js',
    healthCheckPath: '/health',
    env: {},
    ...overrides,
  };
}

const never = new AbortController().signal;
const HOST = 'web-1a2b3c4d.apps.localhost';

async function answer(router: AppsRouter, path = '/') {
  const response = await get(router.port, HOST, path);
  return { status: response.status, json: response.status === 200 ? JSON.parse(response.body) : response.body };
}

test("the app runs with its env vars, PORT and nothing of the server's environment", async (t) => {
  const { router, runtime } = await world(t);
  const request = deployment({
    startCommand: null, // npm start
    healthCheckPath: '/',
    env: { ...OFFLINE_NPM, GREETING: 'hello', PORT: '1' },
  });
  const outcome = await runtime.deploy(request, never);
  t.deepEqual(outcome, { outcome: 'live', url: `http://${HOST}:${router.port}` });
  const status = await runtime.status(request.deploymentId);
  t.is(status.state, 'live');
  const { json } = await answer(router);
  t.like(json, {
    version: 'v2',
    port: String(status.port),
    greeting: 'hello',
    jwtSecret: null,
    databaseUrl: null,
    forwardedHost: HOST,
    build: { jwtSecret: null },
  });
  t.not(status.port, 1);
});

test('a deploy whose health check fails is failed, is stopped, and the old instance keeps serving', async (t) => {
  const { router, runtime } = await world(t, { healthTimeoutMs: 1_500 });
  const old = deployment({ artifact: artifacts.v1 });
  t.is((await runtime.deploy(old, never)).outcome, 'live');
  const before = await answer(router);
  t.like(before.json, { version: 'v1' });

  const broken = deployment({ env: { HEALTH_FAIL: '1' } });
  const outcome = await runtime.deploy(broken, never);
  t.is(outcome.outcome, 'failed');
  if (outcome.outcome === 'failed') {
    t.regex(outcome.error, /did not answer GET \/health with 2xx within 2 s \(last: HTTP 500\)/);
    t.regex(outcome.error, /request GET \/health/);
  }
  const status = await runtime.status(broken.deploymentId);
  t.is(status.state, 'failed');
  t.false(groupAlive(status.pid!));

  const after = await answer(router);
  t.like(after.json, { version: 'v1', pid: before.json.pid });
  t.is((await runtime.status(old.deploymentId)).state, 'live');
});

test('an app that exits before it is healthy is failed at once, with its last lines', async (t) => {
  const { runtime } = await world(t);
  const started = Date.now();
  const outcome = await runtime.deploy(deployment({ startCommand: 'echo "cannot start: no config"; exit 3' }), never);
  t.is(outcome.outcome, 'failed');
  if (outcome.outcome === 'failed') {
    t.regex(outcome.error, /^The app exited \(code 3\) before it answered its health check\./);
    t.regex(outcome.error, /cannot start: no config/);
  }
  t.true(Date.now() - started < 10_000);
});

test('a new live deployment stops the old process; deploying the earlier artifact rolls back', async (t) => {
  const { router, runtime } = await world(t);
  const first = deployment({ artifact: artifacts.v1 });
  await runtime.deploy(first, never);
  const firstPid = (await runtime.status(first.deploymentId)).pid!;
  t.like((await answer(router)).json, { version: 'v1' });

  const second = deployment({ artifact: artifacts.v2 });
  t.is((await runtime.deploy(second, never)).outcome, 'live');
  t.like((await answer(router)).json, { version: 'v2' });
  t.is((await runtime.status(first.deploymentId)).state, 'stopped');
  t.false(groupAlive(firstPid));

  const rollback = deployment({ artifact: artifacts.v1, buildId: 'build-v1' });
  t.is((await runtime.deploy(rollback, never)).outcome, 'live');
  t.like((await answer(router)).json, { version: 'v1' });
  t.is((await runtime.status(second.deploymentId)).state, 'stopped');
});

test('deploying the same deployment twice starts one instance', async (t) => {
  const { runtime } = await world(t);
  const request = deployment();
  const [a, b] = await Promise.all([runtime.deploy(request, never), runtime.deploy(request, never)]);
  t.deepEqual(a, b);
  t.is((await runtime.deploy(request, never)).outcome, 'live');
  const starts: string[] = [];
  for await (const line of runtime.logs(request.deploymentId)) if (line.startsWith('==> Starting')) starts.push(line);
  t.is(starts.length, 1);
});

test('an abort while the instance starts stops it and rejects with the reason', async (t) => {
  const { runtime } = await world(t);
  const request = deployment({ startCommand: 'echo "pgid $$"; sleep 30 & node -e "setInterval(() => {}, 1000)"' });
  const controller = new AbortController();
  const reason = new Error('job timed out');
  setTimeout(() => controller.abort(reason), 500);
  t.is(await t.throwsAsync(runtime.deploy(request, controller.signal)), reason);
  const status = await runtime.status(request.deploymentId);
  t.is(status.state, 'stopped');
  t.false(groupAlive(status.pid!));
});

test('after a restart, reconcile stops the leftovers and brings the live app back; then stops what is not live', async (t) => {
  const before = await world(t);
  const request = deployment();
  await before.runtime.deploy(request, never);
  const oldPid = (await before.runtime.status(request.deploymentId)).pid!;
  await before.router.close(); // the old process "died": nothing routes to its instance any more

  const after = await world(t, { workRoot: before.workRoot });
  t.is(after.router.routeOf(HOST), null);
  const report = await after.runtime.reconcile([request], { signal: never });
  t.deepEqual(report, { started: [request.deploymentId], stopped: [], failed: [] });
  t.false(groupAlive(oldPid));
  const { json } = await answer(after.router);
  t.like(json, { version: 'v2' });
  t.not(json.pid, undefined);

  t.deepEqual(await after.runtime.reconcile([], { signal: never }), {
    started: [],
    stopped: [request.deploymentId],
    failed: [],
  });
  t.is((await answer(after.router)).status, 502);
});

test('logs: the lines so far, and with follow the new ones until the instance stops', async (t) => {
  const { router, runtime } = await world(t);
  const request = deployment();
  await runtime.deploy(request, never);
  const status = await runtime.status(request.deploymentId);

  const followed: string[] = [];
  let seen: () => void = () => {};
  const sawRequest = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const following = (async () => {
    for await (const line of runtime.logs(request.deploymentId, { follow: true })) {
      followed.push(line);
      if (line === 'request GET /followed') seen();
    }
  })();
  await get(router.port, HOST, '/followed');
  await sawRequest; // a line printed after the follower started reached it

  const sofar: string[] = [];
  for await (const line of runtime.logs(request.deploymentId)) sofar.push(line);
  t.is(sofar[0], `==> Starting node server.js with PORT=${status.port}`);
  t.true(sofar.includes(`listening on ${status.port}`));
  t.true(sofar.includes('request GET /followed'));
  const later: string[] = [];
  for await (const line of runtime.logs(request.deploymentId, { since: new Date(Date.now() + 60_000) })) {
    later.push(line);
  }
  t.deepEqual(later, []);

  await runtime.stop(request.deploymentId);
  await following; // ends because the instance stopped
  t.deepEqual(followed.slice(0, sofar.length), sofar);
  t.is(followed.at(-1), '==> Exited on SIGTERM');
  t.is((await runtime.status(request.deploymentId)).state, 'stopped');
});

test('an unknown deployment is unknown and has no logs', async (t) => {
  const { runtime } = await world(t);
  t.is((await runtime.status('nope')).state, 'unknown');
  const lines: string[] = [];
  for await (const line of runtime.logs('nope', { follow: true })) lines.push(line);
  t.deepEqual(lines, []);
  await runtime.stop('nope');
});

test('reconcile leaves a kept deployment alone: not stopped though not live, not started though live', async (t) => {
  const { router, runtime } = await world(t);
  const deploying = deployment();
  await runtime.deploy(deploying, never);
  // Live here, but its row is not `live` yet: the periodic reconcile sees an older live list.
  const first = await runtime.reconcile([], { keep: [deploying.deploymentId], signal: never });
  t.deepEqual(first, { started: [], stopped: [], failed: [] });
  t.is((await runtime.status(deploying.deploymentId)).state, 'live');
  t.like((await answer(router)).json, { version: 'v2' });

  // A kept deployment that is live in the rows but not running is not started by the reconcile.
  const other = deployment({ serviceId: '9f8e7d6c-0000-4000-8000-000000000002', serviceName: 'other' });
  const second = await runtime.reconcile([deploying, other], { keep: [other.deploymentId], signal: never });
  t.deepEqual(second, { started: [], stopped: [], failed: [] });
  t.is((await runtime.status(other.deploymentId)).state, 'unknown');
});

test('a deployment of an image, or in a directory the app user cannot reach, does not start', async (t) => {
  const { runtime } = await world(t);
  const image = await runtime.deploy(deployment({ artifact: { kind: 'image', ref: 'registry/app:1' } }), never);
  t.like(image, { outcome: 'failed' });
  if (image.outcome === 'failed') t.regex(image.error, /not an image \(registry\/app:1\)/);
});
