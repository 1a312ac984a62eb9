import test from 'ava';
import { ConflictError, ValidationError } from './app.errors.js';
import { BUILD_STATUSES, Build, type BuildStatus, isFinishedBuild } from './build.entity.js';
import { DEPLOYMENT_STATUSES, Deployment, type DeploymentStatus } from './deployment.entity.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:05:00.000Z');
const SERVICE_ID = '00000000-0000-4000-8000-0000000000aa';
const BUILD_ID = '00000000-0000-4000-8000-0000000000bb';

// The machines as DESIGN.md states them, written out independently of the code's tables.
// A build already running may be started again: that is a new attempt of the same build.
const BUILD_ALLOWED: ReadonlyArray<readonly [BuildStatus, BuildStatus]> = [
  ['queued', 'running'],
  ['queued', 'cancelled'],
  ['running', 'running'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['running', 'cancelled'],
];

// `pending → failed` is how a job given up before it was ever claimed ends; `deploying → deploying`
// is a new attempt after the previous worker's lease lapsed.
const DEPLOYMENT_ALLOWED: ReadonlyArray<readonly [DeploymentStatus, DeploymentStatus]> = [
  ['pending', 'deploying'],
  ['pending', 'failed'],
  ['pending', 'cancelled'],
  ['deploying', 'deploying'],
  ['deploying', 'live'],
  ['deploying', 'failed'],
  ['deploying', 'cancelled'],
  ['live', 'superseded'],
];

function buildIn(status: BuildStatus): Build {
  const build = Build.create({ id: BUILD_ID, now: T0 }, { serviceId: SERVICE_ID, branch: 'main' });
  build.status = status;
  return build;
}

function deploymentIn(status: DeploymentStatus): Deployment {
  const deployment = Deployment.create({ id: BUILD_ID, now: T0 }, { serviceId: SERVICE_ID, buildId: BUILD_ID });
  deployment.status = status;
  return deployment;
}

const moveBuild = (build: Build, to: BuildStatus): void => {
  if (to === 'running') build.start(T1);
  else if (to === 'succeeded') build.succeed('ok', { kind: 'image', ref: 'x' }, T1);
  else if (to === 'failed') build.fail('broken', 'log', T1);
  else if (to === 'cancelled') build.cancel(T1);
  else throw new Error(`no method moves a build to ${to}`);
};

const moveDeployment = (deployment: Deployment, to: DeploymentStatus): void => {
  if (to === 'deploying') deployment.start(T1);
  else if (to === 'live') deployment.goLive('https://app.example.test', T1);
  else if (to === 'failed') deployment.fail('boom', T1);
  else if (to === 'superseded') deployment.supersede(T1);
  else if (to === 'cancelled') deployment.cancel(T1);
  else throw new Error(`no method moves a deployment to ${to}`);
};

test('a new build is queued, at attempt 0, with no logs, error or times', (t) => {
  const build = Build.create({ id: BUILD_ID, now: T0 }, { serviceId: SERVICE_ID, branch: 'main' });
  t.is(build.status, 'queued');
  t.is(build.attempt, 0);
  t.is(build.logs, '');
  t.is(build.error, null);
  t.is(build.startedAt, null);
  t.is(build.finishedAt, null);
  t.is(build.commitSha, null);
});

for (const from of BUILD_STATUSES) {
  for (const to of ['running', 'succeeded', 'failed', 'cancelled'] as const) {
    const allowed = BUILD_ALLOWED.some(([a, b]) => a === from && b === to);
    test(`a ${from} build ${allowed ? 'can' : 'cannot'} become ${to}`, (t) => {
      const build = buildIn(from);
      if (allowed) {
        moveBuild(build, to);
        t.is(build.status, to);
        t.deepEqual(build.updatedAt, T1);
      } else {
        const error = t.throws(() => moveBuild(build, to), { instanceOf: ConflictError });
        t.is(error?.code, 'conflict');
        t.deepEqual(error?.details, { from, to });
        t.is(build.status, from, 'a refused transition changes nothing');
        t.deepEqual(build.updatedAt, T0);
      }
    });
  }
}

test('starting a build counts the attempt and stamps its start', (t) => {
  const build = buildIn('queued');
  build.start(T0);
  t.is(build.attempt, 1);
  build.start(T1);
  t.is(build.attempt, 2, 'a redelivered running build is a new attempt');
  t.deepEqual(build.startedAt, T1);
});

test('a finished build keeps its logs, its error and its finish time', (t) => {
  const build = buildIn('queued');
  build.start(T0);
  build.fail('exit 1', 'line 1\nline 2', T1);
  t.is(build.status, 'failed');
  t.is(build.error, 'exit 1');
  t.is(build.logs, 'line 1\nline 2');
  t.deepEqual(build.finishedAt, T1);
});

test('only succeeded, failed and cancelled builds count as finished', (t) => {
  const finished = BUILD_STATUSES.filter((status) => isFinishedBuild(status));
  t.deepEqual([...finished].sort(), ['cancelled', 'failed', 'succeeded']);
});

test('a build refuses a commit sha that is not 7 to 40 hex characters, naming commitSha', (t) => {
  for (const commitSha of ['abc12', 'xyz1234', 'a'.repeat(41)]) {
    const error = t.throws(
      () => Build.create({ id: BUILD_ID, now: T0 }, { serviceId: SERVICE_ID, branch: 'main', commitSha }),
      { instanceOf: ValidationError },
    );
    t.is(error?.code, 'validation_error');
    t.deepEqual(
      error?.details.map((issue) => issue.field),
      ['commitSha'],
    );
  }
  const build = Build.create(
    { id: BUILD_ID, now: T0 },
    { serviceId: SERVICE_ID, branch: 'main', commitSha: 'ABCDEF1' },
  );
  t.is(build.commitSha, 'abcdef1', 'a valid sha is stored lowercase');
});

test('a new deployment is pending with no url', (t) => {
  const deployment = Deployment.create({ id: BUILD_ID, now: T0 }, { serviceId: SERVICE_ID, buildId: BUILD_ID });
  t.is(deployment.status, 'pending');
  t.is(deployment.url, null);
  t.is(deployment.startedAt, null);
});

for (const from of DEPLOYMENT_STATUSES) {
  for (const to of ['deploying', 'live', 'failed', 'superseded', 'cancelled'] as const) {
    const allowed = DEPLOYMENT_ALLOWED.some(([a, b]) => a === from && b === to);
    test(`a ${from} deployment ${allowed ? 'can' : 'cannot'} become ${to}`, (t) => {
      const deployment = deploymentIn(from);
      if (allowed) {
        moveDeployment(deployment, to);
        t.is(deployment.status, to);
      } else {
        const error = t.throws(() => moveDeployment(deployment, to), { instanceOf: ConflictError });
        t.is(error?.code, 'conflict');
        t.is(deployment.status, from, 'a refused transition changes nothing');
      }
    });
  }
}

test('a deployment that goes live records its url and finish time', (t) => {
  const deployment = deploymentIn('pending');
  deployment.start(T0);
  deployment.goLive('https://web-1.apps.example.test', T1);
  t.is(deployment.url, 'https://web-1.apps.example.test');
  t.deepEqual(deployment.startedAt, T0);
  t.deepEqual(deployment.finishedAt, T1);
});

test('a failed deployment records why', (t) => {
  const deployment = deploymentIn('deploying');
  deployment.fail('port 8080 never opened', T1);
  t.is(deployment.error, 'port 8080 never opened');
  t.deepEqual(deployment.finishedAt, T1);
});
