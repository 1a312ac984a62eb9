import test from 'ava';
import { bearer, TestApp } from './fixture.js';

test('register answers 201 with tokens, the owner and the tenant, and sets httpOnly cookies', async (t) => {
  const api = new TestApp();
  const res = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Acme Corp', email: 'Ada@Example.test', password: 'correct horse battery', full_name: 'Ada' })
    .expect(201);
  t.is(res.body.token_type, 'bearer');
  t.is(res.body.expires_in, 900);
  t.is(typeof res.body.access_token, 'string');
  t.is(typeof res.body.refresh_token, 'string');
  t.like(res.body.user, { email: 'ada@example.test', role: 'owner', full_name: 'Ada', is_active: true });
  t.false('password_hash' in res.body.user);
  t.like(res.body.tenant, { name: 'Acme Corp', slug: 'acme-corp' });
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const access = cookies.find((c) => c.startsWith('access_token='));
  t.truthy(access);
  t.regex(access ?? '', /httponly/i);
  t.regex(access ?? '', /samesite=lax/i);
  t.truthy(cookies.find((c) => c.startsWith('csrf_token=') && !/httponly/i.test(c)));
});

test('register rejects unknown fields, bad types and a taken email with the wire error shape', async (t) => {
  const api = new TestApp();
  const unknown = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'X Co', email: 'x@example.test', password: 'correct horse battery', tenant_id: 'evil' })
    .expect(422);
  t.is(unknown.body.error.code, 'validation_error');
  t.deepEqual(unknown.body.error.details, [{ field: 'tenant_id', message: 'is not allowed' }]);
  t.is(typeof unknown.body.error.request_id, 'string');
  const badType = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 42, email: 'x@example.test', password: 'correct horse battery' })
    .expect(422);
  t.is(badType.body.error.details[0].field, 'tenant_name');
  const weak = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'X Co', email: 'x@example.test', password: 'short' })
    .expect(422);
  t.is(weak.body.error.details[0].field, 'password');
  await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'X Co', email: 'x@example.test', password: 'correct horse battery' })
    .expect(201);
  const taken = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Y Co', email: 'X@example.test', password: 'correct horse battery' })
    .expect(409);
  t.is(taken.body.error.code, 'conflict');
});

test('login works; a wrong password and an unknown email get the same 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const ok = await api.http.post('/api/v1/auth/login').send({ email: owner.email, password: 'correct horse battery' });
  t.is(ok.status, 200);
  t.is(ok.body.user.id, owner.userId);
  const wrong = await api.http.post('/api/v1/auth/login').send({ email: owner.email, password: 'wrong password!' });
  const unknown = await api.http
    .post('/api/v1/auth/login')
    .send({ email: 'nobody@example.test', password: 'wrong password!' });
  t.is(wrong.status, 401);
  t.is(unknown.status, 401);
  t.deepEqual({ ...wrong.body.error, request_id: '' }, { ...unknown.body.error, request_id: '' });
});

test('five failed logins lock the email: the same 401 plus Retry-After, even with the right password', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  for (let i = 0; i < 5; i += 1) {
    await api.http.post('/api/v1/auth/login').send({ email: owner.email, password: 'wrong password!' }).expect(401);
  }
  const locked = await api.http
    .post('/api/v1/auth/login')
    .send({ email: owner.email, password: 'correct horse battery' })
    .expect(401);
  t.is(locked.body.error.message, 'Invalid email or password');
  const retryAfter = Number(locked.headers['retry-after']);
  t.true(retryAfter > 0 && retryAfter <= 900);
});

test('the auth routes are rate-limited per IP: 429 with Retry-After', async (t) => {
  const { AuthRateLimits } = await import('@shipyard/adapters-http');
  const api = new TestApp({ rateLimits: new AuthRateLimits({ requestsPerMinute: 3 }) });
  for (let i = 0; i < 3; i += 1) {
    await api.http.post('/api/v1/auth/login').send({ email: 'a@example.test', password: 'whatever!!' }).expect(401);
  }
  const limited = await api.http
    .post('/api/v1/auth/login')
    .send({ email: 'a@example.test', password: 'whatever!!' })
    .expect(429);
  t.is(limited.body.error.code, 'rate_limited');
  t.true(Number(limited.headers['retry-after']) >= 1);
});

test('me returns the flat user; logout blacklists the token and revokes the refresh family', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const me = await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  t.like(me.body, { id: owner.userId, tenant_id: owner.tenantId, role: 'owner' });
  await api.http.post('/api/v1/auth/logout').set(bearer(owner)).expect(204);
  const after = await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(401);
  t.is(after.body.error.code, 'authentication_error');
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: owner.refreshToken }).expect(401);
});

test('refresh rotates; replaying R1 is 401 and then R2 is 401 too (family revoked)', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const r2 = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: owner.refreshToken }).expect(200);
  t.not(r2.body.refresh_token, owner.refreshToken);
  await api.http
    .get('/api/v1/auth/me')
    .set(bearer({ token: r2.body.access_token }))
    .expect(200);
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: owner.refreshToken }).expect(401);
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: r2.body.refresh_token }).expect(401);
});

test('two parallel refreshes of one token: exactly one succeeds', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const results = await Promise.all(
    [1, 2].map(() => api.http.post('/api/v1/auth/refresh').send({ refresh_token: owner.refreshToken })),
  );
  t.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
});

test('refresh takes the token from the refresh cookie when the body has none', async (t) => {
  const api = new TestApp();
  const agent = (await import('supertest')).default.agent(api.app.callback());
  await agent
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Cookie Co', email: 'cookie@example.test', password: 'correct horse battery' })
    .expect(201);
  const refreshed = await agent.post('/api/v1/auth/refresh').send({}).expect(200);
  t.is(refreshed.body.user.email, 'cookie@example.test');
});

test('a cookie-authenticated write needs the CSRF header matching the cookie', async (t) => {
  const api = new TestApp();
  const agent = (await import('supertest')).default.agent(api.app.callback());
  const reg = await agent
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Csrf Co', email: 'csrf@example.test', password: 'correct horse battery' })
    .expect(201);
  const csrf = ([] as string[])
    .concat(reg.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('csrf_token='))
    ?.split(';')[0]
    ?.slice('csrf_token='.length);
  t.truthy(csrf);
  await agent.get('/api/v1/projects').expect(200);
  const refused = await agent.post('/api/v1/projects').send({ name: 'web' }).expect(403);
  t.is(refused.body.error.code, 'authorization_error');
  await agent.post('/api/v1/projects').set('x-csrf-token', 'not-the-token').send({ name: 'web' }).expect(403);
  await agent
    .post('/api/v1/projects')
    .set('x-csrf-token', csrf ?? '')
    .set('sec-fetch-site', 'cross-site')
    .send({ name: 'web' })
    .expect(403);
  await agent
    .post('/api/v1/projects')
    .set('x-csrf-token', csrf ?? '')
    .set('origin', 'https://evil.example')
    .send({ name: 'web' })
    .expect(403);
  await agent
    .post('/api/v1/projects')
    .set('x-csrf-token', csrf ?? '')
    .set('sec-fetch-site', 'same-origin')
    .send({ name: 'web' })
    .expect(201);
});

test('when the blacklist cannot answer, authenticated requests get 503, never access', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  api.harness.blacklist.outage.begin();
  const res = await api.http.get('/api/v1/projects').set(bearer(owner)).expect(503);
  t.is(res.body.error.code, 'service_unavailable');
  api.harness.blacklist.outage.end();
  await api.http.get('/api/v1/projects').set(bearer(owner)).expect(200);
});
