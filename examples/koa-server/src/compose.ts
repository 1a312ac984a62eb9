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
  type AccountRateLimits,
  type AuthRateLimits,
  createHttpApp,
  createRedisClient,
  GitHubOAuthProvider,
  type HealthCheck,
  HTTP_TOKENS,
  httpModule,
} from '@shipyard/adapters-http';
import {
  type ClosableJobQueue,
  type OutboxRelayHandle,
  QUEUE_TOKENS,
  queueModule,
  startOutboxRelay,
} from '@shipyard/adapters-queue';
import { type Clock, type Logger, TOKENS, type TokenBlacklist, type UseCases } from '@shipyard/core';
import { Container } from 'inversify';
import type { Redis } from 'ioredis';
import type Koa from 'koa';
import type { Logger as PinoLogger } from 'pino';
import { createAppRuntime } from './app-runtime.js';
import type { Config } from './config.js';
import { coreModule } from './core.module.js';
import { Metrics, startMetricsServer } from './metrics.js';
import { startReconciler, startRuntimeReconciler } from './reconciler.js';

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
 * The composition root shared by the server and the worker: one Inversify container with the
 * core's module and one module per adapter, chosen by configuration.
 */
export async function composeRuntime(
  config: Config,
  logger: PinoLogger,
  role: 'server' | 'worker' | 'maintenance',
): Promise<Runtime> {
  const coreLogger = logger as unknown as Logger;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      try {
        await closer();
      } catch (error) {
        logger.error({ err: error }, 'error while closing');
      }
    }
  };
  const healthChecks: HealthCheck[] = [];
  try {
    let redis: Redis | undefined;
    if (config.redisUrl !== undefined) {
      const client = createRedisClient(config.redisUrl);
      client.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
      redis = client;
      closers.push(async () => client.disconnect());
      // A write, not a PING: a Redis out of memory (noeviction) still answers PING but refuses
      // the queue's and the blacklist's writes.
      const healthKey = `${REDIS_PREFIX}:health:${process.pid}`;
      healthChecks.push({ name: 'redis', check: async () => void (await client.set(healthKey, '1', 'PX', 10_000)) });
    }

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
    closers.push(() => database.close());
    // A few tries over about two seconds: a database that is still starting, or a machine under
    // load, is not a wrong DATABASE_URL.
    let answers = await database.ping();
    for (let attempt = 1; !answers && attempt < 5; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      answers = await database.ping();
    }
    if (!answers) throw new StartupError('The database does not answer (check DATABASE_URL)');
    await prepareSchema(database, config, logger, role === 'server');
    healthChecks.push({
      name: 'database',
      check: async () => {
        if (!(await database.ping())) throw new Error('no answer');
      },
    });

    const distributed = config.redisUrl !== undefined && config.databaseUrl !== undefined;
    const metrics =
      config.metrics.enabled && role !== 'maintenance'
        ? new Metrics({ logger: coreLogger.child({ component: 'metrics' }) })
        : undefined;
    // Builds and apps run where the jobs run: in the worker, or in the server when jobs are in process.
    const runsJobs = role === 'worker' || (role === 'server' && !distributed);
    const appRuntime = await createAppRuntime(config, runsJobs, coreLogger.child({ component: 'runtime' }));
    closers.push(() => appRuntime.close());
    const container = new Container();
    container.load(
      coreModule(config, coreLogger, {
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
      queueModule(
        distributed
          ? {
              redis: config.redisUrl as string,
              prefix: REDIS_PREFIX,
              backoffMs: config.jobs.backoffMs,
              timeoutMs: config.jobs.timeoutMs,
            }
          : {
              backoffMs: config.jobs.backoffMs,
              concurrency: config.jobs.concurrency,
              timeoutMs: config.jobs.timeoutMs,
              ...(metrics === undefined ? {} : { onAttempt: metrics.observeJob }),
            },
      ),
    );
    const queue = container.get<ClosableJobQueue>(QUEUE_TOKENS.ClosableJobQueue);
    closers.push(() => queue.close());
    const useCases = container.get<UseCases>(TOKENS.UseCases);
    if (metrics !== undefined) {
      const clock = container.get<Clock>(TOKENS.Clock);
      metrics.watch({
        queueDepths: (options) => queue.counts(options),
        outboxBacklog: () => database.uow.platform((platform) => platform.countPendingMessages(clock.now())),
        pool: () => database.poolStats(),
      });
    }

    let relay: OutboxRelayHandle | undefined;
    if (role !== 'maintenance') {
      const started = startOutboxRelay({
        relay: useCases.relayOutbox,
        intervalMs: distributed ? 1000 : 250,
        logger: coreLogger.child({ component: 'outbox' }),
      });
      relay = started;
      closers.push(() => started.stop());
    }

    // The local runtime has one owner per machine: the process that holds APPS_PORT runs the
    // builds and the apps (and the runtime's reconciler).
    let runtimeClaimed = false;
    /** Listens on APPS_PORT; false when another worker holds it. */
    const startRouter = async (): Promise<boolean> => {
      try {
        await appRuntime.start();
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' && role === 'worker') return false;
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
    const claimRuntime = async (): Promise<boolean> => {
      if (runtimeClaimed) return true;
      if (!runsJobs) return false;
      if (config.runtime.kind === 'local' && !(await startRouter())) return false;
      runtimeClaimed = true;
      const runtimeReconciler = startRuntimeReconciler({
        reconcile: useCases.reconcileRuntime,
        intervalMs: config.jobs.reconcileIntervalMs,
        logger: coreLogger.child({ component: 'runtime-reconciler' }),
      });
      closers.push(async () => {
        await runtimeReconciler.stop();
        await useCases.shipDeploymentLogs.close();
      });
      return true;
    };

    // Cleanup and the reconcilers run where the jobs run: in the worker, or in the server when
    // jobs are in process.
    if (runsJobs) {
      // In process, the server must own the runtime; a worker claims it itself (see worker.ts).
      if (role === 'server') await claimRuntime();
      const reconciler = startReconciler({
        reconcile: useCases.reconcileJobs,
        intervalMs: config.jobs.reconcileIntervalMs,
        // The embedded database has one owner (its lock): a row running at start lost its worker.
        expireLeasesFirst: database.kind === 'pglite',
        onRepublished: () => relay?.nudge(),
        logger: coreLogger.child({ component: 'reconciler' }),
      });
      closers.push(() => reconciler.stop());
      const schedule = () =>
        useCases.scheduleCleanup
          .execute()
          .catch((error: unknown) => logger.warn({ err: error }, 'cleanup scheduling failed'));
      const first = setTimeout(schedule, 60_000);
      const every = setInterval(schedule, 3_600_000);
      first.unref();
      every.unref();
      closers.push(async () => {
        clearTimeout(first);
        clearInterval(every);
      });
    }

    return {
      container,
      useCases,
      database,
      redis,
      distributed,
      healthChecks,
      relay,
      metrics,
      claimRuntime,
      addCloser: (closer) => closers.push(closer),
      close,
      describe: {
        database:
          database.kind === 'pglite'
            ? `embedded PGlite in ${embeddedDataDir(config.dataDir)}`
            : 'PostgreSQL (DATABASE_URL)',
        queue: distributed
          ? 'redis (bee-queue); `npm run worker` runs the jobs'
          : 'in process (jobs run inside this server)',
        blacklist: redis === undefined ? 'in process' : 'redis',
        runtime: appRuntime.describe,
      },
    };
  } catch (error) {
    await close();
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
  try {
    const server = await startMetricsServer({
      host: config.host,
      port: config.metrics.port,
      metrics: runtime.metrics,
      logger: (logger as unknown as Logger).child({ component: 'metrics' }),
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
  const { container } = runtime;
  // Aborted at shutdown: followed logs end at once (clients reconnect) instead of holding it up.
  const streams = new AbortController();
  const { metrics } = runtime;
  const app = createHttpApp({
    logStream: { signal: streams.signal },
    useCases: runtime.useCases,
    logger,
    publicUrl: config.publicUrl,
    frontendUrl: config.frontendUrl,
    corsOrigins: config.corsOrigins,
    production: config.production,
    trustProxy: config.trustProxy,
    rateLimits: container.get<AuthRateLimits>(HTTP_TOKENS.AuthRateLimits),
    accountLimits: container.get<AccountRateLimits>(HTTP_TOKENS.AccountRateLimits),
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
      usedStates: container.get<TokenBlacklist>(TOKENS.TokenBlacklist),
      clock: container.get<Clock>(TOKENS.Clock),
    },
  });
  return { ...runtime, app, endStreams: () => streams.abort() };
}
