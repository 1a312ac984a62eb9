/**
 * Metrics of real processes: a server with METRICS_ENABLED and a worker with METRICS_PORT (a
 * worker has no HTTP server of its own) on PostgreSQL and a Redis of the test's own. The worker
 * counts the jobs it ran; with Redis killed, both still answer a scrape within its timeout, with
 * the queue reported down and everything else there.
 */
import test from 'ava';
import {
  Api,
  freePort,
  migratedPostgres,
  scenarioEnv,
  scratchRedis,
  startServer,
  startWorkerProcess,
  tempDir,
  waitUntil,
} from './support.js';

/** prom-client's collect timeout of the scrape-time sources (examples/koa-server/src/metrics.ts). */
const COLLECT_TIMEOUT_MS = 1_000;

/** The value of one sample, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, text, ms: Date.now() - started };
}

test('a worker serves its job metrics on METRICS_PORT; with Redis killed, scrapes still answer in time', async (t) => {
  t.timeout(120_000);
  const teardown = t.teardown.bind(t);
  const [redis, pg] = await Promise.all([scratchRedis(teardown), migratedPostgres(teardown)]);
  const env = scenarioEnv({ DATABASE_URL: pg.url, REDIS_URL: redis.url, DATA_DIR: tempDir(teardown) });
  const workerMetrics = await freePort();
  const [server, worker] = await Promise.all([
    startServer(teardown, 'server', { ...env, METRICS_ENABLED: 'true' }),
    startWorkerProcess(teardown, 'worker', { ...env, METRICS_PORT: String(workerMetrics) }),
  ]);
  t.is(
    (await worker.line((l) => l.msg === 'worker started' && l.database !== undefined, 'the start line')).metrics_port,
    workerMetrics,
  );
  const workerUrl = `http://127.0.0.1:${workerMetrics}/metrics`;

  const api = await new Api(server.base).register();
  const service = await api.service(await api.project(), 'api');
  const build = await api.triggerBuild(service);
  await waitUntil(async () => (await api.build(build.id)).status === 'succeeded', 'the build', 30_000);

  let text = '';
  await waitUntil(
    async () => {
      text = (await scrape(workerUrl)).text;
      return sample(text, 'shipyard_jobs_total', { queue: 'build', job: 'build.run', outcome: 'completed' }) === 1;
    },
    'the worker to count the build job',
    10_000,
  );
  t.is(
    sample(text, 'shipyard_job_duration_seconds_count', { queue: 'build', job: 'build.run', outcome: 'completed' }),
    1,
  );
  t.is(sample(text, 'shipyard_queue_jobs', { queue: 'build', state: 'waiting' }), 0);
  t.is(typeof sample(text, 'shipyard_outbox_pending_messages'), 'number');
  t.is(typeof sample(text, 'shipyard_db_pool_max_connections'), 'number');
  t.is(sample(text, 'shipyard_http_requests_total'), undefined, 'a worker serves no API');

  // The server runs no jobs (the worker does): its metrics show the API and the shared queue.
  const apiMetrics = await scrape(`${server.base}/metrics`);
  t.is(apiMetrics.status, 200);
  t.is(
    sample(apiMetrics.text, 'shipyard_http_requests_total', {
      method: 'POST',
      route: '/api/v1/services/:id/builds',
      status_code: '202',
    }),
    1,
  );
  t.is(sample(apiMetrics.text, 'shipyard_metrics_source_up', { source: 'queue' }), 1);

  await redis.kill();
  for (const url of [workerUrl, `${server.base}/metrics`]) {
    for (let i = 0; i < 2; i++) {
      const down = await scrape(url);
      t.is(down.status, 200, url);
      t.true(down.ms < COLLECT_TIMEOUT_MS + 1_500, `${url} answered in ${down.ms} ms`);
      t.is(sample(down.text, 'shipyard_metrics_source_up', { source: 'queue' }), 0, url);
      t.is(sample(down.text, 'shipyard_metrics_source_up', { source: 'outbox' }), 1, url);
      t.is(typeof sample(down.text, 'process_resident_memory_bytes'), 'number', url);
    }
  }
});
