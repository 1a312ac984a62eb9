import test from 'ava';
import { TestHarness } from '../testing/harness.js';

test('one cleanup job per tenant and period, however many schedulers run', async (t) => {
  const harness = new TestHarness();
  const a = await harness.signUp();
  const b = await harness.signUp();
  t.is(await harness.useCases.scheduleCleanup.execute({ periodMs: 60_000, batchSize: 1 }), 2);
  t.is(await harness.useCases.scheduleCleanup.execute({ periodMs: 60_000 }), 2);
  const jobs = harness.jobs.take().filter((job) => job.name === 'cleanup.run');
  t.deepEqual(jobs.map((job) => job.payload.tenant_id).sort(), [a.tenant.id, b.tenant.id].sort());
  harness.clock.advance(60_000);
  await harness.useCases.scheduleCleanup.execute({ periodMs: 60_000 });
  t.is(harness.jobs.take().length, 2, 'the next period makes new jobs');
  const report = await harness.drain();
  t.deepEqual(report.gaveUp, []);
});
