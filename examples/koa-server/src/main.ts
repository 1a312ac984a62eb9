import { createServer } from 'node:http';
import { exitOnFailure, loadConfigOrExit, orExit, processLogger } from './bootstrap.js';
import { composeServer, serveMetricsPort } from './compose.js';

/** `npm start`: the API server, with jobs in process unless a worker takes them. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = processLogger(config, 'shipyard-api');
  const composition = await orExit(logger, () => composeServer(config, logger));
  const metricsPort = await orExit(logger, () => serveMetricsPort(config, composition, logger));
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
      metrics:
        composition.metrics === undefined
          ? undefined
          : metricsPort === undefined
            ? '/metrics'
            : `http://${config.host}:${metricsPort}/metrics`,
      metrics_port: metricsPort,
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
    composition.endStreams();
    server.closeIdleConnections();
    // The connections of the ended streams are idle once their last bytes are out.
    setTimeout(() => server.closeIdleConnections(), 200).unref();
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

main().catch(exitOnFailure('Shipyard API failed to start'));
