import { runWorkerProcess, startWorker } from '@shipyard/adapters-queue';
import { type Logger, QUEUES, type QueueName } from '@shipyard/core';
import { exitOnFailure, loadConfigOrExit, orExit, processLogger } from './bootstrap.js';
import { composeRuntime, REDIS_PREFIX, type Runtime, serveMetricsPort } from './compose.js';
import { BOUND, resolve } from './typed-tokens.js';

/**
 * `npm run worker`: the job process. It takes jobs from Redis, shares PostgreSQL with the servers,
 * relays the outbox and schedules cleanup. Several workers may run at once; each job runs once.
 * With the local runtime, the one that holds APPS_PORT on this machine takes the build and
 * deployment jobs; another takes them over when it stops.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = processLogger(config, 'shipyard-worker');
  const redisUrl = config.redisUrl;
  if (redisUrl === undefined || config.databaseUrl === undefined) {
    logger.fatal(
      'npm run worker needs REDIS_URL and DATABASE_URL (a worker shares the queue and the database with the servers); without them, `npm start` runs the jobs in process',
    );
    process.exit(1);
  }
  const runtime = await orExit(logger, () => composeRuntime(config, logger, 'worker'));
  const handlers = resolve(runtime.container, BOUND.JobHandlers);
  const coreLogger: Logger = logger;
  const workerLogger = coreLogger.child({ component: 'worker' });
  const owner = await orExit(logger, () => runtime.claimRuntime());
  // A worker has no HTTP server: its metrics are served on METRICS_PORT only.
  const metricsPort = await orExit(logger, () => serveMetricsPort(config, runtime, logger));
  if (runtime.metrics !== undefined && metricsPort === undefined) {
    logger.warn(
      'METRICS_ENABLED is set, but a worker serves its metrics only on METRICS_PORT: set it to scrape this worker',
    );
  }
  const onAttempt = runtime.metrics?.observeJob;
  await runWorkerProcess({
    redis: redisUrl,
    prefix: REDIS_PREFIX,
    handlers,
    queues: owner ? QUEUES : QUEUES.filter((queue) => !RUNTIME_QUEUES.includes(queue)),
    concurrency: config.jobs.concurrency,
    logger: workerLogger,
    ...(onAttempt === undefined ? {} : { onAttempt }),
    exit: (code) => {
      void runtime.close().finally(() => process.exit(code));
    },
  });
  logger.info(
    {
      database: runtime.describe.database,
      runtime: runtime.describe.runtime,
      concurrency: config.jobs.concurrency,
      runs_builds_and_apps: owner,
      metrics_port: metricsPort,
    },
    'worker started',
  );
  if (!owner) {
    logger.warn(
      { apps_port: config.runtime.appsPort },
      'another process runs the apps on this machine (it holds APPS_PORT): this worker takes cleanup and default ' +
        'jobs, and builds and deployments once that one stops',
    );
    awaitRuntime(runtime, config.jobs.reconcileIntervalMs, workerLogger, async () => {
      const builds = await startWorker({
        redis: redisUrl,
        prefix: REDIS_PREFIX,
        handlers,
        queues: RUNTIME_QUEUES,
        concurrency: config.jobs.concurrency,
        logger: workerLogger,
        ...(onAttempt === undefined ? {} : { onAttempt }),
      });
      runtime.addCloser(() => builds.close());
      logger.info({ runtime: runtime.describe.runtime }, 'this worker now runs builds and apps');
    });
  }
}

/** The queues whose jobs need the runtime: only its owner takes them. */
const RUNTIME_QUEUES: readonly QueueName[] = ['build', 'deployment'];

/** Tries to claim the runtime every `intervalMs` until it is this worker's, then calls `claimed`. */
function awaitRuntime(runtime: Runtime, intervalMs: number, logger: Logger, claimed: () => Promise<void>): void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async () => {
    if (stopped) return;
    try {
      if (await runtime.claimRuntime()) {
        await claimed();
        return;
      }
    } catch (error) {
      logger.error({ err: error }, 'claiming the runtime failed; trying again');
    }
    timer = setTimeout(() => void attempt(), intervalMs);
    timer.unref();
  };
  timer = setTimeout(() => void attempt(), intervalMs);
  timer.unref();
  runtime.addCloser(async () => {
    stopped = true;
    clearTimeout(timer);
  });
}

main().catch(exitOnFailure('Shipyard worker failed'));
