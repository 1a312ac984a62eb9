/**
 * A build runner that never returns, not even once its signal is aborted: each attempt is cut at
 * the job's timeout (the runner sees its signal aborted with the timeout as reason), left behind
 * after the grace, and the build fails once its attempts are spent. In process (the core on
 * PostgreSQL with the in-process queue), with the relay and the reconciler looping as a server's.
 */
import { openScratchDatabase } from '@shipyard/adapters-db/testing';
import { InProcessJobQueue, JobTimeoutError } from '@shipyard/adapters-queue';
import { type Build, type BuildRequest, type BuildRunner, createUseCases, JobHandlers } from '@shipyard/core';
import { MemoryLogger } from '@shipyard/core/testing';
import test from 'ava';
import { coreOnPostgres, tenantWithService } from '../queue/postgres-world.js';
import { sleep, waitUntil } from './support.js';

const TIMEOUT_MS = 400;

interface HangingCall {
  request: BuildRequest;
  signal: AbortSignal;
  /** When the abort came, relative to the call; undefined while it has not. */
  abortedAfterMs?: number;
  reason?: unknown;
}

/** Waits forever; notes when (and why) its signal is aborted, and goes on waiting. */
class HangingRunner implements BuildRunner {
  readonly calls: HangingCall[] = [];

  run(request: BuildRequest, _log: (line: string) => void, signal: AbortSignal): Promise<never> {
    const call: HangingCall = { request, signal };
    const start = Date.now();
    signal.addEventListener('abort', () => {
      call.abortedAfterMs = Date.now() - start;
      call.reason = signal.reason;
    });
    this.calls.push(call);
    return new Promise<never>(() => {});
  }

  async discardArtifact(): Promise<void> {}
}

test('a handler that never returns is aborted at the timeout, and its build fails after its attempts', async (t) => {
  t.timeout(60_000);
  const scratch = await openScratchDatabase({ pool: { min: 0, max: 4 }, scratch: { prefix: 'shipyard_faults' } });
  t.teardown(() => scratch.close());
  const queueLog = new MemoryLogger();
  let handlers: JobHandlers | undefined;
  const queue = new InProcessJobQueue({
    handlers: () => handlers as JobHandlers,
    timeoutMs: TIMEOUT_MS,
    abortGraceMs: 200,
    backoffMs: 100,
    logger: queueLog,
  });
  const runner = new HangingRunner();
  const core = coreOnPostgres(scratch.database.uow, queue);
  const useCases = createUseCases({
    ...core.deps,
    buildRunner: runner,
    settings: {
      ...core.deps.settings,
      jobLeaseMs: 1_000,
      cancelCheckIntervalMs: 100,
      reconcileGraceMs: 1_000,
      runnerAbortGraceMs: 50,
    },
  });
  handlers = new JobHandlers(useCases);
  const platform = setInterval(() => {
    void useCases.relayOutbox.execute().catch(() => {});
    void useCases.reconcileJobs.execute().catch(() => {});
  }, 200);
  t.teardown(() => clearInterval(platform));

  const { owner, service } = await tenantWithService(useCases);
  const triggered = await useCases.triggerBuild.execute(owner, service.id);
  const read = () => scratch.database.uow.run(owner.tenantId, (repos) => repos.builds.get(triggered.id));
  let build: Build = await read();
  const took = await waitUntil(
    async () => {
      build = await read();
      return build.status === 'failed' || build.status === 'succeeded';
    },
    'the build to end',
    45_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${build.status} attempt ${build.attempt}, ${runner.calls.length} call(s)`);
  });
  t.log(`failed after ${took} ms: ${build.error}`);

  t.is(build.status, 'failed');
  t.is(build.attempt, 4);
  t.regex(build.error ?? '', /^Gave up after 4 attempt\(s\): attempt 4 aborted: Job timed out/);
  t.deepEqual(
    runner.calls.map((c) => c.request.attempt),
    [1, 2, 3, 4],
    'the runner ran once per attempt',
  );
  for (const call of runner.calls) {
    t.true(call.signal.aborted, `the signal of attempt ${call.request.attempt} was aborted`);
    t.true(call.reason instanceof JobTimeoutError, `attempt ${call.request.attempt} was aborted by its timeout`);
    // The timeout runs from the attempt's start, a little before the runner's (the claim); a busy
    // event loop may fire it a little late.
    t.true((call.abortedAfterMs ?? Infinity) <= TIMEOUT_MS + 300, `at the timeout (${call.abortedAfterMs} ms)`);
  }
  // The runner ignored its signal, but the build job did not: it ended each attempt itself, within
  // the queue's grace, so the row says why.
  t.false(
    queueLog.entries.some((e) => e.message === 'job handler ignored its abort signal; its attempt ends without it'),
    'the build job ends its attempt even when its runner does not',
  );
  // The left-behind handlers renew nothing: nothing runs the build again.
  await sleep(1_500);
  t.is(runner.calls.length, 4);
  const after = await read();
  t.like(after, { status: 'failed', attempt: 4 });
  const settled = await scratch.database.uow.run(owner.tenantId, (repos) => repos.services.get(service.id));
  t.is(settled.status, 'failed');
});
