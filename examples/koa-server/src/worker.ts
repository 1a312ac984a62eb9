import { runWorkerProcess } from '@shipyard/adapters-queue';
import { type JobHandlers, type Logger, TOKENS } from '@shipyard/core';
import { exitOnFailure, loadConfigOrExit, orExit, processLogger } from './bootstrap.js';
import { composeRuntime, REDIS_PREFIX } from './compose.js';

/**
 * `npm run worker`: the job process. It takes jobs from Redis, shares PostgreSQL with the servers,
 * relays the outbox and schedules cleanup. Several workers may run at once; each job runs once.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = processLogger(config, 'shipyard-worker');
  if (config.redisUrl === undefined || config.databaseUrl === undefined) {
    logger.fatal(
      'npm run worker needs REDIS_URL and DATABASE_URL (a worker shares the queue and the database with the servers); without them, `npm start` runs the jobs in process',
    );
    process.exit(1);
  }
  const runtime = await orExit(logger, () => composeRuntime(config, logger, 'worker'));
  await runWorkerProcess({
    redis: config.redisUrl,
    prefix: REDIS_PREFIX,
    handlers: runtime.container.get<JobHandlers>(TOKENS.JobHandlers),
    concurrency: config.jobs.concurrency,
    logger: (logger as unknown as Logger).child({ component: 'worker' }),
    exit: (code) => {
      void runtime.close().finally(() => process.exit(code));
    },
  });
  logger.info(
    { database: runtime.describe.database, runtime: runtime.describe.runtime, concurrency: config.jobs.concurrency },
    'worker started',
  );
}

main().catch(exitOnFailure('Shipyard worker failed'));
