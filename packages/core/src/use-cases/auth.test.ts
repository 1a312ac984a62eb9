import test from 'ava';
import { AuthenticationError, ValidationError } from '../domain/app.errors.js';
import { createTestHarness } from '../testing/index.js';

const PASSWORD = 'correct horse battery';

async function registered(email = 'ada@example.test') {
  const harness = createTestHarness();
  const session = await harness.useCases.register.execute({
    tenantName: 'Acme Corp',
    email,
    password: PASSWORD,
    fullName: 'Ada Lovelace',
  });
  return { harness, session };
}

test('register creates a tenant and its owner and signs the owner in', async (t) => {
  const { harness, session } = await registered();
  t.is(session.tenant.name, 'Acme Corp');
  t.is(session.tenant.slug, 'acme-corp');
  t.is(session.user.role, 'owner');
  t.is(session.user.tenantId, session.tenant.id);
  t.is(session.user.email, 'ada@example.test');
  t.is(session.tokenType, 'bearer');
  t.is(session.expiresIn, harness.tokens.accessTokenTtlSeconds);
  t.truthy(session.accessToken);
  t.truthy(session.refreshToken);

  const { principal } = await harness.useCases.authenticate.execute(session.accessToken);
  t.deepEqual(principal, {
    userId: session.user.id,
    tenantId: session.tenant.id,
    role: 'owner',
    sessionId: principal.sessionId,
  });
  t.truthy(principal.sessionId, 'the session of the token rides along, for the audit trail');
  const tenant = await harness.useCases.getTenant.execute(principal);
  t.is(tenant.id, session.tenant.id);
  const me = await harness.useCases.getMe.execute(principal);
  t.is(me.fullName, 'Ada Lovelace');
});

test('the stored password is a hash, never the password', async (t) => {
  const { harness, session } = await registered();
  const row = harness.db.table('user').get(session.user.id);
  t.truthy(row?.passwordHash);
  t.not(row?.passwordHash, PASSWORD);
  t.false(String(row?.passwordHash).includes(PASSWORD));
});

test('tenants with the same name each get their own slug', async (t) => {
  const harness = createTestHarness();
  const slugs: string[] = [];
  for (const email of ['a@example.test', 'b@example.test', 'c@example.test']) {
    const session = await harness.useCases.register.execute({ tenantName: 'Acme', email, password: PASSWORD });
    slugs.push(session.tenant.slug);
  }
  t.is(slugs[0], 'acme');
  t.is(new Set(slugs).size, 3);
  t.true(slugs.slice(1).every((slug) => /^acme-[0-9a-f]{8}$/.test(slug)));
});

test('registering an email that is taken, in any case, is a conflict and creates no tenant', async (t) => {
  const { harness } = await registered('ada@example.test');
  const tenantsBefore = harness.db.table('tenant').size;
  await t.throwsAsync(
    harness.useCases.register.execute({ tenantName: 'Other', email: 'ADA@Example.test', password: PASSWORD }),
    { code: 'conflict' },
  );
  t.is(harness.db.table('tenant').size, tenantsBefore);
});

test('registering with a weak password is a validation error naming password', async (t) => {
  const harness = createTestHarness();
  const error = await t.throwsAsync(
    harness.useCases.register.execute({ tenantName: 'Acme', email: 'a@example.test', password: 'short' }),
    { instanceOf: ValidationError, code: 'validation_error' },
  );
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    ['password'],
  );
  t.is(harness.db.table('tenant').size, 0);
});

test('registering with a password over 256 characters or a bad email is a validation error', async (t) => {
  const harness = createTestHarness();
  await t.throwsAsync(
    harness.useCases.register.execute({ tenantName: 'Acme', email: 'a@example.test', password: 'x'.repeat(257) }),
    { code: 'validation_error' },
  );
  await t.throwsAsync(harness.useCases.register.execute({ tenantName: 'Acme', email: 'nope', password: PASSWORD }), {
    code: 'validation_error',
  });
});

test('login with the right password signs in and records the time', async (t) => {
  const { harness, session } = await registered();
  harness.clock.advance(60_000);
  const login = await harness.useCases.login.execute({ email: 'Ada@Example.test', password: PASSWORD });
  t.is(login.user.id, session.user.id);
  t.deepEqual(login.user.lastLoginAt, harness.clock.now());
  t.not(login.refreshToken, session.refreshToken);
  const { principal } = await harness.useCases.authenticate.execute(login.accessToken);
  t.is(principal.userId, session.user.id);
});

test('a wrong password, an unknown email and a deactivated user get the same authentication error', async (t) => {
  const { harness, session } = await registered();
  const owner = { userId: session.user.id, tenantId: session.tenant.id, role: session.user.role };
  const member = await harness.addUser(owner, 'member', 'bob@example.test');
  await harness.useCases.updateUser.execute(owner, member.userId, { isActive: false });

  const wrong = await t.throwsAsync(
    harness.useCases.login.execute({ email: 'ada@example.test', password: 'nope nope' }),
    {
      instanceOf: AuthenticationError,
    },
  );
  const unknown = await t.throwsAsync(
    harness.useCases.login.execute({ email: 'nobody@example.test', password: PASSWORD }),
    { instanceOf: AuthenticationError },
  );
  const inactive = await t.throwsAsync(
    harness.useCases.login.execute({ email: 'bob@example.test', password: PASSWORD }),
    {
      instanceOf: AuthenticationError,
    },
  );
  t.is(wrong?.code, 'authentication_error');
  t.is(unknown?.message, wrong?.message);
  t.is(inactive?.message, wrong?.message);
  t.deepEqual(unknown?.toJSON(), wrong?.toJSON());
  t.deepEqual(inactive?.toJSON(), wrong?.toJSON());
});

test('a login for an unknown email still runs one password verification', async (t) => {
  const { harness } = await registered();
  const before = harness.passwords.verifications;
  await t.throwsAsync(harness.useCases.login.execute({ email: 'nobody@example.test', password: PASSWORD }), {
    code: 'authentication_error',
  });
  t.is(harness.passwords.verifications, before + 1);
  await t.throwsAsync(harness.useCases.login.execute({ email: 'ada@example.test', password: 'wrong password' }), {
    code: 'authentication_error',
  });
  t.is(harness.passwords.verifications, before + 2, 'a wrong password costs the same one verification');
});

test('refresh rotates the pair and the old refresh token no longer works', async (t) => {
  const { harness, session } = await registered();
  const next = await harness.useCases.refreshSession.execute(session.refreshToken);
  t.not(next.refreshToken, session.refreshToken);
  t.not(next.accessToken, session.accessToken);
  t.is(next.user.id, session.user.id);
  const { principal } = await harness.useCases.authenticate.execute(next.accessToken);
  t.is(principal.userId, session.user.id);
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.refreshToken), {
    code: 'authentication_error',
  });
});

test('replaying a used refresh token revokes the whole family, so the newer token fails too', async (t) => {
  const { harness, session } = await registered();
  const second = await harness.useCases.refreshSession.execute(session.refreshToken);
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.refreshToken), {
    code: 'authentication_error',
  });
  await t.throwsAsync(harness.useCases.refreshSession.execute(second.refreshToken), {
    code: 'authentication_error',
  });
  const stored = [...harness.db.table('refreshToken').values()];
  t.true(stored.every((row) => row.revokedAt !== null));
  t.true(harness.logger.entries.some((entry) => entry.level === 'warn' && entry.message?.includes('reused')));
});

test('replaying a used refresh token ends the session: its newest access token is refused at once', async (t) => {
  const { harness, session } = await registered();
  const second = await harness.useCases.refreshSession.execute(session.refreshToken);
  t.truthy(await harness.useCases.authenticate.execute(second.accessToken));
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.refreshToken), {
    code: 'authentication_error',
  });
  await t.throwsAsync(harness.useCases.authenticate.execute(second.accessToken), { code: 'authentication_error' });
  await t.throwsAsync(harness.useCases.authenticate.execute(session.accessToken), { code: 'authentication_error' });
  harness.clock.advance(harness.tokens.accessTokenTtlSeconds * 1000 - 1000);
  await t.throwsAsync(harness.useCases.authenticate.execute(second.accessToken), {
    code: 'authentication_error',
    message: 'Token has been revoked',
  });
});

test('a replay revokes only its own family: another sign-in of the same user keeps working', async (t) => {
  const { harness, session } = await registered();
  const other = await harness.useCases.login.execute({ email: 'ada@example.test', password: PASSWORD });
  await harness.useCases.refreshSession.execute(session.refreshToken);
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.refreshToken), {
    code: 'authentication_error',
  });
  const rotated = await harness.useCases.refreshSession.execute(other.refreshToken);
  t.truthy(rotated.refreshToken);
});

test('of two parallel refreshes of one token exactly one succeeds', async (t) => {
  const { harness, session } = await registered();
  const results = await Promise.allSettled([
    harness.useCases.refreshSession.execute(session.refreshToken),
    harness.useCases.refreshSession.execute(session.refreshToken),
  ]);
  const fulfilled = results.filter((r) => r.status === 'fulfilled');
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(fulfilled.length, 1);
  t.is(rejected.length, 1);
  t.is(rejected[0]?.reason?.code, 'authentication_error');
});

test('an access token is not accepted as a refresh token, nor the reverse', async (t) => {
  const { harness, session } = await registered();
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.accessToken), { code: 'authentication_error' });
  await t.throwsAsync(harness.useCases.authenticate.execute(session.refreshToken), { code: 'authentication_error' });
  await t.throwsAsync(harness.useCases.authenticate.execute('garbage'), { code: 'authentication_error' });
});

test('logout blacklists the access token and revokes the refresh family', async (t) => {
  const { harness, session } = await registered();
  const { principal, token } = await harness.useCases.authenticate.execute(session.accessToken);
  await harness.useCases.logout.execute(principal, token);
  await t.throwsAsync(harness.useCases.authenticate.execute(session.accessToken), { code: 'authentication_error' });
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.refreshToken), {
    code: 'authentication_error',
  });
});

test('logout leaves the other sessions of the user signed in', async (t) => {
  const { harness, session } = await registered();
  const other = await harness.useCases.login.execute({ email: 'ada@example.test', password: PASSWORD });
  const { principal, token } = await harness.useCases.authenticate.execute(session.accessToken);
  await harness.useCases.logout.execute(principal, token);
  const still = await harness.useCases.authenticate.execute(other.accessToken);
  t.is(still.principal.userId, principal.userId);
  t.truthy((await harness.useCases.refreshSession.execute(other.refreshToken)).accessToken);
});

test('authenticate fails closed when the blacklist cannot be asked', async (t) => {
  const { harness, session } = await registered();
  harness.blacklist.outage.begin();
  await t.throwsAsync(harness.useCases.authenticate.execute(session.accessToken), { code: 'service_unavailable' });
  harness.blacklist.outage.end();
  t.truthy(await harness.useCases.authenticate.execute(session.accessToken));
});

test('logout fails loudly when the blacklist cannot be written', async (t) => {
  const { harness, session } = await registered();
  const { principal, token } = await harness.useCases.authenticate.execute(session.accessToken);
  harness.blacklist.outage.begin();
  await t.throwsAsync(harness.useCases.logout.execute(principal, token), { code: 'service_unavailable' });
});

test('an access token fails once it has expired', async (t) => {
  const { harness, session } = await registered();
  harness.clock.advance(harness.tokens.accessTokenTtlSeconds * 1000 - 1000);
  t.truthy(await harness.useCases.authenticate.execute(session.accessToken), 'still valid a second before expiry');
  harness.clock.advance(1000);
  await t.throwsAsync(harness.useCases.authenticate.execute(session.accessToken), { code: 'authentication_error' });
});

test('a refresh token fails once it has expired', async (t) => {
  const { harness, session } = await registered();
  harness.clock.advance(harness.tokens.refreshTokenTtlSeconds * 1000);
  await t.throwsAsync(harness.useCases.refreshSession.execute(session.refreshToken), {
    code: 'authentication_error',
  });
});

test('a deactivated user cannot refresh a session', async (t) => {
  const { harness, session } = await registered();
  const owner = { userId: session.user.id, tenantId: session.tenant.id, role: session.user.role };
  const member = await harness.addUser(owner, 'member', 'bob@example.test');
  const bob = await harness.useCases.login.execute({ email: 'bob@example.test', password: PASSWORD });
  await harness.useCases.updateUser.execute(owner, member.userId, { isActive: false });
  await t.throwsAsync(harness.useCases.refreshSession.execute(bob.refreshToken), { code: 'authentication_error' });
});
