import { randomBytes } from 'node:crypto';
import { BundledCommonPasswords, DEVICE_COOKIE, DEVICE_COOKIE_DAYS, DeviceCookies } from '@shipyard/adapters-http';
import test from 'ava';
import { bearer, TestApp } from './fixture.js';

const PASSWORD = 'correct horse battery';
const WRONG = 'not the password at all';

const uniqueEmail = (name: string): string => `${name}-${randomBytes(4).toString('hex')}@example.test`;

const setCookies = (res: { headers: Record<string, unknown> }): string[] =>
  ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []);

/** The `device_token` cookie a response set, as a `Cookie` header value. */
const deviceCookieOf = (res: { headers: Record<string, unknown> }): string => {
  const cookie = setCookies(res).find((c) => c.startsWith(`${DEVICE_COOKIE}=`));
  if (cookie === undefined) throw new Error('no device cookie was set');
  return cookie.split(';')[0] as string;
};

const login = (api: TestApp, email: string, password: string, cookie?: string) => {
  const request = api.http.post('/api/v1/auth/login');
  if (cookie !== undefined) request.set('Cookie', cookie);
  return request.send({ email, password });
};

/** Five wrong passwords from a browser that never signed in: the email is locked. */
const lockEmail = async (api: TestApp, email: string): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await login(api, email, WRONG).expect(401);
  const locked = await login(api, email, PASSWORD).expect(401);
  if (locked.headers['retry-after'] === undefined) throw new Error('the email did not lock');
};

// --- Common passwords ---------------------------------------------------------------------

const COMMON = ['password', 'PASSWORD', 'Password1!', 'qwerty123', 'iloveyou', 'sunshine2024', 'baseball'];

test('registration refuses the most common passwords with a 422 on `password`, hashing none', async (t) => {
  const api = new TestApp();
  const hashesBefore = api.harness.passwords.hashes;
  for (const password of COMMON) {
    const res = await api.http
      .post('/api/v1/auth/register')
      .send({ tenant_name: `Acme ${randomBytes(3).toString('hex')}`, email: uniqueEmail('owner'), password })
      .expect(422);
    t.is(res.body.error.code, 'validation_error', password);
    t.is(res.body.error.details[0].field, 'password', password);
    t.regex(res.body.error.details[0].message, /common/, password);
  }
  t.is(api.harness.passwords.hashes, hashesBefore, 'a refused password is never hashed');
  // Long and unlisted passes; a listed word inside a longer passphrase is fine.
  await api.http
    .post('/api/v1/auth/register')
    .send({
      tenant_name: `Acme ${randomBytes(3).toString('hex')}`,
      email: uniqueEmail('owner'),
      password: 'password of my own making',
    })
    .expect(201);
});

test('creating a user, resetting and changing a password refuse common passwords too', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const created = await api.http
    .post('/api/v1/users')
    .set(bearer(owner))
    .send({ email: uniqueEmail('member'), password: 'Password123', role: 'member' })
    .expect(422);
  t.is(created.body.error.details[0].field, 'password');

  const changed = await api.http
    .post('/api/v1/auth/change-password')
    .set(bearer(owner))
    .send({ current_password: PASSWORD, new_password: 'qwertyuiop' })
    .expect(422);
  t.is(changed.body.error.details[0].field, 'new_password');
  await api.http.get('/api/v1/auth/me').set(bearer(owner)).expect(200);

  await api.verifyEmail(owner.email);
  await api.http.post('/api/v1/auth/forgot-password').send({ email: owner.email }).expect(202);
  const token = api.harness.mailer.lastToken(owner.email) as string;
  const reset = await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'football1' }).expect(422);
  t.is(reset.body.error.details[0].field, 'password');
  // The refused attempt leaves the link usable.
  await api.http.post('/api/v1/auth/reset-password').send({ token, password: 'a brand new secret' }).expect(204);
});

test('the bundled list: case-insensitive, with a few appended digits or symbols, and nothing more', (t) => {
  const list = new BundledCommonPasswords();
  for (const password of ['password', 'Password', 'password1', 'Password1!', 'dragon2024', 'letmein!!', '12345678']) {
    t.true(list.isCommon(password), password);
  }
  for (const password of [PASSWORD, 'dragon-fruit-on-a-tuesday', 'password83920174', 'Tr0ub4dor&3x', 'x']) {
    t.false(list.isCommon(password), password);
  }
});

// --- Lockout with device cookies ------------------------------------------------------------

test('every sign-in sets an httpOnly device cookie for the auth routes', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const res = await login(api, owner.email, PASSWORD).expect(200);
  const cookie = setCookies(res).find((c) => c.startsWith(`${DEVICE_COOKIE}=`)) ?? '';
  t.regex(cookie, /HttpOnly/i);
  t.regex(cookie, /path=\/api\/v1\/auth/i);
  t.regex(cookie, /SameSite=Lax/i);
  t.false(cookie.includes(owner.email), 'the cookie does not carry the email');
  // A failed sign-in sets none.
  t.is(
    setCookies(await login(api, owner.email, WRONG).expect(401)).find((c) => c.startsWith(`${DEVICE_COOKIE}=`)),
    undefined,
  );
});

test('a locked email still signs in from a device that signed in before, and stays locked elsewhere', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const device = deviceCookieOf(await login(api, owner.email, PASSWORD).expect(200));
  await lockEmail(api, owner.email);

  const fromDevice = await login(api, owner.email, PASSWORD, device).expect(200);
  t.is(fromDevice.body.user.id, owner.userId);
  // The owner getting in does not unlock the email for the browsers that locked it.
  const elsewhere = await login(api, owner.email, PASSWORD).expect(401);
  t.truthy(elsewhere.headers['retry-after']);
  // The device still needs the password.
  await login(api, owner.email, WRONG, device).expect(401);
});

test('a device cookie counts only for its own account and only when it is intact', async (t) => {
  const api = new TestApp();
  const victim = await api.register();
  const attacker = await api.register();
  const attackersDevice = deviceCookieOf(await login(api, attacker.email, PASSWORD).expect(200));
  const victimsDevice = deviceCookieOf(await login(api, victim.email, PASSWORD).expect(200));
  await lockEmail(api, victim.email);

  const [name, value] = victimsDevice.split('=') as [string, string];
  const [id, expires, signature] = value.split('.') as [string, string, string];
  const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
  for (const cookie of [
    attackersDevice,
    `${name}=${id}.${expires}.${flipped}`,
    `${name}=${id}.${Number(expires) + 86_400}.${signature}`,
    `${name}=${'A'.repeat(22)}.${expires}.${signature}`,
    `${name}=garbage`,
    `${name}=${'x'.repeat(5000)}`,
  ]) {
    const res = await login(api, victim.email, PASSWORD, cookie);
    t.is(res.status, 401, cookie.slice(0, 60));
    t.truthy(res.headers['retry-after']);
  }
  await login(api, victim.email, PASSWORD, victimsDevice).expect(200);
});

test("a known device's failures lock that device, not the email", async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const device = deviceCookieOf(await login(api, owner.email, PASSWORD).expect(200));
  for (let i = 0; i < 5; i += 1) await login(api, owner.email, WRONG, device).expect(401);
  const locked = await login(api, owner.email, PASSWORD, device).expect(401);
  t.truthy(locked.headers['retry-after']);
  // Another browser was not charged for them.
  const other = deviceCookieOf(await login(api, owner.email, PASSWORD).expect(200));
  // A success from a device clears that device's count.
  for (let i = 0; i < 4; i += 1) await login(api, owner.email, WRONG, other).expect(401);
  await login(api, owner.email, PASSWORD, other).expect(200);
  for (let i = 0; i < 4; i += 1) await login(api, owner.email, WRONG, other).expect(401);
  await login(api, owner.email, PASSWORD, other).expect(200);
});

test('device cookies expire, and are bound to the server key', (t) => {
  const secret = randomBytes(32);
  let now = Date.now();
  const devices = new DeviceCookies(secret, () => now);
  const { value, expires } = devices.issue('Owner@Example.test');
  t.is(expires.getTime(), Math.floor(now / 1000) * 1000 + DEVICE_COOKIE_DAYS * 86_400_000);
  const id = devices.deviceOf(value, 'owner@example.test');
  t.truthy(id, 'the email is compared normalised');
  t.is(devices.deviceOf(value, 'other@example.test'), null);
  t.is(new DeviceCookies(randomBytes(32), () => now).deviceOf(value, 'owner@example.test'), null);
  now = expires.getTime() + 1;
  t.is(devices.deviceOf(value, 'owner@example.test'), null);
  t.throws(() => new DeviceCookies(randomBytes(16)));
});
