import test from 'ava';
import { FakeOAuthProvider } from '../testing/fake-oauth-provider.js';
import { TestHarness } from '../testing/harness.js';

const REDIRECT = 'http://localhost:3000/api/v1/auth/github/callback';
const octo = { providerAccountId: '583231', login: 'octocat', name: 'The Octocat', email: 'octo@example.test' };

function setup() {
  const github = new FakeOAuthProvider();
  const harness = new TestHarness({ oauthProviders: { github } });
  const signIn = (code: string) =>
    harness.useCases.completeOAuthSignIn.execute('github', { code, codeVerifier: 'verifier', redirectUri: REDIRECT });
  return { github, harness, signIn };
}

test('a new GitHub user gets a tenant of their own as its owner, with the token stored encrypted', async (t) => {
  const { github, harness, signIn } = setup();
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  const session = await signIn('c1');
  t.is(session.outcome, 'registered');
  t.is(session.user.email, 'octo@example.test');
  t.is(session.user.role, 'owner');
  t.is(session.user.passwordHash, null);
  const actor = { userId: session.user.id, tenantId: session.user.tenantId, role: session.user.role };
  const [account] = await harness.useCases.listOAuthAccounts.execute(actor);
  t.like(account, { provider: 'github', providerAccountId: '583231', login: 'octocat' });
  t.not(account?.accessToken, 'token-c1', 'the provider token is not stored in the clear');
  t.is(
    await harness.encryptor.decrypt(account?.accessToken ?? '', `oauth-token:${actor.tenantId}:${account?.id}`),
    'token-c1',
  );
});

test('a returning GitHub user signs in to the same user, and the stored token is refreshed', async (t) => {
  const { github, signIn } = setup();
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  const first = await signIn('c1');
  github.grant(
    'c2',
    { ...octo, login: 'octocat-renamed', email: 'changed@example.test' },
    { codeVerifier: 'verifier' },
  );
  const second = await signIn('c2');
  t.is(second.outcome, 'signed_in');
  t.is(second.user.id, first.user.id);
});

test('a GitHub account with the email of an existing user who verified it is linked to that user', async (t) => {
  const { github, harness, signIn } = setup();
  const existing = await harness.signUp({ email: 'octo@example.test' });
  await harness.verifyEmail('octo@example.test');
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  const session = await signIn('c1');
  t.is(session.outcome, 'linked');
  t.is(session.user.id, existing.principal.userId);
  t.is(session.user.tenantId, existing.principal.tenantId);
});

test('a pre-made account with an unverified address is never linked to the GitHub user who owns it', async (t) => {
  const { github, harness, signIn } = setup();
  // Someone registers the address first, with a password they know, and never verifies it.
  const squatter = await harness.signUp({ email: 'octo@example.test' });
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  const error = await t.throwsAsync(signIn('c1'), { code: 'conflict' });
  t.regex(error?.message ?? '', /not verified/);
  t.deepEqual(await harness.useCases.listOAuthAccounts.execute(squatter.principal), []);
  t.is(harness.db.table('oauthAccount').size, 0);
  t.is(harness.db.table('tenant').size, 1);
});

test('a user registered through GitHub has a verified address', async (t) => {
  const { github, signIn } = setup();
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  const session = await signIn('c1');
  t.truthy(session.user.emailVerifiedAt);
});

test('no verified primary email: refused, and nothing is created', async (t) => {
  const { github, harness, signIn } = setup();
  github.grant('c1', { ...octo, email: null }, { codeVerifier: 'verifier' });
  await t.throwsAsync(signIn('c1'), { code: 'authorization_error' });
  t.is(harness.db.table('tenant').size, 0);
  t.is(harness.db.table('oauthAccount').size, 0);
});

test('a wrong PKCE verifier or an unknown code is an authentication error', async (t) => {
  const { github, signIn, harness } = setup();
  github.grant('c1', octo, { codeVerifier: 'another-verifier' });
  await t.throwsAsync(signIn('c1'), { code: 'authentication_error' });
  await t.throwsAsync(signIn('never-granted'), { code: 'authentication_error' });
  t.is(harness.db.table('user').size, 0);
});

test('sign-in with a provider that is not configured is not_found', async (t) => {
  const harness = new TestHarness();
  await t.throwsAsync(
    harness.useCases.beginOAuthSignIn.execute('github', { state: 's', codeVerifier: 'v', redirectUri: REDIRECT }),
    { code: 'not_found' },
  );
});

test('a deactivated user cannot sign in through GitHub', async (t) => {
  const { github, harness, signIn } = setup();
  const owner = await harness.signUp();
  const member = await harness.addUser(owner.principal, 'member', 'octo@example.test');
  await harness.useCases.updateUser.execute(owner.principal, member.userId, { isActive: false });
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  await t.throwsAsync(signIn('c1'), { code: 'authentication_error' });
});

test('the last way to sign in cannot be unlinked; with a password it can', async (t) => {
  const { github, harness, signIn } = setup();
  github.grant('c1', octo, { codeVerifier: 'verifier' });
  const oauthOnly = await signIn('c1');
  const actor = { userId: oauthOnly.user.id, tenantId: oauthOnly.user.tenantId, role: oauthOnly.user.role };
  const [account] = await harness.useCases.listOAuthAccounts.execute(actor);
  await t.throwsAsync(harness.useCases.unlinkOAuthAccount.execute(actor, account?.id ?? ''), { code: 'conflict' });

  const withPassword = await harness.signUp({ email: 'hubot@example.test' });
  await harness.verifyEmail('hubot@example.test');
  github.grant(
    'c2',
    { ...octo, providerAccountId: '2', login: 'hubot', email: 'hubot@example.test' },
    {
      codeVerifier: 'verifier',
    },
  );
  await signIn('c2');
  const [linked] = await harness.useCases.listOAuthAccounts.execute(withPassword.principal);
  await harness.useCases.unlinkOAuthAccount.execute(withPassword.principal, linked?.id ?? '');
  t.deepEqual(await harness.useCases.listOAuthAccounts.execute(withPassword.principal), []);
  await t.throwsAsync(harness.useCases.unlinkOAuthAccount.execute(actor, linked?.id ?? ''), { code: 'not_found' });
});
