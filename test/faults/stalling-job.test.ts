/**
 * A build that kills its worker every time it starts: workers keep dying (and being restarted),
 * stall detection and the reconciler keep handing the build out again, and every claim counts an
 * attempt. After the budget (4) the build fails for good, saying it gave up, and nothing runs it
 * again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openScratchDatabase } from '@shipyard/adapters-db/testing';
import { BeeQueueJobQueue } from '@shipyard/adapters-queue';
import { type Build, createUseCases, DEFAULT_SETTINGS } from '@shipyard/core';
import test from 'ava';
import { coreOnPostgres, tenantWithService } from '../queue/postgres-world.js';
import { type Proc, scratchRedis, sleep, spawnProcess, tempDir, waitUntil } from './support.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/stalling-worker.js', import.meta.url));
const LEASE_MS = 1_000;

interface Run {
  build_id: string;
  attempt: number;
  pid: number;
}

test('a job that stalls its worker every time ends failed after its attempts and is never run again', async (t) => {
  t.timeout(90_000);
  const teardown = t.teardown.bind(t);
  const redis = await scratchRedis(teardown);
  const scratch = await openScratchDatabase({ pool: { min: 0, max: 4 }, scratch: { prefix: 'shipyard_faults' } });
  teardown(() => scratch.close());
  const prefix = 'faults-stall';
  const jobs = new BeeQueueJobQueue({ redis: redis.url, prefix, backoffMs: 100 });
  teardown(() => jobs.close());
  // The test plays the rest of the platform: the API (triggers), the outbox relay, the reconciler.
  const core = coreOnPostgres(scratch.database.uow, jobs);
  const useCases = createUseCases({
    ...core.deps,
    settings: { ...core.deps.settings, jobLeaseMs: LEASE_MS, reconcileGraceMs: 1_000 },
  });
  const { owner, service } = await tenantWithService(useCases);

  const runsFile = join(tempDir(teardown), 'runs.jsonl');
  writeFileSync(runsFile, '');
  const runs = (): Run[] =>
    readFileSync(runsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Run);

  // A worker is restarted whenever one dies, until the test ends.
  // (Stopped at the end of the test: teardowns may not register more teardowns.)
  let stopped = false;
  const workers: Proc[] = [];
  const launch = () => {
    const worker = spawnProcess(teardown, `stalling-worker-${workers.length + 1}`, process.execPath, [FIXTURE], {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: scratch.scratch.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      RUNS_FILE: runsFile,
      LEASE_MS: String(LEASE_MS),
      CHECK_MS: '200',
      STALL_INTERVAL: '1000',
    });
    workers.push(worker);
    void worker.exited.then(() => {
      if (!stopped) launch();
    });
  };
  launch();

  let loops = 0;
  const platform = setInterval(() => {
    loops += 1;
    void useCases.relayOutbox.execute().catch(() => {});
    void useCases.reconcileJobs.execute().catch(() => {});
  }, 250);
  teardown(() => clearInterval(platform));

  try {
    await failsForGood();
  } finally {
    stopped = true;
  }

  async function failsForGood() {
    const triggered = await useCases.triggerBuild.execute(owner, service.id);
    const read = () => scratch.database.uow.run(owner.tenantId, (repos) => repos.builds.get(triggered.id));
    let build: Build = await read();
    await waitUntil(
      async () => {
        build = await read();
        return build.status === 'failed' || build.status === 'succeeded';
      },
      'the build to fail',
      60_000,
      100,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${build.status} attempt ${build.attempt}, runs ${JSON.stringify(runs())}`);
    });
    t.log(`failed after ${workers.length} worker(s) and ${loops} relay/reconcile loop(s): ${build.error}`);

    t.is(build.status, 'failed');
    t.is(build.attempt, DEFAULT_SETTINGS.maxJobAttempts);
    t.regex(build.error ?? '', /^Gave up after 4 attempt\(s\)/);
    const killedRuns = runs();
    t.deepEqual(
      killedRuns.map((r) => r.attempt),
      [1, 2, 3, 4],
      'each attempt ran once, in a worker of its own, and the build stopped at its budget',
    );
    t.is(new Set(killedRuns.map((r) => r.pid)).size, 4);

    // Afterwards: stall checks, the reconciler and fresh workers have several chances to run it again.
    await sleep(3_000);
    t.is(runs().length, 4, 'no run after the build failed');
    const after = await read();
    t.is(after.status, 'failed');
    t.is(after.attempt, 4);
    const settled = await scratch.database.uow.run(owner.tenantId, (repos) => repos.services.get(service.id));
    t.is(settled.status, 'failed', 'the service settles as failed');
  }
});
