import test from 'ava';
import { ValidationError } from '../domain/app.errors.js';
import { createTestHarness } from '../testing/index.js';

async function withService(options: { autoDeploy?: boolean } = {}) {
  const harness = createTestHarness();
  const { principal: owner } = await harness.signUp();
  const uc = harness.useCases;
  const project = await uc.createProject.execute(owner, { name: 'Website' });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    buildCommand: 'npm run build',
    autoDeploy: options.autoDeploy ?? false,
  });
  return { harness, uc, owner, project, service };
}

test('a service is created idle under its project, with defaults', async (t) => {
  const { uc, owner, project, service } = await withService();
  t.is(service.projectId, project.id);
  t.is(service.status, 'idle');
  t.is(service.branch, 'main');
  const listed = await uc.listServices.execute(owner, project.id);
  t.deepEqual(
    listed.items.map((s) => s.id),
    [service.id],
  );
});

test('two services of one project cannot share a name', async (t) => {
  const { uc, owner, project } = await withService();
  await t.throwsAsync(
    uc.createService.execute(owner, project.id, { name: 'web', repoUrl: 'https://example.com/other' }),
    { code: 'conflict' },
  );
  const other = await uc.createProject.execute(owner, { name: 'Other' });
  const same = await uc.createService.execute(owner, other.id, { name: 'web', repoUrl: 'https://example.com/o' });
  t.is(same.name, 'web', 'the same name is fine in another project');
});

test('an invalid service is a validation error naming its field', async (t) => {
  const { uc, owner, project, service } = await withService();
  const error = await t.throwsAsync(
    uc.createService.execute(owner, project.id, { name: 'Bad Name', repoUrl: 'https://example.com/x' }),
    { instanceOf: ValidationError },
  );
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    ['name'],
  );
  const update = await t.throwsAsync(uc.updateService.execute(owner, service.id, { repoUrl: 'ftp://example.com' }), {
    instanceOf: ValidationError,
  });
  t.deepEqual(
    update?.details.map((issue) => issue.field),
    ['repoUrl'],
  );
});

test('a service update is stored', async (t) => {
  const { uc, owner, service } = await withService();
  await uc.updateService.execute(owner, service.id, { port: 8080, autoDeploy: true, startCommand: 'npm start' });
  const stored = await uc.getService.execute(owner, service.id);
  t.is(stored.port, 8080);
  t.true(stored.autoDeploy);
  t.is(stored.startCommand, 'npm start');
});

test('env vars are stored encrypted and read back masked', async (t) => {
  const { harness, uc, owner, service } = await withService();
  const shown = await uc.setServiceEnv.execute(owner, service.id, {
    DATABASE_URL: 'postgres://user:hunter2@db/app',
    API_KEY: 'sk_live_abcdef',
  });
  t.deepEqual(shown, { API_KEY: '****', DATABASE_URL: '****' });
  t.deepEqual(await uc.getServiceEnv.execute(owner, service.id), { API_KEY: '****', DATABASE_URL: '****' });

  const stored = harness.db.table('service').get(service.id)?.env as Record<string, string>;
  t.deepEqual(Object.keys(stored).sort(), ['API_KEY', 'DATABASE_URL']);
  t.not(stored.API_KEY, 'sk_live_abcdef');
  t.false(String(stored.API_KEY).includes('sk_live_abcdef'));
  t.false(String(stored.DATABASE_URL).includes('hunter2'));
  t.false(JSON.stringify(harness.db.table('service').get(service.id)).includes('hunter2'));
});

test('setting env vars replaces the whole set', async (t) => {
  const { uc, owner, service } = await withService();
  await uc.setServiceEnv.execute(owner, service.id, { A: '1', B: '2' });
  await uc.setServiceEnv.execute(owner, service.id, { C: '3' });
  t.deepEqual(await uc.getServiceEnv.execute(owner, service.id), { C: '****' });
  await uc.setServiceEnv.execute(owner, service.id, {});
  t.deepEqual(await uc.getServiceEnv.execute(owner, service.id), {});
});

test('invalid env var names or values are validation errors naming vars.NAME', async (t) => {
  const { harness, uc, owner, service } = await withService();
  await uc.setServiceEnv.execute(owner, service.id, { KEEP: 'me' });
  const error = await t.throwsAsync(
    uc.setServiceEnv.execute(owner, service.id, {
      OK: 'fine',
      '9LIVES': 'x',
      'BAD NAME': 'y',
      NOT_TEXT: 42 as never,
      HUGE: 'x'.repeat(32_769),
    }),
    { instanceOf: ValidationError },
  );
  t.is(error?.code, 'validation_error');
  t.deepEqual(error?.details.map((issue) => issue.field).sort(), [
    'vars.9LIVES',
    'vars.BAD NAME',
    'vars.HUGE',
    'vars.NOT_TEXT',
  ]);
  t.deepEqual(await uc.getServiceEnv.execute(owner, service.id), { KEEP: '****' }, 'the old set is kept');
  t.truthy(harness.db.table('service').get(service.id));
});

test('more than 200 env vars are refused', async (t) => {
  const { uc, owner, service } = await withService();
  const vars = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`V${i}`, 'x']));
  await t.throwsAsync(uc.setServiceEnv.execute(owner, service.id, vars), { code: 'validation_error' });
});

test('env vars reach the build runner decrypted', async (t) => {
  const { harness, uc, owner, service } = await withService();
  await uc.setServiceEnv.execute(owner, service.id, { API_KEY: 'sk_live_abcdef', MODE: 'production' });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(harness.buildRunner.calls.length, 1);
  t.deepEqual(harness.buildRunner.calls[0]?.env, { API_KEY: 'sk_live_abcdef', MODE: 'production' });
});

test('env vars reach the deployment runtime decrypted', async (t) => {
  const { harness, uc, owner, service } = await withService({ autoDeploy: true });
  await uc.setServiceEnv.execute(owner, service.id, { API_KEY: 'sk_live_abcdef' });
  await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(harness.runtime.calls.length, 1);
  t.deepEqual(harness.runtime.calls[0]?.env, { API_KEY: 'sk_live_abcdef' });
});

test('the build logs never show an env value', async (t) => {
  const { harness, uc, owner, service } = await withService();
  await uc.setServiceEnv.execute(owner, service.id, { API_KEY: 'sk_live_abcdef' });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.true(done.logs.length > 0);
  t.false(done.logs.includes('sk_live_abcdef'));
});

test('an env value copied to another service cannot be decrypted there: the build fails', async (t) => {
  const { harness, uc, owner, project, service } = await withService();
  await uc.setServiceEnv.execute(owner, service.id, { API_KEY: 'sk_live_abcdef' });
  const other = await uc.createService.execute(owner, project.id, { name: 'api', repoUrl: 'https://example.com/api' });
  const row = harness.db.table('service').get(other.id);
  if (row === undefined) return t.fail('the service row is missing');
  row.env = { ...(harness.db.table('service').get(service.id)?.env as Record<string, string>) };
  const build = await uc.triggerBuild.execute(owner, other.id);
  await harness.drain();
  const done = await uc.getBuild.execute(owner, build.id);
  t.is(done.status, 'failed');
  t.regex(done.error ?? '', /decrypt/);
  t.is(harness.buildRunner.calls.length, 0, 'the runner never saw the value');
});

test('deleting a service deletes its builds and deployments', async (t) => {
  const { harness, uc, owner, service } = await withService({ autoDeploy: true });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  t.is(harness.db.table('deployment').size, 1);
  await uc.deleteService.execute(owner, service.id);
  await t.throwsAsync(uc.getBuild.execute(owner, build.id), { code: 'not_found' });
  t.is(harness.db.table('build').size, 0);
  t.is(harness.db.table('deployment').size, 0);
});

test('deleting a project deletes its services', async (t) => {
  const { harness, uc, owner, project, service } = await withService();
  await uc.triggerBuild.execute(owner, service.id);
  await uc.deleteProject.execute(owner, project.id);
  await t.throwsAsync(uc.getService.execute(owner, service.id), { code: 'not_found' });
  t.is(harness.db.table('service').size, 0);
  t.is(harness.db.table('build').size, 0);
});

test('deleting a team leaves its projects without a team', async (t) => {
  const { uc, owner } = await withService();
  const team = await uc.createTeam.execute(owner, { name: 'Platform' });
  const project = await uc.createProject.execute(owner, { name: 'Infra', teamId: team.id });
  await uc.deleteTeam.execute(owner, team.id);
  t.is((await uc.getProject.execute(owner, project.id)).teamId, null);
});

test('a team lists its members, and a user joins a team once', async (t) => {
  const { harness, uc, owner } = await withService();
  const member = await harness.addUser(owner, 'member');
  const team = await uc.createTeam.execute(owner, { name: 'Platform' });
  await uc.addTeamMember.execute(owner, team.id, { userId: member.userId, role: 'maintainer' });
  await t.throwsAsync(uc.addTeamMember.execute(owner, team.id, { userId: member.userId }), { code: 'conflict' });
  const loaded = await uc.getTeam.execute(owner, team.id);
  t.deepEqual(
    loaded.members?.map((m) => [m.userId, m.role]),
    [[member.userId, 'maintainer']],
  );
  await uc.removeTeamMember.execute(owner, team.id, member.userId);
  t.deepEqual((await uc.getTeam.execute(owner, team.id)).members, []);
  await t.throwsAsync(uc.removeTeamMember.execute(owner, team.id, member.userId), { code: 'not_found' });
});
