import type { AuthRateLimits } from '@shipyard/adapters-http';
import { createHttpApp, createRedisClient, type HealthCheck, HTTP_TOKENS, httpModule } from '@shipyard/adapters-http';
import { InProcessJobQueue, type OutboxRelayHandle, startOutboxRelay } from '@shipyard/adapters-queue';
import { type JobHandlers, type Logger, TOKENS, type UseCases } from '@shipyard/core';
import { InMemoryUnitOfWork } from '@shipyard/core/testing';
import { Container, ContainerModule } from 'inversify';
import type { Redis } from 'ioredis';
import type Koa from 'koa';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';
import { coreModule } from './core.module.js';

export const JWT_ISSUER = 'shipyard';
export const JWT_AUDIENCE = 'shipyard-api';

export interface Composition {
  container: Container;
  app: Koa;
  /** What runs behind the API, for the start-up log. */
  describe: { database: string; queue: string; blacklist: string };
  /** Closes queues, relays and connections (after the HTTP server stopped accepting). */
  close: () => Promise<void>;
}

/**
 * The composition root of `npm start`: one Inversify container holding the core's module and
 * one module per adapter, chosen by configuration.
 */
export async function composeServer(config: Config, logger: PinoLogger): Promise<Composition> {
  const coreLogger = logger as unknown as Logger;
  const closers: Array<() => Promise<void>> = [];
  const container = new Container();
  const healthChecks: HealthCheck[] = [];

  let redis: Redis | undefined;
  if (config.redisUrl !== undefined) {
    const client = createRedisClient(config.redisUrl);
    client.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
    redis = client;
    closers.push(async () => {
      client.disconnect();
    });
    healthChecks.push({ name: 'redis', check: async () => void (await client.ping()) });
  }

  // Persistence: the in-memory unit of work until the database adapter is composed in.
  const uow = new InMemoryUnitOfWork();
  const database = 'in-memory (data is lost when the process stops)';
  healthChecks.push({ name: 'database', check: async () => {} });

  const queue = new InProcessJobQueue({
    handlers: () => container.get<JobHandlers>(TOKENS.JobHandlers),
    logger: coreLogger.child({ component: 'jobs' }),
    backoffMs: config.jobs.backoffMs,
    concurrency: config.jobs.concurrency,
  });

  container.load(
    coreModule(config, coreLogger),
    httpModule({
      jwt: {
        keys: config.jwt.keys,
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        accessTtlSeconds: config.jwt.accessTtlSeconds,
        refreshTtlSeconds: config.jwt.refreshTtlSeconds,
      },
      ...(redis === undefined ? {} : { redis }),
    }),
    new ContainerModule(({ bind }) => {
      bind(TOKENS.UnitOfWork).toConstantValue(uow);
      bind(TOKENS.JobQueue).toConstantValue(queue);
    }),
  );

  const useCases = container.get<UseCases>(TOKENS.UseCases);
  const relay: OutboxRelayHandle = startOutboxRelay({
    relay: useCases.relayOutbox,
    intervalMs: 250,
    logger: coreLogger.child({ component: 'outbox' }),
  });
  const stopNudging = uow.db.onCommit(() => relay.nudge());
  closers.push(async () => {
    stopNudging();
    await relay.stop();
    await queue.close();
  });

  const app = createHttpApp({
    useCases,
    logger,
    publicUrl: config.publicUrl,
    frontendUrl: config.frontendUrl,
    corsOrigins: config.corsOrigins,
    production: config.production,
    trustProxy: config.trustProxy,
    rateLimits: container.get<AuthRateLimits>(HTTP_TOKENS.AuthRateLimits),
    healthChecks,
  });

  return {
    container,
    app,
    describe: {
      database,
      queue: 'in process (jobs run inside this server)',
      blacklist: redis === undefined ? 'in process' : 'redis',
    },
    close: async () => {
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (error) {
          logger.error({ err: error }, 'error while closing');
        }
      }
    },
  };
}
