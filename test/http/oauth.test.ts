import test from 'ava';
import supertest from 'supertest';
import { FakeGitHub, type FakeGitHubUser } from './fake-github.js';
import { bearer, TestApp } from './fixture.js';

const github = new FakeGitHub();
test.before(async () => {
  await github.start();
});
test.after.always(async () => {
  await github.stop();
});

const octocat = (over: Partial<FakeGitHubUser> = {}): FakeGitHubUser => ({
  id: Math.floor(Math.random() * 1e9),
  login: 'octocat',
  name: 'The Octocat',
  emails: [
    { email: `octo-${Math.random().toString(16).slice(2)}@example.test`, primary: true, verified: true },
    { email: 'other@example.test', primary: false, verified: true },
  ],
  ...over,
});

function app(timeoutMs = 2000) {
  return new TestApp({
    github: {
      clientId: github.clientId,
      clientSecret: github.clientSecret,
      oauthUrl: github.url,
      apiUrl: github.url,
      timeoutMs,
    },
  });
}

/** Starts sign-in in a browser (an agent with a cookie jar) and lets GitHub approve it. */
async function authorize(api: TestApp, user: FakeGitHubUser) {
  const browser = supertest.agent(api.app.callback());
  const start = await browser.get('/api/v1/auth/github').expect(302);
  const authorizeUrl = new URL(start.headers.location ?? '');
  github.signInAs(user);
  const callback = await github.approve(authorizeUrl.toString());
  return { browser, authorizeUrl, callback: `${callback.pathname}${callback.search}` };
}

test.serial(
  'the redirect to GitHub carries a state, a PKCE S256 challenge, the scopes and the configured redirect URI',
  async (t) => {
    const api = app();
    const browser = supertest.agent(api.app.callback());
    const res = await browser.get('/api/v1/auth/github').expect(302);
    const url = new URL(res.headers.location ?? '');
    t.is(url.origin + url.pathname, `${github.url}/login/oauth/authorize`);
    t.is(url.searchParams.get('code_challenge_method'), 'S256');
    t.truthy(url.searchParams.get('code_challenge'));
    t.truthy(url.searchParams.get('state'));
    t.is(url.searchParams.get('scope'), 'read:user user:email');
    t.is(url.searchParams.get('redirect_uri'), 'http://localhost:3000/api/v1/auth/github/callback');
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('oauth_state='));
    t.regex(cookie ?? '', /httponly/i);
    t.regex(cookie ?? '', /path=\/api\/v1\/auth\/github/i);
  },
);

test.serial('a new GitHub user: a tenant is created, cookies are set, the browser goes to the frontend', async (t) => {
  const api = app();
  const user = octocat();
  const { browser, callback } = await authorize(api, user);
  const done = await browser.get(callback).expect(302);
  t.is(new URL(done.headers.location ?? '').origin, 'http://localhost:5173');
  const verifier = github.tokenRequests.at(-1)?.get('code_verifier');
  t.truthy(verifier, 'the PKCE verifier was sent with the code');
  const me = await browser.get('/api/v1/auth/me').expect(200);
  t.is(me.body.email, user.emails[0]?.email);
  t.is(me.body.role, 'owner');
  const accounts = await browser.get('/api/v1/auth/accounts').expect(200);
  t.like(accounts.body.items[0], { provider: 'github', login: 'octocat', provider_account_id: String(user.id) });
  t.false(JSON.stringify(accounts.body).includes('gho_'), 'the GitHub token is never returned');
});

test.serial(
  'an existing user with the same verified email is linked, and a returning user signs in again',
  async (t) => {
    const api = app();
    const existing = await api.register();
    await api.verifyEmail(existing.email);
    const user = octocat({ emails: [{ email: existing.email, primary: true, verified: true }] });
    const first = await authorize(api, user);
    await first.browser.get(first.callback).expect(302);
    const me = await first.browser.get('/api/v1/auth/me').expect(200);
    t.is(me.body.id, existing.userId);

    const again = await authorize(api, { ...user, login: 'octocat2', emails: [] });
    await again.browser.get(again.callback).expect(302);
    const meAgain = await again.browser.get('/api/v1/auth/me').expect(200);
    t.is(meAgain.body.id, existing.userId, 'linked by GitHub id, whatever the email now');
  },
);

test.serial('an account pre-made with an unverified address is never linked: 409, and nothing is linked', async (t) => {
  const api = app();
  // Someone registers the victim's address first, with a password they know.
  const squatter = await api.register();
  const user = octocat({ emails: [{ email: squatter.email, primary: true, verified: true }] });
  const attempt = await authorize(api, user);
  const res = await attempt.browser.get(attempt.callback).expect(409);
  t.is(res.body.error.code, 'conflict');
  t.regex(res.body.error.message, /not verified/);
  const accounts = await api.http.get('/api/v1/auth/accounts').set(bearer(squatter)).expect(200);
  t.deepEqual(accounts.body.items, []);
});

test.serial('the callback without the state cookie, with another state, or replayed is 400', async (t) => {
  const api = app();
  const { browser, callback } = await authorize(api, octocat());
  const stranger = await supertest(api.app.callback()).get(callback).expect(400);
  t.is(stranger.body.error.code, 'bad_request');
  const tampered = callback.replace(/state=[^&]+/, 'state=forged');
  await browser.get(tampered).expect(400);

  const second = await authorize(api, octocat());
  const jar = second.browser;
  const startCookie = second.callback;
  await jar.get(startCookie).expect(302);
  // The same callback again (the state cookie was cleared and the state is spent).
  const replay = await jar.get(startCookie).expect(400);
  t.is(replay.body.error.code, 'bad_request');
});

test.serial('a replayed state is refused even when the state cookie is presented again', async (t) => {
  const api = app();
  const browser = supertest.agent(api.app.callback());
  const start = await browser.get('/api/v1/auth/github').expect(302);
  const stateCookie = ([] as string[])
    .concat(start.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('oauth_state='))
    ?.split(';')[0];
  github.signInAs(octocat());
  const callback = await github.approve(start.headers.location ?? '');
  const path = `${callback.pathname}${callback.search}`;
  await supertest(api.app.callback())
    .get(path)
    .set('Cookie', stateCookie ?? '')
    .expect(302);
  const replay = await supertest(api.app.callback())
    .get(path)
    .set('Cookie', stateCookie ?? '')
    .expect(400);
  t.regex(replay.body.error.message, /already used/);
});

test.serial('a denied consent is 400 and creates nothing', async (t) => {
  const api = app();
  const browser = supertest.agent(api.app.callback());
  const start = await browser.get('/api/v1/auth/github').expect(302);
  const state = new URL(start.headers.location ?? '').searchParams.get('state');
  const res = await browser.get(`/api/v1/auth/github/callback?error=access_denied&state=${state}`).expect(400);
  t.regex(res.body.error.message, /cancelled/);
});

/** Whether anything of this GitHub user reached the database. */
async function created(api: TestApp, user: FakeGitHubUser): Promise<boolean> {
  return api.harness.uow.platform(async (p) => {
    const byEmail = await p.findUserByEmail(user.emails[0]?.email ?? '');
    const byAccount = await p.findOAuthAccount('github', String(user.id));
    return byEmail !== null || byAccount !== null;
  });
}

test.serial('a code GitHub refuses is 401; GitHub down or too slow is 502; nothing is half-created', async (t) => {
  const api = app(500);
  const users = [octocat(), octocat(), octocat()];
  try {
    github.mode = 'bad_code';
    const refused = await authorize(api, users[0] as FakeGitHubUser);
    const r1 = await refused.browser.get(refused.callback).expect(401);
    t.is(r1.body.error.code, 'authentication_error');

    const down = await authorize(api, users[1] as FakeGitHubUser);
    github.mode = 'down';
    const r2 = await down.browser.get(down.callback).expect(502);
    t.is(r2.body.error.code, 'bad_gateway');

    github.mode = 'ok';
    const slow = await authorize(api, users[2] as FakeGitHubUser);
    github.mode = 'slow';
    const r3 = await slow.browser.get(slow.callback).expect(502);
    t.is(r3.body.error.code, 'bad_gateway');
  } finally {
    github.mode = 'ok';
  }
  for (const user of users) t.false(await created(api, user));
});

test.serial('an account without a verified primary email is refused (403) and nothing is created', async (t) => {
  const api = app();
  const user = octocat({
    emails: [{ email: `unverified-${Date.now()}@example.test`, primary: true, verified: false }],
  });
  const { browser, callback } = await authorize(api, user);
  const res = await browser.get(callback).expect(403);
  t.regex(res.body.error.message, /verified primary email/);
  t.false(await created(api, user));
});

test.serial('with GitHub sign-in not configured, the routes are 404', async (t) => {
  const api = new TestApp();
  const res = await api.http.get('/api/v1/auth/github').expect(404);
  t.is(res.body.error.code, 'not_found');
});

test.serial('the only sign-in account cannot be unlinked (409)', async (t) => {
  const api = app();
  const { browser, callback } = await authorize(api, octocat());
  await browser.get(callback).expect(302);
  const accounts = await browser.get('/api/v1/auth/accounts').expect(200);
  const id = accounts.body.items[0].id;
  // Cookie-authenticated writes need the CSRF header; use a bearer token from a refresh instead.
  const refreshed = await browser.post('/api/v1/auth/refresh').send({}).expect(200);
  const res = await api.http
    .delete(`/api/v1/auth/accounts/${id}`)
    .set('Authorization', `Bearer ${refreshed.body.access_token}`)
    .expect(409);
  t.is(res.body.error.code, 'conflict');
  const still = await browser.get('/api/v1/auth/accounts').expect(200);
  t.is(still.body.items.length, 1);
});
