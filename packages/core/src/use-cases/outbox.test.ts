import test from 'ava';
import { ConflictError } from '../domain/app.errors.js';
import type { UnitOfWork } from '../ports/unit-of-work.port.js';
import { createTestHarness, TestHarness } from '../testing/index.js';
import { createUseCases } from './create-use-cases.js';
import { scheduleJob } from './outbox.js';

async function setup() {
  const harness = createTestHarness();
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/w' });
  return { harness, uc, owner, service };
}

const outboxRows = (harness: TestHarness) => [...harness.db.table('outboxMessage').values()];

test('a use case schedules its job in the outbox and the queue sees it only after a relay', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const build = await uc.triggerBuild.execute(owner, service.id);
  const rows = outboxRows(harness);
  t.is(rows.length, 1);
  t.is(rows[0]?.name, 'build.run');
  t.is(rows[0]?.queue, 'build');
  t.deepEqual(rows[0]?.payload, { tenant_id: owner.tenantId, build_id: build.id });
  t.is(rows[0]?.sentAt, null);
  t.is(harness.jobs.published.length, 0, 'nothing is published before the relay');

  const report = await uc.relayOutbox.execute();
  t.deepEqual(report, { published: 1, blocked: false });
  t.is(harness.jobs.published[0]?.id, rows[0]?.id, 'the message id is the job id');
  t.truthy(harness.db.table('outboxMessage').get(rows[0]?.id ?? '')?.sentAt);
});

test('a unit of work that throws after scheduling a job leaves no outbox row', async (t) => {
  const { harness, owner } = await setup();
  await t.throwsAsync(
    harness.uow.run(owner.tenantId, async (repos) => {
      await scheduleJob(harness.deps, repos, 'cleanup.run', {});
      throw new ConflictError('something after the job went wrong');
    }),
    { code: 'conflict' },
  );
  t.is(outboxRows(harness).length, 0);
  t.deepEqual(await harness.useCases.relayOutbox.execute(), { published: 0, blocked: false });
  t.is(harness.jobs.published.length, 0);
});

test('a use case whose transaction fails at commit leaves neither its row nor its job', async (t) => {
  const { harness, owner, service } = await setup();
  // The same store, but every commit fails after the use case's work is done.
  const failingCommit: UnitOfWork = {
    run: (tenantId, work) =>
      harness.uow.run(tenantId, async (repos) => {
        await work(repos);
        throw new Error('connection lost during commit');
      }),
    platform: (work) =>
      harness.uow.platform(async (platform) => {
        await work(platform);
        throw new Error('connection lost during commit');
      }),
  };
  const useCases = createUseCases({ ...harness.deps, uow: failingCommit });
  await t.throwsAsync(useCases.triggerBuild.execute(owner, service.id), { message: /connection lost/ });
  t.is(harness.db.table('build').size, 0);
  t.is(outboxRows(harness).length, 0);
  await harness.drain();
  t.is(harness.buildRunner.calls.length, 0);
});

test('of two racing use cases the one that loses its commit schedules nothing', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const results = await Promise.allSettled([
    uc.triggerBuild.execute(owner, service.id),
    uc.triggerBuild.execute(owner, service.id),
  ]);
  const builds = harness.db.table('build').size;
  t.true(builds >= 1);
  t.is(results.filter((r) => r.status === 'fulfilled').length, builds);
  for (const result of results) {
    if (result.status === 'rejected') t.is(result.reason?.code, 'conflict');
  }
  t.is(outboxRows(harness).length, builds, 'one job per committed build');
});

test('while the queue is down the relay publishes nothing and keeps the rows', async (t) => {
  const { harness, uc, owner, service } = await setup();
  await uc.triggerBuild.execute(owner, service.id);
  await uc.triggerBuild.execute(owner, service.id);
  const pending = outboxRows(harness).length;
  harness.jobs.outage.begin();
  const report = await uc.relayOutbox.execute();
  t.deepEqual(report, { published: 0, blocked: true });
  t.is(harness.jobs.published.length, 0);
  t.is(outboxRows(harness).length, pending);
  t.true(outboxRows(harness).every((row) => row.sentAt === null));
  t.true(harness.logger.entries.some((entry) => entry.level === 'warn'));
});

test('once the queue is back every kept row is published exactly once', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const first = await uc.triggerBuild.execute(owner, service.id);
  await uc.cancelBuild.execute(owner, first.id);
  await uc.triggerBuild.execute(owner, service.id);
  harness.jobs.outage.begin();
  await uc.relayOutbox.execute();
  harness.jobs.outage.end();
  const back = await uc.relayOutbox.execute();
  t.deepEqual(back, { published: 2, blocked: false });
  t.deepEqual(await uc.relayOutbox.execute(), { published: 0, blocked: false }, 'a second relay sends nothing');
  const ids = harness.jobs.published.map((job) => job.id);
  t.is(ids.length, 2);
  t.is(new Set(ids).size, 2);
  t.deepEqual(
    ids.sort(),
    outboxRows(harness)
      .map((row) => row.id)
      .sort(),
  );
});

test('a relay sends messages oldest first and respects its batch size', async (t) => {
  const { harness, uc, owner, service } = await setup();
  const builds = [];
  for (let i = 0; i < 3; i += 1) {
    harness.clock.advance(1000);
    const build = await uc.triggerBuild.execute(owner, service.id);
    builds.push(build.id);
  }
  t.deepEqual(await uc.relayOutbox.execute({ batchSize: 2 }), { published: 2, blocked: false });
  t.deepEqual(await uc.relayOutbox.execute({ batchSize: 2 }), { published: 1, blocked: false });
  t.deepEqual(
    harness.jobs.published.map((job) => (job.payload as { build_id: string }).build_id),
    builds,
  );
});

test('a queue outage at commit time loses no job: drain later runs it', async (t) => {
  const harness = new TestHarness();
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/w' });
  harness.jobs.outage.begin();
  const build = await uc.triggerBuild.execute(owner, service.id);
  t.is(build.status, 'queued', 'the request succeeds without the queue');
  harness.jobs.outage.end();
  await harness.drain();
  t.is((await uc.getBuild.execute(owner, build.id)).status, 'succeeded');
});
