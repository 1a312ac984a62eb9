import { createServer, type Server } from 'node:http';
import type { PoolStats } from '@shipyard/adapters-db';
import type { RequestObserver, RequestRecord } from '@shipyard/adapters-http';
import type { AttemptObserver, AttemptRecord, QueueDepth } from '@shipyard/adapters-queue';
import { type Logger, QUEUES, type QueueName, withTimeout } from '@shipyard/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * How long a scrape waits for what it asks at scrape time (Redis for the queue depths, the
 * database for the outbox backlog): past it, that source reports `up 0` and the rest answers.
 */
export const COLLECT_TIMEOUT_MS = 1_000;

/** What the scrape-time gauges read. Each is optional: a process reports what it has. */
export interface MetricsSources {
  /** Jobs per queue (bee-queue's `checkHealth`, or the in-process queue's lanes). */
  queueDepths?: (options: { timeoutMs: number }) => Promise<Record<QueueName, QueueDepth>>;
  /** Unsent outbox messages that are due (a platform-wide count). */
  outboxBacklog?: () => Promise<number>;
  /** The database's connection pool. */
  pool?: () => PoolStats;
}

export interface MetricsOptions {
  logger: Logger;
  /** See `COLLECT_TIMEOUT_MS`. */
  collectTimeoutMs?: number;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800];

/** How each attempt outcome of the queue adapters is counted. */
const JOB_OUTCOMES: Record<AttemptRecord['outcome'], string> = {
  succeeded: 'completed',
  retry: 'retried',
  failed: 'failed',
  invalid: 'failed',
  released: 'released',
};

class TimeoutError extends Error {}

/**
 * One call at a time: a scrape that comes while the previous one's question is still out (a
 * slow database) waits for that answer instead of asking again.
 */
function singleFlight<T>(ask: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | undefined;
  return () => {
    current ??= ask().finally(() => {
      current = undefined;
    });
    return current;
  };
}

/**
 * The process's Prometheus registry: HTTP requests and job attempts as they happen (through the
 * adapters' observer hooks), queue depths, the outbox backlog and the database pool at scrape
 * time, and prom-client's default process metrics. The adapters know nothing of Prometheus; this
 * composition root turns what they report into metrics.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly logger: Logger;
  private readonly collectTimeoutMs: number;
  private readonly requests: Counter<'method' | 'route' | 'status_code'>;
  private readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly jobs: Counter<'queue' | 'job' | 'outcome'>;
  private readonly jobDuration: Histogram<'queue' | 'job' | 'outcome'>;
  private readonly sourceUp: Gauge<'source'>;
  /** Sources whose last read failed. */
  private readonly down = new Set<string>();
  private readonly sources: Array<{ refresh: () => Promise<void> }> = [];
  /** The label-bound children of each request series, made once (labelling per request costs more). */
  private readonly requestSeries = new Map<
    string,
    { count: ReturnType<Metrics['requests']['labels']>; duration: ReturnType<Metrics['requestDuration']['labels']> }
  >();

  constructor(options: MetricsOptions) {
    this.logger = options.logger;
    this.collectTimeoutMs = options.collectTimeoutMs ?? COLLECT_TIMEOUT_MS;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'shipyard_http_requests_total',
      help: 'HTTP requests answered, by method, route template (`unmatched` when no route matched) and status code.',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'shipyard_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (a streamed body: until its handler returned), in seconds.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.jobs = new Counter({
      name: 'shipyard_jobs_total',
      help: 'Job attempts that ended, by queue, job name and outcome (completed, retried, failed, released).',
      labelNames: ['queue', 'job', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'shipyard_job_duration_seconds',
      help: 'Time a job attempt took, by queue, job name and outcome, in seconds.',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.sourceUp = new Gauge({
      name: 'shipyard_metrics_source_up',
      help: `Whether the last scrape could read a source (queue, outbox) within ${this.collectTimeoutMs} ms.`,
      labelNames: ['source'],
      registers,
    });
  }

  /** For `createHttpApp({ observeRequest })`. */
  readonly observeRequest: RequestObserver = (request: RequestRecord) => {
    const key = `${request.method} ${request.status} ${request.route}`;
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      const labels = [request.method, request.route, String(request.status)];
      series = { count: this.requests.labels(...labels), duration: this.requestDuration.labels(...labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(request.durationMs / 1000);
  };

  /** For the queue adapters' `onAttempt`. */
  readonly observeJob: AttemptObserver = (attempt: AttemptRecord) => {
    const labels = { queue: attempt.queue, job: attempt.name, outcome: JOB_OUTCOMES[attempt.outcome] };
    this.jobs.inc(labels);
    this.jobDuration.observe(labels, attempt.durationMs / 1000);
  };

  /**
   * Registers the gauges read at scrape time. Call once, with what this process has. The sources
   * are asked by `render()`, all at once and each within the collect timeout.
   */
  watch(sources: MetricsSources): void {
    const registers = [this.registry];
    const { queueDepths, outboxBacklog, pool } = sources;
    if (queueDepths !== undefined) {
      const depths = this.source('queue', () => queueDepths({ timeoutMs: this.collectTimeoutMs }));
      new Gauge({
        name: 'shipyard_queue_jobs',
        help: 'Jobs per queue that are waiting, active (running) or delayed (retries, scheduled), read at scrape time.',
        labelNames: ['queue', 'state'],
        registers,
        collect() {
          this.reset();
          const counts = depths.value;
          if (counts === undefined) return;
          for (const queue of QUEUES) {
            const depth = counts[queue];
            if (depth === undefined) continue;
            this.set({ queue, state: 'waiting' }, depth.waiting);
            this.set({ queue, state: 'active' }, depth.active);
            this.set({ queue, state: 'delayed' }, depth.delayed);
          }
        },
      });
    }
    if (outboxBacklog !== undefined) {
      const backlog = this.source('outbox', outboxBacklog);
      new Gauge({
        name: 'shipyard_outbox_pending_messages',
        help: 'Outbox messages due and not yet relayed to the queue (all tenants), read at scrape time.',
        registers,
        collect() {
          this.reset();
          if (backlog.value !== undefined) this.set(backlog.value);
        },
      });
    }
    if (pool !== undefined) {
      new Gauge({
        name: 'shipyard_db_pool_connections',
        help: 'Database connections of the pool, by state: used (lent to a unit of work) or free (open, idle).',
        labelNames: ['state'],
        registers,
        collect() {
          const stats = pool();
          this.set({ state: 'used' }, stats.used);
          this.set({ state: 'free' }, stats.free);
        },
      });
      new Gauge({
        name: 'shipyard_db_pool_pending_acquires',
        help: 'Units of work waiting for a database connection.',
        registers,
        collect() {
          this.set(pool().pending);
        },
      });
      new Gauge({
        name: 'shipyard_db_pool_max_connections',
        help: 'The most connections the database pool opens.',
        registers,
        collect() {
          this.set(pool().max);
        },
      });
    }
  }

  /**
   * The metrics in Prometheus' text format: the scrape-time sources are asked first (at once,
   * each within the collect timeout), then the registry is written out.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.sources.map((source) => source.refresh()));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * A source asked at each scrape: `value` is its last answer, `undefined` (and `up 0`) when it
   * could not answer in time. One question at a time: a scrape that comes while the previous
   * one's is still out (a slow database) waits on that one instead of asking again. Logs when a
   * source goes down and when it comes back, not at every scrape.
   */
  private source<T>(name: string, ask: () => Promise<T>): { value: T | undefined } {
    const ongoing = singleFlight(ask);
    const source = {
      value: undefined as T | undefined,
      refresh: async () => {
        try {
          source.value = await withTimeout(
            ongoing(),
            this.collectTimeoutMs,
            (ms) => new TimeoutError(`took longer than ${ms} ms`),
          );
          this.sourceUp.set({ source: name }, 1);
          if (this.down.delete(name)) this.logger.info({ source: name }, `metrics: ${name} answers again`);
        } catch (error) {
          source.value = undefined;
          this.sourceUp.set({ source: name }, 0);
          if (!this.down.has(name)) {
            this.down.add(name);
            const why = error instanceof TimeoutError ? { timeout_ms: this.collectTimeoutMs } : { err: error };
            this.logger.warn(
              { ...why, source: name },
              `metrics: cannot read ${name}; reported as down until it answers`,
            );
          }
        }
      },
    };
    this.sources.push(source);
    return source;
  }
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` on a listener of its own (`METRICS_PORT`, on the server's HOST), apart
 * from the API, so that it can be kept private. Everything else is 404.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  metrics: Metrics;
  logger: Logger;
}): Promise<MetricsServer> {
  const { metrics, logger } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'metrics: rendering failed');
        response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Internal Server Error\n');
      },
    );
  });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
