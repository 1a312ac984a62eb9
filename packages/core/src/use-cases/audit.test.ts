import test from 'ava';
import type { AuditEvent } from '../domain/audit-event.entity.js';
import type { Principal } from '../domain/role.js';
import { parseListQuery } from '../query/list-query.js';
import { TestHarness } from '../testing/index.js';

const PASSWORD = 'correct horse battery';
const DAY = 86_400_000;

/** Every event of the tenant, oldest first, read past the use cases. */
const eventsOf = (harness: TestHarness, tenantId: string): Promise<AuditEvent[]> =>
  harness.uow
    .run(tenantId, (r) =>
      r.audit.list(parseListQuery('auditEvent', { sortBy: 'occurredAt', sortOrder: 'asc', limit: 1000 })),
    )
    .then((page) => page.items);

/** Runs `change` and returns the events it wrote. */
async function written(harness: TestHarness, tenantId: string, change: () => Promise<unknown>): Promise<AuditEvent[]> {
  const before = new Set((await eventsOf(harness, tenantId)).map((e) => e.id));
  harness.clock.advance(1000);
  await change();
  return (await eventsOf(harness, tenantId)).filter((e) => !before.has(e.id));
}

test('every state-changing use case writes exactly one event, with its actor, action and target', async (t) => {
  const harness = new TestHarness();
  const uc = harness.useCases;
  const signedUp = await harness.signUp({ email: 'owner@example.test' });
  const { sessionId } = await harness.tokens.verifyAccess(signedUp.session.accessToken);
  const owner: Principal = { ...signedUp.principal, ip: '203.0.113.7', sessionId };
  const tenantId = owner.tenantId;
  const registered = await eventsOf(harness, tenantId);
  t.deepEqual(
    registered.map((e) => [e.action, e.targetType, e.targetId, e.actorId]),
    [['auth.register', 'tenant', tenantId, owner.userId]],
  );

  const one = async (
    action: string,
    change: () => Promise<unknown>,
    target?: (events: AuditEvent) => string,
  ): Promise<AuditEvent> => {
    const events = await written(harness, tenantId, change);
    t.is(events.length, 1, `${action}: one event`);
    const [event] = events as [AuditEvent];
    t.is(event.action as string, action);
    if (target !== undefined) t.truthy(target(event));
    return event;
  };

  const user = await uc.createUser.execute(owner, { email: 'm@example.test', password: PASSWORD, role: 'member' });
  const created = (await eventsOf(harness, tenantId)).at(-1) as AuditEvent;
  t.like(created, { action: 'user.create', actorType: 'user', actorId: owner.userId, ip: '203.0.113.7' });
  t.is(created.targetId, user.id);
  t.false(JSON.stringify(created.summary).includes(PASSWORD));

  await one('tenant.update', () => uc.updateTenant.execute(owner, { name: 'Renamed' }));
  await one('user.update', () => uc.updateUser.execute(owner, user.id, { fullName: 'M' }));
  const roleChange = await one('user.role_change', () => uc.updateUser.execute(owner, user.id, { role: 'admin' }));
  t.like(roleChange.summary, { role_from: 'member', role_to: 'admin', changed: ['role'] });
  await one('user.deactivate', () => uc.updateUser.execute(owner, user.id, { isActive: false }));
  await one('user.activate', () => uc.updateUser.execute(owner, user.id, { isActive: true }));
  const team = await uc.createTeam.execute(owner, { name: 'Core' });
  await one('team.update', () => uc.updateTeam.execute(owner, team.id, { name: 'Core 2' }));
  await one('team.member_add', () => uc.addTeamMember.execute(owner, team.id, { userId: user.id }));
  await one('team.member_remove', () => uc.removeTeamMember.execute(owner, team.id, user.id));
  const project = await uc.createProject.execute(owner, { name: 'Web' });
  const update = await one('project.update', () => uc.updateProject.execute(owner, project.id, { name: 'Web 2' }));
  t.deepEqual(update.summary, { changed: ['name'] });
  const service = await uc.createService.execute(owner, project.id, {
    name: 'api',
    repoUrl: 'https://github.com/a/b.git',
  });
  await one('service.update', () => uc.updateService.execute(owner, service.id, { branch: 'dev' }));
  const env = await one('service.env_update', () =>
    uc.setServiceEnv.execute(owner, service.id, { DATABASE_URL: 'postgres://u:hunter2@db/x' }),
  );
  t.deepEqual(env.summary, { names: ['DATABASE_URL'], added: ['DATABASE_URL'], removed: [] });
  const build = await uc.triggerBuild.execute(owner, service.id);
  await one('build.cancel', () => uc.cancelBuild.execute(owner, build.id));
  const ok = await uc.triggerBuild.execute(owner, service.id);
  await harness.drain();
  const deployment = await one('deployment.create', () =>
    uc.createDeployment.execute(owner, service.id, { buildId: ok.id }),
  );
  t.is(deployment.actorType, 'user');
  await one('deployment.cancel', () => uc.cancelDeployment.execute(owner, deployment.targetId));
  await one('service.delete', () => uc.deleteService.execute(owner, service.id));
  await one('project.delete', () => uc.deleteProject.execute(owner, project.id));
  await one('team.delete', () => uc.deleteTeam.execute(owner, team.id));
  await one('user.delete', () => uc.deleteUser.execute(owner, user.id));
  const logout = await one('auth.logout', () =>
    uc.logout.execute(owner, { tokenId: 'jti', expiresAt: new Date(Date.now() + DAY), sessionId }),
  );
  t.like(logout, { actorId: owner.userId, sessionId });

  const actions = new Set((await eventsOf(harness, tenantId)).map((e) => e.action));
  for (const action of ['team.create', 'project.create', 'service.create', 'build.trigger']) {
    t.true(actions.has(action as never), action);
  }
});

test('a change that fails writes no event: the event shares its transaction', async (t) => {
  const harness = new TestHarness();
  const { principal: owner } = await harness.signUp();
  const project = await harness.useCases.createProject.execute(owner, { name: 'Web' });
  const events = await written(harness, owner.tenantId, async () => {
    await t.throwsAsync(harness.useCases.updateProject.execute(owner, project.id, { name: ' ' }), {
      code: 'validation_error',
    });
    await t.throwsAsync(
      harness.useCases.createUser.execute(owner, { email: 'OWNER-x@example.test', password: 'short', role: 'viewer' }),
      { code: 'validation_error' },
    );
    const service = await harness.useCases.createService.execute(owner, project.id, {
      name: 'api',
      repoUrl: 'https://github.com/a/b.git',
    });
    await t.throwsAsync(
      harness.useCases.createService.execute(owner, project.id, { name: 'api', repoUrl: 'https://github.com/a/c.git' }),
      { code: 'conflict' },
    );
    return service;
  });
  t.deepEqual(
    events.map((e) => e.action),
    ['service.create'],
  );
});

test('sign-in: a success records the session; a failure is recorded in the tenant of the email; an unknown email nowhere', async (t) => {
  const harness = new TestHarness();
  const { principal: owner } = await harness.signUp({ email: 'owner@example.test' });
  const session = await harness.useCases.login.execute(
    { email: 'owner@example.test', password: PASSWORD },
    { ip: '198.51.100.1' },
  );
  const failed = await written(harness, owner.tenantId, () =>
    t.throwsAsync(
      harness.useCases.login.execute({ email: 'owner@example.test', password: 'Tr0ub4dor&3' }, { ip: '::1' }),
    ),
  );
  t.is(failed.length, 1);
  t.like(failed[0], { action: 'auth.login_failed', actorId: null, targetId: owner.userId, ip: '::1' });
  t.false(JSON.stringify(failed[0]).includes('Tr0ub4dor'), 'the password tried is not kept');
  const login = (await eventsOf(harness, owner.tenantId)).find((e) => e.action === 'auth.login');
  t.like(login, { actorId: owner.userId, ip: '198.51.100.1' });
  t.truthy(login?.sessionId);
  const claims = await harness.tokens.verifyAccess(session.accessToken);
  t.is(login?.sessionId, claims.sessionId);

  const before = harness.db.table('auditEvent').size;
  await t.throwsAsync(harness.useCases.login.execute({ email: 'nobody@example.test', password: 'wrong' }));
  t.is(harness.db.table('auditEvent').size, before, 'an unknown email has no tenant to record it in');
});

test('an automatic deployment is recorded as the system', async (t) => {
  const harness = new TestHarness();
  const { principal: owner } = await harness.signUp();
  const project = await harness.useCases.createProject.execute(owner, { name: 'Web' });
  const service = await harness.useCases.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/a/b.git',
    autoDeploy: true,
  });
  const events = await written(harness, owner.tenantId, async () => {
    await harness.useCases.triggerBuild.execute(owner, service.id);
    await harness.drain();
  });
  t.deepEqual(
    events.map((e) => [e.action, e.actorType, e.actorId, e.ip]),
    [
      ['build.trigger', 'user', owner.userId, null],
      ['deployment.create', 'system', null, null],
    ],
  );
});

test('only admins and owners list the trail, and from after to is a validation error', async (t) => {
  const harness = new TestHarness();
  const { principal: owner } = await harness.signUp();
  for (const role of ['viewer', 'member'] as const) {
    const who = await harness.addUser(owner, role);
    await t.throwsAsync(harness.useCases.listAuditEvents.execute(who), { code: 'authorization_error' });
  }
  const admin = await harness.addUser(owner, 'admin');
  t.true((await harness.useCases.listAuditEvents.execute(admin)).total >= 3);
  await t.throwsAsync(
    harness.useCases.listAuditEvents.execute(owner, {}, { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
    { code: 'validation_error' },
  );
  await t.throwsAsync(harness.useCases.listAuditEvents.execute(owner, {}, { from: 'yesterday' }), {
    code: 'validation_error',
  });
});

test('the cleanup job deletes audit events past the retention, of every tenant, and keeps newer ones', async (t) => {
  const harness = new TestHarness({ settings: { auditRetentionDays: 30 } });
  const a = await harness.signUp();
  const b = await harness.signUp();
  harness.clock.advance(20 * DAY);
  await harness.useCases.createProject.execute(a.principal, { name: 'recent' });
  harness.clock.advance(15 * DAY);
  const report = await harness.handlers.run('cleanup.run', { tenant_id: a.tenant.id });
  t.like(report, { auditEventsDeleted: 2 }, "both tenants' registrations are past 30 days");
  t.deepEqual(
    (await eventsOf(harness, a.tenant.id)).map((e) => e.action),
    ['project.create'],
  );
  t.deepEqual(await eventsOf(harness, b.tenant.id), []);
  t.like(await harness.handlers.run('cleanup.run', { tenant_id: b.tenant.id }), { auditEventsDeleted: 0 });
});
