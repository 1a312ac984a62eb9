import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRequest, DeploymentRequest } from '@shipyard/core';
import test from 'ava';
import { AppsRouter } from './apps-router.js';
import { LocalBuildRunner, type LocalBuildRunnerOptions } from './local-build-runner.js';
import { LocalProcessRuntime } from './local-process-runtime.js';
import { groupAlive } from './process-group.js';
import { nobodyUser, RuntimeSetupError } from './sandbox.js';
import { ServiceIdentities } from './service-identities.js';
import { artifactPath, type FixtureRepo, fixtureRepoHooks, get } from './testing/fixture-repo.js';

const asRoot = process.getuid?.() === 0;
/** What only root can show: the children switch to another user. Elsewhere the test is skipped. */
const rootTest = asRoot ? test : test.skip;

let root: { dir: string; cleanup: () => Promise<void> };
let repo: FixtureRepo;

fixtureRepoHooks(test, (made) => {
  ({ root, repo } = made);
});

let sequence = 0;
const never = new AbortController().signal;

function buildRequest(buildCommand: string): BuildRequest {
  sequence += 1;
  return {
    tenantId: 'tenant-1',
    buildId: `build-${sequence}`,
    serviceId: '1a2b3c4d-0000-4000-8000-000000000001',
    attempt: 1,
    repoUrl: repo.url,
    branch: 'main',
    commitSha: null,
    buildCommand,
    env: {},
  };
}

function runner(options: Partial<LocalBuildRunnerOptions> = {}): LocalBuildRunner {
  sequence += 1;
  return new LocalBuildRunner({
    workRoot: join(root.dir, `work-${sequence}`),
    allowLocalRepos: true,
    killGraceMs: 1_000,
    ...options,
  });
}

/** The lines a build printed, and its outcome. */
async function build(builds: LocalBuildRunner, command: string) {
  const lines: string[] = [];
  const outcome = await builds.run(buildRequest(command), (line) => lines.push(line), never);
  return { lines, outcome };
}

test('nobody comes from /etc/passwd, else it is 65534:65534', async (t) => {
  const passwd = join(root.dir, 'passwd');
  await writeFile(passwd, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:99:98:Nobody:/:/sbin/nologin\n');
  t.deepEqual(nobodyUser(passwd), { uid: 99, gid: 98 });
  await writeFile(passwd, 'root:x:0:0:root:/root:/bin/sh\n');
  t.deepEqual(nobodyUser(passwd), { uid: 65534, gid: 65534 });
  t.deepEqual(nobodyUser(join(root.dir, 'no-such-file')), { uid: 65534, gid: 65534 });
});

rootTest(
  "as root, a build runs as its service's own uid under the limits, in a directory and HOME of its own",
  async (t) => {
    const builds = runner();
    t.is(builds.describeSandbox(), 'a uid per service (200000–299999), data 2 GiB, 1024 processes, 4096 open files');
    const command = 'id -u; id -g; id -G; ulimit -n; ulimit -d; echo "$HOME"; touch made-by-the-build';
    const { lines, outcome } = await build(builds, command);
    if (outcome.outcome !== 'succeeded') return t.fail(outcome.error);
    const dir = artifactPath(outcome.artifact);
    const workRoot = join(dir, '..', '..');
    const { uids } = JSON.parse(await readFile(join(workRoot, 'uids.json'), 'utf8'));
    const uid = uids[buildRequest('').serviceId] as number;
    t.true(uid >= 200_000 && uid < 300_000);
    const home = join(workRoot, 'home', String(uid));
    const printed = lines.slice(lines.findIndex((line) => line.startsWith('==> Running')) + 1, -1);
    t.deepEqual(printed, [String(uid), String(uid), String(uid), '4096', String(2 * 1024 * 1024), home]);
    t.true(lines[0]?.startsWith(`==> Building as uid ${uid}:${uid}, data 2 GiB, 1024 processes`));
    t.is((await stat(join(dir, 'made-by-the-build'))).uid, uid);
    t.is((await stat(join(dir, 'server.js'))).uid, uid); // git cloned as that uid too
    t.like(await stat(dir), { uid, gid: uid });
    t.is((await stat(dir)).mode & 0o777, 0o700);
    t.like(await stat(home), { uid, gid: uid });
    t.is((await stat(home)).mode & 0o777, 0o700);
    // Root's, passable only: a service may go through to its own directory, not list the others.
    for (const shared of ['builds', 'home']) {
      t.like(await stat(join(workRoot, shared)), { uid: 0, gid: 0 });
      t.is((await stat(join(workRoot, shared))).mode & 0o777, 0o711);
    }
    t.is((await stat(join(workRoot, 'uids.json'))).mode & 0o777, 0o600);
  },
);

rootTest('runAs { uid, gid } runs every build as that one user', async (t) => {
  const nobody = nobodyUser();
  const builds = runner({ runAs: nobody });
  t.true(builds.describeSandbox().startsWith(`uid ${nobody.uid}:${nobody.gid}, data 2 GiB, 1024 processes`));
  const { lines, outcome } = await build(builds, 'id -u; id -G; echo "$HOME"');
  if (outcome.outcome !== 'succeeded') return t.fail(outcome.error);
  const workRoot = join(artifactPath(outcome.artifact), '..', '..');
  const printed = lines.slice(lines.findIndex((line) => line.startsWith('==> Running')) + 1, -1);
  t.deepEqual(printed, [String(nobody.uid), String(nobody.gid), join(workRoot, 'home')]);
  t.like(await stat(join(workRoot, 'home')), { uid: nobody.uid });
  t.like(await stat(artifactPath(outcome.artifact)), { uid: nobody.uid });
  t.false(existsSync(join(workRoot, 'uids.json')));
});

rootTest('runAs null runs the builds as this process, root', async (t) => {
  const builds = runner({ runAs: null });
  t.true(builds.describeSandbox().startsWith('uid 0, data 2 GiB, 4096 open files'));
  const { lines, outcome } = await build(builds, 'id -u');
  t.is(outcome.outcome, 'succeeded');
  t.true(lines.includes('0'));
});

rootTest('a build that asks for more memory than its limit fails; the limits are configurable', async (t) => {
  const builds = runner({ limits: { memoryBytes: 256 * 1024 ** 2, openFiles: 100 } });
  const small = await build(builds, 'ulimit -n; node -e "Buffer.alloc(64 * 1024 * 1024, 1); console.log(42)"');
  t.is(small.outcome.outcome, 'succeeded');
  t.true(small.lines.includes('100'));
  t.true(small.lines.includes('42'));
  const big = await build(builds, 'node -e "Buffer.alloc(512 * 1024 * 1024, 1)"');
  t.is(big.outcome.outcome, 'failed');
  if (big.outcome.outcome === 'failed') t.regex(big.outcome.error, /Array buffer allocation failed|RangeError/);
});

rootTest('a limit above what this process may grant is lowered to it, not refused', async (t) => {
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(await readFile('/proc/self/limits', 'utf8'))?.[1];
  const { lines, outcome } = await build(runner({ limits: { openFiles: 1e9 } }), 'ulimit -n');
  t.is(outcome.outcome, 'succeeded');
  t.true(lines.includes(hard === 'unlimited' ? String(1e9) : String(hard)));
});

test('without prlimit the build runs without limits, and says so once', async (t) => {
  // A PATH with what the build needs but no prlimit.
  const bin = join(root.dir, 'bin-without-prlimit');
  await mkdir(bin);
  const onPath = (tool: string) =>
    (process.env.PATH ?? '/usr/bin:/bin')
      .split(':')
      .map((dir) => join(dir, tool))
      .find((candidate) => existsSync(candidate)) ?? join('/usr/bin', tool);
  for (const tool of ['sh', 'git', 'id']) await symlink(onPath(tool), join(bin, tool));
  await symlink(process.execPath, join(bin, 'node'));
  const warnings: string[] = [];
  const builds = runner({ path: bin, onWarning: (message) => warnings.push(message) });
  t.true(builds.describeSandbox().endsWith(', no limits'));
  for (let i = 0; i < 2; i += 1) t.is((await build(builds, 'ulimit -n')).outcome.outcome, 'succeeded');
  t.is(warnings.length, 1);
  t.regex(warnings[0] ?? '', /prlimit \(util-linux\) was not found/);

  const none = runner({ prlimit: null, onWarning: (message) => warnings.push(message) });
  t.is((await build(none, 'true')).outcome.outcome, 'succeeded');
  t.is(warnings.length, 1); // asked for no prlimit: nothing to warn about
});

rootTest('a work root that the services cannot reach is refused, naming the directory in the way', async (t) => {
  const closed = join(root.dir, `closed-${++sequence}`);
  await mkdir(closed, { mode: 0o700 });
  await chmod(closed, 0o700);
  const error = t.throws(() => new LocalBuildRunner({ workRoot: join(closed, 'work') }), {
    instanceOf: RuntimeSetupError,
  });
  t.regex(error?.message ?? '', new RegExp(`${closed} \\(mode 700, owner 0:0\\) does not let it through`));
  t.regex(error?.message ?? '', /cannot be reached by the services' uids \(200000–299999\)/);
  t.regex(error?.message ?? '', new RegExp(`chmod o\\+x ${closed}`));
  t.throws(() => new LocalProcessRuntime({ workRoot: closed, router: new AppsRouter() }), {
    instanceOf: RuntimeSetupError,
  });

  // Closed after the construction: the first run says so, and it is picked up once fixed.
  const later = join(root.dir, `later-${++sequence}`);
  await mkdir(later);
  const builds = new LocalBuildRunner({ workRoot: join(later, 'work'), allowLocalRepos: true });
  await chmod(later, 0o700);
  const rejected = await t.throwsAsync(
    builds.run(buildRequest('true'), () => {}, never),
    {
      instanceOf: RuntimeSetupError,
    },
  );
  t.true(rejected?.message.includes(later));
  await chmod(later, 0o711);
  t.is((await builds.run(buildRequest('true'), () => {}, never)).outcome, 'succeeded');
});

rootTest(
  "as root, an app runs as its service's uid; its artifact must be reachable; stopping it kills every process",
  async (t) => {
    // Another work root than the builds': the runner's uids are given to the runtime.
    const identities = new ServiceIdentities({ workRoot: join(root.dir, `work-${++sequence}`) });
    const builds = runner({ workRoot: join(identities.file, '..'), identities });
    const built = await builds.run(buildRequest('node build.js'), () => {}, never);
    if (built.outcome !== 'succeeded') return t.fail(built.error);
    const router = new AppsRouter({ port: 0, host: '127.0.0.1' });
    await router.listen();
    const runtime = new LocalProcessRuntime({
      workRoot: join(root.dir, `runtime-${++sequence}`),
      router,
      drainMs: 50,
      killGraceMs: 1_000,
      identities,
    });
    t.teardown(async () => {
      await runtime.close();
      await router.close();
    });
    const request: DeploymentRequest = {
      tenantId: 'tenant-1',
      deploymentId: `deployment-${++sequence}`,
      serviceId: '1a2b3c4d-0000-4000-8000-000000000001',
      serviceName: 'web',
      buildId: 'build',
      artifact: built.artifact,
      port: null,
      // A child in the background as well: the stop must reach it though it is not root's.
      startCommand: 'sleep 60 & node server.js',
      healthCheckPath: '/health',
      env: {},
    };
    t.is((await runtime.deploy(request, never)).outcome, 'live');
    const { pid } = await runtime.status(request.deploymentId);
    const uidOf = async (id: number) => /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${id}/status`, 'utf8'))?.[1];
    const { uid } = await identities.identityOf(request.serviceId);
    t.is(await uidOf(pid!), String(uid));
    t.is((await get(router.port, 'web-1a2b3c4d.apps.localhost')).status, 200);
    await runtime.stop(request.deploymentId);
    t.false(groupAlive(pid!));

    // An artifact under a directory nobody cannot enter: a clear error, and nothing left running.
    const closedParent = join(artifactPath(built.artifact), '..');
    await chmod(closedParent, 0o700);
    t.teardown(() => chmod(closedParent, 0o711));
    const error = await t.throwsAsync(runtime.deploy({ ...request, deploymentId: `deployment-${++sequence}` }, never), {
      instanceOf: RuntimeSetupError,
    });
    t.regex(error?.message ?? '', /The build's directory .* cannot be reached by uid/);
  },
);
