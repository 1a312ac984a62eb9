import { runWorkerProcess } from '@shipyard/adapters-queue';
import { type JobHandlers, type Logger, TOKENS } from '@shipyard/core';
import { pino } from 'pino';
import { composeRuntime, REDIS_PREFIX, StartupError } from './compose.js';
import { ConfigError, loadConfig } from './config.js';

/**
 * `npm run worker`: the job process. It takes jobs from Redis, shares PostgreSQL with the servers,
 * relays the outbox and schedules cleanup. Several workers may run at once; each job runs once.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'shipyard-worker' } });
  if (config.redisUrl === undefined || config.databaseUrl === undefined) {
    logger.fatal(
      'npm run worker needs REDIS_URL and DATABASE_URL (a worker shares the queue and the database with the servers); without them, `npm start` runs the jobs in process',
    );
    process.exit(1);
  }
  for (const warning of config.warnings) logger.warn(warning);

  let runtime: Awaited<ReturnType<typeof composeRuntime>>;
  try {
    runtime = await composeRuntime(config, logger, 'worker');
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
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
  logger.info({ database: runtime.describe.database, concurrency: config.jobs.concurrency }, 'worker started');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Shipyard worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
