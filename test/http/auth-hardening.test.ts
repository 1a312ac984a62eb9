import test from 'ava';
import { bearer, TestApp } from './fixture.js';

test('a demoted owner cannot use the token they still hold to promote themselves back', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const second = await api.userWithRole(owner, 'owner');
  await api.http.patch(`/api/v1/users/${second.userId}`).set(bearer(owner)).send({ role: 'viewer' }).expect(200);
  // A lower role ends every session: the token still held is refused outright.
  const res = await api.http
    .patch(`/api/v1/users/${second.userId}`)
    .set(bearer(second))
    .send({ role: 'owner' })
    .expect(401);
  t.is(res.body.error.code, 'authentication_error');
  const again = await api.http
    .post('/api/v1/auth/login')
    .send({ email: second.email, password: 'correct horse battery' })
    .expect(200);
  const refused = await api.http
    .patch(`/api/v1/users/${second.userId}`)
    .set(bearer({ token: again.body.access_token }))
    .send({ role: 'owner' })
    .expect(403);
  t.is(refused.body.error.code, 'authorization_error');
  const me = await api.http
    .get('/api/v1/auth/me')
    .set(bearer({ token: again.body.access_token }))
    .expect(200);
  t.is(me.body.role, 'viewer');
});

test('a deactivated or deleted user is out at once, whatever tokens they hold', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const admin = await api.userWithRole(owner, 'admin');
  const member = await api.userWithRole(owner, 'member');
  await api.http.patch(`/api/v1/users/${admin.userId}`).set(bearer(owner)).send({ is_active: false }).expect(200);
  const deactivated = await api.http
    .post('/api/v1/users')
    .set(bearer(admin))
    .send({ email: 'sneaky@example.test', password: 'correct horse battery', role: 'admin' })
    .expect(401);
  t.is(deactivated.body.error.code, 'authentication_error');
  await api.http.delete(`/api/v1/users/${member.userId}`).set(bearer(owner)).expect(204);
  await api.http.get('/api/v1/projects').set(bearer(member)).expect(401);
});

test('a NUL character in any input is a 422 naming the field, not a server error', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const body = await api.http.post('/api/v1/projects').set(bearer(owner)).send({ name: 'a\u0000b' }).expect(422);
  t.deepEqual(body.body.error.details, [{ field: 'name', message: 'must not contain NUL characters' }]);
  const query = await api.http.get('/api/v1/projects?name=a%00b').set(bearer(owner)).expect(422);
  t.is(query.body.error.details[0].field, 'name');
  const login = await api.http
    .post('/api/v1/auth/login')
    .send({ email: 'a\u0000@example.test', password: 'whatever!!' })
    .expect(422);
  t.is(login.body.error.details[0].field, 'email');
});

// Up to the lockout limit: attempts in flight count against it until one succeeds.
test('parallel sign-ins of one user all succeed', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const results = await Promise.all(
    Array.from({ length: 5 }, () =>
      api.http.post('/api/v1/auth/login').send({ email: owner.email, password: 'correct horse battery' }),
    ),
  );
  t.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
});

test('a burst of parallel wrong passwords checks at most five before the email locks', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const before = api.harness.passwords.verifications;
  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      api.http.post('/api/v1/auth/login').send({ email: owner.email, password: 'wrong password!' }),
    ),
  );
  t.true(results.every((r) => r.status === 401));
  t.true(api.harness.passwords.verifications - before <= 5, 'no more guesses than the limit were checked');
  t.true(results.filter((r) => r.headers['retry-after'] !== undefined).length >= 15);
});

test('parallel registrations of tenants with the same name all succeed with distinct slugs', async (t) => {
  const api = new TestApp();
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      api.http.post('/api/v1/auth/register').send({
        tenant_name: 'Twin Corp',
        email: `twin-${i}-${Date.now()}@example.test`,
        password: 'correct horse battery',
      }),
    ),
  );
  t.deepEqual(
    results.map((r) => r.status),
    [201, 201, 201, 201, 201],
  );
  t.is(new Set(results.map((r) => r.body.tenant.slug)).size, 5);
});

test('the GitHub callback is 404 when GitHub sign-in is not configured', async (t) => {
  const api = new TestApp();
  const res = await api.http.get('/api/v1/auth/github/callback?code=a&state=b').expect(404);
  t.is(res.body.error.code, 'not_found');
});

test('logout ends every access token of the session, not only the one it was called with', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const refreshed = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: owner.refreshToken }).expect(200);
  const sibling = { token: refreshed.body.access_token as string };
  await api.http.get('/api/v1/auth/me').set(bearer(sibling)).expect(200);
  await api.http.post('/api/v1/auth/logout').set(bearer(owner)).expect(204);
  await api.http.get('/api/v1/auth/me').set(bearer(sibling)).expect(401);
  const other = await api.http
    .post('/api/v1/auth/login')
    .send({ email: owner.email, password: 'correct horse battery' })
    .expect(200);
  await api.http
    .get('/api/v1/auth/me')
    .set(bearer({ token: other.body.access_token }))
    .expect(200);
  t.pass('another session of the same user is untouched');
});

test('a reused refresh token ends the session: the newest access token of the family is 401 at once', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const login = await api.http
    .post('/api/v1/auth/login')
    .send({ email: owner.email, password: 'correct horse battery' })
    .expect(200);
  const first = login.body.refresh_token as string;
  const pair2 = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: first }).expect(200);
  const newest = { token: pair2.body.access_token as string };
  await api.http.get('/api/v1/auth/me').set(bearer(newest)).expect(200);
  const reused = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: first }).expect(401);
  t.is(reused.body.error.code, 'authentication_error');
  t.is(api.harness.logger.entries.filter((entry) => entry.message?.includes('reused')).length, 1);
  const me = await api.http.get('/api/v1/auth/me').set(bearer(newest)).expect(401);
  t.is(me.body.error.code, 'authentication_error');
  await api.http.get('/api/v1/projects').set(bearer(newest)).expect(401);
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: pair2.body.refresh_token }).expect(401);
  // The registration is a session of its own: it goes on.
  await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  t.deepEqual(
    api.harness.logger.entries.filter((entry) => entry.level === 'error'),
    [],
  );
});

test('parallel presentations of one refresh token: at most one 200, every other answer 401, never 409', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  for (let round = 1; round <= 5; round += 1) {
    const login = await api.http
      .post('/api/v1/auth/login')
      .send({ email: owner.email, password: 'correct horse battery' })
      .expect(200);
    const warnings = api.harness.logger.entries.filter((entry) => entry.message?.includes('reused')).length;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.http.post('/api/v1/auth/refresh').send({ refresh_token: login.body.refresh_token }),
      ),
    );
    const statuses = results.map((r) => r.status);
    t.true(
      statuses.every((status) => status === 200 || status === 401),
      `round ${round}: ${statuses.join(' ')}`,
    );
    t.true(statuses.filter((status) => status === 200).length <= 1, `round ${round}: ${statuses.join(' ')}`);
    const refused = results.filter((r) => r.status === 401);
    t.true(refused.every((r) => r.body.error.code === 'authentication_error'));
    const warned = api.harness.logger.entries.filter((entry) => entry.message?.includes('reused')).length - warnings;
    t.is(warned, refused.length, `round ${round}: one warning per detected reuse`);
    // The session is over for whoever holds its tokens, the winner's new pair included.
    const winner = results.find((r) => r.status === 200);
    if (winner !== undefined && refused.length > 0) {
      await api.http
        .get('/api/v1/auth/me')
        .set(bearer({ token: winner.body.access_token }))
        .expect(401);
    }
  }
  t.deepEqual(
    api.harness.logger.entries.filter((entry) => entry.level === 'error'),
    [],
  );
});
