import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BeeQueueJobQueue, startWorker, type Worker } from '@shipyard/adapters-queue';
import type { Job, JobName } from '@shipyard/core';
import { MemoryLogger } from '@shipyard/core/testing';
import test from 'ava';
import { waitFor } from '../contracts/job-queue.contract.js';
import { listKeys, REDIS_URL, randomPrefix, redisProxy, removeKeys } from './redis-support.js';

const prefix = randomPrefix();
const cleanups: Array<() => Promise<unknown>> = [];
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await removeKeys(prefix);
});

// Each test uses its own queue of the file's prefix... through a sub-prefix, so tests in this file
// running at once never take each other's jobs.
let counter = 0;
const subPrefix = () => `${prefix}:${++counter}`;

const buildJob = (): Job<'build.run'> => ({
  id: randomUUID(),
  name: 'build.run',
  queue: 'build',
  payload: { tenant_id: randomUUID(), build_id: randomUUID() },
});

function publisher(p: string, timeoutMs = 60_000, retries?: number): BeeQueueJobQueue {
  const queue = new BeeQueueJobQueue({ redis: REDIS_URL, prefix: p, timeoutMs, backoffMs: 50, retries });
  cleanups.push(() => queue.close());
  return queue;
}

/** Redis holds none of `jobs` any more (finished, and pruned or recorded as finished). */
const gone = (queue: BeeQueueJobQueue, jobs: Job[]) =>
  waitFor(async () => (await queue.liveJobs(jobs)).size === 0, 'the jobs to leave Redis');

/** The job-record keys bee-queue keeps under `p`: the `jobs` hash and the succeeded and failed sets. */
const recordKeys = async (p: string) => (await listKeys(p)).filter((key) => /:(jobs|succeeded|failed)$/.test(key));

async function worker(options: Parameters<typeof startWorker>[0]): Promise<Worker> {
  const w = await startWorker(options);
  cleanups.push(() => w.close());
  return w;
}

interface ChildMessage {
  type: 'ready' | 'started' | 'finished';
  payload?: { build_id: string };
}

function forkWorker(p: string, mode: 'hang' | 'slow', stallInterval: number) {
  const script = fileURLToPath(new URL('./fixtures/worker-child.js', import.meta.url));
  const child = fork(script, [], {
    env: {
      ...process.env,
      REDIS_URL,
      QUEUE_PREFIX: p,
      CHILD_MODE: mode,
      STALL_INTERVAL: String(stallInterval),
      SLOW_MS: '1500',
    },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: ChildMessage[] = [];
  child.on('message', (m) => messages.push(m as ChildMessage));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const received = (type: ChildMessage['type']) =>
    waitFor(() => messages.some((m) => m.type === type), `the child to report ${type}`);
  return { child, messages, exited, received };
}

test('two workers on one queue run 1,000 jobs: none twice, none lost', async (t) => {
  const p = subPrefix();
  const queue = publisher(p);
  const runs = new Map<string, number>();
  const byWorker = { a: 0, b: 0 };
  const handlers = (label: 'a' | 'b') => ({
    async run(_name: JobName, payload: unknown) {
      const id = (payload as { build_id: string }).build_id;
      runs.set(id, (runs.get(id) ?? 0) + 1);
      byWorker[label] += 1;
      await new Promise((resolve) => setImmediate(resolve));
    },
    async giveUp() {},
  });
  await worker({ redis: REDIS_URL, prefix: p, queues: ['build'], concurrency: 4, handlers: handlers('a') });
  await worker({ redis: REDIS_URL, prefix: p, queues: ['build'], concurrency: 4, handlers: handlers('b') });

  const jobs = Array.from({ length: 1000 }, buildJob);
  for (let i = 0; i < jobs.length; i += 100) await Promise.all(jobs.slice(i, i + 100).map((j) => queue.enqueue(j)));
  await waitFor(async () => (await queue.liveJobs(jobs)).size === 0, '1,000 jobs to finish', 60_000);

  const counts = await queue.counts();
  // Finished jobs are pruned: no succeeded or failed record stays behind.
  t.like(counts.build, { waiting: 0, active: 0, delayed: 0, failed: 0, succeeded: 0 });
  t.is(runs.size, 1000);
  t.true(
    [...runs.values()].every((n) => n === 1),
    'no job ran twice',
  );
  t.true(
    jobs.every((j) => runs.get(j.payload.build_id) === 1),
    'every job ran',
  );
  t.true(byWorker.a > 0 && byWorker.b > 0, `both workers took jobs (${byWorker.a} / ${byWorker.b})`);
});

test('a worker killed mid-job: another worker runs the job after stall detection', async (t) => {
  const p = subPrefix();
  const stallInterval = 1_000;
  const queue = publisher(p);
  const doomed = forkWorker(p, 'hang', stallInterval);
  await doomed.received('ready');

  const job = buildJob();
  await queue.enqueue(job);
  await doomed.received('started');
  doomed.child.kill('SIGKILL');
  const [, signal] = await doomed.exited;
  t.is(signal, 'SIGKILL');
  t.is(await queue.status(job), 'pending');
  t.deepEqual([...(await queue.liveJobs([job]))], [job.id], 'a job whose worker died is still live');

  const logger = new MemoryLogger();
  const ran: unknown[] = [];
  await worker({
    redis: REDIS_URL,
    prefix: p,
    queues: ['build'],
    stallInterval,
    logger,
    handlers: {
      run: async (_name, payload) => {
        ran.push(payload);
      },
      giveUp: async () => {},
    },
  });
  await waitFor(() => ran.length === 1, 'the stalled job to run');
  await gone(queue, [job]);
  t.deepEqual(ran, [job.payload]);
  t.true(
    logger.entries.some((e) => e.level === 'warn' && e.fields.job_id === job.id && /stalled/.test(e.message ?? '')),
    'the stall is logged',
  );
  const done = logger.entries.find((e) => e.fields.job_id === job.id && e.message === 'job succeeded');
  // A stalled job goes back without using a retry.
  t.is(done?.fields.attempt, 1);
});

test('SIGTERM lets the running job finish, takes no new job, and exits 0', async (t) => {
  const p = subPrefix();
  const queue = publisher(p);
  const worker = forkWorker(p, 'slow', 5_000);
  await worker.received('ready');

  const running = buildJob();
  await queue.enqueue(running);
  await worker.received('started');
  worker.child.kill('SIGTERM');
  const later = buildJob();
  await queue.enqueue(later);

  const [code] = await worker.exited;
  t.is(code, 0);
  t.is(worker.messages.filter((m) => m.type === 'finished').length, 1);
  t.deepEqual(
    [...(await queue.liveJobs([running, later]))],
    [later.id],
    'the finished job is pruned, the later one waits',
  );
  t.is(await queue.status(running), null);
  t.is(await queue.status(later), 'pending');
  t.is(worker.messages.filter((m) => m.type === 'started').length, 1);
});

test('close() that outlasts its timeout releases the running job, and another worker runs it', async (t) => {
  const p = subPrefix();
  const stallInterval = 1_000;
  const queue = publisher(p);
  const logger = new MemoryLogger();
  let started = false;
  let abortReason: unknown;
  let releasedAt = 0;
  const gaveUp: unknown[] = [];
  const stuck = await startWorker({
    redis: REDIS_URL,
    prefix: p,
    queues: ['build'],
    stallInterval,
    closeTimeoutMs: 200,
    logger,
    handlers: {
      // Deaf to close(), but it stops once its signal is aborted (as a build runner kills its processes).
      run: async (_name, _payload, context) => {
        started = true;
        await new Promise((resolve) => context?.signal?.addEventListener('abort', resolve));
        abortReason = context?.signal?.reason;
        releasedAt = Date.now();
        throw abortReason;
      },
      giveUp: async (...args) => {
        gaveUp.push(args);
      },
    },
  });
  const job = buildJob();
  await queue.enqueue(job);
  await waitFor(() => started, 'the job to start');
  const closing = Date.now();
  await stuck.close();
  t.like(abortReason, { name: 'WorkerStoppingError', code: 'worker_stopping' });
  t.true(releasedAt >= closing + 200 - 50, 'aborted once close() ran out of time');
  t.true(releasedAt > 0 && releasedAt <= Date.now(), 'close() waited for the aborted handler');
  t.deepEqual(gaveUp, [], 'a released job is not given up');
  t.like(
    logger.entries.find(
      (e) => e.message === 'worker closed with jobs still running; stall detection will run them again',
    ),
    { level: 'warn', fields: { aborted: 1, still_running: 0 } },
  );
  t.like(
    logger.entries.find((e) => e.fields.job_id === job.id && e.message === 'job released: the worker is stopping'),
    { level: 'warn', fields: { attempt: 1 } },
  );
  t.false(
    logger.entries.some((e) => e.level === 'error'),
    'no error logged',
  );

  const ran: unknown[] = [];
  await worker({
    redis: REDIS_URL,
    prefix: p,
    queues: ['build'],
    stallInterval,
    handlers: {
      run: async (_name, payload) => {
        ran.push(payload);
      },
      giveUp: async () => {},
    },
  });
  await waitFor(() => ran.length === 1, 'the released job to run');
  await gone(queue, [job]);
  t.deepEqual(ran, [job.payload]);
});

test('finished jobs leave no record in Redis: succeeded, failed for good, or malformed', async (t) => {
  const p = subPrefix();
  const queue = publisher(p, 60_000, 1);
  const logger = new MemoryLogger();
  const failing = new Set<string>();
  const gaveUp: string[] = [];
  await worker({
    redis: REDIS_URL,
    prefix: p,
    queues: ['build'],
    concurrency: 4,
    logger,
    handlers: {
      run: async (_name, payload) => {
        if (failing.has((payload as { build_id: string }).build_id)) throw new Error('runner unreachable');
      },
      giveUp: async (_name, payload) => {
        gaveUp.push((payload as { build_id: string }).build_id);
      },
    },
  });
  const succeeding = Array.from({ length: 20 }, buildJob);
  const failed = Array.from({ length: 5 }, buildJob);
  for (const job of failed) failing.add(job.payload.build_id);
  const malformed = Array.from({ length: 2 }, () => ({ ...buildJob(), name: 'build.explode' }) as unknown as Job);
  const all = [...succeeding, ...failed, ...malformed];
  await Promise.all(all.map((job) => queue.enqueue(job)));
  await waitFor(
    () => logger.entries.filter((e) => e.message === 'job succeeded').length === succeeding.length,
    'the jobs to succeed',
  );
  await waitFor(() => gaveUp.length === failed.length, 'the failing jobs to be given up');
  await gone(queue, all);

  t.deepEqual(await recordKeys(p), [], 'no jobs hash, no succeeded or failed set');
  t.like((await queue.counts()).build, { waiting: 0, active: 0, delayed: 0, succeeded: 0, failed: 0 });
  t.is(logger.entries.filter((e) => e.message === 'job is malformed; failed without retry').length, 2);
  for (const job of all) t.is(await queue.status(job), null);
});

test('a worker told to keep finished records keeps them, and liveJobs still counts them finished', async (t) => {
  const p = subPrefix();
  const queue = publisher(p, 60_000, 0);
  const ran: string[] = [];
  await worker({
    redis: REDIS_URL,
    prefix: p,
    queues: ['build'],
    removeOnSuccess: false,
    removeOnFailure: false,
    handlers: {
      run: async (_name, payload) => {
        const id = (payload as { build_id: string }).build_id;
        ran.push(id);
        if (id === failed.payload.build_id) throw new Error('runner unreachable');
      },
      giveUp: async () => {},
    },
  });
  const succeeded = buildJob();
  const failed = buildJob();
  await queue.enqueue(succeeded);
  await queue.enqueue(failed);
  await waitFor(async () => (await queue.status(succeeded)) === 'succeeded', 'the job to succeed');
  await waitFor(async () => (await queue.status(failed)) === 'failed', 'the job to fail');
  t.deepEqual([...(await queue.liveJobs([succeeded, failed]))], []);
  t.like((await queue.counts()).build, { succeeded: 1, failed: 1 });
  // The record is kept, so publishing the id again is still a no-op.
  await queue.enqueue(succeeded);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(ran.length, 2);
});

test('a worker whose Redis keeps refusing BRPOPLPUSH retries at most maxRedisRetryDelayMs apart, then takes jobs', async (t) => {
  const p = subPrefix();
  const queue = publisher(p);
  let failing = true;
  const tries: number[] = [];
  const proxy = await redisProxy({
    reply: ([name]) => {
      if (name?.toLowerCase() !== 'brpoplpush') return undefined;
      tries.push(Date.now());
      return failing ? '-ERR injected: Redis cannot serve this now\r\n' : undefined;
    },
  });
  cleanups.push(() => proxy.stop());
  const logger = new MemoryLogger();
  const ran: unknown[] = [];
  await worker({
    redis: proxy.url(),
    prefix: p,
    queues: ['build'],
    concurrency: 1,
    maxRedisRetryDelayMs: 100,
    logger,
    handlers: {
      run: async (_name, payload) => {
        ran.push(payload);
      },
      giveUp: async () => {},
    },
  });
  // bee-queue alone waits 1 s, 2 s, 4 s, 8 s... between these (2^11 s before the 12th).
  await waitFor(() => tries.length >= 12, '12 refused BRPOPLPUSH', 20_000);
  const gaps = tries.slice(1, 12).map((at, i) => at - (tries[i] ?? at));
  t.true(
    gaps.every((gap) => gap < 1_000),
    `gaps ${gaps.join(', ')} ms`,
  );
  t.true(logger.entries.filter((e) => e.message === 'job queue error').length >= 11);

  failing = false;
  const job = buildJob();
  await queue.enqueue(job);
  await waitFor(() => ran.length === 1, 'the worker to take the job');
  t.deepEqual(ran, [job.payload]);
});
