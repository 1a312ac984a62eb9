import test from 'ava';
import type { Build } from '../domain/build.entity.js';
import type { Deployment } from '../domain/deployment.entity.js';
import type { Project } from '../domain/project.entity.js';
import type { Principal } from '../domain/role.js';
import type { Service } from '../domain/service.entity.js';
import type { Team } from '../domain/team.entity.js';
import { createTestHarness, type TestHarness } from '../testing/index.js';

/** One tenant's things, all made by its owner. */
interface Estate {
  owner: Principal;
  member: Principal;
  project: Project;
  service: Service;
  team: Team;
  build: Build;
  queued: Build;
  deployment: Deployment;
}

async function estate(harness: TestHarness, name: string): Promise<Estate> {
  const { principal: owner } = await harness.signUp({ tenantName: name, email: `owner@${name}.test` });
  const member = await harness.addUser(owner, 'member', `member@${name}.test`);
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: `${name} site` });
  const service = await uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/w' });
  const team = await uc.createTeam.execute(owner, { name: `${name} team` });
  await uc.addTeamMember.execute(owner, team.id, { userId: member.userId });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployment = await uc.createDeployment.execute(owner, service.id, { buildId: build.id });
  await harness.drain();
  const queued = await uc.triggerBuild.execute(owner, service.id);
  return { owner, member, project, service, team, build, queued, deployment };
}

async function twoTenants() {
  const harness = createTestHarness();
  const a = await estate(harness, 'alpha');
  const b = await estate(harness, 'bravo');
  return { harness, uc: harness.useCases, a, b };
}

/** Every row id with its version: equal snapshots mean nothing was written. */
function snapshot(harness: TestHarness): string {
  const rows: string[] = [];
  for (const [name, table] of harness.db.tables) {
    for (const [id, row] of table) rows.push(`${name}:${id}:${row.version}`);
  }
  return rows.sort().join('\n');
}

const MISSING = '00000000-0000-4000-8000-00000000ffff';

test('another tenant’s rows cannot be read: not_found, as for an id that does not exist', async (t) => {
  const { uc, a, b } = await twoTenants();
  const reads: Array<[string, (id: string) => Promise<unknown>, string]> = [
    ['project', (id) => uc.getProject.execute(a.owner, id), b.project.id],
    ['service', (id) => uc.getService.execute(a.owner, id), b.service.id],
    ['service env', (id) => uc.getServiceEnv.execute(a.owner, id), b.service.id],
    ['build', (id) => uc.getBuild.execute(a.owner, id), b.build.id],
    ['deployment', (id) => uc.getDeployment.execute(a.owner, id), b.deployment.id],
    ['team', (id) => uc.getTeam.execute(a.owner, id), b.team.id],
    ['user', (id) => uc.getUser.execute(a.owner, id), b.member.userId],
    ['services of a project', (id) => uc.listServices.execute(a.owner, id), b.project.id],
    ['builds of a service', (id) => uc.listBuilds.execute(a.owner, id), b.service.id],
    ['deployments of a service', (id) => uc.listDeployments.execute(a.owner, id), b.service.id],
  ];
  for (const [what, read, foreignId] of reads) {
    const foreign = await t.throwsAsync(read(foreignId), { code: 'not_found' }, what);
    const missing = await t.throwsAsync(read(MISSING), { code: 'not_found' }, what);
    t.deepEqual(foreign?.message, missing?.message, `${what}: the same message as a missing id`);
  }
});

test('another tenant’s rows cannot be changed or deleted, and stay as they were', async (t) => {
  const { harness, uc, a, b } = await twoTenants();
  const before = snapshot(harness);
  const writes: Array<[string, () => Promise<unknown>]> = [
    ['update project', () => uc.updateProject.execute(a.owner, b.project.id, { name: 'Taken over' })],
    ['delete project', () => uc.deleteProject.execute(a.owner, b.project.id)],
    ['update service', () => uc.updateService.execute(a.owner, b.service.id, { port: 1 })],
    ['delete service', () => uc.deleteService.execute(a.owner, b.service.id)],
    ['set env', () => uc.setServiceEnv.execute(a.owner, b.service.id, { STOLEN: '1' })],
    ['cancel build', () => uc.cancelBuild.execute(a.owner, b.queued.id)],
    ['rollback', () => uc.rollbackDeployment.execute(a.owner, b.deployment.id)],
    ['update team', () => uc.updateTeam.execute(a.owner, b.team.id, { name: 'Ours' })],
    ['delete team', () => uc.deleteTeam.execute(a.owner, b.team.id)],
    ['remove team member', () => uc.removeTeamMember.execute(a.owner, b.team.id, b.member.userId)],
    ['update user', () => uc.updateUser.execute(a.owner, b.member.userId, { role: 'viewer' })],
    ['delete user', () => uc.deleteUser.execute(a.owner, b.member.userId)],
  ];
  for (const [what, write] of writes) await t.throwsAsync(write(), { code: 'not_found' }, what);
  t.is(snapshot(harness), before, 'tenant B is untouched');
  t.is((await uc.getProject.execute(b.owner, b.project.id)).name, 'bravo site');
});

test('nothing can be created under another tenant’s rows', async (t) => {
  const { harness, uc, a, b } = await twoTenants();
  const before = snapshot(harness);
  const creates: Array<[string, () => Promise<unknown>]> = [
    [
      'service under B’s project',
      () => uc.createService.execute(a.owner, b.project.id, { name: 'api', repoUrl: 'https://example.com/api' }),
    ],
    ['build of B’s service', () => uc.triggerBuild.execute(a.owner, b.service.id)],
    [
      'deployment of B’s build on B’s service',
      () => uc.createDeployment.execute(a.owner, b.service.id, { buildId: b.build.id }),
    ],
    [
      'deployment of B’s build on A’s service',
      () => uc.createDeployment.execute(a.owner, a.service.id, { buildId: b.build.id }),
    ],
    ['project in B’s team', () => uc.createProject.execute(a.owner, { name: 'Sneaky', teamId: b.team.id })],
    ['member of B’s team', () => uc.addTeamMember.execute(a.owner, b.team.id, { userId: a.member.userId })],
    ['B’s user in A’s team', () => uc.addTeamMember.execute(a.owner, a.team.id, { userId: b.member.userId })],
    ['team owned by B’s user', () => uc.createTeam.execute(a.owner, { name: 'Theirs', ownerId: b.member.userId })],
  ];
  for (const [what, create] of creates) await t.throwsAsync(create(), { code: 'not_found' }, what);
  t.is(snapshot(harness), before, 'nothing was written, and no job was scheduled');
});

test('a project cannot be moved into another tenant’s team, nor a team handed to another tenant’s user', async (t) => {
  const { uc, a, b } = await twoTenants();
  await t.throwsAsync(uc.updateProject.execute(a.owner, a.project.id, { teamId: b.team.id }), { code: 'not_found' });
  t.is((await uc.getProject.execute(a.owner, a.project.id)).teamId, null);
  await t.throwsAsync(uc.updateTeam.execute(a.owner, a.team.id, { ownerId: b.owner.userId }), { code: 'not_found' });
  t.is((await uc.getTeam.execute(a.owner, a.team.id)).ownerId, a.owner.userId);
});

test('a project in a team of the same tenant is accepted', async (t) => {
  const { uc, a } = await twoTenants();
  const project = await uc.createProject.execute(a.owner, { name: 'Team work', teamId: a.team.id });
  t.is(project.teamId, a.team.id);
});

test('lists show only the caller’s tenant', async (t) => {
  const { uc, a, b } = await twoTenants();
  const projects = await uc.listProjects.execute(a.owner);
  t.deepEqual(
    projects.items.map((p) => p.id),
    [a.project.id],
  );
  t.is(projects.total, 1);
  const teams = await uc.listTeams.execute(a.owner);
  t.deepEqual(
    teams.items.map((team) => team.id),
    [a.team.id],
  );
  const users = await uc.listUsers.execute(a.owner);
  t.is(users.total, 2);
  t.true(users.items.every((user) => user.tenantId === a.owner.tenantId));
  const builds = await uc.listBuilds.execute(a.owner, a.service.id);
  t.false(builds.items.some((build) => build.id === b.build.id || build.id === b.queued.id));
  t.is(builds.total, 2);
  const deployments = await uc.listDeployments.execute(a.owner, a.service.id);
  t.deepEqual(
    deployments.items.map((d) => d.id),
    [a.deployment.id],
  );
});

test('a filter on another tenant’s id finds nothing', async (t) => {
  const { uc, a, b } = await twoTenants();
  const projects = await uc.listProjects.execute(a.owner, { filters: { teamId: b.team.id } });
  t.is(projects.total, 0);
  const teamOfB = await uc.listTeams.execute(a.owner, { filters: { ownerId: b.owner.userId } });
  t.is(teamOfB.total, 0);
});

test('each tenant reads only its own tenant row', async (t) => {
  const { uc, a, b } = await twoTenants();
  t.is((await uc.getTenant.execute(a.owner)).id, a.owner.tenantId);
  t.is((await uc.getTenant.execute(b.owner)).id, b.owner.tenantId);
  await uc.updateTenant.execute(a.owner, { name: 'Alpha Renamed' });
  t.is((await uc.getTenant.execute(b.owner)).name, 'bravo');
});

test('a tenant cannot take another tenant’s slug', async (t) => {
  const { uc, a, b } = await twoTenants();
  const slugOfB = (await uc.getTenant.execute(b.owner)).slug;
  await t.throwsAsync(uc.updateTenant.execute(a.owner, { slug: slugOfB }), { code: 'conflict' });
});

test('a job carrying another tenant’s id does nothing to the build', async (t) => {
  const { harness, a, b } = await twoTenants();
  const runs = harness.buildRunner.calls.length;
  const result = await harness.handlers.run('build.run', { tenant_id: a.owner.tenantId, build_id: b.queued.id });
  t.is(result, 'skipped');
  t.is(harness.buildRunner.calls.length, runs);
  t.is((await harness.useCases.getBuild.execute(b.owner, b.queued.id)).status, 'queued');
});
