import { AccountRateLimits } from '@shipyard/adapters-http';
import test from 'ava';
import supertest from 'supertest';
import { bearer, TestApp } from './fixture.js';

const PASSWORD = 'correct horse battery';
const DAY = 86_400_000;

const lastToken = (api: TestApp, email: string): string => {
  const token = api.harness.mailer.lastToken(email);
  if (token === undefined) throw new Error(`no mail to ${email}`);
  return token;
};

const login = (api: TestApp, email: string, password = PASSWORD) =>
  api.http.post('/api/v1/auth/login').send({ email, password });

const cookieValue = (res: { headers: Record<string, unknown> }, name: string): string | undefined =>
  ([] as string[])
    .concat((res.headers['set-cookie'] as string[] | undefined) ?? [])
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0]
    ?.slice(name.length + 1);

test('registration mails a single-use verification link; following it verifies the address', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const me = await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  t.is(me.body.email_verified_at, null);
  const [mail] = api.harness.mailer.to(owner.email);
  t.regex(mail?.subject ?? '', /verify/i);
  t.regex(mail?.text ?? '', /http:\/\/localhost:3000\/verify-email#token=/);
  const token = lastToken(api, owner.email);

  await api.http.post('/api/v1/auth/verify-email').send({ token }).expect(204);
  const verified = await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  t.truthy(verified.body.email_verified_at);

  const reused = await api.http.post('/api/v1/auth/verify-email').send({ token }).expect(422);
  t.is(reused.body.error.code, 'validation_error');
  t.is(reused.body.error.details[0].field, 'token');
});

test('a malformed, tampered or expired verification token is 422, never a 500', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const token = lastToken(api, owner.email);
  const [tenantId, userId, secret] = token.split('.') as [string, string, string];
  const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
  for (const bad of [
    '',
    'garbage',
    `${tenantId}.${userId}`,
    `${tenantId}.${userId}.${flipped}`,
    `${userId}.${tenantId}.${secret}`,
    `not-a-uuid.${userId}.${secret}`,
    `${tenantId}.${userId}.${secret}.extra`,
    `${tenantId}.${userId}.${'x'.repeat(250)}`,
  ]) {
    const res = await api.http.post('/api/v1/auth/verify-email').send({ token: bad });
    t.is(res.status, 422, bad);
    t.is(res.body.error.code, 'validation_error');
  }
  await api.http.post('/api/v1/auth/verify-email').send({ token: 42 }).expect(422);
  await api.http.post('/api/v1/auth/verify-email').send({}).expect(422);
  api.harness.clock.advance(3 * DAY);
  await api.http.post('/api/v1/auth/verify-email').send({ token }).expect(422);
});

test('resend-verification replaces the link, is refused once verified, and is limited per user', async (t) => {
  const api = new TestApp({ accountLimits: new AccountRateLimits({ verificationMailsPerHour: 2 }) });
  const owner = await api.register();
  const first = lastToken(api, owner.email);
  await api.http.post('/api/v1/auth/resend-verification').expect(401);
  await api.http.post('/api/v1/auth/resend-verification').set(bearer(owner)).expect(202);
  const second = lastToken(api, owner.email);
  t.not(second, first);
  await api.http.post('/api/v1/auth/verify-email').send({ token: first }).expect(422);
  await api.http.post('/api/v1/auth/resend-verification').set(bearer(owner)).expect(202);
  const limited = await api.http.post('/api/v1/auth/resend-verification').set(bearer(owner)).expect(429);
  t.truthy(limited.headers['retry-after']);
  await api.http
    .post('/api/v1/auth/verify-email')
    .send({ token: lastToken(api, owner.email) })
    .expect(204);

  const other = await api.register();
  await api.verifyEmail(other.email);
  const already = await api.http.post('/api/v1/auth/resend-verification').set(bearer(other)).expect(409);
  t.is(already.body.error.code, 'conflict');
});

test('forgot-password answers alike for every email; only a verified address gets a link', async (t) => {
  const api = new TestApp();
  const unverified = await api.register();
  const verified = await api.register();
  await api.verifyEmail(verified.email);
  const mailsBefore = api.harness.mailer.sent.length;

  const answers = [];
  for (const email of ['nobody@example.test', unverified.email, verified.email]) {
    const res = await api.http.post('/api/v1/auth/forgot-password').send({ email }).expect(202);
    answers.push(JSON.stringify(res.body));
  }
  t.is(new Set(answers).size, 1, 'the same answer whatever the email');
  const sent = api.harness.mailer.sent.slice(mailsBefore);
  t.deepEqual(
    sent.map((m) => m.to),
    [verified.email],
  );
  t.regex(sent[0]?.text ?? '', /reset-password#token=/);
  await api.http.post('/api/v1/auth/forgot-password').send({ email: 'not an email' }).expect(422);
});

test('a password reset sets the new password and ends every session of the user', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.verifyEmail(owner.email);
  const other = await login(api, owner.email).expect(200);
  await api.http.post('/api/v1/auth/forgot-password').send({ email: owner.email }).expect(202);
  const token = lastToken(api, owner.email);

  // A weak new password is refused and the link stays usable.
  await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'short' }).expect(422);
  await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'a brand new secret' }).expect(204);

  for (const session of [owner, { token: other.body.access_token }]) {
    const res = await api.http.get('/api/v1/auth/me').set(bearer(session)).expect(401);
    t.is(res.body.error.code, 'authentication_error');
  }
  for (const refresh of [owner.refreshToken, other.body.refresh_token]) {
    await api.http.post('/api/v1/auth/refresh').send({ refresh_token: refresh }).expect(401);
  }
  await login(api, owner.email).expect(401);
  await login(api, owner.email, 'a brand new secret').expect(200);
  await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'yet another secret' }).expect(422);
});

test('an expired reset link is refused and the password stays', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.verifyEmail(owner.email);
  await api.http.post('/api/v1/auth/forgot-password').send({ email: owner.email }).expect(202);
  const token = lastToken(api, owner.email);
  api.harness.clock.advance(61 * 60_000);
  const res = await api.http
    .post('/api/v1/auth/reset-password')
    .send({ token, password: 'a brand new secret' })
    .expect(422);
  t.is(res.body.error.details[0].field, 'token');
  await login(api, owner.email).expect(200);
});

test('two resets racing with one link: exactly one succeeds', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.verifyEmail(owner.email);
  await api.http.post('/api/v1/auth/forgot-password').send({ email: owner.email }).expect(202);
  const token = lastToken(api, owner.email);
  const results = await Promise.all(
    ['first new secret', 'second new secret', 'third new secret'].map((password) =>
      api.http.post('/api/v1/auth/reset-password').send({ token, password }),
    ),
  );
  t.deepEqual(results.map((r) => r.status).sort(), [204, 422, 422]);
});

test('change-password needs the current password, ends every session and opens a new one', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const elsewhere = await login(api, owner.email).expect(200);
  const wrong = await api.http
    .post('/api/v1/auth/change-password')
    .set(bearer(owner))
    .send({ current_password: 'not it at all', new_password: 'a brand new secret' })
    .expect(422);
  t.is(wrong.body.error.details[0].field, 'current_password');
  await api.http
    .post('/api/v1/auth/change-password')
    .set(bearer(owner))
    .send({ current_password: PASSWORD, new_password: 'short' })
    .expect(422);
  const changed = await api.http
    .post('/api/v1/auth/change-password')
    .set(bearer(owner))
    .send({ current_password: PASSWORD, new_password: 'a brand new secret' })
    .expect(200);
  await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(401);
  await api.http
    .get('/api/v1/auth/me')
    .set(bearer({ token: elsewhere.body.access_token }))
    .expect(401);
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: elsewhere.body.refresh_token }).expect(401);
  await api.http
    .get('/api/v1/auth/me')
    .set(bearer({ token: changed.body.access_token }))
    .expect(200);
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: changed.body.refresh_token }).expect(200);
  await login(api, owner.email).expect(401);
  await login(api, owner.email, 'a brand new secret').expect(200);
});

test('deactivating a user ends their sessions: reactivating them brings no old token back', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const member = await api.userWithRole(owner, 'member');
  await api.http.patch(`/api/v1/users/${member.userId}`).set(bearer(owner)).send({ is_active: false }).expect(200);
  await api.http.patch(`/api/v1/users/${member.userId}`).set(bearer(owner)).send({ is_active: true }).expect(200);
  const res = await api.http.get('/api/v1/projects').set(bearer(member)).expect(401);
  t.is(res.body.error.code, 'authentication_error');
  await api.http.post('/api/v1/auth/refresh').send({ refresh_token: member.refreshToken }).expect(401);
  await login(api, member.email).expect(200);
});

test('a higher role keeps the sessions; a lower one ends them', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const member = await api.userWithRole(owner, 'member');
  await api.http.patch(`/api/v1/users/${member.userId}`).set(bearer(owner)).send({ role: 'admin' }).expect(200);
  const me = await api.http.get('/api/v1/auth/me').set(bearer(member)).expect(200);
  t.is(me.body.role, 'admin');
  await api.http.patch(`/api/v1/users/${member.userId}`).set(bearer(owner)).send({ role: 'viewer' }).expect(200);
  await api.http.get('/api/v1/auth/me').set(bearer(member)).expect(401);
});

test('a session cannot be refreshed past its maximum age (30 days), however often it is refreshed', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  let refresh = owner.refreshToken;
  for (let day = 6; day < 30; day += 6) {
    api.harness.clock.advance(6 * DAY);
    const res = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: refresh }).expect(200);
    refresh = res.body.refresh_token;
  }
  // Day 24: the newest refresh token may not outlive the session's 30 days.
  api.harness.clock.advance(6 * DAY + 1000);
  const res = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: refresh }).expect(401);
  t.is(res.body.error.code, 'authentication_error');
  await login(api, owner.email).expect(200);
});

test('an admin invites a user without a password; the emailed link sets it and verifies the address', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const created = await api.http
    .post('/api/v1/users')
    .set(bearer(owner))
    .send({ email: 'invitee@example.test', role: 'member' })
    .expect(201);
  t.is(created.body.email_verified_at, null);
  await login(api, 'invitee@example.test', 'anything at all').expect(401);
  const [mail] = api.harness.mailer.to('invitee@example.test');
  t.regex(mail?.text ?? '', /accept-invitation#token=/);
  const token = lastToken(api, 'invitee@example.test');
  // The invitation is no verification link.
  await api.http.post('/api/v1/auth/verify-email').send({ token }).expect(422);
  await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'my own secret' }).expect(204);
  const signedIn = await login(api, 'invitee@example.test', 'my own secret').expect(200);
  t.truthy(signedIn.body.user.email_verified_at);
  await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'another secret' }).expect(422);
});

test('a forgotten invitation can be asked again through forgot-password', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.http
    .post('/api/v1/users')
    .set(bearer(owner))
    .send({ email: 'late@example.test', role: 'viewer' })
    .expect(201);
  api.harness.clock.advance(8 * DAY);
  const expired = lastToken(api, 'late@example.test');
  await api.http.post('/api/v1/auth/reset-password').send({ token: expired, password: 'my own secret' }).expect(422);
  await api.http.post('/api/v1/auth/forgot-password').send({ email: 'late@example.test' }).expect(202);
  const fresh = lastToken(api, 'late@example.test');
  t.not(fresh, expired);
  await api.http.post('/api/v1/auth/reset-password').send({ token: fresh, password: 'my own secret' }).expect(204);
});

test('user creation: a taken email is refused before hashing, and each tenant has its own hourly budget', async (t) => {
  const api = new TestApp({ accountLimits: new AccountRateLimits({ userCreationsPerHour: 3 }) });
  const owner = await api.register();
  const other = await api.register();
  const hashes = api.harness.passwords.hashes;
  const taken = await api.http
    .post('/api/v1/users')
    .set(bearer(owner))
    .send({ email: other.email, password: PASSWORD, role: 'member' })
    .expect(409);
  t.is(taken.body.error.code, 'conflict');
  t.is(api.harness.passwords.hashes, hashes, 'no password was hashed for a taken email');

  const viewer = await api.userWithRole(other, 'viewer');
  for (let i = 0; i < 5; i += 1) {
    await api.http
      .post('/api/v1/users')
      .set(bearer(viewer))
      .send({ email: `v${i}@example.test`, role: 'member' })
      .expect(403);
  }
  for (let i = 0; i < 2; i += 1) {
    await api.http
      .post('/api/v1/users')
      .set(bearer(owner))
      .send({ email: `u${i}@example.test`, role: 'member' })
      .expect(201);
  }
  const limited = await api.http
    .post('/api/v1/users')
    .set(bearer(owner))
    .send({ email: 'u9@example.test', role: 'member' })
    .expect(429);
  t.truthy(limited.headers['retry-after']);
  // The other tenant spent one (its viewer, refused by role, spent none).
  await api.http
    .post('/api/v1/users')
    .set(bearer(other))
    .send({ email: 'w1@example.test', role: 'member' })
    .expect(201);
});

test('mails that cannot be sent do not fail the request, and are logged', async (t) => {
  const api = new TestApp();
  api.harness.mailer.failing = true;
  const owner = await api.register();
  const me = await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  t.is(me.body.email, owner.email);
  api.harness.mailer.failing = false;
  await api.http.post('/api/v1/auth/resend-verification').set(bearer(owner)).expect(202);
  await api.verifyEmail(owner.email);
});

/** Registers through a cookie jar; returns the agent and the session's CSRF token. */
async function cookieSession(api: TestApp, email: string) {
  const agent = supertest.agent(api.app.callback());
  const reg = await agent
    .post('/api/v1/auth/register')
    .send({ tenant_name: `Co ${email}`, email, password: PASSWORD })
    .expect(201);
  const csrf = cookieValue(reg, 'csrf_token') ?? '';
  return { agent, csrf, access: cookieValue(reg, 'access_token') ?? '' };
}

test('the CSRF token is bound to the session: another session’s token does not pass', async (t) => {
  const api = new TestApp();
  const a = await cookieSession(api, 'csrf-a@example.test');
  const b = await cookieSession(api, 'csrf-b@example.test');
  t.not(a.csrf, b.csrf);
  // A cookie tossed by a sibling subdomain: b's CSRF cookie and header with a's session.
  const tossed = await a.agent
    .post('/api/v1/projects')
    .set('Cookie', `access_token=${a.access}; csrf_token=${b.csrf}`)
    .set('x-csrf-token', b.csrf)
    .set('sec-fetch-site', 'same-origin')
    .send({ name: 'web' })
    .expect(403);
  t.is(tossed.body.error.code, 'authorization_error');
  await a.agent
    .post('/api/v1/projects')
    .set('x-csrf-token', a.csrf)
    .set('sec-fetch-site', 'same-origin')
    .send({ name: 'web' })
    .expect(201);
  // A refresh keeps the session, so the token stays the same.
  const refreshed = await a.agent.post('/api/v1/auth/refresh').send({}).expect(200);
  t.is(cookieValue(refreshed, 'csrf_token'), a.csrf);
});

test('a cookie-authenticated write from the same site but another origin needs an allowed Origin', async (t) => {
  const api = new TestApp();
  const a = await cookieSession(api, 'site@example.test');
  const write = (headers: Record<string, string>) => {
    const req = a.agent.post('/api/v1/projects').set('x-csrf-token', a.csrf);
    for (const [name, value] of Object.entries(headers)) req.set(name, value);
    return req.send({ name: `p-${Math.random().toString(36).slice(2, 8)}` });
  };
  t.is((await write({ 'sec-fetch-site': 'same-site' })).status, 403);
  t.is((await write({ 'sec-fetch-site': 'same-site', origin: 'http://evil.localhost:3000' })).status, 403);
  t.is((await write({ 'sec-fetch-site': 'none' })).status, 403);
  t.is((await write({ 'sec-fetch-site': 'cross-site', origin: 'http://localhost:5173' })).status, 201);
  t.is((await write({ 'sec-fetch-site': 'same-site', origin: 'http://localhost:5173' })).status, 201);
  t.is((await write({ 'sec-fetch-site': 'same-origin' })).status, 201);
  // A bearer token needs none of it.
  const res = await api.http
    .post('/api/v1/projects')
    .set('Authorization', `Bearer ${decodeURIComponent(a.access)}`)
    .set('sec-fetch-site', 'cross-site')
    .send({ name: 'bearer-web' });
  t.is(res.status, 201);
});

test('every auth response, token responses included, is Cache-Control: no-store', async (t) => {
  const api = new TestApp();
  const reg = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Cache Co', email: 'cache@example.test', password: PASSWORD })
    .expect(201);
  t.is(reg.headers['cache-control'], 'no-store');
  const signedIn = await login(api, 'cache@example.test').expect(200);
  t.is(signedIn.headers['cache-control'], 'no-store');
  t.is(signedIn.headers.pragma, 'no-cache');
  const refreshed = await api.http
    .post('/api/v1/auth/refresh')
    .send({ refresh_token: signedIn.body.refresh_token })
    .expect(200);
  t.is(refreshed.headers['cache-control'], 'no-store');
  const failed = await login(api, 'cache@example.test', 'wrong password!').expect(401);
  t.is(failed.headers['cache-control'], 'no-store');
});

test('a full-width look-alike of an email is the same address (NFKC)', async (t) => {
  const api = new TestApp();
  await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Alice Co', email: 'alice@example.test', password: PASSWORD })
    .expect(201);
  const lookalike = '\uff41\uff4c\uff49\uff43\uff45@example.test';
  const taken = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Mallory Co', email: lookalike, password: PASSWORD })
    .expect(409);
  t.is(taken.body.error.code, 'conflict');
  const signedIn = await login(api, lookalike).expect(200);
  t.is(signedIn.body.user.email, 'alice@example.test');
});
