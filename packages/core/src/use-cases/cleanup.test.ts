import test from 'ava';
import type { Principal } from '../domain/role.js';
import type { Service } from '../domain/service.entity.js';
import { TestHarness } from '../testing/index.js';
import type { CleanupReport } from './run-cleanup.use-case.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

async function setup() {
  const harness = new TestHarness({
    settings: { keepLatestBuilds: 2, buildRetentionDays: 30, outboxRetentionDays: 7 },
  });
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const web = await uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/w' });
  const api = await uc.createService.execute(owner, project.id, { name: 'api', repoUrl: 'https://example.com/a' });
  return { harness, uc, owner, web, api };
}

/**
 * Runs `count` builds of a service to the end, a minute apart, by calling the build job directly
 * (other queued jobs are left alone); returns their ids, oldest first.
 */
async function finishedBuilds(harness: TestHarness, owner: Principal, service: Service, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    harness.clock.advance(MINUTE);
    const build = await harness.useCases.triggerBuild.execute(owner, service.id);
    await harness.useCases.runBuild.execute({ tenant_id: owner.tenantId, build_id: build.id });
    ids.push(build.id);
  }
  return ids;
}

const buildIds = (harness: TestHarness) => [...harness.db.table('build').keys()].sort();

test('cleanup keeps the newest builds of each service and deletes the older finished ones', async (t) => {
  const { harness, uc, owner, web, api } = await setup();
  const webBuilds = await finishedBuilds(harness, owner, web, 5);
  const apiBuilds = await finishedBuilds(harness, owner, api, 1);
  harness.clock.advance(31 * DAY);
  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.buildsDeleted, 3);
  t.deepEqual(buildIds(harness), [...webBuilds.slice(3), ...apiBuilds].sort());
});

test('cleanup keeps builds that are not past the retention', async (t) => {
  const { harness, uc, owner, web } = await setup();
  const old = await finishedBuilds(harness, owner, web, 2);
  harness.clock.advance(20 * DAY);
  const recent = await finishedBuilds(harness, owner, web, 3);
  harness.clock.advance(15 * DAY); // `old` finished 35 days ago, `recent` 15 days ago
  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.buildsDeleted, 2);
  t.deepEqual(buildIds(harness), [...recent].sort());
  t.false(buildIds(harness).some((id) => old.includes(id)));
});

test('cleanup keeps old builds that a deployment uses', async (t) => {
  const { harness, uc, owner, web } = await setup();
  const [deployed, ...others] = await finishedBuilds(harness, owner, web, 5);
  await uc.createDeployment.execute(owner, web.id, { buildId: deployed ?? '' });
  await harness.drain();
  harness.clock.advance(31 * DAY);
  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.buildsDeleted, 2);
  t.deepEqual(buildIds(harness), [deployed, ...others.slice(2)].sort());
  t.is((await uc.listDeployments.execute(owner, web.id)).items[0]?.status, 'live');
});

test('cleanup deletes old failed and cancelled builds but never a build that is not finished', async (t) => {
  const { harness, uc, owner, web } = await setup();
  const queued: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    harness.clock.advance(MINUTE);
    queued.push((await uc.triggerBuild.execute(owner, web.id)).id); // never run: stays queued
  }
  harness.clock.advance(MINUTE);
  const cancelled = (await uc.triggerBuild.execute(owner, web.id)).id;
  await uc.cancelBuild.execute(owner, cancelled);
  await uc.updateService.execute(owner, web.id, { buildCommand: 'exit 1' });
  const [failed] = await finishedBuilds(harness, owner, web, 1);
  await uc.updateService.execute(owner, web.id, { buildCommand: null });
  const latest = await finishedBuilds(harness, owner, web, 2);
  t.is((await uc.getBuild.execute(owner, failed ?? '')).status, 'failed');
  harness.clock.advance(31 * DAY);
  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.buildsDeleted, 2);
  t.deepEqual(buildIds(harness), [...queued, ...latest].sort());
});

test('cleanup prunes sent outbox rows past the retention and keeps unsent and recent ones', async (t) => {
  const { harness, uc, owner, web } = await setup();
  await finishedBuilds(harness, owner, web, 1);
  await harness.drain(); // its rows are sent now
  const oldSent = [...harness.db.table('outboxMessage').keys()];
  t.true(oldSent.length > 0);
  harness.clock.advance(8 * DAY);
  harness.jobs.outage.begin();
  await uc.triggerBuild.execute(owner, web.id); // unsent, and stays unsent
  await uc.relayOutbox.execute();
  harness.jobs.outage.end();
  const unsent = [...harness.db.table('outboxMessage').keys()].filter((id) => !oldSent.includes(id));
  harness.clock.advance(8 * DAY);
  const recentBuild = (await uc.triggerBuild.execute(owner, web.id)).id;
  await uc.relayOutbox.execute(); // sends the stuck row and this one: both sent just now
  t.true(harness.db.table('build').has(recentBuild));

  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.outboxMessagesDeleted, oldSent.length);
  const left = [...harness.db.table('outboxMessage').keys()];
  t.false(left.some((id) => oldSent.includes(id)));
  t.true(
    unsent.every((id) => left.includes(id)),
    'a row sent only recently is kept',
  );
  t.is(left.length, unsent.length + 1);
});

test('cleanup never touches an unsent outbox row, however old', async (t) => {
  const { harness, uc, owner, web } = await setup();
  harness.jobs.outage.begin();
  await uc.triggerBuild.execute(owner, web.id);
  await uc.relayOutbox.execute();
  harness.clock.advance(365 * DAY);
  const report = await uc.runCleanup.execute({ tenant_id: owner.tenantId });
  t.is(report.outboxMessagesDeleted, 0);
  t.is(harness.db.table('outboxMessage').size, 1);
});

test('cleanup of one tenant leaves another tenant’s builds and rows alone', async (t) => {
  const { harness, uc, owner, web } = await setup();
  await finishedBuilds(harness, owner, web, 5);
  const other = await harness.signUp();
  const otherProject = await uc.createProject.execute(other.principal, { name: 'Theirs' });
  const otherService = await uc.createService.execute(other.principal, otherProject.id, {
    name: 'web',
    repoUrl: 'https://example.com/t',
  });
  const theirs = await finishedBuilds(harness, other.principal, otherService, 5);
  await harness.drain(); // every outbox row of both tenants is sent
  const ourRows = [...harness.db.table('outboxMessage').values()].filter(
    (row) => row.tenantId === owner.tenantId,
  ).length;
  const theirRows = [...harness.db.table('outboxMessage').values()].filter(
    (row) => row.tenantId === other.principal.tenantId,
  ).length;
  harness.clock.advance(31 * DAY);
  const report = (await harness.handlers.run('cleanup.run', { tenant_id: owner.tenantId })) as CleanupReport;
  t.is(report.buildsDeleted, 3);
  t.is(report.outboxMessagesDeleted, ourRows);
  t.true(theirs.every((id) => harness.db.table('build').has(id)));
  t.is(
    [...harness.db.table('outboxMessage').values()].filter((row) => row.tenantId === other.principal.tenantId).length,
    theirRows,
  );
});
