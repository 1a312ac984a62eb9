import { createTestHarness, SimulatedBuildRunner } from '@shipyard/core/testing';
import test from 'ava';
import { billableBuilds } from './billing.js';

test('only succeeded builds of the tenant are billed', async (t) => {
  const core = createTestHarness({ buildRunner: new SimulatedBuildRunner() });
  const acme = await core.signUp({ tenantName: 'Acme' });
  const other = await core.signUp({ tenantName: 'Other' });
  const project = await core.useCases.createProject.execute(acme.principal, { name: 'web' });
  const ok = await core.useCases.createService.execute(acme.principal, project.id, {
    name: 'api',
    repoUrl: 'https://github.com/acme/api.git',
  });
  const broken = await core.useCases.createService.execute(acme.principal, project.id, {
    name: 'worker',
    repoUrl: 'https://github.com/acme/worker.git',
    buildCommand: 'npm run build && exit 1',
  });
  await core.useCases.triggerBuild.execute(acme.principal, ok.id, {});
  await core.useCases.triggerBuild.execute(acme.principal, ok.id, {});
  await core.useCases.triggerBuild.execute(acme.principal, broken.id, {});
  await core.drain();

  t.is(await billableBuilds(core.useCases, acme.principal), 2);
  t.is(await billableBuilds(core.useCases, other.principal), 0);
});

test('a viewer can compute the bill: it only reads', async (t) => {
  const core = createTestHarness();
  const acme = await core.signUp();
  const viewer = await core.addUser(acme.principal, 'viewer');
  t.is(await billableBuilds(core.useCases, viewer), 0);
});
