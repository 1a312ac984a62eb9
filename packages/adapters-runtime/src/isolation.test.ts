import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRequest, DeploymentRequest } from '@shipyard/core';
import test, { type ExecutionContext } from 'ava';
import { AppsRouter } from './apps-router.js';
import { LocalBuildRunner, type LocalBuildRunnerOptions } from './local-build-runner.js';
import { LocalProcessRuntime } from './local-process-runtime.js';
import { nobodyUser } from './sandbox.js';
import { artifactPath, type FixtureRepo, fixtureRepoHooks, get } from './testing/fixture-repo.js';

// As root, each service's builds and apps run as a uid of its own: what one service's app can do
// to another's. Only root can switch users: elsewhere these tests are skipped.
const rootTest = process.getuid?.() === 0 ? test : test.skip;

let root: { dir: string; cleanup: () => Promise<void> };
let repo: FixtureRepo;

fixtureRepoHooks(test, (made) => {
  ({ root, repo } = made);
});

let sequence = 0;
const never = new AbortController().signal;
const SERVICE_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const SERVICE_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const SERVICE_C = 'cccccccc-0000-4000-8000-000000000003';

const newWorkRoot = () => join(root.dir, `work-${++sequence}`);

/** A build of the fixture app for `serviceId` at v1 or v2 (the tip), with its output lines. */
async function build(runner: LocalBuildRunner, serviceId: string, version: 'v1' | 'v2' = 'v2', command = 'true') {
  const request: BuildRequest = {
    tenantId: 'tenant-1',
    buildId: `build-${++sequence}`,
    serviceId,
    attempt: 1,
    repoUrl: repo.url,
    branch: 'main',
    commitSha: version === 'v1' ? repo.commits[0] : null,
    buildCommand: `node build.js && ${command}`,
    env: {},
  };
  const lines: string[] = [];
  const outcome = await runner.run(request, (line) => lines.push(line), never);
  if (outcome.outcome !== 'succeeded') throw new Error(`build failed: ${outcome.error}`);
  return { artifact: outcome.artifact, lines };
}

function runner(workRoot: string, options: Partial<LocalBuildRunnerOptions> = {}): LocalBuildRunner {
  return new LocalBuildRunner({ workRoot, allowLocalRepos: true, killGraceMs: 1_000, ...options });
}

/** A runtime on `workRoot` behind a router of its own, both closed when the test ends. */
async function runtime(t: ExecutionContext, workRoot: string) {
  const router = new AppsRouter({ port: 0, host: '127.0.0.1' });
  await router.listen();
  const made = new LocalProcessRuntime({ workRoot, router, drainMs: 50, killGraceMs: 1_000, healthIntervalMs: 50 });
  t.teardown(async () => {
    await made.close();
    await router.close();
  });
  return { router, runtime: made };
}

function deployment(
  serviceId: string,
  artifact: DeploymentRequest['artifact'],
  overrides: Partial<DeploymentRequest> = {},
) {
  return {
    tenantId: 'tenant-1',
    deploymentId: `deployment-${++sequence}`,
    serviceId,
    serviceName: `web-${serviceId.slice(0, 1)}`,
    buildId: 'build',
    artifact,
    port: null,
    startCommand: 'node server.js',
    healthCheckPath: '/health',
    env: {},
    ...overrides,
  } satisfies DeploymentRequest;
}

const uidOf = async (pid: number) =>
  Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

/** What the app tries on another service's process and files before it serves: one line each. */
const PROBE = `
const fs = require('node:fs');
const attempt = (what, act) => {
  try { act(); console.log('probe ' + what + ': allowed'); }
  catch (error) { console.log('probe ' + what + ': ' + error.code); }
};
const { TARGET_PID, TARGET_DIR, TARGET_HOME } = process.env;
attempt('own environ', () => fs.readFileSync('/proc/self/environ'));
attempt('environ', () => fs.readFileSync('/proc/' + TARGET_PID + '/environ'));
attempt('build directory', () => fs.readdirSync(TARGET_DIR));
attempt('build file', () => fs.readFileSync(TARGET_DIR + '/server.js'));
attempt('home', () => fs.readdirSync(TARGET_HOME));
attempt('signal', () => process.kill(Number(TARGET_PID), 'SIGTERM'));
console.log('probe uid ' + process.getuid());
`;

rootTest(
  "two services run as two uids: one's app can neither read the other's environment, build or HOME nor signal it",
  async (t) => {
    const workRoot = newWorkRoot();
    // Constructed apart on one work root, as the composition root may: they agree through uids.json.
    const builds = runner(workRoot);
    const { router, runtime: apps } = await runtime(t, workRoot);

    const a = await build(builds, SERVICE_A, 'v2', 'id -u');
    const b = await build(builds, SERVICE_B, 'v2', 'id -u');
    const uidA = Number(a.lines.at(-2));
    const uidB = Number(b.lines.at(-2));
    t.true(uidA >= 200_000 && uidB >= 200_000);
    t.not(uidA, uidB);
    t.is((await stat(artifactPath(a.artifact))).uid, uidA);
    t.is((await stat(artifactPath(b.artifact))).uid, uidB);

    const secret = 'service-b-database-password';
    const deployB = deployment(SERVICE_B, b.artifact, { env: { DATABASE_PASSWORD: secret } });
    t.is((await apps.deploy(deployB, never)).outcome, 'live');
    const pidB = (await apps.status(deployB.deploymentId)).pid!;
    t.is(await uidOf(pidB), uidB);
    // There is something to steal: root sees B's secret in its environment.
    t.true((await readFile(`/proc/${pidB}/environ`, 'utf8')).includes(secret));
    const homeB = join(workRoot, 'home', String(uidB));
    t.like(await stat(homeB), { uid: uidB });

    const deployA = deployment(SERVICE_A, a.artifact, {
      startCommand: 'node -e "$PROBE" && exec node server.js',
      env: { PROBE, TARGET_PID: String(pidB), TARGET_DIR: artifactPath(b.artifact), TARGET_HOME: homeB },
    });
    t.is((await apps.deploy(deployA, never)).outcome, 'live');
    const pidA = (await apps.status(deployA.deploymentId)).pid!;
    t.is(await uidOf(pidA), uidA);
    const probe: string[] = [];
    for await (const line of apps.logs(deployA.deploymentId)) if (line.startsWith('probe ')) probe.push(line);
    t.deepEqual(probe, [
      'probe own environ: allowed',
      'probe environ: EACCES',
      'probe build directory: EACCES',
      'probe build file: EACCES',
      'probe home: EACCES',
      'probe signal: EPERM',
      `probe uid ${uidA}`,
    ]);
    // B was not touched, and both answer.
    t.is((await apps.status(deployB.deploymentId)).state, 'live');
    t.is((await get(router.port, router.hostFor('web-b', SERVICE_B))).status, 200);
    t.is((await get(router.port, router.hostFor('web-a', SERVICE_A))).status, 200);
  },
);

rootTest('a service keeps its uid across builds and a restart; a rollback runs its earlier build', async (t) => {
  const workRoot = newWorkRoot();
  const before = runner(workRoot);
  const v1 = await build(before, SERVICE_A, 'v1');
  const first = await runtime(t, workRoot);
  const deployV1 = deployment(SERVICE_A, v1.artifact);
  t.is((await first.runtime.deploy(deployV1, never)).outcome, 'live');
  const uid = await uidOf((await first.runtime.status(deployV1.deploymentId)).pid!);
  t.is((await stat(artifactPath(v1.artifact))).uid, uid);
  await first.runtime.close();

  // A restart: a new runner and runtime on the same work root read the uids back.
  const after = runner(workRoot);
  const v2 = await build(after, SERVICE_A, 'v2');
  t.is((await stat(artifactPath(v2.artifact))).uid, uid);
  const other = await build(after, SERVICE_C, 'v2');
  t.not((await stat(artifactPath(other.artifact))).uid, uid);

  const second = await runtime(t, workRoot);
  const host = second.router.hostFor('web-a', SERVICE_A);
  const deployV2 = deployment(SERVICE_A, v2.artifact);
  t.is((await second.runtime.deploy(deployV2, never)).outcome, 'live');
  t.like(JSON.parse((await get(second.router.port, host)).body), { version: 'v2' });
  t.is(await uidOf((await second.runtime.status(deployV2.deploymentId)).pid!), uid);

  const rollback = deployment(SERVICE_A, v1.artifact);
  t.is((await second.runtime.deploy(rollback, never)).outcome, 'live');
  t.like(JSON.parse((await get(second.router.port, host)).body), { version: 'v1' });
  t.is(await uidOf((await second.runtime.status(rollback.deploymentId)).pid!), uid);
  t.is((await second.runtime.status(deployV2.deploymentId)).state, 'stopped');

  // Discarded as root though it is the service's, files and all.
  await after.discardArtifact(v2.artifact);
  await t.throwsAsync(stat(artifactPath(v2.artifact)), { code: 'ENOENT' });
});

rootTest("another service's build is not run; a build from before the uids per service is handed over", async (t) => {
  const workRoot = newWorkRoot();
  const nobody = nobodyUser();
  // Built as it was before, every service as nobody.
  const legacy = await build(runner(workRoot, { runAs: nobody }), SERVICE_A, 'v2');
  t.is((await stat(artifactPath(legacy.artifact))).uid, nobody.uid);
  const ofB = await build(runner(workRoot), SERVICE_B, 'v2');

  const { runtime: apps } = await runtime(t, workRoot);
  const foreign = await apps.deploy(deployment(SERVICE_A, ofB.artifact), never);
  t.like(foreign, { outcome: 'failed' });
  if (foreign.outcome === 'failed') t.regex(foreign.error, /belongs to another service \(uid \d+\)/);

  const adopted = deployment(SERVICE_A, legacy.artifact);
  t.is((await apps.deploy(adopted, never)).outcome, 'live');
  const uid = await uidOf((await apps.status(adopted.deploymentId)).pid!);
  t.not(uid, nobody.uid);
  for (const path of ['', 'server.js', '.git', join('.git', 'HEAD'), 'build-output.json']) {
    t.is((await stat(join(artifactPath(legacy.artifact), path))).uid, uid, path);
  }
  const lines: string[] = [];
  for await (const line of apps.logs(adopted.deploymentId)) lines.push(line);
  t.true(lines.some((line) => line.includes(`handing it over to uid ${uid}`)));
});
