/**
 * Baseline of the `jobs` row: raw bee-queue (the version the worker uses) on the same Redis, with
 * an empty handler. `POST /run?jobs=N` creates N jobs in one batch (`saveAll`) and answers
 * `{"seconds"}` once every one of them has been processed, counted from just before the batch is
 * sent. The queue is set up as the worker sets up its own (no stored jobs, no events, finished
 * records removed, the same stall interval) and takes JOB_CONCURRENCY jobs at once, as the worker
 * does on each of its queues; the jobs carry the same envelope and options (an id, 3 retries,
 * exponential backoff, a timeout) as the ones the outbox relay publishes. Key prefix
 * BENCH_QUEUE_PREFIX. `GET /health` answers once the queues are connected.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import BeeQueue from 'bee-queue';
import { listen, requiredEnv } from './baseline-support.js';

const redis = { url: requiredEnv('REDIS_URL') };
const prefix = requiredEnv('BENCH_QUEUE_PREFIX');
const concurrency = Number(requiredEnv('JOB_CONCURRENCY'));
const common = { prefix, getEvents: false, sendEvents: false, storeJobs: false } as const;

const producer = new BeeQueue('build', { ...common, redis, isWorker: false, activateDelayedJobs: false });
const worker = new BeeQueue('build', {
  ...common,
  redis,
  isWorker: true,
  activateDelayedJobs: true,
  removeOnSuccess: true,
  removeOnFailure: true,
  stallInterval: 5_000,
});
await Promise.all([producer.ready(), worker.ready()]);

/** The run in progress: how many of its jobs are still to be processed. */
let run: { left: number; done: () => void } | undefined;
worker.on('succeeded', () => {
  if (run === undefined) return;
  run.left -= 1;
  if (run.left === 0) run.done();
});
worker.on('failed', (_job, error) => process.stderr.write(`baseline job failed: ${String(error)}\n`));
worker.process(concurrency, async () => {});

async function runJobs(count: number): Promise<number> {
  if (run !== undefined) throw new Error('a run is in progress');
  const jobs = Array.from({ length: count }, () =>
    producer
      .createJob({
        name: 'build.run',
        payload: { tenant_id: randomUUID(), build_id: randomUUID() },
        retries: 3,
        timeoutMs: 600_000,
      })
      .setId(randomUUID())
      .retries(3)
      .backoff('exponential', 1000)
      .timeout(630_000),
  );
  const started = process.hrtime.bigint();
  const finished = new Promise<void>((resolve) => {
    run = { left: count, done: resolve };
  });
  try {
    const errors = await producer.saveAll(jobs);
    if (errors.size > 0) throw new Error(`${errors.size} jobs were not saved: ${String([...errors.values()][0])}`);
    await finished;
  } finally {
    run = undefined;
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    return;
  }
  const count = Number(url.searchParams.get('jobs'));
  if (req.method !== 'POST' || url.pathname !== '/run' || !Number.isInteger(count) || count < 1) {
    res.writeHead(404).end();
    return;
  }
  runJobs(count).then(
    (seconds) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ seconds })),
    (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
  );
});

await listen(server, async () => {
  await Promise.allSettled([worker.close(5_000), producer.close(1_000)]);
});
