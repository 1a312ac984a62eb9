import type { BuildArtifact, BuildRequest, DeploymentRequest } from '@shipyard/core';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime } from '@shipyard/core/testing';
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
