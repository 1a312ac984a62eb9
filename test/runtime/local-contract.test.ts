import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AppsRouter, LocalBuildRunner, LocalProcessRuntime, ServiceIdentities } from '@shipyard/adapters-runtime';
import {
  createFixtureRepo,
  type FixtureRepo,
  fixtureBuildRequest,
  get,
  groupAlive,
  killProcessesUnder,
  servePrivateRepo,
  tempDir,
} from '@shipyard/adapters-runtime/testing';
import type { BuildArtifact, BuildRequest, DeploymentRequest } from '@shipyard/core';
import test from 'ava';
import { buildRunnerContract } from '../contracts/build-runner.contract.js';
import {
  type AppAnswer,
  type ContractService,
  deploymentRuntimeContract,
  newService,
} from '../contracts/deployment-runtime.contract.js';

// The local adapters (git, processes, the router) against the port contracts, on a bare git
// repository made in a temp directory (no network). Run as root, each service's builds and apps
// run as a uid of its own.

let root: { dir: string; cleanup: () => Promise<void> } | undefined;
let shared: Promise<{ dir: string; repo: FixtureRepo }> | undefined;
/** The temp directory and the fixture repository, made once for the file. */
const fixture = () => {
  shared ??= (async () => {
    root = await tempDir('shipyard-local-contract-');
    return { dir: root.dir, repo: await createFixtureRepo(root.dir) };
  })();
  return shared;
};

test.after.always(async () => {
  const leftovers = root === undefined ? [] : await killProcessesUnder(root.dir);
  await root?.cleanup();
  if (leftovers.length > 0) throw new Error(`Processes left running by the tests: ${leftovers.join(', ')}`);
});

let sequence = 0;
const never = new AbortController().signal;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function localRunner() {
  const { dir, repo } = await fixture();
  sequence += 1;
  const workRoot = join(dir, `builds-${sequence}`);
  const runner = new LocalBuildRunner({ workRoot, allowLocalRepos: true, killGraceMs: 1_000 });
  const request = (overrides: Partial<BuildRequest> = {}): BuildRequest => fixtureBuildRequest(repo, overrides);
  return { dir, runner, request, workRoot };
}

buildRunnerContract('local', async () => {
  const { dir, runner, request } = await localRunner();
  const closers: Array<() => Promise<void>> = [];
  return {
    runner,
    request,
    slowBuild: () => {
      sequence += 1;
      const gate = join(dir, `gate-${sequence}`);
      return {
        // The detected build (npm ci, npm run build): the fixture's build script waits for the gate.
        request: request({ env: { BUILD_GATE: gate } }),
        ordered: [
          /^==> Cloning /,
          /^build: step 1$/,
          /^build: step 2$/,
          /^build: step 3 \(stderr\)$/,
          /^==> Build succeeded$/,
        ],
        release: () => writeFile(gate, 'go'),
      };
    },
    privateRepo: async () => {
      const secret = 's3cr3t-contract-token';
      const server = await servePrivateRepo((await fixture()).repo.url, { username: 'deploy', password: secret });
      closers.push(server.close);
      return { request: request({ repoUrl: server.url }), secret };
    },
    unreachable: async () => ({
      runner,
      request: request({ repoUrl: `http://user:hunter2-secret@127.0.0.1:${await closedPort()}/repo.git` }),
    }),
    runsCommands: true,
    close: async () => {
      for (const close of closers) await close();
    },
  };
});

test('local build runner: an aborted build leaves no process of it alive', async (t) => {
  const { runner, request, workRoot } = await localRunner();
  const controller = new AbortController();
  let pgid = 0;
  const reason = new Error('cancelled');
  const run = runner.run(
    // A background job and a foreground one: killing only the shell would leave both running.
    request({ buildCommand: 'echo "pgid $$"; sleep 30 & node -e "setInterval(() => {}, 1000)"' }),
    (line) => {
      const match = /^pgid (\d+)$/.exec(line);
      if (match) {
        pgid = Number(match[1]);
        setTimeout(() => controller.abort(reason), 200);
      }
    },
    controller.signal,
  );
  t.is(await t.throwsAsync(run), reason);
  t.true(pgid > 0);
  t.false(groupAlive(pgid));
  t.deepEqual(await killProcessesUnder(workRoot), []);
});

// --- the runtime ---

/** The fixture app's builds, per service and version, made once each (a service runs its own builds only). */
const builds = new Map<string, Promise<BuildArtifact>>();
let artifactRunner: LocalBuildRunner | undefined;
const artifactsRoot = async () => join((await fixture()).dir, 'artifacts');

async function builtArtifact(service: ContractService, version: 'v1' | 'v2'): Promise<BuildArtifact> {
  const key = `${service.serviceId}/${version}`;
  let built = builds.get(key);
  if (built === undefined) {
    built = (async () => {
      const { repo } = await fixture();
      artifactRunner ??= new LocalBuildRunner({ workRoot: await artifactsRoot(), allowLocalRepos: true });
      const outcome = await artifactRunner.run(
        {
          tenantId: 'tenant-1',
          buildId: `build-${version}-${++sequence}`,
          serviceId: service.serviceId,
          attempt: 1,
          repoUrl: repo.url,
          branch: 'main',
          commitSha: version === 'v1' ? repo.commits[0] : repo.commits[1],
          buildCommand: 'node build.js',
          env: {},
        },
        () => {},
        never,
      );
      if (outcome.outcome !== 'succeeded') throw new Error(`fixture build ${version} failed: ${outcome.error}`);
      return outcome.artifact;
    })();
    builds.set(key, built);
  }
  return built;
}

async function localRuntime() {
  const { dir } = await fixture();
  sequence += 1;
  const workRoot = join(dir, `runtime-${sequence}`);
  const start = async () => {
    const router = new AppsRouter({ port: 0, host: '127.0.0.1' });
    await router.listen();
    const runtime = new LocalProcessRuntime({
      workRoot,
      router,
      healthTimeoutMs: 4_000,
      healthIntervalMs: 50,
      drainMs: 50,
      killGraceMs: 1_000,
      // The builds' work root is another: as root, the runtime reads the services' uids from it
      // (a new reader at each start, as after a restart of the process).
      identities: new ServiceIdentities({ workRoot: await artifactsRoot() }),
    });
    return { router, runtime };
  };
  return { workRoot, start, current: await start() };
}

deploymentRuntimeContract('local', async () => {
  const made = await localRuntime();
  let { router, runtime } = made.current;
  return {
    runtime: () => runtime,
    artifact: builtArtifact,
    request: async (
      service: ContractService,
      overrides: Partial<DeploymentRequest> = {},
    ): Promise<DeploymentRequest> => {
      sequence += 1;
      return {
        tenantId: 'tenant-1',
        deploymentId: `deployment-${sequence}`,
        ...service,
        buildId: 'build-v2',
        artifact: overrides.artifact ?? (await builtArtifact(service, 'v2')),
        port: null,
        startCommand: 'node server.js',
        healthCheckPath: '/health',
        env: {},
        ...overrides,
      };
    },
    ask: async (service): Promise<AppAnswer | null> => {
      const response = await get(router.port, router.hostFor(service.serviceName, service.serviceId));
      if (response.status === 502) return null;
      const json = JSON.parse(response.body);
      return {
        version: json.version,
        env: { GREETING: json.greeting, JWT_SECRET: json.jwtSecret, DATABASE_URL: json.databaseUrl },
      };
    },
    // The server process died: its router is gone, its apps are orphans. A new one starts on the
    // same work root (the old runtime is dropped without close(), as a killed process would be).
    restart: async () => {
      await router.close();
      ({ router, runtime } = await made.start());
    },
    processAlive: (status) => status.pid !== null && groupAlive(status.pid),
    close: async () => {
      await runtime.close();
      await router.close();
    },
  };
});

test('local deployment runtime: after a restart, reconcile stops the orphaned process before it starts a new one', async (t) => {
  const made = await localRuntime();
  const { router, runtime } = made.current;
  const service = newService();
  const request: DeploymentRequest = {
    tenantId: 'tenant-1',
    deploymentId: `deployment-${++sequence}`,
    ...service,
    buildId: 'build-v2',
    artifact: await builtArtifact(service, 'v2'),
    port: null,
    startCommand: 'node server.js',
    healthCheckPath: '/health',
    env: {},
  };
  await runtime.deploy(request, never);
  const orphan = (await runtime.status(request.deploymentId)).pid!;
  await router.close();
  const after = await made.start();
  t.teardown(async () => {
    await after.runtime.close();
    await after.router.close();
  });
  t.true(groupAlive(orphan));
  await after.runtime.reconcile([request], { signal: never });
  t.false(groupAlive(orphan));
  const { pid } = await after.runtime.status(request.deploymentId);
  t.not(pid, orphan);
  t.is((await get(after.router.port, after.router.hostFor(service.serviceName, service.serviceId))).status, 200);
});
