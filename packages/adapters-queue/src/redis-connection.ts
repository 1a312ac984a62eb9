import type BeeQueue from 'bee-queue';

/**
 * Where bee-queue connects. bee-queue bundles node-redis 3 and does not recognise an ioredis
 * client (it would silently open its own connection, bee-queue#484), so it gets options.
 */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  db?: number;
  user?: string;
  password?: string;
  /** TLS (`rediss://`). */
  tls?: boolean;
}

/** Parses `redis://[[user]:password@]host[:port][/db]` (or `rediss://`) into connection options. */
export function parseRedisUrl(url: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('REDIS_URL is not a valid URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError('REDIS_URL must start with redis:// or rediss://');
  }
  const options: RedisConnectionOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
  };
  const dbText = parsed.pathname.replace(/^\//, '') || parsed.searchParams.get('db') || '';
  if (dbText !== '') {
    const db = Number(dbText);
    if (!Number.isInteger(db) || db < 0) throw new TypeError('REDIS_URL has an invalid database number');
    options.db = db;
  }
  if (parsed.username !== '') options.user = decodeURIComponent(parsed.username);
  if (parsed.password !== '') options.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') options.tls = true;
  return options;
}

export const toConnectionOptions = (redis: string | RedisConnectionOptions): RedisConnectionOptions =>
  typeof redis === 'string' ? parseRedisUrl(redis) : redis;

interface RetryParams {
  attempt: number;
  times_connected: number;
}

/**
 * node-redis settings for a bee-queue connection. A first connection that fails is an error at
 * once (so a publish is refused rather than left hanging); a connection lost later is retried
 * forever, with a delay capped at 5 s. `offlineQueue: false` makes commands fail while
 * disconnected instead of waiting (for publishers, whose caller keeps the job in the outbox).
 */
export function nodeRedisSettings(
  connection: RedisConnectionOptions,
  options: { offlineQueue: boolean },
): NonNullable<BeeQueue.QueueSettings['redis']> {
  return {
    host: connection.host,
    port: connection.port,
    db: connection.db,
    user: connection.user,
    password: connection.password,
    ...(connection.tls ? { tls: { servername: connection.host } } : {}),
    enable_offline_queue: options.offlineQueue,
    retry_strategy: ({ attempt, times_connected }: RetryParams) =>
      times_connected === 0 ? new Error('cannot connect to Redis') : Math.min(attempt * 200, 5_000),
  } as NonNullable<BeeQueue.QueueSettings['redis']>;
}
