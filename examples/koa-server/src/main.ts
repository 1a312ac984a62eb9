import { createServer } from 'node:http';
import { pino } from 'pino';
import { composeServer, StartupError } from './compose.js';
import { ConfigError, loadConfig } from './config.js';

/** `npm start`: the API server, with jobs in process unless a worker takes them. */
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
  const logger = pino({ level: config.logLevel, base: { service: 'shipyard-api' } });
  for (const warning of config.warnings) logger.warn(warning);

  let composition: Awaited<ReturnType<typeof composeServer>>;
  try {
    composition = await composeServer(config, logger);
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
  const server = createServer(composition.app.callback());
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  logger.info(
    {
      port,
      url: config.publicUrl,
      docs: config.production ? undefined : `${config.publicUrl}/docs`,
      env: config.env,
      ...composition.describe,
    },
    `Shipyard API listening on ${config.host}:${port}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = setTimeout(() => {
      logger.warn('in-flight requests did not finish in 10 s; closing their connections');
      server.closeAllConnections();
    }, 10_000);
    deadline.unref();
    await closed;
    await composition.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Shipyard API failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
