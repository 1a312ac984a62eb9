import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AppsRouter,
  LocalBuildRunner,
  LocalProcessRuntime,
  RuntimeSetupError,
  ServiceIdentities,
} from '@shipyard/adapters-runtime';
import type {
  BuildArtifact,
  BuildOutcome,
  BuildRunner,
  DeploymentOutcome,
  DeploymentRuntime,
  InstanceStatus,
  Logger,
  RuntimeReconcileReport,
} from '@shipyard/core';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime } from '@shipyard/core/in-process';
import type { Config } from './config.js';

/** What builds and runs the apps in this process, and how to stop it. */
export interface AppRuntime {
  buildRunner: BuildRunner;
  deploymentRuntime: DeploymentRuntime;
  /** Whether this process runs builds and apps (and so the runtime's reconciler). */
  owned: boolean;
  /** For the start-up log. */
  describe: string;
  /** Starts serving the apps (the router) on APPS_PORT, or on `port` when given (0: any free one). */
  start: (port?: number) => Promise<void>;
  /** Where the apps router listens once started. */
  appsPort: () => number | null;
  /** Stops every app this process runs, then the router. */
  close: () => Promise<void>;
}

/** Why a process that does not own the runtime was asked to build or deploy. */
class NotTheRuntimeOwnerError extends Error {
  constructor() {
    super('This process does not run builds or apps: the worker (`npm run worker`) owns the runtime');
  }
}

/**
 * The runtime of a process that does not run jobs (the API server next to workers): it never
 * builds or deploys; asked to, it fails loudly rather than pretend.
 */
class ElsewhereRuntime implements BuildRunner, DeploymentRuntime {
  run(): Promise<BuildOutcome> {
    return Promise.reject(new NotTheRuntimeOwnerError());
  }
  discardArtifact(_artifact: BuildArtifact): Promise<void> {
    return Promise.reject(new NotTheRuntimeOwnerError());
  }
  deploy(): Promise<DeploymentOutcome> {
    return Promise.reject(new NotTheRuntimeOwnerError());
  }
  async stop(): Promise<void> {
    throw new NotTheRuntimeOwnerError();
  }
  async status(deploymentId: string): Promise<InstanceStatus> {
    return { deploymentId, state: 'unknown', url: null, port: null, pid: null, startedAt: null, exitCode: null };
  }
  async *logs(): AsyncIterable<string> {}
  reconcile(): Promise<RuntimeReconcileReport> {
    return Promise.reject(new NotTheRuntimeOwnerError());
  }
}

/**
 * Chooses the runtime: `RUNTIME=simulated` pretends (deterministic, runs no code: tests and
 * demos); `RUNTIME=local` builds with git and runs the apps as processes on this machine, behind
 * the apps router on `APPS_PORT`. One process owns the local runtime: the worker, or the server
 * when jobs run in it.
 */
export async function createAppRuntime(config: Config, owner: boolean, logger: Logger): Promise<AppRuntime> {
  const rc = config.runtime;
  if (rc.kind === 'simulated') {
    return {
      buildRunner: new SimulatedBuildRunner({ durationMs: rc.simulatedBuildMs }),
      deploymentRuntime: new SimulatedDeploymentRuntime({ durationMs: 500, baseDomain: rc.appsDomain }),
      owned: owner,
      describe: 'simulated (builds and deployments are pretended; nothing runs)',
      start: async () => {},
      appsPort: () => null,
      close: async () => {},
    };
  }
  if (!owner) {
    const elsewhere = new ElsewhereRuntime();
    return {
      buildRunner: elsewhere,
      deploymentRuntime: elsewhere,
      owned: false,
      describe: 'local, run by the worker (this process builds and runs nothing)',
      start: async () => {},
      appsPort: () => null,
      close: async () => {},
    };
  }
  const router = new AppsRouter({
    port: rc.appsPort,
    host: rc.appsHost,
    domain: rc.appsDomain,
    ...(rc.appsPublicPort === undefined ? {} : { publicPort: rc.appsPublicPort }),
  });
  const sandbox = {
    limits: { memoryBytes: rc.appMemoryMb === 0 ? null : rc.appMemoryMb * 1024 * 1024 },
    onWarning: (message: string) => logger.warn({}, message),
  };
  const open = async (dir: string) => {
    await mkdir(dir, { recursive: true });
    // As root, each service's builds and apps run as a uid of its own (`<dir>/uids.json`): the
    // runner and the runtime share the one allocator, so an app runs as the uid its build ran as.
    const identities = new ServiceIdentities({ workRoot: dir, base: rc.appUidBase });
    return {
      dir,
      buildRunner: new LocalBuildRunner({
        workRoot: dir,
        allowLocalRepos: rc.allowLocalRepos,
        identities,
        ...sandbox,
      }),
      deploymentRuntime: new LocalProcessRuntime({
        workRoot: dir,
        router,
        healthTimeoutMs: rc.healthCheckTimeoutMs,
        identities,
        ...sandbox,
      }),
    };
  };
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(rc.dir);
  } catch (error) {
    if (!(error instanceof RuntimeSetupError) || rc.dirExplicit) throw error;
    // As root, builds and apps run as unprivileged uids, which cannot enter a DATA_DIR under /root, say.
    const fallback = join('/var/lib/shipyard', createHash('sha256').update(rc.dir).digest('hex').slice(0, 12));
    logger.warn(
      { wanted: rc.dir, using: fallback, reason: error.message },
      'the runtime directory is out of reach of the apps user: using another (set RUNTIME_DIR to choose)',
    );
    opened = await open(fallback);
  }
  const { buildRunner, deploymentRuntime } = opened;
  return {
    buildRunner,
    deploymentRuntime,
    owned: true,
    get describe() {
      let port: number = rc.appsPort;
      try {
        port = router.port;
      } catch {
        // not listening yet
      }
      return `local processes in ${opened.dir}, apps at http://<service>-<id>.${rc.appsDomain}:${port}`;
    },
    start: (port?: number) => router.listen(port),
    appsPort: () => {
      try {
        return router.port;
      } catch {
        return null;
      }
    },
    close: async () => {
      await deploymentRuntime.close();
      await router.close();
    },
  };
}
