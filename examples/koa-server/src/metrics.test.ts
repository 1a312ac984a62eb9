import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeeQueueJobQueue, InProcessJobQueue, type QueueHandlers, startWorker } from '@shipyard/adapters-queue';
import { type Job, SilentLogger } from '@shipyard/core';
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { composeServer, serveMetricsPort } from './compose.js';
import { loadConfig } from './config.js';
import { COLLECT_TIMEOUT_MS, Metrics } from './metrics.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** The API server as `npm start` composes it (embedded database, jobs in process, simulated runtime), on a free port. */
async function startServer(t: ExecutionContext, env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-metrics-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    RUNTIME: 'simulated',
    SIMULATED_BUILD_MS: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = pino({ level: 'silent' });
  const composition = await composeServer(config, logger);
  t.teardown(() => composition.close());
  const metricsPort = await serveMetricsPort(config, composition, logger);
  const server = createServer(composition.app.callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => closeServer(server));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { composition, base, metricsPort };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/** Registers a tenant; returns its owner's bearer header. */
async function register(base: string): Promise<{ Authorization: string }> {
  const response = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      tenant_name: `Metrics ${randomUUID().slice(0, 8)}`,
      email: `owner-${randomUUID().slice(0, 8)}@example.test`,
      password: 'correct horse battery',
    }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return { Authorization: `Bearer ${((await response.json()) as { access_token: string }).access_token}` };
}

async function post(base: string, path: string, auth: Record<string, string>, body: unknown) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The value of one sample of the exposition, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('/metrics is off by default: 404, and nothing is measured', async (t) => {
  const { composition, base } = await startServer(t);
  t.is(composition.metrics, undefined);
  const response = await fetch(`${base}/metrics`);
  t.is(response.status, 404);
  t.is((await fetch(`${base}/api/v1/metrics`)).status, 404);
});

test('with METRICS_ENABLED, /metrics serves requests by route template and status, jobs, queues, outbox, pool and process', async (t) => {
  const { composition, base } = await startServer(t, { METRICS_ENABLED: 'true' });
  const auth = await register(base);
  const project = await post(base, '/api/v1/projects', auth, { name: 'Web' });
  t.is(project.status, 201);
  const projectId = String(project.body.id);
  t.is((await fetch(`${base}/api/v1/projects/${projectId}`, { headers: auth })).status, 200);
  t.is((await fetch(`${base}/api/v1/projects/${projectId}`, { headers: auth })).status, 200);
  t.is((await fetch(`${base}/api/v1/projects/${randomUUID()}`, { headers: auth })).status, 404);
  t.is((await fetch(`${base}/no/such/${randomUUID()}`)).status, 404);
  const service = await post(base, `/api/v1/projects/${projectId}/services`, auth, {
    name: 'api',
    repo_url: 'https://github.com/acme/api.git',
  });
  t.is(service.status, 201);
  const build = await post(base, `/api/v1/services/${String(service.body.id)}/builds`, auth, {});
  t.is(build.status, 202);
  await waitFor(async () => {
    const read = await fetch(`${base}/api/v1/builds/${String(build.body.id)}`, { headers: auth });
    return ((await read.json()) as { status: string }).status === 'succeeded';
  }, 'the build');

  const response = await fetch(`${base}/metrics`);
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), composition.metrics?.registry.contentType ?? null);
  t.is(response.headers.get('content-type'), PROMETHEUS_TEXT);
  const text = await response.text();

  const route = '/api/v1/projects/:id';
  t.is(sample(text, 'shipyard_http_requests_total', { method: 'GET', route, status_code: '200' }), 2);
  t.is(sample(text, 'shipyard_http_requests_total', { method: 'GET', route, status_code: '404' }), 1);
  t.is(
    sample(text, 'shipyard_http_requests_total', { method: 'POST', route: '/api/v1/projects', status_code: '201' }),
    1,
  );
  t.is(sample(text, 'shipyard_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
  t.false(text.includes(projectId), 'never a raw path with its ids');
  const buckets = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'].map((le) =>
    sample(text, 'shipyard_http_request_duration_seconds_bucket', { route, status_code: '200', le }),
  );
  t.true(
    buckets.every((count, i) => typeof count === 'number' && (i === 0 || count >= (buckets[i - 1] as number))),
    `cumulative buckets: ${buckets.join(' ')}`,
  );
  t.is(buckets.at(-1), 2);
  t.is(sample(text, 'shipyard_http_request_duration_seconds_count', { route, status_code: '200' }), 2);
  t.true((sample(text, 'shipyard_http_request_duration_seconds_sum', { route, status_code: '200' }) ?? -1) >= 0);

  t.is(sample(text, 'shipyard_jobs_total', { queue: 'build', job: 'build.run', outcome: 'completed' }), 1);
  t.is(
    sample(text, 'shipyard_job_duration_seconds_count', { queue: 'build', job: 'build.run', outcome: 'completed' }),
    1,
  );
  t.is(
    sample(text, 'shipyard_job_duration_seconds_bucket', {
      queue: 'build',
      job: 'build.run',
      outcome: 'completed',
      le: '+Inf',
    }),
    1,
  );
  for (const queue of ['build', 'deployment', 'cleanup', 'default']) {
    for (const state of ['waiting', 'active', 'delayed']) {
      t.is(typeof sample(text, 'shipyard_queue_jobs', { queue, state }), 'number', `${queue} ${state}`);
    }
  }
  t.is(typeof sample(text, 'shipyard_outbox_pending_messages'), 'number');
  t.is(sample(text, 'shipyard_metrics_source_up', { source: 'queue' }), 1);
  t.is(sample(text, 'shipyard_metrics_source_up', { source: 'outbox' }), 1);
  t.is(typeof sample(text, 'shipyard_db_pool_connections', { state: 'used' }), 'number');
  t.is(typeof sample(text, 'shipyard_db_pool_connections', { state: 'free' }), 'number');
  t.is(sample(text, 'shipyard_db_pool_pending_acquires'), 0);
  t.is(sample(text, 'shipyard_db_pool_max_connections'), 1, "PGlite's single connection");
  t.is(typeof sample(text, 'process_cpu_user_seconds_total'), 'number', "prom-client's default metrics");
  t.is(typeof sample(text, 'nodejs_eventloop_lag_seconds'), 'number');
});

test('with METRICS_PORT, metrics are served on that port only; /metrics on the API is 404', async (t) => {
  const { base, metricsPort } = await startServer(t, { METRICS_PORT: '0' });
  t.is(typeof metricsPort, 'number');
  t.is((await fetch(`${base}/health`)).status, 200);
  t.is((await fetch(`${base}/metrics`)).status, 404);
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), PROMETHEUS_TEXT);
  const text = await response.text();
  t.is(sample(text, 'shipyard_http_requests_total', { method: 'GET', route: '/health', status_code: '200' }), 1);
  t.is(sample(text, 'shipyard_http_requests_total', { route: 'unmatched', status_code: '404' }), 1);
  t.is((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/projects`)).status, 404);
  t.is((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status, 404);
});

const cleanupJob = (): Job<'cleanup.run'> => ({
  id: randomUUID(),
  name: 'cleanup.run',
  queue: 'cleanup',
  payload: { tenant_id: randomUUID() },
});

const notificationJob = (): Job<'notification.send'> => ({
  id: randomUUID(),
  name: 'notification.send',
  queue: 'default',
  payload: { tenant_id: randomUUID(), event: 'build.finished', subject_id: randomUUID(), status: 'succeeded' },
});

/** Handlers whose cleanup job always fails (an infrastructure error) and whose other jobs succeed. */
const handlers: QueueHandlers = {
  run: async (name) => {
    if (name === 'cleanup.run') throw new Error('the disk is gone');
  },
  giveUp: async () => {},
};

test('job metrics count completed, retried and failed attempts per queue and job (in-process queue)', async (t) => {
  const metrics = new Metrics({ logger: new SilentLogger() });
  const queue = new InProcessJobQueue({
    handlers,
    retries: 1,
    backoffMs: 1,
    onAttempt: metrics.observeJob,
  });
  metrics.watch({ queueDepths: () => queue.counts() });
  t.teardown(() => queue.close());
  await queue.enqueue(notificationJob());
  await queue.enqueue(cleanupJob());
  await queue.enqueue({ ...notificationJob(), name: 'no.such.job' as 'notification.send' });
  await queue.onIdle();
  const { body: text } = await metrics.render();
  t.is(sample(text, 'shipyard_jobs_total', { queue: 'default', job: 'notification.send', outcome: 'completed' }), 1);
  t.is(sample(text, 'shipyard_jobs_total', { queue: 'cleanup', job: 'cleanup.run', outcome: 'retried' }), 1);
  t.is(sample(text, 'shipyard_jobs_total', { queue: 'cleanup', job: 'cleanup.run', outcome: 'failed' }), 1);
  t.is(
    sample(text, 'shipyard_jobs_total', { queue: 'default', job: 'unknown', outcome: 'failed' }),
    1,
    'a bounded name',
  );
  t.is(
    sample(text, 'shipyard_job_duration_seconds_count', { queue: 'cleanup', job: 'cleanup.run', outcome: 'failed' }),
    1,
  );
  t.is(sample(text, 'shipyard_queue_jobs', { queue: 'cleanup', state: 'waiting' }), 0);
});

/** Removes the keys a test left under its prefix in the shared Redis. */
async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

test('a bee-queue worker records completed and failed jobs, and queue depths come from Redis', async (t) => {
  const prefix = `test-metrics-${randomUUID().slice(0, 8)}`;
  t.teardown(() => removeKeys(prefix));
  const metrics = new Metrics({ logger: new SilentLogger() });
  const publisher = new BeeQueueJobQueue({ redis: REDIS_URL, prefix, retries: 0 });
  t.teardown(() => publisher.close());
  metrics.watch({ queueDepths: (options) => publisher.counts(options) });
  // Jobs waiting before any worker runs.
  await publisher.enqueue(notificationJob());
  await publisher.enqueue(notificationJob());
  const before = (await metrics.render()).body;
  t.is(sample(before, 'shipyard_queue_jobs', { queue: 'default', state: 'waiting' }), 2);
  t.is(sample(before, 'shipyard_queue_jobs', { queue: 'build', state: 'active' }), 0);

  const worker = await startWorker({
    redis: REDIS_URL,
    prefix,
    handlers,
    queues: ['default', 'cleanup'],
    stallInterval: 1_000,
    onAttempt: metrics.observeJob,
  });
  t.teardown(() => worker.close());
  await publisher.enqueue(cleanupJob());
  let text = '';
  await waitFor(async () => {
    text = (await metrics.render()).body;
    return (
      sample(text, 'shipyard_jobs_total', { queue: 'default', job: 'notification.send', outcome: 'completed' }) === 2 &&
      sample(text, 'shipyard_jobs_total', { queue: 'cleanup', job: 'cleanup.run', outcome: 'failed' }) === 1
    );
  }, 'the jobs to be recorded');
  t.is(sample(text, 'shipyard_job_duration_seconds_count', { queue: 'default', job: 'notification.send' }), 2);
  await waitFor(async () => {
    text = (await metrics.render()).body;
    return sample(text, 'shipyard_queue_jobs', { queue: 'default', state: 'waiting' }) === 0;
  }, 'the queue to drain');
  t.is(sample(text, 'shipyard_metrics_source_up', { source: 'queue' }), 1);
});

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
async function silentServer(t: ExecutionContext): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const [what, port] of [
  ['refuses connections', closedPort],
  ['accepts connections and never answers', silentServer],
] as const) {
  // Serial, so before the tests of this file that run the embedded database, whose engine holds
  // the event loop for seconds while it starts (timers would fire late).
  test.serial(`a scrape answers within its timeout, with the other metrics, when Redis ${what}`, async (t) => {
    const metrics = new Metrics({ logger: new SilentLogger() });
    const queue = new BeeQueueJobQueue({ redis: { host: '127.0.0.1', port: await port(t) } });
    t.teardown(() => queue.close());
    metrics.watch({
      queueDepths: (options) => queue.counts(options),
      outboxBacklog: async () => 3,
      pool: () => ({ used: 1, free: 2, pending: 0, max: 10 }),
    });
    metrics.observeRequest({ method: 'GET', route: '/health', status: 503, durationMs: 2 });
    for (let scrape = 0; scrape < 2; scrape++) {
      const started = Date.now();
      const { body: text } = await metrics.render();
      const took = Date.now() - started;
      t.true(took < COLLECT_TIMEOUT_MS + 1_000, `scrape ${scrape} took ${took} ms`);
      t.is(sample(text, 'shipyard_metrics_source_up', { source: 'queue' }), 0);
      t.is(sample(text, 'shipyard_queue_jobs', { queue: 'build', state: 'waiting' }), undefined, 'no stale depths');
      t.is(sample(text, 'shipyard_outbox_pending_messages'), 3);
      t.is(sample(text, 'shipyard_metrics_source_up', { source: 'outbox' }), 1);
      t.is(sample(text, 'shipyard_db_pool_connections', { state: 'used' }), 1);
      t.is(sample(text, 'shipyard_http_requests_total', { route: '/health', status_code: '503' }), 1);
      t.is(typeof sample(text, 'process_resident_memory_bytes'), 'number');
    }
  });
}
