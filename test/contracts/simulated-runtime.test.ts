import type { BuildArtifact, BuildRequest, DeploymentRequest } from '@shipyard/core';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime } from '@shipyard/core/testing';
import test from 'ava';
import { buildRunnerContract } from './build-runner.contract.js';
import { type AppAnswer, type ContractService, deploymentRuntimeContract } from './deployment-runtime.contract.js';

// The simulated adapters of @shipyard/core/testing against the same contracts as the real ones.

let sequence = 0;

function buildRequest(overrides: Partial<BuildRequest> = {}): BuildRequest {
  sequence += 1;
  return {
    tenantId: 'tenant-1',
    buildId: `build-${sequence}`,
    serviceId: 'service-1',
    attempt: 1,
    repoUrl: 'https://github.com/acme/web.git',
    branch: 'main',
    commitSha: null,
    buildCommand: null,
    env: {},
    ...overrides,
  };
}

buildRunnerContract('simulated', async () => {
  const runner = new SimulatedBuildRunner({ durationMs: 150 });
  return {
    runner,
    request: buildRequest,
    slowBuild: () => ({
      request: buildRequest(),
      ordered: [/^Cloning /, /^Attempt 1;/, /^Build succeeded$/],
      release: async () => {},
    }),
    privateRepo: async () => ({
      request: buildRequest({ repoUrl: 'https://deploy:s3cr3t-simulated-token@github.com/acme/private.git' }),
      secret: 's3cr3t-simulated-token',
    }),
    unreachable: async () => ({
      runner: new SimulatedBuildRunner({ infrastructureFailures: 1 }),
      request: buildRequest(),
    }),
    runsCommands: false,
    close: async () => {},
  };
});

const artifacts: Record<'v1' | 'v2', BuildArtifact> = {
  v1: { kind: 'image', ref: 'simulated/web:v1' },
  v2: { kind: 'image', ref: 'simulated/web:v2' },
};
const versionOf = (artifact: BuildArtifact): string =>
  artifact.kind === 'image' && artifact.ref === 'simulated/web:v1' ? 'v1' : 'v2';

deploymentRuntimeContract('simulated', async () => {
  const runtime = new SimulatedDeploymentRuntime({
    durationMs: 20,
    // The fixture app's convention: HEALTH_FAIL=1 makes its health check fail.
    failWhen: (request) => (request.env.HEALTH_FAIL === '1' ? 'The app did not answer its health check' : null),
  });
  return {
    runtime: () => runtime,
    artifact: async (_service, version) => artifacts[version],
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
        artifact: artifacts.v2,
        port: null,
        startCommand: null,
        healthCheckPath: '/health',
        env: {},
        ...overrides,
      };
    },
    // "Asking the app": the instance the service's traffic reaches, and what it was started with.
    ask: async (service): Promise<AppAnswer | null> => {
      for (const [deploymentId, instance] of runtime.instances) {
        if (instance.request.serviceId !== service.serviceId || !runtime.serves(deploymentId)) continue;
        const env = instance.request.env;
        return {
          version: versionOf(instance.request.artifact),
          env: {
            GREETING: env.GREETING ?? null,
            JWT_SECRET: env.JWT_SECRET ?? null,
            DATABASE_URL: env.DATABASE_URL ?? null,
          },
        };
      }
      return null;
    },
    restart: async () => runtime.forgetAll(),
    close: async () => {},
  };
});

test('the simulated adapters keep a bounded history: a long-running simulated server does not grow', async (t) => {
  const runner = new SimulatedBuildRunner({ history: 3 });
  const builds = Array.from({ length: 5 }, () => buildRequest());
  for (const request of builds) await runner.run(request, () => {}, new AbortController().signal);
  t.deepEqual(
    runner.calls.map((call) => call.buildId),
    builds.slice(2).map((request) => request.buildId),
  );

  const runtime = new SimulatedDeploymentRuntime({ history: 2 });
  const service = { serviceId: 'service-h', serviceName: 'web' };
  const deployed: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    sequence += 1;
    const request: DeploymentRequest = {
      tenantId: 'tenant-1',
      deploymentId: `deployment-${sequence}`,
      ...service,
      buildId: 'build-v2',
      artifact: artifacts.v2,
      port: null,
      startCommand: null,
      healthCheckPath: '/health',
      env: { SECRET: `value-${i}` },
    };
    t.is((await runtime.deploy(request)).outcome, 'live');
    deployed.push(request.deploymentId);
  }
  // Each new deployment stopped the one before: the live one and the latest two ended are kept.
  t.is(runtime.calls.length, 2);
  t.deepEqual([...runtime.instances.keys()].sort(), deployed.slice(2).sort());
  t.is((await runtime.status(deployed.at(-1) as string)).state, 'live');
  t.is((await runtime.status(deployed[0] as string)).state, 'unknown');
});
