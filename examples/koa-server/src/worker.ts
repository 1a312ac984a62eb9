import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';

/**
 * `npm run worker`: the job process. It takes jobs from Redis and needs the same PostgreSQL as
 * the servers; without both, jobs run inside `npm start` and there is nothing for it to do.
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
    logger.error(
      'npm run worker needs REDIS_URL and DATABASE_URL (a worker shares the database and the queue with the servers); without them, `npm start` runs the jobs in process',
    );
    process.exit(1);
  }
  logger.error('the worker runs once the PostgreSQL adapter is composed in; until then `npm start` runs the jobs');
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Shipyard worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
