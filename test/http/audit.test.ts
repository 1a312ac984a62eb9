import test from 'ava';
import type { Response } from 'supertest';
import { bearer, type SignedIn, TestApp } from './fixture.js';
import { assertError, fieldsOf } from './helpers.js';

const V1 = '/api/v1';
const DAY = 86_400_000;
const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$|^::1$/;
const EVENT_KEYS = [
  'id',
  'occurred_at',
  'actor_type',
  'actor_id',
  'session_id',
  'ip',
  'action',
  'target_type',
  'target_id',
  'summary',
  'created_at',
].sort();

interface WireEvent {
  id: string;
  occurred_at: string;
  actor_type: string;
  actor_id: string | null;
  session_id: string | null;
  ip: string | null;
  action: string;
  target_type: string;
  target_id: string;
  summary: Record<string, unknown>;
}

async function setup() {
  const api = new TestApp();
  const owner = await api.register();
  const session = async (who: SignedIn) => (await api.tokens.verifyAccess(who.token)).sessionId;
  /** The owner's view of the trail (all of it, newest first). */
  const events = async (query: Record<string, string | string[]> = {}, who: SignedIn = owner) => {
    const res = await api.http.get(`${V1}/audit-events`).query(query).set(bearer(who)).expect(200);
    return res.body.items as WireEvent[];
  };
  /** Runs `change` and returns the events it wrote. */
  const written = async (change: () => Promise<unknown>): Promise<WireEvent[]> => {
    const before = new Set((await events({ limit: '1000' })).map((e) => e.id));
    api.harness.clock.advance(1000);
    await change();
    return (await events({ limit: '1000' })).filter((e) => !before.has(e.id));
  };
  return { api, owner, session, events, written };
}

test('a change writes exactly one event, with its actor, session, IP, action and target', async (t) => {
  const { api, owner, session, written } = await setup();
  let project: Response | undefined;
  const events = await written(async () => {
    project = await api.http.post(`${V1}/projects`).set(bearer(owner)).send({ name: 'Web' }).expect(201);
  });
  t.is(events.length, 1);
  const [event] = events as [WireEvent];
  t.deepEqual(Object.keys(event).sort(), EVENT_KEYS);
  t.like(event, {
    actor_type: 'user',
    actor_id: owner.userId,
    session_id: await session(owner),
    action: 'project.create',
    target_type: 'project',
    target_id: project?.body.id,
    summary: { name: 'Web' },
  });
  t.regex(event.ip ?? '', LOOPBACK);
  t.regex(event.occurred_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

  const renamed = await written(() =>
    api.http.patch(`${V1}/projects/${project?.body.id}`).set(bearer(owner)).send({ name: 'Web 2' }).expect(200),
  );
  t.deepEqual(
    renamed.map((e) => [e.action, e.summary]),
    [['project.update', { changed: ['name'] }]],
  );
  const registered = (await api.http.get(`${V1}/audit-events`).query({ action: 'auth.register' }).set(bearer(owner)))
    .body.items as WireEvent[];
  t.deepEqual(
    registered.map((e) => [e.actor_id, e.target_type, e.target_id]),
    [[owner.userId, 'tenant', owner.tenantId]],
  );
});

test('a change that fails (conflict, validation) writes no event', async (t) => {
  const { api, owner, written } = await setup();
  const project = await api.http.post(`${V1}/projects`).set(bearer(owner)).send({ name: 'Web' }).expect(201);
  const services = `${V1}/projects/${project.body.id}/services`;
  await api.http
    .post(services)
    .set(bearer(owner))
    .send({ name: 'api', repo_url: 'https://github.com/acme/api.git' })
    .expect(201);
  const events = await written(async () => {
    const taken = await api.http
      .post(services)
      .set(bearer(owner))
      .send({ name: 'api', repo_url: 'https://github.com/acme/other.git' });
    assertError(t, taken, 409, 'conflict');
    const email = await api.http
      .post(`${V1}/users`)
      .set(bearer(owner))
      .send({ email: owner.email, password: 'correct horse battery', role: 'viewer' });
    assertError(t, email, 409, 'conflict');
    const invalid = await api.http.patch(`${V1}/projects/${project.body.id}`).set(bearer(owner)).send({ name: ' ' });
    assertError(t, invalid, 422, 'validation_error');
    const build = await api.http.post(`${V1}/services/${project.body.id}/builds`).set(bearer(owner)).send({});
    assertError(t, build, 404, 'not_found');
  });
  t.deepEqual(events, []);
});

test('an env update is recorded by names, never values', async (t) => {
  const { api, owner, written } = await setup();
  const SECRET = 'sup3r-s3cret-value-4242';
  const project = await api.http.post(`${V1}/projects`).set(bearer(owner)).send({ name: 'Web' }).expect(201);
  const service = await api.http
    .post(`${V1}/projects/${project.body.id}/services`)
    .set(bearer(owner))
    .send({ name: 'api', repo_url: 'https://github.com/acme/api.git' })
    .expect(201);
  const put = (vars: Record<string, string>) =>
    api.http.put(`${V1}/services/${service.body.id}/env`).set(bearer(owner)).send({ vars }).expect(200);
  await put({ OLD: SECRET });
  const events = await written(() => put({ DATABASE_URL: `postgres://app:${SECRET}@db/app`, API_KEY: SECRET }));
  t.deepEqual(
    events.map((e) => [e.action, e.target_id, e.summary]),
    [
      [
        'service.env_update',
        service.body.id,
        { names: ['API_KEY', 'DATABASE_URL'], added: ['API_KEY', 'DATABASE_URL'], removed: ['OLD'] },
      ],
    ],
  );
  const all = await api.http.get(`${V1}/audit-events`).query({ limit: '1000' }).set(bearer(owner)).expect(200);
  t.false(all.text.includes(SECRET), 'an env value is in the trail');
  t.false(all.text.includes('correct horse battery'), 'a password is in the trail');
  t.false(all.text.includes(owner.token), 'a token is in the trail');
});

test('only admins and owners read the trail: a viewer or a member gets 403', async (t) => {
  const { api, owner } = await setup();
  for (const role of ['viewer', 'member'] as const) {
    const who = await api.userWithRole(owner, role);
    assertError(t, await api.http.get(`${V1}/audit-events`).set(bearer(who)), 403, 'authorization_error');
  }
  const admin = await api.userWithRole(owner, 'admin');
  await api.http.get(`${V1}/audit-events`).set(bearer(admin)).expect(200);
  assertError(t, await api.http.get(`${V1}/audit-events`), 401, 'authentication_error');
});

test("another tenant's events never show, whatever the filter", async (t) => {
  const { api, owner, events } = await setup();
  const other = await api.register();
  const theirs = await api.http.post(`${V1}/projects`).set(bearer(other)).send({ name: 'Theirs' }).expect(201);
  const mine = await events({ limit: '1000' });
  t.true(mine.length > 0);
  t.false(mine.some((e) => e.actor_id === other.userId || e.target_id === theirs.body.id));
  t.deepEqual(await events({ target_id: theirs.body.id }), []);
  t.deepEqual(await events({ actor_id: other.userId }), []);
  const them = await events({ limit: '1000' }, other);
  t.false(them.some((e) => e.actor_id === owner.userId));
  t.true(them.some((e) => e.target_id === theirs.body.id));
});

test('filters, time range and pagination; bad dates, from after to and unknown values are 422', async (t) => {
  const { api, owner, events } = await setup();
  const auth = bearer(owner);
  const admin = await api.userWithRole(owner, 'admin');
  const start = new Date(api.harness.clock.now().getTime() + 500);
  const ids: string[] = [];
  for (const name of ['a', 'b', 'c']) {
    api.harness.clock.advance(1000);
    ids.push((await api.http.post(`${V1}/projects`).set(bearer(admin)).send({ name }).expect(201)).body.id);
  }
  api.harness.clock.advance(1000);
  await api.http.patch(`${V1}/projects/${ids[0]}`).set(auth).send({ name: 'a2' }).expect(200);

  const creates = await events({ action: 'project.create' });
  t.deepEqual(
    creates.map((e) => e.target_id),
    [...ids].reverse(),
    'newest first',
  );
  t.deepEqual(
    (await events({ actor_id: admin.userId, action: 'project.create' })).map((e) => e.target_id),
    [...ids].reverse(),
  );
  t.deepEqual(
    (await events({ target_type: 'project', target_id: ids[0] as string })).map((e) => e.action),
    ['project.update', 'project.create'],
  );
  t.deepEqual(
    (await events({ action: ['project.update', 'user.create'] })).map((e) => e.action),
    ['project.update', 'user.create'],
  );
  const within = await events({
    from: start.toISOString(),
    to: new Date(start.getTime() + 2000).toISOString(),
  });
  t.deepEqual(
    within.map((e) => e.target_id),
    [ids[1], ids[0]],
  );
  t.is((await events({ from: new Date(start.getTime() + 3500).toISOString() })).length, 1);
  const page = await api.http
    .get(`${V1}/audit-events`)
    .query({ action: 'project.create', skip: '1', limit: '1' })
    .set(auth)
    .expect(200);
  t.deepEqual(Object.keys(page.body).sort(), ['items', 'limit', 'skip', 'total']);
  t.like(page.body, { total: 3, skip: 1, limit: 1 });
  t.deepEqual(
    page.body.items.map((e: WireEvent) => e.target_id),
    [ids[1]],
  );
  const asc = await events({ action: 'project.create', sort_by: 'occurred_at', sort_order: 'asc' });
  t.deepEqual(
    asc.map((e) => e.target_id),
    ids,
  );

  const bad = async (query: Record<string, string>, field: string) => {
    const res = await api.http.get(`${V1}/audit-events`).query(query).set(auth);
    assertError(t, res, 422, 'validation_error');
    t.true(fieldsOf(res).includes(field), `${JSON.stringify(query)} names ${field}: ${fieldsOf(res)}`);
  };
  await bad({ from: 'yesterday' }, 'from');
  await bad({ to: '2026-13-40T00:00:00Z' }, 'to');
  await bad({ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from');
  await bad({ action: 'project.explode' }, 'action');
  await bad({ actor_id: 'not-a-uuid' }, 'actor_id');
  await bad({ target_type: 'planet' }, 'target_type');
  await bad({ limit: '0' }, 'limit');
  await bad({ sort_by: 'summary' }, 'sort_by');
  await bad({ ip: '127.0.0.1' }, 'ip');
});

test('a failed sign-in is recorded in the tenant of the email, with the IP; an unknown email records nothing', async (t) => {
  const { api, owner, events, session, written } = await setup();
  const failed = await written(async () => {
    const res = await api.http.post(`${V1}/auth/login`).send({ email: owner.email, password: 'Tr0ub4dor&3' });
    assertError(t, res, 401, 'authentication_error');
  });
  t.is(failed.length, 1);
  t.like(failed[0], { action: 'auth.login_failed', actor_type: 'user', actor_id: null, target_id: owner.userId });
  t.regex(failed[0]?.ip ?? '', LOOPBACK);
  t.false(JSON.stringify(failed).includes('Tr0ub4dor'));

  const unknown = await written(async () => {
    const res = await api.http.post(`${V1}/auth/login`).send({ email: 'nobody@example.test', password: 'x' });
    assertError(t, res, 401, 'authentication_error');
  });
  t.deepEqual(unknown, []);

  const login = await written(() =>
    api.http.post(`${V1}/auth/login`).send({ email: owner.email, password: 'correct horse battery' }).expect(200),
  );
  t.deepEqual(
    login.map((e) => [e.action, e.actor_id, e.summary]),
    [['auth.login', owner.userId, { method: 'password' }]],
  );
  // The trail is read after the logout with a token of a new sign-in.
  await api.http.post(`${V1}/auth/logout`).set(bearer(owner)).expect(204);
  const again = await api.http
    .post(`${V1}/auth/login`)
    .send({ email: owner.email, password: 'correct horse battery' })
    .expect(200);
  const fresh = { ...owner, token: again.body.access_token as string };
  const logouts = await events({ action: 'auth.logout' }, fresh);
  t.is(logouts.length, 1);
  t.like(logouts[0], { actor_id: owner.userId, session_id: await session(owner), target_id: owner.userId });
});

test('the cleanup job deletes audit events older than the retention and keeps the rest', async (t) => {
  const { api, owner } = await setup();
  await api.http.post(`${V1}/projects`).set(bearer(owner)).send({ name: 'old' }).expect(201);
  api.harness.clock.advance(300 * DAY);
  const signIn = async () =>
    (
      await api.http
        .post(`${V1}/auth/login`)
        .send({ email: owner.email, password: 'correct horse battery' })
        .expect(200)
    ).body.access_token as string;
  const token = await signIn();
  await api.http
    .post(`${V1}/projects`)
    .set({ Authorization: `Bearer ${token}` })
    .send({ name: 'new' })
    .expect(201);
  api.harness.clock.advance(100 * DAY);
  const report = await api.harness.handlers.run('cleanup.run', { tenant_id: owner.tenantId });
  t.true((report as { auditEventsDeleted: number }).auditEventsDeleted >= 2);
  const fresh = await signIn();
  const left = await api.http
    .get(`${V1}/audit-events`)
    .query({ limit: '1000' })
    .set({ Authorization: `Bearer ${fresh}` })
    .expect(200);
  const actions = (left.body.items as WireEvent[]).map((e) => e.action);
  t.deepEqual(actions, ['auth.login', 'project.create', 'auth.login']);
  t.false(
    (left.body.items as WireEvent[]).some((e) => e.summary.name === 'old'),
    'the event past 365 days is gone',
  );
});
