import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { parseRedisUrl } from '@shipyard/adapters-queue';
import BeeQueue from 'bee-queue';
import { tcpProxy } from './tcp-proxy.js';

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

/** A port nothing listens on: Redis "down" without stopping the shared Redis. */
export async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RedisProxy {
  url(): string;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops listening and cuts every open connection. */
  stop(): Promise<void>;
}

export interface RedisProxyOptions {
  /**
   * Sees every command a client sends (name and arguments, as strings); a RESP reply returned
   * (`-ERR ...\r\n`) is sent back instead of forwarding the command. Only for commands sent when
   * none is pending on their connection (the reply would overtake the pending ones), such as a
   * blocking client's BRPOPLPUSH.
   */
  reply?: (command: string[]) => string | undefined;
}

/** A TCP proxy to Redis that can be cut and restored. */
export async function redisProxy(options: RedisProxyOptions = {}): Promise<RedisProxy> {
  const target = new URL(REDIS_URL);
  const { reply } = options;
  const proxy = await tcpProxy(
    { host: target.hostname, port: Number(target.port || 6379) },
    reply === undefined
      ? undefined
      : (client, upstream) => {
          upstream.pipe(client);
          interceptCommands(client, upstream, reply);
        },
  );
  return { url: () => `redis://127.0.0.1:${proxy.port}`, start: proxy.start, stop: proxy.stop };
}

/**
 * Forwards the client's commands (RESP arrays of bulk strings, as node-redis sends them) one by
 * one, unless `reply` answers one itself.
 */
function interceptCommands(client: net.Socket, upstream: net.Socket, reply: (command: string[]) => string | undefined) {
  let buffered = Buffer.alloc(0);
  client.on('end', () => upstream.end());
  client.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const parsed = parseCommand(buffered);
      if (parsed === undefined) return;
      const raw = buffered.subarray(0, parsed.length);
      buffered = buffered.subarray(parsed.length);
      const answer = reply(parsed.args);
      if (answer === undefined) upstream.write(raw);
      else client.write(answer);
    }
  });
}

/** One complete command at the start of `data`, or `undefined` when more bytes are needed. */
function parseCommand(data: Buffer): { args: string[]; length: number } | undefined {
  const line = (from: number) => {
    const end = data.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: data.toString('latin1', from, end), next: end + 2 };
  };
  const head = line(0);
  if (head === undefined) return undefined;
  if (!head.text.startsWith('*')) throw new Error(`unexpected RESP from the client: ${head.text}`);
  const count = Number(head.text.slice(1));
  const args: string[] = [];
  let offset = head.next;
  for (let i = 0; i < count; i += 1) {
    const size = line(offset);
    if (size === undefined) return undefined;
    const length = Number(size.text.slice(1));
    if (data.length < size.next + length + 2) return undefined;
    args.push(data.toString('utf8', size.next, size.next + length));
    offset = size.next + length + 2;
  }
  return { args, length: offset };
}
