import {
  ApplicationRoleError,
  createDatabase,
  type Database,
  type DatabaseOptions,
  DataDirLockedError,
  dbModule,
  embeddedDataDir,
} from '@shipyard/adapters-db';
import {
  createHttpApp,
  createRedisClient,
  GitHubOAuthProvider,
  type HealthCheck,
  httpModule,
} from '@shipyard/adapters-http';
import {
  type ClosableJobQueue,
  type OutboxRelayHandle,
  type QueueModuleOptions,
  queueModule,
  startOutboxRelay,
} from '@shipyard/adapters-queue';
import type { Logger, UseCases } from '@shipyard/core';
import { Container } from 'inversify';
import type { Redis } from 'ioredis';
import type Koa from 'koa';
import type { Logger as PinoLogger } from 'pino';
import { type AppRuntime, createAppRuntime } from './app-runtime.js';
import type { Config } from './config.js';
import { coreModule } from './core.module.js';
import { Metrics, startMetricsServer } from './metrics.js';
import { startReconciler, startRuntimeReconciler } from './reconciler.js';
import { BOUND, resolve } from './typed-tokens.js';

export const JWT_ISSUER = 'shipyard';
export const JWT_AUDIENCE = 'shipyard-api';
/** Key prefix of everything Shipyard keeps in Redis (queues, blacklist, rate limits). */
export const REDIS_PREFIX = 'shipyard';

/** Why the process cannot start (a clear message, no stack). */
export class StartupError extends Error {}

export interface Runtime {
  container: Container;
  useCases: UseCases;
  database: Database;
  redis: Redis | undefined;
  /** Jobs go to Redis for `npm run worker` processes (needs DATABASE_URL and REDIS_URL). */
  distributed: boolean;
  describe: { database: string; queue: string; blacklist: string; runtime: string };
  healthChecks: HealthCheck[];
  /** The outbox relay (not started for maintenance tasks). */
  relay: OutboxRelayHandle | undefined;
  /** The Prometheus registry and its collectors, when metrics are on (not for maintenance tasks). */
  metrics: Metrics | undefined;
  /**
   * Makes this process the owner of the runtime (the apps router on APPS_PORT, the runtime's
   * reconciler); false when another process on this machine owns it. Always true when simulated.
   */
  claimRuntime: () => Promise<boolean>;
  /** Runs `closer` first when the runtime closes. */
  addCloser: (closer: () => Promise<void>) => void;
  close: () => Promise<void>;
}

/** Opens the database; an embedded one that another process holds stops the start-up. */
async function openDatabase(options: DatabaseOptions): Promise<Database> {
  try {
    return await createDatabase(options);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new StartupError(error.message);
    throw error;
  }
}

/**
 * Applies pending migrations where that is safe (the embedded database, or DEBUG=true in
 * development); anywhere else a pending migration stops the process.
 */
async function prepareSchema(database: Database, config: Config, logger: PinoLogger, auto: boolean): Promise<void> {
  await checkApplicationRole(database);
  const pending = await database.pendingMigrations();
  if (pending.length === 0) return;
  const automatic = auto && !config.production && (database.kind === 'pglite' || config.debug);
  if (!automatic) {
    throw new StartupError(
      `${pending.length} database migration(s) pending (${pending.join(', ')}): run \`npm run migrate\` first` +
        (config.production || database.kind === 'pglite' ? '' : ', or set DEBUG=true in development'),
    );
  }
  const applied = await database.migrate();
  logger.info({ applied }, 'database migrations applied');
  await checkApplicationRole(database);
}

/** The server's database user must be able to take the application role (row-level security). */
async function checkApplicationRole(database: Database): Promise<void> {
  try {
    await database.checkApplicationRole();
  } catch (error) {
    if (error instanceof ApplicationRoleError) throw new StartupError(`DATABASE_URL: ${error.message}`);
    throw error;
  }
}

/**
 * Which process this is: the API server (`npm start`), a job worker (`npm run worker`), or a
 * one-off maintenance task (`npm run secrets:rotate`).
 */
export type Role = 'server' | 'worker' | 'maintenance';

/** What a process does, from its role and the configuration. */
export interface RolePlan {
  role: Role;
  /**
   * Where the jobs go when they run in `npm run worker` processes: Redis, with DATABASE_URL and
   * REDIS_URL both set (workers share the database). Undefined: the jobs run in process.
   */
  jobsRedisUrl: string | undefined;
  /**
   * Builds and apps, the reconcilers and cleanup run where the jobs run: in a worker, or in the
   * server when the jobs run in it (server and worker in one process).
   */
  runsJobs: boolean;
  /** Pending migrations may be applied at start (the server only, where safe: see `prepareSchema`). */
  appliesMigrations: boolean;
  /** The outbox relay runs (not for maintenance tasks). */
  relaysOutbox: boolean;
  /** Metrics are collected (`METRICS_ENABLED`; not for maintenance tasks). */
  measures: boolean;
}

export function planRole(config: Pick<Config, 'redisUrl' | 'databaseUrl' | 'metrics'>, role: Role): RolePlan {
  const jobsRedisUrl = config.databaseUrl === undefined ? undefined : config.redisUrl;
  return {
    role,
    jobsRedisUrl,
    runsJobs: role === 'worker' || (role === 'server' && jobsRedisUrl === undefined),
    appliesMigrations: role === 'server',
    relaysOutbox: role !== 'maintenance',
    measures: config.metrics.enabled && role !== 'maintenance',
  };
}

/**
 * What a process closes when it stops: the last opened first (the background loops, then the
 * queue, whose in-process jobs finish, then the app runtime, the database and Redis), each once.
 * A closer that fails is logged, and the others still run.
 */
export class Shutdown {
  private readonly closers: Array<() => Promise<void>> = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly logger: PinoLogger) {}

  add(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  /** Runs the closers added so far; a call while they run waits for the same ones. */
  close(): Promise<void> {
    this.closing ??= this.drain().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async drain(): Promise<void> {
    for (let closer = this.closers.pop(); closer !== undefined; closer = this.closers.pop()) {
      try {
        await closer();
      } catch (error) {
        this.logger.error({ err: error }, 'error while closing');
      }
    }
  }
}

/** What a process opens before its container: the connections, and what builds and runs the apps. */
export interface Infrastructure {
  redis: Redis | undefined;
  database: Database;
  appRuntime: AppRuntime;
  healthChecks: HealthCheck[];
}

/** Redis for the blacklist and the rate limits (the queue opens connections of its own). */
function openRedis(url: string, logger: PinoLogger, shutdown: Shutdown, healthChecks: HealthCheck[]): Redis {
  const client = createRedisClient(url);
  client.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
  shutdown.add(async () => client.disconnect());
  // A write, not a PING: a Redis out of memory (noeviction) still answers PING but refuses
  // the queue's and the blacklist's writes.
  const healthKey = `${REDIS_PREFIX}:health:${process.pid}`;
  healthChecks.push({ name: 'redis', check: async () => void (await client.set(healthKey, '1', 'PX', 10_000)) });
  return client;
}

/**
 * A few tries over about two seconds: a database that is still starting, or a machine under
 * load, is not a wrong DATABASE_URL.
 */
async function awaitDatabase(database: Database): Promise<void> {
  let answers = await database.ping();
  for (let attempt = 1; !answers && attempt < 5; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    answers = await database.ping();
  }
  if (!answers) throw new StartupError('The database does not answer (check DATABASE_URL)');
}

/**
 * Opens Redis (with REDIS_URL), the database (PostgreSQL with DATABASE_URL, else the embedded
 * one in DATA_DIR), its schema, and the app runtime; each is added to `shutdown` as it opens.
 */
export async function openInfrastructure(
  config: Config,
  logger: PinoLogger,
  plan: RolePlan,
  shutdown: Shutdown,
): Promise<Infrastructure> {
  const coreLogger: Logger = logger;
  const healthChecks: HealthCheck[] = [];
  const redis = config.redisUrl === undefined ? undefined : openRedis(config.redisUrl, logger, shutdown, healthChecks);

  const database = await openDatabase({
    ...(config.databaseUrl === undefined
      ? { dataDir: embeddedDataDir(config.dataDir) }
      : {
          url: config.databaseUrl,
          pool: config.databasePool,
          ...(config.databaseMigrationUrl === undefined ? {} : { migrationUrl: config.databaseMigrationUrl }),
        }),
    logger: coreLogger.child({ component: 'database' }),
  });
  shutdown.add(() => database.close());
  await awaitDatabase(database);
  await prepareSchema(database, config, logger, plan.appliesMigrations);
  healthChecks.push({
    name: 'database',
    check: async () => {
      if (!(await database.ping())) throw new Error('no answer');
    },
  });

  const appRuntime = await createAppRuntime(config, plan.runsJobs, coreLogger.child({ component: 'runtime' }));
  shutdown.add(() => appRuntime.close());
  return { redis, database, appRuntime, healthChecks };
}

/** The queue's options: bee-queue over Redis for workers, or in process. */
function queueOptions(config: Config, plan: RolePlan, metrics: Metrics | undefined): QueueModuleOptions {
  return plan.jobsRedisUrl !== undefined
    ? {
        redis: plan.jobsRedisUrl,
        prefix: REDIS_PREFIX,
        backoffMs: config.jobs.backoffMs,
        timeoutMs: config.jobs.timeoutMs,
      }
    : {
        backoffMs: config.jobs.backoffMs,
        concurrency: config.jobs.concurrency,
        timeoutMs: config.jobs.timeoutMs,
        ...(metrics === undefined ? {} : { onAttempt: metrics.observeJob }),
      };
}

/** The container, and what the composition reads from it. */
export interface Wiring {
  container: Container;
  useCases: UseCases;
  queue: ClosableJobQueue;
}

/**
 * One Inversify container with the core's module and one module per adapter, chosen by
 * configuration; the queue it builds is added to `shutdown`.
 */
export function buildContainer(
  config: Config,
  logger: PinoLogger,
  plan: RolePlan,
  infrastructure: Infrastructure,
  metrics: Metrics | undefined,
  shutdown: Shutdown,
): Wiring {
  const { redis, database, appRuntime } = infrastructure;
  const container = new Container();
  container.load(
    coreModule(config, logger, {
      runtime: appRuntime,
      settings: {
        jobLeaseMs: config.jobs.leaseMs,
        allowLocalRepos: config.runtime.allowLocalRepos,
        auditRetentionDays: config.auditRetentionDays,
        sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
        // Emailed links open the app's pages.
        appUrl: config.frontendUrl,
      },
      oauthProviders: config.github === undefined ? {} : { github: new GitHubOAuthProvider(config.github) },
    }),
    httpModule({
      jwt: {
        keys: config.jwt.keys,
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        accessTtlSeconds: config.jwt.accessTtlSeconds,
        refreshTtlSeconds: config.jwt.refreshTtlSeconds,
      },
      keyPrefix: REDIS_PREFIX,
      ...(redis === undefined ? {} : { redis }),
      ...(config.smtp === undefined ? {} : { smtp: config.smtp }),
    }),
    dbModule(database),
    queueModule(queueOptions(config, plan, metrics)),
  );
  const queue = resolve(container, BOUND.ClosableJobQueue);
  shutdown.add(() => queue.close());
  const useCases = resolve(container, BOUND.UseCases);
  if (metrics !== undefined) {
    const clock = resolve(container, BOUND.Clock);
    metrics.watch({
      queueDepths: (options) => queue.counts(options),
      outboxBacklog: () => database.uow.platform((platform) => platform.countPendingMessages(clock.now())),
      pool: () => database.poolStats(),
    });
  }
  return { container, useCases, queue };
}

/** The loops a process runs beside its requests or jobs. */
export interface BackgroundLoops {
  relay: OutboxRelayHandle | undefined;
  claimRuntime: () => Promise<boolean>;
}

/**
 * Starts what the role runs in the background: the outbox relay (but for maintenance tasks);
 * where the jobs run, the job reconciler and the cleanup schedule, and, in the server, the
 * runtime (its router and reconciler; a worker claims it itself, see worker.ts). Each is added
 * to `shutdown`.
 */
export async function startBackgroundLoops(
  config: Config,
  logger: PinoLogger,
  plan: RolePlan,
  infrastructure: Infrastructure,
  useCases: UseCases,
  shutdown: Shutdown,
): Promise<BackgroundLoops> {
  const coreLogger: Logger = logger;
  const { database, appRuntime } = infrastructure;
  let relay: OutboxRelayHandle | undefined;
  if (plan.relaysOutbox) {
    const started = startOutboxRelay({
      relay: useCases.relayOutbox,
      intervalMs: plan.jobsRedisUrl !== undefined ? 1000 : 250,
      logger: coreLogger.child({ component: 'outbox' }),
    });
    relay = started;
    shutdown.add(() => started.stop());
  }

  const claimRuntime = runtimeClaim(config, logger, plan, appRuntime, useCases, shutdown);

  if (plan.runsJobs) {
    // In process, the server must own the runtime; a worker claims it itself (see worker.ts).
    if (plan.role === 'server') await claimRuntime();
    const reconciler = startReconciler({
      reconcile: useCases.reconcileJobs,
      intervalMs: config.jobs.reconcileIntervalMs,
      // The embedded database has one owner (its lock): a row running at start lost its worker.
      expireLeasesFirst: database.kind === 'pglite',
      onRepublished: () => relay?.nudge(),
      logger: coreLogger.child({ component: 'reconciler' }),
    });
    shutdown.add(() => reconciler.stop());
    const schedule = () =>
      useCases.scheduleCleanup
        .execute()
        .catch((error: unknown) => logger.warn({ err: error }, 'cleanup scheduling failed'));
    const first = setTimeout(schedule, 60_000);
    const every = setInterval(schedule, 3_600_000);
    first.unref();
    every.unref();
    shutdown.add(async () => {
      clearTimeout(first);
      clearInterval(every);
    });
  }
  return { relay, claimRuntime };
}

/**
 * The local runtime has one owner per machine: the process that holds APPS_PORT runs the
 * builds and the apps (and the runtime's reconciler). The claim makes this process that owner,
 * once; false when another process holds APPS_PORT, or when this one runs no jobs.
 */
function runtimeClaim(
  config: Config,
  logger: PinoLogger,
  plan: RolePlan,
  appRuntime: AppRuntime,
  useCases: UseCases,
  shutdown: Shutdown,
): () => Promise<boolean> {
  const coreLogger: Logger = logger;
  let runtimeClaimed = false;
  /** Listens on APPS_PORT; false when another worker holds it. */
  const startRouter = async (): Promise<boolean> => {
    try {
      await appRuntime.start();
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && plan.role === 'worker') return false;
      if (code === 'EADDRINUSE' && !config.runtime.appsPortExplicit) {
        // `npm start` next to another one: its apps get a router of their own, on a free port.
        await appRuntime.start(0);
        logger.warn(
          { wanted: config.runtime.appsPort, apps_port: appRuntime.appsPort() },
          `APPS_PORT ${config.runtime.appsPort} is in use: the apps router listens on ${appRuntime.appsPort()} instead (set APPS_PORT to choose)`,
        );
        return true;
      }
      if (code === 'EADDRINUSE' || code === 'EACCES') {
        throw new StartupError(
          `The apps router cannot listen on ${config.runtime.appsHost}:${config.runtime.appsPort} (${code}): set APPS_PORT`,
        );
      }
      throw error;
    }
  };
  return async (): Promise<boolean> => {
    if (runtimeClaimed) return true;
    if (!plan.runsJobs) return false;
    if (config.runtime.kind === 'local' && !(await startRouter())) return false;
    runtimeClaimed = true;
    const runtimeReconciler = startRuntimeReconciler({
      reconcile: useCases.reconcileRuntime,
      intervalMs: config.jobs.reconcileIntervalMs,
      logger: coreLogger.child({ component: 'runtime-reconciler' }),
    });
    shutdown.add(async () => {
      await runtimeReconciler.stop();
      await useCases.shipDeploymentLogs.close();
    });
    return true;
  };
}

/**
 * The composition root shared by the server, the worker and the maintenance tasks: opens the
 * infrastructure, builds the container, starts the background loops of the role. A failure on
 * the way closes what was opened.
 */
export async function composeRuntime(config: Config, logger: PinoLogger, role: Role): Promise<Runtime> {
  const plan = planRole(config, role);
  const shutdown = new Shutdown(logger);
  try {
    const infrastructure = await openInfrastructure(config, logger, plan, shutdown);
    const coreLogger: Logger = logger;
    const metrics = plan.measures ? new Metrics({ logger: coreLogger.child({ component: 'metrics' }) }) : undefined;
    const { container, useCases } = buildContainer(config, logger, plan, infrastructure, metrics, shutdown);
    const { relay, claimRuntime } = await startBackgroundLoops(
      config,
      logger,
      plan,
      infrastructure,
      useCases,
      shutdown,
    );
    const { database, redis, appRuntime, healthChecks } = infrastructure;
    return {
      container,
      useCases,
      database,
      redis,
      distributed: plan.jobsRedisUrl !== undefined,
      healthChecks,
      relay,
      metrics,
      claimRuntime,
      addCloser: (closer) => shutdown.add(closer),
      close: () => shutdown.close(),
      describe: {
        database:
          database.kind === 'pglite'
            ? `embedded PGlite in ${embeddedDataDir(config.dataDir)}`
            : 'PostgreSQL (DATABASE_URL)',
        queue:
          plan.jobsRedisUrl !== undefined
            ? 'redis (bee-queue); `npm run worker` runs the jobs'
            : 'in process (jobs run inside this server)',
        blacklist: redis === undefined ? 'in process' : 'redis',
        runtime: appRuntime.describe,
      },
    };
  } catch (error) {
    await shutdown.close();
    throw error;
  }
}

/**
 * Starts the metrics listener when `METRICS_PORT` is set, on the server's HOST, closed with the
 * runtime; returns its port, or `undefined` when there is none. A port in use stops the start-up
 * (`StartupError`), after closing the runtime (the embedded database's lock goes with it).
 */
export async function serveMetricsPort(
  config: Config,
  runtime: Runtime,
  logger: PinoLogger,
): Promise<number | undefined> {
  if (config.metrics.port === undefined || runtime.metrics === undefined) return undefined;
  const coreLogger: Logger = logger;
  try {
    const server = await startMetricsServer({
      host: config.host,
      port: config.metrics.port,
      metrics: runtime.metrics,
      logger: coreLogger.child({ component: 'metrics' }),
    });
    runtime.addCloser(() => server.close());
    return server.port;
  } catch (error) {
    await runtime.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new StartupError(
        `The metrics listener cannot listen on ${config.host}:${config.metrics.port} (${code}): set METRICS_PORT`,
      );
    }
    throw error;
  }
}

/** The API server: the runtime plus the Koa app. */
export async function composeServer(
  config: Config,
  logger: PinoLogger,
): Promise<Runtime & { app: Koa; endStreams: () => void }> {
  const runtime = await composeRuntime(config, logger, 'server');
  try {
    return { ...runtime, ...serverApp(config, logger, runtime) };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

/** The Koa app over a composed runtime, and how to end its followed log streams. */
function serverApp(config: Config, logger: PinoLogger, runtime: Runtime): { app: Koa; endStreams: () => void } {
  const { container, metrics } = runtime;
  // Aborted at shutdown: followed logs end at once (clients reconnect) instead of holding it up.
  const streams = new AbortController();
  const app = createHttpApp({
    logStream: { signal: streams.signal },
    useCases: runtime.useCases,
    logger,
    publicUrl: config.publicUrl,
    frontendUrl: config.frontendUrl,
    corsOrigins: config.corsOrigins,
    production: config.production,
    trustProxy: config.trustProxy,
    rateLimits: resolve(container, BOUND.AuthRateLimits),
    accountLimits: resolve(container, BOUND.AccountRateLimits),
    // Every server derives the same CSRF key from the signing secret.
    cookieSecret: config.jwt.keys[0]?.secret ?? new Uint8Array(),
    healthChecks: runtime.healthChecks,
    onWrite: () => runtime.relay?.nudge(),
    ...(metrics === undefined
      ? {}
      : {
          observeRequest: metrics.observeRequest,
          // With METRICS_PORT, /metrics is served there only (see main.ts), and is 404 here.
          ...(config.metrics.port === undefined ? { metrics: () => metrics.render() } : {}),
        }),
    oauth: {
      stateSecret: config.jwt.keys[0]?.secret ?? new Uint8Array(),
      usedStates: resolve(container, BOUND.TokenBlacklist),
      clock: resolve(container, BOUND.Clock),
    },
  });
  return { app, endStreams: () => streams.abort() };
}
