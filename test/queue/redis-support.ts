import { randomUUID } from 'node:crypto';
import { parseRedisUrl } from '@shipyard/adapters-queue';
import BeeQueue from 'bee-queue';

/** The shared Redis of the project's machines; tests never touch keys outside their prefix. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own for one test file (or one subject). */
export const randomPrefix = (): string => `test-queue-${randomUUID().slice(0, 8)}`;

interface RawClient {
  keys(pattern: string, cb: (err: Error | null, keys: string[]) => void): void;
  del(keys: string[], cb: (err: Error | null, count: number) => void): void;
}

/** Runs `work` on a plain Redis connection (bee-queue's own client). */
async function withClient<T>(work: (client: RawClient) => Promise<T>): Promise<T> {
  const { host, port, db } = parseRedisUrl(REDIS_URL);
  const probe = new BeeQueue('probe', {
    prefix: 'test-queue-probe',
    redis: { host, port, db },
    isWorker: false,
    getEvents: false,
    activateDelayedJobs: false,
  });
  try {
    await probe.ready();
    return await work((probe as unknown as { client: RawClient }).client);
  } finally {
    await probe.close();
  }
}

const keysOf = (client: RawClient, prefix: string) =>
  new Promise<string[]>((resolve, reject) =>
    client.keys(`${prefix}:*`, (err, keys) => (err ? reject(err) : resolve(keys))),
  );

/** The keys under `prefix`. */
export const listKeys = (prefix: string): Promise<string[]> => withClient((client) => keysOf(client, prefix));

/** Deletes every key under `prefix`; returns how many there were. */
export function removeKeys(prefix: string): Promise<number> {
  return withClient(async (client) => {
    const keys = await keysOf(client, prefix);
    if (keys.length === 0) return 0;
    return new Promise<number>((resolve, reject) =>
      client.del(keys, (err, count) => (err ? reject(err) : resolve(count))),
    );
  });
}
