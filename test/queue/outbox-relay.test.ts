import { startOutboxRelay } from '@shipyard/adapters-queue';
import { ConflictError, type RelayReport, ServiceUnavailableError } from '@shipyard/core';
import { MemoryLogger } from '@shipyard/core/testing';
import test from 'ava';
import { waitFor } from '../contracts/job-queue.contract.js';

/** A relay whose runs the test releases one by one. */
class ScriptedRelay {
  runs = 0;
  running = 0;
  maxRunning = 0;
  batchSizes: Array<number | undefined> = [];
  private releases: Array<() => void> = [];
  constructor(
    private readonly script: (run: number) => RelayReport | Error = () => ({ published: 0, blocked: false }),
  ) {}

  async execute(options: { batchSize?: number } = {}): Promise<RelayReport> {
    this.runs += 1;
    const run = this.runs;
    this.batchSizes.push(options.batchSize);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await new Promise<void>((resolve) => this.releases.push(resolve));
      const result = this.script(run);
      if (result instanceof Error) throw result;
      return result;
    } finally {
      this.running -= 1;
    }
  }

  /** Lets the waiting run finish. */
  release(): void {
    this.releases.shift()?.();
  }
}

test('a nudge runs the relay; nudges during a run make exactly one more run, never two at once', async (t) => {
  const relay = new ScriptedRelay();
  const handle = startOutboxRelay({ relay, intervalMs: 60_000, logger: new MemoryLogger() });
  handle.nudge();
  await waitFor(() => relay.runs === 1, 'the first run');
  handle.nudge();
  handle.nudge();
  handle.nudge();
  relay.release();
  await waitFor(() => relay.runs === 2, 'the run asked for during the first');
  relay.release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(relay.runs, 2);
  t.is(relay.maxRunning, 1);
  await handle.stop();
});

test('the relay runs on its interval without nudges', async (t) => {
  const relay = new ScriptedRelay();
  const handle = startOutboxRelay({ relay, intervalMs: 10, logger: new MemoryLogger() });
  for (let run = 1; run <= 3; run += 1) {
    await waitFor(() => relay.runs === run, `run ${run}`);
    relay.release();
  }
  await handle.stop();
  t.is(relay.maxRunning, 1);
});

test('a full batch runs again at once; a blocked one waits for the next tick', async (t) => {
  const relay = new ScriptedRelay((run) => ({ published: run === 1 ? 5 : 0, blocked: run === 2 }));
  const handle = startOutboxRelay({ relay, intervalMs: 60_000, logger: new MemoryLogger(), batchSize: 5 });
  handle.nudge();
  await waitFor(() => relay.runs === 1, 'the first run');
  relay.release();
  await waitFor(() => relay.runs === 2, 'the run after a full batch');
  relay.release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(relay.runs, 2);
  t.deepEqual(relay.batchSizes, [5, 5]);
  await handle.stop();
});

test('a failed run is logged and the relay keeps going', async (t) => {
  const logger = new MemoryLogger();
  const relay = new ScriptedRelay((run) =>
    run === 1 ? new Error('database unreachable') : { published: 1, blocked: false },
  );
  const handle = startOutboxRelay({ relay, intervalMs: 10, logger });
  await waitFor(() => relay.runs === 1, 'the first run');
  relay.release();
  await waitFor(() => relay.runs === 2, 'a run after the failure');
  relay.release();
  await handle.stop();
  t.like(
    logger.entries.find((e) => e.message === 'outbox relay run failed'),
    { level: 'error' },
  );
});

test('a failed run is logged by cause: warn for an outage, debug for a lost write race, error for anything else', async (t) => {
  const logger = new MemoryLogger();
  const failures: Error[] = [
    new ServiceUnavailableError('The database is unavailable'),
    new ConflictError('Outbox message was changed by someone else', { reason: 'stale_version' }),
    new ServiceUnavailableError('The job queue is unavailable'),
    new ConflictError('Email already taken', { reason: 'unique', field: 'email' }),
    new TypeError('a bug'),
  ];
  const relay = new ScriptedRelay((run) => failures[run - 1] ?? { published: 0, blocked: false });
  const handle = startOutboxRelay({ relay, intervalMs: 10, logger });
  for (let run = 1; run <= failures.length; run += 1) {
    await waitFor(() => relay.runs === run, `run ${run}`);
    relay.release();
  }
  await waitFor(() => logger.entries.length >= failures.length, 'every failure to be logged');
  await handle.stop();
  t.deepEqual(
    failures.map((error) => logger.entries.filter((e) => e.fields.err === error).map((e) => e.level)),
    [['warn'], ['debug'], ['warn'], ['error'], ['error']],
  );
});

test('stop() waits for the current run and no run starts after it', async (t) => {
  const relay = new ScriptedRelay();
  const handle = startOutboxRelay({ relay, intervalMs: 10, logger: new MemoryLogger() });
  handle.nudge();
  await waitFor(() => relay.runs === 1, 'the first run');
  let stopped = false;
  const stopping = handle.stop().then(() => {
    stopped = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.false(stopped);
  relay.release();
  await stopping;
  handle.nudge();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(relay.runs, 1);
});
