import { randomUUID } from 'node:crypto';
import { BeeQueueJobQueue, startOutboxRelay, startWorker } from '@shipyard/adapters-queue';
import {
  type Build,
  createUseCases,
  JobHandlers,
  type OutboxMessage,
  type Principal,
  parseListQuery,
  RelayOutbox,
  type UseCases,
  User,
} from '@shipyard/core';
import test from 'ava';
import { waitFor } from '../contracts/job-queue.contract.js';
import {
  CountingJobQueue,
  coreOnPostgres,
  countingHandlers,
  openScratchDatabase,
  pendingOutbox,
  type ScratchDatabase,
  tenantWithService,
  withAfterWork,
} from './postgres-world.js';
import { listKeys, REDIS_URL, randomPrefix, redisProxy, removeKeys } from './redis-support.js';

// One database for the file: the relay reads the outbox platform-wide, so the tests run one at a
// time and each leaves no pending row behind.
const prefix = randomPrefix();
const cleanups: Array<() => Promise<unknown>> = [];
let subject: ScratchDatabase | undefined;
test.before(async () => {
  subject = await openScratchDatabase();
});
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await subject?.close();
  await removeKeys(prefix);
});
const uow = () => {
  if (subject === undefined) throw new Error('the database did not open');
  return subject.database.uow;
};
let counter = 0;
const subPrefix = () => `${prefix}:${++counter}`;

/** Generous: the machine running the suites may be busy. */
const WAIT_MS = 45_000;

function beeQueue(redis: string, p: string): BeeQueueJobQueue {
  const queue = new BeeQueueJobQueue({ redis, prefix: p, backoffMs: 50, publishTimeoutMs: 3_000 });
  cleanups.push(() => queue.close());
  return queue;
}

async function worker(p: string, handlers: Parameters<typeof startWorker>[0]['handlers']) {
  const started = await startWorker({ redis: REDIS_URL, prefix: p, handlers, closeTimeoutMs: 5_000 });
  cleanups.push(() => started.close());
  return started;
}

/** No job waiting, running or delayed in any queue. */
async function queuesIdle(queue: BeeQueueJobQueue): Promise<boolean> {
  const counts = await queue.counts();
  return Object.values(counts).every((c) => c.waiting === 0 && c.active === 0 && c.delayed === 0);
}

const outboxRows = (tenantId: string) => uow().run(tenantId, (repos) => repos.outbox.count());

async function buildsOf(useCases: UseCases, owner: Principal, serviceId: string) {
  return (await useCases.listBuilds.execute(owner, serviceId, { limit: 100 })).items;
}

test.serial(
  'a unit that wrote an outbox row and then failed leaves no row, and the relay publishes nothing',
  async (t) => {
    const p = subPrefix();
    const queue = beeQueue(REDIS_URL, p);
    const publisher = new CountingJobQueue(queue);
    const core = coreOnPostgres(uow(), publisher);
    const { owner, email, service } = await tenantWithService(core.useCases);
    const tenantId = owner.tenantId;

    // TriggerBuild's whole work (build, service status, outbox row), then the unit throws.
    const seen: OutboxMessage[] = [];
    const failure = new Error('after the writes');
    const throwing = createUseCases({
      ...core.deps,
      uow: withAfterWork(uow(), async (repos) => {
        seen.push(
          ...(await repos.outbox.list(parseListQuery('outboxMessage', { filters: { state: 'pending' } }))).items,
        );
        throw failure;
      }),
    });
    t.is(await t.throwsAsync(throwing.triggerBuild.execute(owner, service.id)), failure);

    // The same, but PostgreSQL refuses the commit (a second user with the owner's email).
    const refused = createUseCases({
      ...core.deps,
      uow: withAfterWork(uow(), async (repos) => {
        seen.push(
          ...(await repos.outbox.list(parseListQuery('outboxMessage', { filters: { state: 'pending' } }))).items,
        );
        const twin = User.create({ id: randomUUID(), now: new Date() }, { tenantId, email, role: 'member' });
        await repos.users.add(twin);
      }),
    });
    await t.throwsAsync(refused.triggerBuild.execute(owner, service.id), { code: 'conflict' });

    // Inside each unit the row was in the database, in the transaction.
    t.is(seen.length, 2);
    for (const row of seen) t.like(row, { tenantId, name: 'build.run', queue: 'build', sentAt: null });

    t.is(await outboxRows(tenantId), 0, 'no outbox row, sent or not');
    t.deepEqual(await pendingOutbox(uow()), []);
    t.deepEqual(await buildsOf(core.useCases, owner, service.id), []);
    t.is((await core.useCases.getService.execute(owner, service.id)).status, 'idle');

    const relay = new RelayOutbox(core.deps);
    t.deepEqual(await relay.execute(), { published: 0, blocked: false });
    t.deepEqual(publisher.published, []);
    for (const [name, counts] of Object.entries(await queue.counts())) {
      t.like(counts, { waiting: 0, active: 0, delayed: 0, succeeded: 0, failed: 0 }, name);
    }
    t.deepEqual(await listKeys(p), [], 'no job record in Redis');
  },
);

test.serial(
  'jobs written while Redis is unreachable stay pending in PostgreSQL, then are published once and run',
  async (t) => {
    const p = subPrefix();
    const proxy = await redisProxy();
    cleanups.push(() => proxy.stop());
    const publisher = new CountingJobQueue(beeQueue(proxy.url(), p));
    const direct = beeQueue(REDIS_URL, p);
    const core = coreOnPostgres(uow(), publisher);
    const { owner, service } = await tenantWithService(core.useCases, { autoDeploy: true });
    const tenantId = owner.tenantId;
    const { handlers, runs } = countingHandlers(new JobHandlers(core.useCases));
    await worker(p, handlers);

    await proxy.stop();
    const build = await core.useCases.triggerBuild.execute(owner, service.id);
    const relay = new RelayOutbox(core.deps);
    t.deepEqual(await relay.execute(), { published: 0, blocked: true });
    t.deepEqual(await relay.execute(), { published: 0, blocked: true });
    t.true(core.logger.entries.some((e) => e.message === 'cannot publish outbox message; will retry'));

    const pending = await pendingOutbox(uow());
    t.is(pending.length, 1);
    const [message] = pending;
    t.like(message, {
      tenantId,
      name: 'build.run',
      queue: 'build',
      sentAt: null,
      payload: { tenant_id: tenantId, build_id: build.id },
    });
    t.deepEqual(publisher.published, []);
    t.is(await direct.status({ id: message.id, queue: 'build' }), null, 'nothing reached Redis');
    t.is((await core.useCases.getBuild.execute(owner, build.id)).status, 'queued');

    // Redis is back: the same publisher reconnects, and the relay runs as in the API process.
    await proxy.start();
    const loop = startOutboxRelay({ relay, intervalMs: 100, logger: core.logger });
    cleanups.push(() => loop.stop());
    loop.nudge();

    await waitFor(
      async () => (await core.useCases.getBuild.execute(owner, build.id)).status === 'succeeded',
      'the build to succeed',
      WAIT_MS,
    );
    const liveDeployment = async () =>
      (await core.useCases.listDeployments.execute(owner, service.id)).items.find((d) => d.status === 'live');
    await waitFor(async () => (await liveDeployment()) !== undefined, 'the deployment to go live', WAIT_MS);
    await waitFor(
      async () => (await pendingOutbox(uow())).length === 0 && (await queuesIdle(direct)),
      'the outbox and the queues to drain',
      WAIT_MS,
    );
    await loop.stop();

    const deployments = (await core.useCases.listDeployments.execute(owner, service.id)).items;
    t.is(deployments.length, 1);
    const [deployment] = deployments;
    t.like(deployment, { status: 'live', buildId: build.id });
    t.is((await core.useCases.getService.execute(owner, service.id)).status, 'live');

    // Every outbox row of the tenant was published once, and each job ran once.
    t.true(publisher.published.includes(message.id));
    t.is(new Set(publisher.published).size, publisher.published.length, 'no id published twice');
    t.is(await outboxRows(tenantId), publisher.published.length);
    // The worker pruned the finished jobs: the rows are what is left.
    t.is(await direct.status({ id: message.id, queue: 'build' }), null);
    t.deepEqual(
      runs.filter((r) => r.name === 'build.run'),
      [{ name: 'build.run', subject: build.id }],
    );
    t.deepEqual(
      runs.filter((r) => r.name === 'deployment.run'),
      [{ name: 'deployment.run', subject: deployment.id }],
    );
    const counts = await direct.counts();
    t.like(counts.build, { waiting: 0, active: 0, delayed: 0, succeeded: 0, failed: 0 });
    t.like(counts.deployment, { waiting: 0, active: 0, delayed: 0, succeeded: 0, failed: 0 });
    t.deepEqual(
      (await listKeys(p)).filter((key) => /:(jobs|succeeded|failed)$/.test(key)),
      [],
      'no job record in Redis',
    );
  },
);

test.serial('two relays over the same pending rows give one job per outbox id', async (t) => {
  const p = subPrefix();
  const first = new CountingJobQueue(beeQueue(REDIS_URL, p));
  const second = new CountingJobQueue(beeQueue(REDIS_URL, p));
  const direct = beeQueue(REDIS_URL, p);
  const core = coreOnPostgres(uow(), first);
  const { owner, service } = await tenantWithService(core.useCases);
  const relayA = new RelayOutbox({ ...core.deps, jobs: first });
  const relayB = new RelayOutbox({ ...core.deps, jobs: second });
  // One service per build: the builds run two at a time, and this test is about the relay.
  const builds: Build[] = [];
  const trigger = async (n: number) => {
    for (let i = 0; i < n; i += 1) {
      const own = await core.useCases.createService.execute(owner, service.projectId, {
        name: `web-${builds.length + 1}`,
        repoUrl: 'https://github.com/acme/web.git',
      });
      builds.push(await core.useCases.triggerBuild.execute(owner, own.id));
    }
  };
  const statuses = async () =>
    Promise.all(builds.map(async (b) => (await core.useCases.getBuild.execute(owner, b.id)).status));

  // Two runs at once. One of them may fail to mark rows the other marked: they are sent anyway.
  await trigger(6);
  const settled = await Promise.allSettled([relayA.execute(), relayB.execute()]);
  for (const s of settled) if (s.status === 'rejected') t.log('a relay run failed:', String(s.reason));
  t.deepEqual(await pendingOutbox(uow()), []);

  // Two relay loops at once, in small batches.
  await trigger(6);
  const loops = [relayA, relayB].map((relay) =>
    startOutboxRelay({ relay, intervalMs: 50, batchSize: 2, logger: core.logger }),
  );
  for (const loop of loops) cleanups.push(() => loop.stop());
  for (const loop of loops) loop.nudge();
  await waitFor(async () => (await pendingOutbox(uow())).length === 0, 'the relays to publish every row', WAIT_MS);
  await Promise.all(loops.map((loop) => loop.stop()));

  const ids = [...new Set([...first.published, ...second.published])];
  t.is(ids.length, 12, 'every outbox row was published');
  t.log(`publishes: ${first.published.length + second.published.length} for ${ids.length} rows`);
  t.like((await direct.counts()).build, { waiting: 12, active: 0, delayed: 0 }, 'one bee-queue job per outbox id');
  for (const id of ids) t.is(await direct.status({ id, queue: 'build' }), 'pending');
  t.is((await direct.liveJobs(ids.map((id) => ({ id, queue: 'build' as const })))).size, 12);

  // A worker runs each of them once (the notifications they write go through one more relay).
  const { handlers, runs } = countingHandlers(new JobHandlers(core.useCases));
  await worker(p, handlers);
  const loop = startOutboxRelay({ relay: relayA, intervalMs: 100, logger: core.logger });
  cleanups.push(() => loop.stop());
  await waitFor(
    async () => (await statuses()).every((status) => status === 'succeeded'),
    'every build to succeed',
    WAIT_MS,
  );
  await waitFor(
    async () => (await pendingOutbox(uow())).length === 0 && (await queuesIdle(direct)),
    'the outbox and the queues to drain',
    WAIT_MS,
  );
  await loop.stop();

  const buildRuns = runs.filter((r) => r.name === 'build.run').map((r) => r.subject);
  t.deepEqual([...buildRuns].sort(), builds.map((b) => b.id).sort(), 'one run per build');
  t.like((await direct.counts()).build, { succeeded: 0, failed: 0, waiting: 0, active: 0 });
  t.deepEqual([...(await direct.liveJobs(ids.map((id) => ({ id, queue: 'build' as const }))))], []);
});
