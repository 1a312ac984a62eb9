import { chmod, mkdir, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DeploymentOutcome,
  DeploymentRequest,
  DeploymentRuntime,
  InstanceState,
  InstanceStatus,
  LogsOptions,
  RuntimeReconcileOptions,
  RuntimeReconcileReport,
} from '@shipyard/core';
import { execa } from 'execa';
import type { AppsRouter } from './apps-router.js';
import { childEnv, DEFAULT_CHILD_PATH } from './child-env.js';
import { LogRing } from './log-ring.js';
import {
  type GroupExit,
  type GroupProcess,
  groupAlive,
  isSameProcess,
  processStartToken,
  spawnGroup,
  terminateGroup,
} from './process-group.js';
import type { RunAs } from './runtime.types.js';
import { RuntimeSetupError, Sandbox, type SandboxOptions } from './sandbox.js';

export interface LocalProcessRuntimeOptions extends SandboxOptions {
  /**
   * Records of running instances live in `<workRoot>/instances` (so a restart can stop
   * leftovers), and the apps' HOME in `<workRoot>/home`. It may be the build runner's work root.
   */
  workRoot: string;
  /** Where the live instances are published. */
  router: AppsRouter;
  /** How long a new instance has to answer its health check with 2xx. Default 60 s. */
  healthTimeoutMs?: number;
  /** Between two health probes. Default 250 ms. */
  healthIntervalMs?: number;
  /** How long the previous instance keeps running after the switch, for requests in flight. Default 2 s. */
  drainMs?: number;
  /** Between SIGTERM and SIGKILL when an instance is stopped. Default 5 s. */
  killGraceMs?: number;
  /** Lines of output kept per instance for `logs`. Default 1000. */
  logLines?: number;
  /** Ended instances remembered for `status` and `logs`. Default 100. */
  retainEnded?: number;
  /**
   * HOME of the apps, made the app user's. Default `<workRoot>/home`, never the server's. With a
   * uid per service, the directory of the HOMEs: each uid's is `<homeDir>/<uid>` (0700, that uid's).
   */
  homeDir?: string;
  /** PATH of the apps. Default: this Node's directory and the system's directories. */
  path?: string;
}

interface Instance {
  request: DeploymentRequest;
  host: string;
  url: string;
  state: InstanceState;
  port: number | null;
  pid: number | null;
  startedAt: Date;
  exitCode: number | null;
  logs: LogRing;
  child: GroupProcess | null;
  exited: boolean;
  /** Aborted by `stop` while the instance is still starting. */
  stopper: AbortController;
  starting: Promise<DeploymentOutcome> | null;
  ending: Promise<void> | null;
}

interface InstanceRecord {
  deploymentId: string;
  pid: number;
  startToken: string | null;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TAIL_LINES = 20;
const RUNNING: ReadonlySet<InstanceState> = new Set(['starting', 'live', 'stopping']);

/** Stopped by `stop()` while it was starting. */
export class DeploymentStoppedError extends Error {
  readonly code = 'deployment_stopped';
}

/**
 * The `DeploymentRuntime` that runs apps as plain processes on this machine: the start command
 * in the build's directory with a free `PORT`, a health check, then the router switched to the
 * new instance and the previous one stopped after a drain.
 *
 * When this process is root, the apps run as an unprivileged user under `prlimit` limits, like the
 * builds: by default the service's own uid (`runAs: 'per-service'`), the one its builds ran as
 * (give the runner and the runtime the same `runAs` and `identities`: an app runs in its build's
 * directory, which belongs to the build user). The work root then needs every directory above it
 * traversable by that user (o+x); so does each artifact's directory, checked at deploy. A
 * directory in the way is a `RuntimeSetupError` naming it (at construction for what exists, at
 * the first use, and at a deploy). `close()` stops every instance; the router is closed apart.
 */
export class LocalProcessRuntime implements DeploymentRuntime {
  private readonly root: string;
  private readonly path: string;
  private readonly router: AppsRouter;
  private readonly instances = new Map<string, Instance>();
  /** The deployment whose instance serves each service. */
  private readonly liveByService = new Map<string, string>();
  private readonly sandbox: Sandbox;
  private ready: Promise<void> | null = null;

  constructor(private readonly options: LocalProcessRuntimeOptions) {
    this.root = resolve(options.workRoot);
    this.path = options.path ?? DEFAULT_CHILD_PATH;
    this.router = options.router;
    this.sandbox = new Sandbox(options, this.path, { workRoot: this.root, homeDir: options.homeDir });
    this.sandbox.assertReachableSoFar(this.root, 'The runtime work root');
    if (this.sandbox.configuredHome) this.sandbox.assertReachableSoFar(this.sandbox.homePath, 'The apps HOME');
  }

  /** Who the apps run as and under which limits (`a uid per service (200000–299999), data 2 GiB, …`). */
  describeSandbox(): string {
    return this.sandbox.describe();
  }

  async deploy(request: DeploymentRequest, signal: AbortSignal): Promise<DeploymentOutcome> {
    signal.throwIfAborted();
    if (!SAFE_ID.test(request.deploymentId)) {
      throw new TypeError('A deploymentId is letters, digits, ".", "_" or "-"');
    }
    const existing = this.instances.get(request.deploymentId);
    if (existing?.state === 'live') return { outcome: 'live', url: existing.url };
    if (existing?.starting) return existing.starting;
    if (existing?.ending) await existing.ending;

    const instance: Instance = {
      request,
      host: this.router.hostFor(request.serviceName, request.serviceId),
      url: this.router.urlFor(request.serviceName, request.serviceId),
      state: 'starting',
      port: null,
      pid: null,
      startedAt: new Date(),
      exitCode: null,
      logs: new LogRing(this.options.logLines ?? 1_000),
      child: null,
      exited: false,
      stopper: new AbortController(),
      starting: null,
      ending: null,
    };
    this.instances.delete(request.deploymentId);
    this.instances.set(request.deploymentId, instance);
    this.forgetEnded();
    instance.starting = this.start(instance, AbortSignal.any([signal, instance.stopper.signal]))
      .catch(async (error: unknown) => {
        // An infrastructure failure (no shell, no disk) while starting: nothing of it is left running.
        if (instance.state === 'starting') await this.end(instance, 'failed');
        throw error;
      })
      .finally(() => {
        instance.starting = null;
      });
    return instance.starting;
  }

  async stop(deploymentId: string): Promise<void> {
    const instance = this.instances.get(deploymentId);
    if (instance === undefined) {
      const record = await this.readRecord(deploymentId);
      if (record !== null) await this.killLeftover(record);
      return;
    }
    if (instance.starting) {
      instance.stopper.abort(new DeploymentStoppedError(`Deployment ${deploymentId} was stopped while starting`));
      // Its deploy settles on its own (rejected with that error); here only the instance matters.
      await instance.starting.catch(() => {});
    }
    // Also when the stop came too late to abort the start (the instance went live and was draining).
    if (RUNNING.has(instance.state)) await this.end(instance, 'stopped');
  }

  async status(deploymentId: string): Promise<InstanceStatus> {
    const instance = this.instances.get(deploymentId);
    if (instance === undefined) {
      return { deploymentId, state: 'unknown', url: null, port: null, pid: null, startedAt: null, exitCode: null };
    }
    return {
      deploymentId,
      state: instance.state,
      url: instance.url,
      port: instance.port,
      pid: instance.pid,
      startedAt: instance.startedAt,
      exitCode: instance.exitCode,
    };
  }

  logs(deploymentId: string, options: LogsOptions = {}): AsyncIterable<string> {
    const instance = this.instances.get(deploymentId);
    if (instance === undefined) return (async function* () {})();
    return instance.logs.read(options);
  }

  /**
   * Stops what a dead owner of the work root left running and every instance neither live nor
   * kept, then starts, one after another, each live deployment that is not running. A deployment
   * in `keep` (being deployed right now) is left alone either way: not stopped though its row is
   * not live yet, not started a second time though it is.
   */
  async reconcile(
    liveDeployments: readonly DeploymentRequest[],
    options: RuntimeReconcileOptions = {},
  ): Promise<RuntimeReconcileReport> {
    const signal = options.signal ?? new AbortController().signal;
    const keep = new Set(options.keep ?? []);
    const wanted = new Map(liveDeployments.map((request) => [request.deploymentId, request]));
    const report: RuntimeReconcileReport = { started: [], stopped: [], failed: [] };
    signal.throwIfAborted();
    await this.prepare();
    // Instances left running by an earlier owner of this work root that died without stopping them.
    // A kept one's deploy takes care of its own leftover before it starts (see `start`).
    for (const record of await this.readRecords()) {
      if (this.instances.has(record.deploymentId) || keep.has(record.deploymentId)) continue;
      await this.killLeftover(record);
      if (!wanted.has(record.deploymentId)) report.stopped.push(record.deploymentId);
    }
    for (const [deploymentId, instance] of this.instances) {
      if (!wanted.has(deploymentId) && !keep.has(deploymentId) && RUNNING.has(instance.state)) {
        await this.stop(deploymentId);
        report.stopped.push(deploymentId);
      }
    }
    for (const request of wanted.values()) {
      signal.throwIfAborted();
      if (keep.has(request.deploymentId)) continue;
      const instance = this.instances.get(request.deploymentId);
      if (instance?.state === 'live' || instance?.state === 'starting') continue;
      try {
        const outcome = await this.deploy(request, signal);
        if (outcome.outcome === 'live') report.started.push(request.deploymentId);
        else report.failed.push({ deploymentId: request.deploymentId, error: outcome.error });
      } catch (error) {
        if (signal.aborted) throw error;
        // One deployment that cannot start must not keep the others down: it is reported.
        report.failed.push({ deploymentId: request.deploymentId, error: (error as Error).message });
      }
    }
    return report;
  }

  /** Stops every instance (a graceful shutdown); `reconcile` after the next start brings the live ones back. */
  async close(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((deploymentId) => this.stop(deploymentId)));
  }

  private async start(instance: Instance, signal: AbortSignal): Promise<DeploymentOutcome> {
    const { request } = instance;
    const fail = (error: string): DeploymentOutcome => {
      instance.logs.push(`==> ${error}`);
      const tail = instance.logs.tail(TAIL_LINES + 1).slice(0, -1);
      return {
        outcome: 'failed',
        error: tail.length > 0 ? `${error} The last lines of its output:\n${tail.join('\n')}` : error,
      };
    };
    if (request.artifact.kind !== 'directory') {
      instance.state = 'failed';
      instance.logs.close();
      return fail(`The local runtime runs a build's directory, not an image (${request.artifact.ref}).`);
    }
    const directory = resolve(request.artifact.path);
    if (!(await isDirectory(directory))) {
      instance.state = 'failed';
      instance.logs.close();
      return fail(`The build's artifact is gone (${request.artifact.path}): build again.`);
    }
    const healthPath = normalizePath(request.healthCheckPath);
    if (healthPath === null) {
      instance.state = 'failed';
      instance.logs.close();
      return fail(`Invalid health check path: ${JSON.stringify(request.healthCheckPath)}.`);
    }

    await this.prepare();
    // The service's own uid (as root), the one its builds ran as: the artifact is that uid's.
    const user = await this.sandbox.userFor(request.serviceId);
    const foreign = await this.checkArtifactOwner(directory, user, instance);
    if (foreign !== null) {
      instance.state = 'failed';
      instance.logs.close();
      return fail(foreign);
    }
    await this.sandbox.assertReachable(directory, "The build's directory", user);
    const home = await this.sandbox.homeOf(user);
    // A record of this deployment now is a leftover of a dead owner of the work root (this
    // runtime writes one only after it spawned, below): it must not keep running beside the new one.
    const leftover = await this.readRecord(request.deploymentId);
    if (leftover !== null) await this.killLeftover(leftover);

    const port = await freePort();
    const command = request.startCommand ?? 'npm start';
    instance.port = port;
    instance.logs.push(`==> Starting ${command} with PORT=${port}`);
    const env = childEnv({ path: this.path, home }, request.env, { PORT: String(port) });
    const spawned = this.sandbox.command('sh', ['-c', command]);
    const child = await spawnGroup(spawned.file, spawned.args, {
      cwd: directory,
      env,
      onLine: (line) => instance.logs.push(line),
      ...this.sandbox.identity(user),
    });
    instance.child = child;
    instance.pid = child.pid;
    await this.writeRecord({
      deploymentId: request.deploymentId,
      pid: child.pid,
      startToken: processStartToken(child.pid),
    });
    void child.exited.then(
      (exit) => this.onExit(instance, exit),
      (error: Error) => instance.logs.push(`==> Could not stop the app: ${error.message}`),
    );

    const health = await this.waitHealthy(instance, port, healthPath, signal);
    if (health.result === 'aborted') {
      await this.end(instance, 'stopped');
      throw signal.reason;
    }
    if (health.result === 'unhealthy') {
      await this.end(instance, 'failed');
      return fail(health.error);
    }

    const previous = this.liveByService.get(request.serviceId);
    instance.state = 'live';
    this.router.setRoute(instance.host, { deploymentId: request.deploymentId, port });
    this.liveByService.set(request.serviceId, request.deploymentId);
    instance.logs.push(`==> Live at ${instance.url}`);
    const old = previous === undefined || previous === request.deploymentId ? undefined : this.instances.get(previous);
    if (old !== undefined && RUNNING.has(old.state)) {
      // Requests already sent to the old instance get to finish before it is stopped.
      await sleep(this.options.drainMs ?? 2_000);
      await this.end(old, 'stopped');
    }
    return { outcome: 'live', url: instance.url };
  }

  private async waitHealthy(
    instance: Instance,
    port: number,
    path: string,
    signal: AbortSignal,
  ): Promise<{ result: 'healthy' | 'aborted' } | { result: 'unhealthy'; error: string }> {
    const timeoutMs = this.options.healthTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      if (signal.aborted) return { result: 'aborted' };
      if (instance.exited) {
        return {
          result: 'unhealthy',
          error: `The app exited (code ${instance.exitCode}) before it answered its health check.`,
        };
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        return {
          result: 'unhealthy',
          error: `The app did not answer GET ${path} with 2xx within ${Math.round(timeoutMs / 1000)} s (last: ${last}).`,
        };
      }
      const budget = Math.min(2_000, remaining);
      const answer = await probe(port, path, instance.host, budget);
      if (typeof answer === 'number' && answer >= 200 && answer < 300) return { result: 'healthy' };
      // A last probe the deadline cut short says less than the answer before it: keep that one.
      const cutShort = budget < 2_000 && typeof answer !== 'number' && last !== 'no answer';
      if (!cutShort) last = typeof answer === 'number' ? `HTTP ${answer}` : answer;
      await sleep(Math.min(this.options.healthIntervalMs ?? 250, Math.max(0, deadline - Date.now())));
    }
  }

  private onExit(instance: Instance, exit: GroupExit): void {
    instance.exited = true;
    instance.exitCode = exit.exitCode;
    instance.logs.push(`==> Exited ${exit.signal !== null ? `on ${exit.signal}` : `with code ${exit.exitCode}`}`);
    if (instance.state === 'live') {
      instance.state = 'crashed';
      this.unpublish(instance);
      instance.logs.close();
      void this.removeRecord(instance.request.deploymentId);
    }
  }

  /** Kills the instance's whole process group and records how it ended. */
  private end(instance: Instance, finalState: 'stopped' | 'failed'): Promise<void> {
    instance.ending ??= (async () => {
      instance.state = 'stopping';
      this.unpublish(instance);
      if (instance.child !== null) {
        await instance.child.terminate(this.options.killGraceMs ?? 5_000);
        await instance.child.exited;
      }
      instance.state = finalState;
      instance.logs.close();
      await this.removeRecord(instance.request.deploymentId);
    })();
    return instance.ending;
  }

  /** The work root's layout, made once (again after a failure: a fixed permission is picked up). */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await this.sandbox.passableDirectory(this.root);
      await mkdir(join(this.root, 'instances'), { recursive: true, mode: 0o700 });
      await this.sandbox.prepareHome();
    })().catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  /**
   * With a uid per service, the artifact must be the service's (its own build, which ran as that
   * uid): `null` when it is, else why it is not run. An artifact of this work root's builds made
   * before the services had uids of their own (owned by a uid no service has) is handed over to
   * the service's uid first; one of another service is refused, and one elsewhere of a uid this
   * runtime did not hand out is a misconfiguration (the runner and the runtime disagree on uids).
   */
  private async checkArtifactOwner(directory: string, user: RunAs | null, instance: Instance): Promise<string | null> {
    const identities = this.sandbox.identities;
    if (identities === null || user === null) return null;
    const real = await realpath(directory);
    const owner = (await stat(real)).uid;
    if (owner === user.uid) return null;
    const ownerService = await identities.serviceOf(owner);
    if (ownerService !== null) {
      return `The build's artifact (${directory}) belongs to another service (uid ${owner}), not to this one (uid ${user.uid}): deploy a build of this service.`;
    }
    const builds = join(await realpath(this.root).catch(() => this.root), 'builds');
    if (dirname(real) !== builds || !SAFE_ID.test(basename(real))) {
      throw new RuntimeSetupError(
        `The build's artifact (${directory}) belongs to uid ${owner}, not to uid ${user.uid} of service ${instance.request.serviceId}: give the build runner and the runtime the same identities (ServiceIdentities)`,
      );
    }
    instance.logs.push(
      `==> The artifact was built before the service had a uid of its own (it is uid ${owner}'s): handing it over to uid ${user.uid}`,
    );
    await execa('chown', ['-R', '-h', `${user.uid}:${user.gid}`, '--', real], { reject: true, stdin: 'ignore' });
    await chmod(real, 0o700);
    return null;
  }

  private unpublish(instance: Instance): void {
    this.router.removeRoute(instance.host, instance.request.deploymentId);
    if (this.liveByService.get(instance.request.serviceId) === instance.request.deploymentId) {
      this.liveByService.delete(instance.request.serviceId);
    }
  }

  private forgetEnded(): void {
    const keep = this.options.retainEnded ?? 100;
    const ended = [...this.instances].filter(([, instance]) => !RUNNING.has(instance.state) && !instance.starting);
    for (const [deploymentId] of ended.slice(0, Math.max(0, ended.length - keep))) this.instances.delete(deploymentId);
  }

  private async killLeftover(record: InstanceRecord): Promise<void> {
    // The leader's start time tells it from a later process with the same pid. Without a leader a
    // live group is still ours: Linux does not hand out a pid that is in use as a process group id.
    const leaderIsOurs = isSameProcess(record.pid, record.startToken);
    const current = processStartToken(record.pid);
    const pidUnused = current === null || !isSameProcess(record.pid, current);
    if (leaderIsOurs || (pidUnused && groupAlive(record.pid))) {
      await terminateGroup(record.pid, this.options.killGraceMs ?? 5_000);
    }
    await this.removeRecord(record.deploymentId);
  }

  private recordPath(deploymentId: string): string {
    return join(this.root, 'instances', `${deploymentId}.json`);
  }

  private async writeRecord(record: InstanceRecord): Promise<void> {
    await mkdir(join(this.root, 'instances'), { recursive: true });
    await writeFile(this.recordPath(record.deploymentId), JSON.stringify(record));
  }

  private async removeRecord(deploymentId: string): Promise<void> {
    await rm(this.recordPath(deploymentId), { force: true });
  }

  private async readRecord(deploymentId: string): Promise<InstanceRecord | null> {
    if (!SAFE_ID.test(deploymentId)) return null;
    try {
      return JSON.parse(await readFile(this.recordPath(deploymentId), 'utf8')) as InstanceRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  private async readRecords(): Promise<InstanceRecord[]> {
    let names: string[];
    try {
      names = await readdir(join(this.root, 'instances'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = await Promise.all(
      names.filter((name) => name.endsWith('.json')).map((name) => this.readRecord(name.slice(0, -'.json'.length))),
    );
    return records.filter((record): record is InstanceRecord => record !== null);
  }
}

function normalizePath(path: string): string | null {
  const value = path === '' ? '/' : path.startsWith('/') ? path : `/${path}`;
  return /[\s\p{Cc}]/u.test(value) || value.length > 2048 ? null : value;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The status of `GET path`, or what went wrong. */
function probe(port: number, path: string, host: string, timeoutMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'GET',
      headers: { host },
      agent: false,
      timeout: timeoutMs,
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
    req.end();
  });
}
