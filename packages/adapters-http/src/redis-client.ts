import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** Milliseconds a command may take before it fails (the request then gets a 503). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * An ioredis client for request-path checks (blacklist, rate limits): no offline queue, so a
 * command fails at once while Redis is away instead of hanging (ioredis #61), a command
 * timeout, one retry per command, and reconnection in the background.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  });
}
