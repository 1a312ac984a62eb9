import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import { SignJWT } from 'jose';
import { AUDIENCE, bearer, ISSUER, TestApp } from './fixture.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token like a real access token of `who`, with `change` applied to its claims or header. */
async function forge(
  api: TestApp,
  who: { userId: string; tenantId: string },
  options: { secret?: Uint8Array; kid?: string; aud?: string; exp?: number | null; typ?: string } = {},
): Promise<string> {
  const now = Math.floor(api.harness.clock.now().getTime() / 1000);
  const jwt = new SignJWT({ typ: options.typ ?? 'access', tid: who.tenantId, role: 'owner', sid: randomUUID() })
    .setProtectedHeader({ alg: 'HS256', kid: options.kid ?? 'k1' })
    .setSubject(who.userId)
    .setJti(randomUUID())
    .setIssuer(ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt(now);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now + 600);
  return jwt.sign(options.secret ?? api.keys[0]?.secret ?? new Uint8Array());
}

const rejects = async (t: import('ava').ExecutionContext, api: TestApp, token: string) => {
  const res = await api.http.get('/api/v1/auth/me').set(bearer({ token }));
  t.is(res.status, 401);
  t.is(res.body.error.code, 'authentication_error');
};

test('a forged token signed with the real key is accepted (the control case)', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const res = await api.http.get('/api/v1/auth/me').set(bearer({ token: await forge(api, owner) }));
  t.is(res.status, 200);
});

test('alg none is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const now = Math.floor(Date.now() / 1000);
  const token = `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64({
    sub: owner.userId,
    tid: owner.tenantId,
    role: 'owner',
    typ: 'access',
    sid: randomUUID(),
    jti: randomUUID(),
    iss: ISSUER,
    aud: AUDIENCE,
    exp: now + 600,
  })}.`;
  await rejects(t, api, token);
});

test('a token signed with another key is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await rejects(t, api, await forge(api, owner, { secret: randomBytes(32) }));
});

test('a token without exp is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await rejects(t, api, await forge(api, owner, { exp: null }));
});

test('a token for another audience is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await rejects(t, api, await forge(api, owner, { aud: 'someone-else' }));
});

test('a token with an unknown kid is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await rejects(t, api, await forge(api, owner, { kid: 'k9' }));
});

test('a refresh token used as an access token is 401, and an access token as a refresh token too', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await rejects(t, api, owner.refreshToken);
  const res = await api.http.post('/api/v1/auth/refresh').send({ refresh_token: owner.token });
  t.is(res.status, 401);
});

test('a blacklisted jti is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.http.post('/api/v1/auth/logout').set(bearer(owner)).expect(204);
  await rejects(t, api, owner.token);
});

test('an expired token is 401', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  api.harness.clock.advance(16 * 60 * 1000);
  await rejects(t, api, owner.token);
});

test('a token used before expires all the same: the verified-token cache asks the clock', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  api.harness.clock.advance(14 * 60 * 1000);
  await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  api.harness.clock.advance(2 * 60 * 1000);
  const res = await api.http.get('/api/v1/auth/me').set(bearer(owner));
  t.is(res.status, 401);
  t.is(res.body.error.message, 'Token expired');
});

test('a token accepted once is refused after logout (the cache keeps no decision)', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);
  await api.http.post('/api/v1/auth/logout').set(bearer(owner)).expect(204);
  await rejects(t, api, owner.token);
});

test('garbage and a malformed Authorization header are 401', async (t) => {
  const api = new TestApp();
  await rejects(t, api, 'not.a.jwt');
  const res = await api.http.get('/api/v1/auth/me').set('Authorization', 'Basic dXNlcjpwYXNz');
  t.is(res.status, 401);
  const none = await api.http.get('/api/v1/auth/me');
  t.is(none.status, 401);
});

test('a token signed by a previous key still verifies while that key is listed', async (t) => {
  const oldKey = { id: 'old', secret: randomBytes(32) };
  const api = new TestApp({ keys: [{ id: 'new', secret: randomBytes(32) }, oldKey] });
  const owner = await api.register();
  const token = await forge(api, owner, { kid: 'old', secret: oldKey.secret });
  const res = await api.http.get('/api/v1/auth/me').set(bearer({ token }));
  t.is(res.status, 200);
});
