/**
 * `npm run bench` (issue 11): the real server, in production mode on the local PostgreSQL and
 * Redis, against bare baselines doing the same work with the same drivers. Creates two scratch
 * databases, migrates and seeds them with set-based SQL, starts each program as a child process,
 * loads each pair with autocannon interleaved (A B A B …, medians), prints a table and writes
 * `bench/results.json`. `--quick`: tiny data, 1 s per run, one round (what `npm test` runs).
 *
 * The rows (A / B):
 * - `health`: `GET /health` req/s, the server / `baseline-health` (bare node:http).
 * - `auth_me`: `GET /api/v1/auth/me` req/s, the server / `baseline-auth-me` (jose + ioredis + pg).
 * - `list_projects`: `GET /api/v1/projects?limit=20` req/s for the tenant with 10,000 projects,
 *   the server / `baseline-list` (pg, the same page and count SQL).
 * - `list_builds_chain`: `GET /api/v1/services/{id}/builds?limit=20` req/s for one service with
 *   10,000 builds of its own, the server on the large database (1,000,000 builds in the table, the
 *   others spread over one service of each other tenant) / the same server program on the small
 *   one (the same tenant, service and builds, and no other build): whether the tenant-isolation
 *   chain builds → services → projects → tenant stays flat as the table grows.
 * - `memory`: the server's peak RSS (MB) during list_projects; ratio = value / goal (lower is better).
 * - `jobs`: build jobs/s end to end, from the commit of 500 builds with their outbox messages
 *   (499 by SQL as `TriggerBuild` writes them, over the other tenants' services, then one through
 *   the API, whose write nudges the relay as a trigger does) to the last one `succeeded`: relayed
 *   to bee-queue by the outbox relays, run by a worker (`worker.js`) with a simulated build of
 *   0 ms / jobs/s of `baseline-jobs` (raw bee-queue, 5,000 jobs, empty handler, the same Redis and
 *   concurrency). Its p50/p99 are a build's time in the worker (claimed to final).
 *
 * Options: `--quick`, `--only <row,row>`, `--duration <s>`, `--rounds <n>`, `--connections <n>`,
 * `--builds <n>` and `--jobs <n>` (per run of the jobs row's pipeline and baseline), `--out <file>`.
 * Environment: `BENCH_DATABASE_ADMIN_URL` (default postgres://postgres@127.0.0.1:5432/postgres),
 * `BENCH_REDIS_URL` (default redis://127.0.0.1:6379; the run takes an empty db index of its own).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDatabase } from '@shipyard/adapters-db';
import { createScratchPostgres, type ScratchPostgres } from '@shipyard/adapters-db/testing';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    builds: { type: 'string' },
    jobs: { type: 'string' },
  },
});
const quick = args.quick === true;
const DURATION_S = Number(args.duration ?? (quick ? 1 : 10));
const ROUNDS = Number(args.rounds ?? (quick ? 1 : 3));
const CONNECTIONS = Number(args.connections ?? (quick ? 8 : 32));
/** `--only health,auth_me`: the rows to measure (the others are written as not measured). */
const ONLY = args.only === undefined ? null : new Set(args.only.split(',').map((s) => s.trim()));
const wanted = (name: string) => ONLY === null || ONLY.has(name);
const OUT = args.out ?? fileURLToPath(new URL('../results.json', import.meta.url));
/**
 * `chainBuilds`: the builds of the measured service; `allBuilds`: the builds table of the large
 * database in all (the others belong to one service of each other tenant).
 */
const SIZES = quick
  ? { tenants: 10, bigProjects: 200, otherProjects: 2, chainBuilds: 200, allBuilds: 2_000 }
  : { tenants: 1_000, bigProjects: 10_000, otherProjects: 5, chainBuilds: 10_000, allBuilds: 1_000_000 };

/**
 * The jobs row: builds per run of the pipeline (`--builds <n>`) and jobs per run of raw bee-queue
 * (`--jobs <n>`), each sized for a run of a few seconds (raw bee-queue is far faster).
 */
const BUILDS = Number(args.builds ?? (quick ? 40 : 500));
const JOBS = Number(args.jobs ?? (quick ? 400 : 5_000));
/**
 * Jobs at once: the worker takes JOB_CONCURRENCY jobs at once on each of its queues (builds on
 * `build`, their notifications on `default`), the jobs baseline as many on its one queue. Set
 * explicitly to the worker's default, 4.
 */
const JOB_CONCURRENCY = 4;

const SERVER_SCRIPT = fileURLToPath(new URL('../../examples/koa-server/dist/main.js', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('../../examples/koa-server/dist/worker.js', import.meta.url));
const baselineScript = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/** A row of `bench/results.json`. */
export interface Row {
  name: string;
  value: number | null;
  baseline: number | null;
  ratio: number | null;
  goal: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

const GOALS = {
  health: 0.5,
  auth_me: 0.7,
  list_projects: 0.75,
  list_builds_chain: 0.9,
  memory: 200,
  jobs: 0.3,
} as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The node options `npm start` and `npm run worker` give the server and the worker (in the root
 * package.json's scripts), so the bench runs them exactly as a user does.
 */
const NODE_FLAGS: ReadonlyMap<string, string[]> = (() => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const flagsOf = (script: string, file: string): string[] => {
    const match = new RegExp(`node((?: --\\S+)*) ${file.replaceAll('/', '\\/').replaceAll('.', '\\.')}`).exec(
      pkg.scripts[script] ?? '',
    );
    return match?.[1]?.trim().split(' ').filter(Boolean) ?? [];
  };
  return new Map([
    [SERVER_SCRIPT, flagsOf('start', 'examples/koa-server/dist/main.js')],
    [WORKER_SCRIPT, flagsOf('worker', 'examples/koa-server/dist/worker.js')],
  ]);
})();

/** A child process in a group of its own, its output kept for error messages. */
class Child {
  readonly output: string[] = [];
  readonly child: ChildProcess;
  private exited = false;

  constructor(
    readonly name: string,
    script: string,
    env: Record<string, string>,
  ) {
    const nodeArgs = [
      ...(NODE_FLAGS.get(script) ?? []),
      ...(name === 'server' ? (process.env.BENCH_SERVER_NODE_ARGS ?? '') : '').split(' ').filter(Boolean),
    ];
    this.child = spawn(process.execPath, [...nodeArgs, script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: unknown) => {
      this.output.push(String(chunk));
      if (this.output.length > 200) this.output.shift();
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      this.exit = signal === null ? `code ${code}` : `signal ${signal}`;
    });
  }

  /** How it ended (`code 1`, `signal SIGKILL`), for error messages. */
  exit = 'still running';

  get pid(): number {
    return this.child.pid as number;
  }

  alive(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const exit = once(this.child, 'exit');
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-this.pid, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
  }
}

const children: Child[] = [];

/**
 * Starts `script` on a free port and waits until `probe` answers below 500 (a probe that needs a
 * token answers 401). The port is chosen here: at `LOG_LEVEL=warn` the server prints no start-up line.
 */
async function startProgram(name: string, script: string, env: Record<string, string>, probe: string): Promise<Child> {
  const port = await freePort();
  const child = new Child(name, script, { ...env, PORT: String(port) });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!child.alive()) throw new Error(`${name} exited during start-up (${child.exit}):\n${child.output.join('')}`);
    try {
      const response = await fetch(`${base}${probe}`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${probe}:\n${child.output.join('')}`);
    await sleep(100);
  }
  return Object.assign(child, { base });
}

type Program = Child & { base: string };

interface Measure {
  rps: number;
  p50: number;
  p99: number;
}

async function load(url: string, headers: Record<string, string>): Promise<Measure> {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_S });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0 || result.requests.total === 0) {
    throw new Error(
      `${url}: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Interleaves A and B (A B A B …) for ROUNDS rounds; medians of each. */
async function pair(
  label: string,
  a: () => Promise<Measure>,
  b: () => Promise<Measure>,
  during?: { start(): void; stop(): void },
  unit = 'req/s',
): Promise<{ a: Measure; b: Measure }> {
  const as: Measure[] = [];
  const bs: Measure[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    during?.start();
    as.push(await a());
    during?.stop();
    bs.push(await b());
    log(
      `${label} round ${i + 1}/${ROUNDS}: ${round(as.at(-1)?.rps ?? 0, 0)} vs ${round(bs.at(-1)?.rps ?? 0, 0)} ${unit}`,
    );
  }
  const med = (ms: Measure[]): Measure => ({
    rps: median(ms.map((m) => m.rps)),
    p50: median(ms.map((m) => m.p50)),
    p99: median(ms.map((m) => m.p99)),
  });
  return { a: med(as), b: med(bs) };
}

/** Samples VmRSS of `pid` every 100 ms between start and stop; the peak in MB (null without /proc). */
function rssSampler(pid: number) {
  let timer: NodeJS.Timeout | undefined;
  let peakKb = 0;
  const sample = () => {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match !== null) peakKb = Math.max(peakKb, Number(match[1]));
    } catch {
      // no /proc (not Linux) or gone
    }
  };
  return {
    start() {
      sample();
      timer = setInterval(sample, 100);
    },
    stop() {
      clearInterval(timer);
      sample();
    },
    peakMb: () => (peakKb === 0 ? null : peakKb / 1024),
  };
}

/** An empty Redis db index of this run's own (bench keys are dropped at the end). */
async function redisDb(baseUrl: string): Promise<{ url: string; clean(): Promise<void> }> {
  for (let db = 15; db >= 1; db--) {
    const url = new URL(baseUrl);
    url.pathname = `/${db}`;
    const client = new Redis(url.toString(), { maxRetriesPerRequest: 1 });
    try {
      // Empty, then claimed (SET NX), so two runs at once do not share one.
      if ((await client.dbsize()) === 0 && (await client.set('shipyard-bench:claim', '1', 'EX', 3600, 'NX')) === 'OK') {
        return {
          url: url.toString(),
          async clean() {
            const keys = await client.keys('shipyard*');
            if (keys.length > 0) await client.del(...keys);
            client.disconnect();
          },
        };
      }
    } catch (error) {
      client.disconnect();
      throw error;
    }
    client.disconnect();
  }
  throw new Error('no empty Redis db index (1-15) for the benchmark');
}

/**
 * Seeds a migrated database around the big tenant (already in it): the other tenants, one owner
 * each, a few projects each and one service in the first of them; the big tenant's projects; the
 * chain service's `chainBuilds` builds; and `otherBuilds` builds spread over the other tenants'
 * services. Set-based, then `analyze`.
 */
async function seed(url: string, tenantId: string, chainService: string, otherBuilds: number) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t0 = Date.now();
    await client.query(
      `insert into tenants (id, name, slug, created_at, updated_at)
       select gen_random_uuid(), 'Bench tenant ' || g, 'bench-tenant-' || g, now() - g * interval '1 minute', now()
       from generate_series(1, $1::int) g`,
      [SIZES.tenants - 1],
    );
    await client.query(
      `insert into users (id, tenant_id, email, full_name, role, is_active, password_hash, session_epoch, created_at, updated_at)
       select gen_random_uuid(), t.id, 'owner@' || t.slug || '.bench.test', 'Owner of ' || t.name, 'owner', true, null, 0, now(), now()
       from tenants t where t.slug like 'bench-tenant-%'`,
    );
    await client.query(
      `insert into projects (id, tenant_id, team_id, name, description, created_at, updated_at)
       select gen_random_uuid(), t.id, null, 'Project ' || g, null, now() - g * interval '1 second', now()
       from tenants t cross join generate_series(1, $1::int) g where t.slug like 'bench-tenant-%'`,
      [SIZES.otherProjects],
    );
    await client.query(
      `insert into services (id, project_id, tenant_id, name, repo_url, branch, build_command, start_command, port, auto_deploy,
                             env, status, created_at, updated_at, health_check_path, repo_credentials)
       select gen_random_uuid(), p.id, p.tenant_id, 'api', 'https://github.com/acme/api.git', 'main', null, null, null, false,
              '{}'::jsonb, 'idle', now(), now(), null, null
       from projects p join tenants t on t.id = p.tenant_id
       where t.slug like 'bench-tenant-%' and p.name = 'Project 1'`,
    );
    // The big tenant: its projects (one already made through the API).
    await client.query(
      `insert into projects (id, tenant_id, team_id, name, description, created_at, updated_at)
       select gen_random_uuid(), $1::uuid, null, 'Project ' || g, 'Seeded project ' || g,
              now() - g * interval '1 second', now() - g * interval '1 second'
       from generate_series(1, $2::int) g`,
      [tenantId, SIZES.bigProjects - 1],
    );
    // Rows reached through a parent carry their tenant too (row-level security).
    const builds = (target: string, tenant: string) =>
      `insert into builds (id, service_id, tenant_id, commit_sha, branch, status, attempt, logs, error,
                           started_at, finished_at, created_at, updated_at)
       select gen_random_uuid(), ${target}, ${tenant}, md5(g::text), 'main', 'succeeded', 1, '', null,
              now() - g * interval '1 second', now() - g * interval '1 second' + interval '30 seconds',
              now() - g * interval '1 second', now() - g * interval '1 second'`;
    await client.query(`${builds('$1::uuid', '$3::uuid')} from generate_series(1, $2::int) g`, [
      chainService,
      SIZES.chainBuilds,
      tenantId,
    ]);
    // The other builds, round-robin over the other tenants' services.
    await client.query(
      `with s as materialized (
         select s.id, s.tenant_id, (row_number() over (order by s.id) - 1)::int as i
         from services s join projects p on p.id = s.project_id join tenants t on t.id = p.tenant_id
         where t.slug like 'bench-tenant-%')
       ${builds('s.id', 's.tenant_id')}
       from generate_series(1, $1::int) g join s on s.i = g % (select count(*) from s)::int`,
      [otherBuilds],
    );
    await client.query('analyze');
    const { rows } = await client.query<{ projects: number; builds: number; chain: number }>(
      `select (select count(*) from projects where tenant_id = $1)::int as projects,
              (select count(*) from builds)::int as builds,
              (select count(*) from builds where service_id = $2)::int as chain`,
      [tenantId, chainService],
    );
    const counts = rows[0];
    if (counts?.projects !== SIZES.bigProjects)
      throw new Error(`seed: ${counts?.projects} projects, not ${SIZES.bigProjects}`);
    if (counts.chain !== SIZES.chainBuilds || counts.builds !== SIZES.chainBuilds + otherBuilds) {
      throw new Error(`seed: ${counts.chain} builds of the chain service and ${counts.builds} in all`);
    }
    log(
      `seeded ${SIZES.tenants} tenants, ${SIZES.bigProjects} projects in the big one, ${counts.chain} builds of ` +
        `the chain service and ${counts.builds} in all in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    await client.end();
  }
}

/**
 * Copies the big tenant as the API made it (the tenant, its users, the chain project and its
 * service, same ids) from one database to another, so the same token and URL work on both.
 */
async function copyTenant(fromUrl: string, toUrl: string, tenantId: string, projectId: string) {
  const from = new pg.Client({ connectionString: fromUrl });
  const to = new pg.Client({ connectionString: toUrl });
  await from.connect();
  await to.connect();
  try {
    await to.query('begin');
    for (const [table, where, param] of [
      ['tenants', 'id = $1', tenantId],
      ['users', 'tenant_id = $1', tenantId],
      ['projects', 'id = $1', projectId],
      ['services', 'project_id = $1', projectId],
    ] as const) {
      const { rows } = await from.query<{ rows: unknown }>(
        `select coalesce(json_agg(t), '[]'::json) as rows from ${table} t where ${where}`,
        [param],
      );
      await to.query(`insert into ${table} select * from json_populate_recordset(null::${table}, $1::json)`, [
        JSON.stringify(rows[0]?.rows ?? []),
      ]);
    }
    await to.query('commit');
  } finally {
    await from.end();
    await to.end();
  }
}

async function api<T>(base: string, method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Where the jobs row triggers its one build through the API (the trigger that nudges the relay). */
interface Trigger {
  base: string;
  token: string;
  service: string;
}

/**
 * Commits `count - 1` builds as `TriggerBuild` writes them (a queued build row carrying its job id,
 * its `build.run` outbox message `{tenant_id, build_id}`, its service marked building), round-robin
 * over the other tenants' services, in one transaction; then triggers one more through the API,
 * whose write nudges the server's outbox relay as every trigger does. Returns the builds' ids and
 * when the first commit returned.
 */
async function triggerBuilds(client: pg.Client, count: number, trigger: Trigger) {
  await client.query('begin');
  const { rows } = await client.query<{ id: string }>(
    `with s as materialized (
       select s.id, s.branch, p.tenant_id, (row_number() over (order by s.id) - 1)::int as i
       from services s join projects p on p.id = s.project_id join tenants t on t.id = p.tenant_id
       where t.slug like 'bench-tenant-%'),
     picked as materialized (
       select gen_random_uuid() as build_id, gen_random_uuid() as job_id, s.id as service_id, s.branch, s.tenant_id
       from generate_series(1, $1::int) g join s on s.i = g % (select count(*) from s)::int),
     outbox as (
       insert into outbox_messages (id, tenant_id, queue, name, payload, available_at, sent_at, publish_attempts,
                                    created_at, updated_at, state, attempts, last_error, failed_at)
       select job_id, tenant_id, 'build', 'build.run',
              jsonb_build_object('tenant_id', tenant_id, 'build_id', build_id),
              now(), null, 0, now(), now(), 'pending', 0, null, null
       from picked),
     building as (
       update services set status = 'building', updated_at = now(), version = version + 1
       where id in (select service_id from picked) and status <> 'building')
     insert into builds (id, service_id, tenant_id, commit_sha, branch, status, attempt, logs, error, started_at, finished_at,
                         created_at, updated_at, lease_until, job_id, artifact)
     select build_id, service_id, tenant_id, null, branch, 'queued', 0, '', null, null, null, now(), now(), null, job_id, null
     from picked
     returning id`,
    [count - 1],
  );
  await client.query('commit');
  const committed = performance.now();
  const one = await api<{ id: string }>(trigger.base, 'POST', `/services/${trigger.service}/builds`, trigger.token, {});
  return { ids: [...rows.map((r) => r.id), one.id], committed };
}

/** Waits for `done` (polled every `everyMs`), failing after `timeoutMs` or when `worker` dies. */
async function until(what: string, done: () => Promise<boolean>, worker: Child, timeoutMs: number, everyMs = 25) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (!worker.alive())
      throw new Error(`the worker died (${worker.exit}) while waiting for ${what}:\n${worker.output.join('')}`);
    if (Date.now() > deadline) throw new Error(`${what} took longer than ${timeoutMs} ms:\n${worker.output.join('')}`);
    await sleep(everyMs);
  }
}

const QUEUE_NAMES = ['deployment', 'build', 'cleanup', 'default'];
const BASELINE_QUEUE_PREFIX = 'shipyard-bench-baseline';

/**
 * `jobs`: build jobs/s end to end, from the commit of `BUILDS` builds and their outbox messages to
 * the last build `succeeded`: the outbox relays (the server's and the worker's) publish to
 * bee-queue, the worker (`worker.js`, the simulated runner at SIMULATED_BUILD_MS=0) runs the build
 * handler. Against raw bee-queue with an empty handler (`baseline-jobs`, `JOBS` jobs a run), at
 * the same concurrency. p50/p99: a build's time in the worker, claimed (`started_at`) to final
 * (`finished_at`).
 *
 * Each A run has a worker of its own, started before it and warmed by a small batch (which also
 * shows it takes jobs), stopped after it once everything is quiet: a worker schedules its first
 * cleanup (a job per tenant) 60 s after it starts, which must not fall in a timed run.
 */
async function jobsRow(env: Record<string, string>, databaseUrl: string, trigger: Trigger): Promise<Row> {
  if (redis === undefined) throw new Error('no Redis db index');
  const baseline = (await startProgram(
    'baseline-jobs',
    baselineScript('baseline-jobs'),
    { ...env, BENCH_QUEUE_PREFIX: BASELINE_QUEUE_PREFIX },
    '/health',
  )) as Program;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const queues = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const timeoutMs = (count: number) => 60_000 + count * 100;
  try {
    /** Nothing left: no unsent outbox message, no build to finish, no waiting or running job. */
    const quiet = (watch: Child) =>
      until(
        'the pipeline to go quiet',
        async () => {
          const { rows } = await client.query<{ n: number }>(
            `select ((select count(*) from outbox_messages where sent_at is null)
                   + (select count(*) from builds where status in ('queued', 'running')))::int as n`,
          );
          if (rows[0]?.n !== 0) return false;
          const lengths = await Promise.all(
            ['shipyard', BASELINE_QUEUE_PREFIX].flatMap((prefix) =>
              QUEUE_NAMES.flatMap((queue) => [
                queues.llen(`${prefix}:${queue}:waiting`),
                queues.llen(`${prefix}:${queue}:active`),
              ]),
            ),
          );
          return lengths.every((n) => n === 0);
        },
        watch,
        60_000,
        50,
      );

    /** `count` builds through the pipeline: builds/s from the commit to the last one final. */
    const pipeline = async (worker: Child, count: number): Promise<Measure> => {
      await quiet(worker);
      const { ids, committed } = await triggerBuilds(client, count, trigger);
      // The builds' partial index (queued, running) makes this cheap however large the table.
      await until(
        `${count} builds to finish`,
        async () =>
          (
            await client.query<{ n: number }>(
              "select count(*)::int as n from builds where status in ('queued', 'running')",
            )
          ).rows[0]?.n === 0,
        worker,
        timeoutMs(count),
      );
      const seconds = (performance.now() - committed) / 1000;
      const { rows } = await client.query<{ n: number; ok: number; p50: number; p99: number }>(
        `select count(*)::int as n, (count(*) filter (where status = 'succeeded'))::int as ok,
                percentile_cont(0.5) within group (order by extract(epoch from finished_at - started_at) * 1000) as p50,
                percentile_cont(0.99) within group (order by extract(epoch from finished_at - started_at) * 1000) as p99
         from builds where id = any($1::uuid[])`,
        [ids],
      );
      const r = rows[0];
      if (r === undefined || r.n !== count || r.ok !== count) {
        throw new Error(`jobs: ${r?.ok} of ${count} builds succeeded (${r?.n} found):\n${worker.output.join('')}`);
      }
      return { rps: count / seconds, p50: round(Number(r.p50), 1), p99: round(Number(r.p99), 1) };
    };

    const withWorker = async (count: number): Promise<Measure> => {
      const worker = new Child('worker', WORKER_SCRIPT, env);
      children.push(worker);
      try {
        await pipeline(worker, Math.max(2, Math.round(count / 10)));
        const measure = await pipeline(worker, count);
        await quiet(worker);
        return measure;
      } finally {
        await worker.stop();
      }
    };

    const raw = async (count: number): Promise<Measure> => {
      const response = await fetch(`${baseline.base}/run?jobs=${count}`, {
        method: 'POST',
        signal: AbortSignal.timeout(timeoutMs(count)),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`baseline-jobs: ${response.status} ${text}`);
      return { rps: count / (JSON.parse(text) as { seconds: number }).seconds, p50: 0, p99: 0 };
    };

    await raw(Math.max(2, Math.round(JOBS / 10)));
    const j = await pair(
      'jobs',
      () => withWorker(BUILDS),
      () => raw(JOBS),
      undefined,
      'jobs/s',
    );
    return {
      name: 'jobs',
      value: round(j.a.rps),
      baseline: round(j.b.rps),
      ratio: round(j.a.rps / j.b.rps, 3),
      goal: GOALS.jobs,
      p50_ms: j.a.p50,
      p99_ms: j.a.p99,
    };
  } finally {
    queues.disconnect();
    await client.end();
  }
}

function printTable(rows: Row[]) {
  const fmt = (x: number | null, digits = 1) => (x === null ? '—' : x.toFixed(digits));
  const header = ['name', 'value', 'baseline', 'ratio', 'goal', 'p50 ms', 'p99 ms', 'meets'];
  const lines = rows.map((r) => {
    const lowerIsBetter = r.name === 'memory';
    const meets = r.ratio === null ? '—' : (lowerIsBetter ? r.ratio <= 1 : r.ratio >= r.goal) ? 'yes' : 'no';
    return [
      r.name,
      fmt(r.value),
      fmt(r.baseline),
      fmt(r.ratio, 2),
      lowerIsBetter ? `≤ ${r.goal} MB` : `≥ ${r.goal.toFixed(2)}`,
      fmt(r.p50_ms),
      fmt(r.p99_ms),
      meets,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  process.stdout.write(`${[line(header), rule, ...lines.map(line)].join('\n')}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`node options as npm start and npm run worker give them: ${[...NODE_FLAGS.values()].flat().join(' ') || 'none'}`);
  log(`${quick ? 'quick' : 'full'} run: ${ROUNDS} round(s) of ${DURATION_S} s per program, ${CONNECTIONS} connections`);
  try {
    // The large database (every row, 1M builds) and the small one (the same, but only the chain
    // service's builds): the chain row asks the same question of both.
    const scratch = await scratchDatabase();
    const small = await scratchDatabase();
    redis = await redisDb(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');

    const jwtSecret = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      DATABASE_URL: scratch.url,
      REDIS_URL: redis.url,
      JWT_SECRET: jwtSecret,
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      RUNTIME: 'simulated',
      // The worker's builds take no time of their own: the jobs row measures the pipeline, not a sleep.
      SIMULATED_BUILD_MS: '0',
      JOB_CONCURRENCY: String(JOB_CONCURRENCY),
      // The default (15 min) would do; a run on a slow machine must not see its token expire.
      ACCESS_TOKEN_TTL: '2h',
    };
    const server = (await startProgram('server', SERVER_SCRIPT, env, '/health')) as Program;

    // The big tenant, through the API; its bulk by SQL.
    const n = randomBytes(4).toString('hex');
    const { access_token: token } = await api<{ access_token: string }>(server.base, 'POST', '/auth/register', null, {
      tenant_name: `Bench ${n}`,
      email: `bench-${n}@example.test`,
      password: 'correct horse battery staple',
    });
    const me = await api<{ tenant_id: string }>(server.base, 'GET', '/auth/me', token);
    const project = await api<{ id: string }>(server.base, 'POST', '/projects', token, { name: 'Builds chain' });
    const { id: chain } = await api<{ id: string }>(server.base, 'POST', `/projects/${project.id}/services`, token, {
      name: 'chain',
      repo_url: 'https://github.com/acme/api.git',
    });
    await copyTenant(scratch.url, small.url, me.tenant_id, project.id);
    await seed(scratch.url, me.tenant_id, chain, SIZES.allBuilds - SIZES.chainBuilds);
    await seed(small.url, me.tenant_id, chain, 0);
    // The same server on the small database: the same tenant, token and service.
    const smallServer = (await startProgram(
      'server-small',
      SERVER_SCRIPT,
      { ...env, DATABASE_URL: small.url },
      '/health',
    )) as Program;

    const baselineEnv = { ...env, BENCH_TENANT_ID: me.tenant_id };
    const health = (await startProgram(
      'baseline-health',
      baselineScript('baseline-health'),
      env,
      '/health',
    )) as Program;
    const list = (await startProgram(
      'baseline-list',
      baselineScript('baseline-list'),
      baselineEnv,
      '/api/v1/projects',
    )) as Program;
    const authMe = (await startProgram(
      'baseline-auth-me',
      baselineScript('baseline-auth-me'),
      baselineEnv,
      '/api/v1/auth/me',
    )) as Program;

    const auth = { authorization: `Bearer ${token}` };
    // Warm-up: JIT, pools and caches of every program before the first timed round.
    for (const [base, path, headers] of [
      [server.base, '/health', {}],
      [health.base, '/health', {}],
      [server.base, '/api/v1/auth/me', auth],
      [authMe.base, '/api/v1/auth/me', auth],
      [server.base, '/api/v1/projects?limit=20', auth],
      [list.base, '/api/v1/projects?limit=20', auth],
    ] as const) {
      await autocannon({ url: `${base}${path}`, headers, connections: 4, duration: quick ? 0.3 : 1 });
    }

    const rows: Row[] = [];
    const row = (name: keyof typeof GOALS, value: Measure, baseline: Measure): Row => ({
      name,
      value: round(value.rps),
      baseline: round(baseline.rps),
      ratio: round(value.rps / baseline.rps, 3),
      goal: GOALS[name],
      p50_ms: value.p50,
      p99_ms: value.p99,
    });

    const skipped = (name: keyof typeof GOALS): Row => ({
      name,
      value: null,
      baseline: null,
      ratio: null,
      goal: GOALS[name],
      p50_ms: null,
      p99_ms: null,
    });

    if (wanted('health')) {
      const h = await pair(
        'health',
        () => load(`${server.base}/health`, {}),
        () => load(`${health.base}/health`, {}),
      );
      rows.push(row('health', h.a, h.b));
    } else rows.push(skipped('health'));

    if (wanted('auth_me')) {
      const a = await pair(
        'auth_me',
        () => load(`${server.base}/api/v1/auth/me`, auth),
        () => load(`${authMe.base}/api/v1/auth/me`, auth),
      );
      rows.push(row('auth_me', a.a, a.b));
    } else rows.push(skipped('auth_me'));

    const rss = rssSampler(server.pid);
    if (wanted('list_projects') || wanted('memory')) {
      const l = await pair(
        'list_projects',
        () => load(`${server.base}/api/v1/projects?limit=20`, auth),
        () => load(`${list.base}/api/v1/projects?limit=20`, auth),
        rss,
      );
      rows.push(row('list_projects', l.a, l.b));
    } else rows.push(skipped('list_projects'));

    if (wanted('list_builds_chain')) {
      // The chain: the same request for the same service (and its chainBuilds builds) while the
      // builds table holds allBuilds rows (A) and only the service's own (B). The small database's
      // server has served nothing yet: both warm up on this route first, longer than the others.
      for (const base of [server.base, smallServer.base]) {
        await autocannon({
          url: `${base}/api/v1/services/${chain}/builds?limit=20`,
          headers: auth,
          connections: 4,
          duration: quick ? 1 : 5,
        });
      }
      const c = await pair(
        'list_builds_chain',
        () => load(`${server.base}/api/v1/services/${chain}/builds?limit=20`, auth),
        () => load(`${smallServer.base}/api/v1/services/${chain}/builds?limit=20`, auth),
      );
      rows.push(row('list_builds_chain', c.a, c.b));
    } else rows.push(skipped('list_builds_chain'));

    const peak = rss.peakMb();
    rows.push({
      name: 'memory',
      value: peak === null ? null : round(peak, 1),
      baseline: null,
      // Lower is better: value / goal, at most 1 meets the goal (null without /proc).
      ratio: peak === null ? null : round(peak / GOALS.memory, 3),
      goal: GOALS.memory,
      p50_ms: null,
      p99_ms: null,
    });
    if (wanted('jobs')) {
      rows.push(await jobsRow(env, scratch.url, { base: server.base, token, service: chain }));
    } else rows.push(skipped('jobs'));

    for (const program of [server, smallServer]) {
      if (!program.alive())
        throw new Error(`${program.name} died (${program.exit}) during the run:\n${program.output.join('')}`);
    }
    writeFileSync(OUT, `${JSON.stringify(rows, null, 2)}\n`);
    printTable(rows);
    log(`wrote ${OUT} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await cleanUp();
  }
}

const scratches: ScratchPostgres[] = [];
/** A migrated scratch database, dropped by `cleanUp`. */
async function scratchDatabase(): Promise<ScratchPostgres> {
  const scratch = await createScratchPostgres({
    prefix: 'shipyard_bench',
    ...(process.env.BENCH_DATABASE_ADMIN_URL === undefined ? {} : { adminUrl: process.env.BENCH_DATABASE_ADMIN_URL }),
  });
  scratches.push(scratch);
  log(`scratch database ${scratch.name}`);
  const database = await createDatabase({ url: scratch.url, pool: { min: 0, max: 2 } });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  return scratch;
}

let redis: Awaited<ReturnType<typeof redisDb>> | undefined;
let cleaning: Promise<void> | undefined;
/** Stops every child, drops the run's Redis keys and its databases; once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(children.map((child) => child.stop()));
    await redis?.clean().catch((error: unknown) => log(`redis clean-up: ${String(error)}`));
    for (const scratch of scratches) {
      await scratch.drop().catch((error: unknown) => log(`dropping ${scratch.name}: ${String(error)}`));
    }
  })();
  return cleaning;
}

const stopOnSignal = (signal: NodeJS.Signals) =>
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
stopOnSignal('SIGINT');
stopOnSignal('SIGTERM');

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
