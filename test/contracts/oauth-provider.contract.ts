import type { OAuthIdentity, OAuthProvider } from '@shipyard/core';
import test from 'ava';

export interface OAuthGrant {
  state: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface OAuthProviderSubject {
  provider: OAuthProvider;
  /**
   * Plays the user at the provider: signs in as `identity` and approves the request `grant`
   * describes (through `provider.authorizationUrl` where the provider is a real server); returns
   * the authorization code the provider sends back. `providerAccountId` is a decimal number.
   */
  approve: (identity: OAuthIdentity, grant: OAuthGrant) => Promise<string>;
  close?: () => Promise<void>;
}

const authFailure = { code: 'authentication_error' } as const;

let sequence = 0;
const grant = (): OAuthGrant => {
  sequence += 1;
  return {
    state: `state-${sequence}-${Math.random().toString(36).slice(2)}`,
    // RFC 7636: 43 to 128 characters.
    codeVerifier: `verifier-${sequence}-${'v'.repeat(48)}`,
    redirectUri: 'http://localhost:3000/api/v1/auth/oauth/github/callback',
  };
};

const identity = (overrides: Partial<OAuthIdentity> = {}): OAuthIdentity => {
  sequence += 1;
  return {
    providerAccountId: String(1000 + sequence),
    login: `octo-${sequence}`,
    name: 'Octo Cat',
    email: `octo-${sequence}@example.test`,
    ...overrides,
  };
};

/**
 * The contract of every `OAuthProvider`, as the sign-in use cases rely on it: the authorization
 * URL carries the state and the redirect URI; an approved code, exchanged once with its verifier,
 * gives an access token whose identity is the user who approved (a verified email or null); a
 * code used twice, unknown or exchanged with another verifier, and an unknown access token, are
 * `AuthenticationError`s.
 */
export function oauthProviderContract(label: string, factory: () => Promise<OAuthProviderSubject>): void {
  const name = `${label} OAuth provider`;
  let subject: OAuthProviderSubject | undefined;
  test.before(async () => {
    subject = await factory();
  });
  test.after.always(async () => {
    await subject?.close?.();
  });
  const get = () => {
    if (subject === undefined) throw new Error('the OAuth provider factory did not run');
    return subject;
  };

  test(`${name}: the authorization URL carries the state and the redirect URI`, (t) => {
    const { provider } = get();
    const request = grant();
    const url = provider.authorizationUrl(request);
    t.is(url.searchParams.get('state'), request.state);
    t.is(url.searchParams.get('redirect_uri'), request.redirectUri);
    t.false(url.toString().includes(request.codeVerifier), 'the verifier never leaves the server');
  });

  test(`${name}: an approved code gives a token whose identity is the user who approved`, async (t) => {
    const { provider, approve } = get();
    const request = grant();
    const user = identity();
    const code = await approve(user, request);
    const tokens = await provider.exchangeCode({ code, ...request });
    t.truthy(tokens.accessToken);
    t.true(Array.isArray(tokens.scopes));
    t.deepEqual(await provider.fetchIdentity(tokens.accessToken), user);
  });

  test(`${name}: a user without a verified email has a null email`, async (t) => {
    const { provider, approve } = get();
    const request = grant();
    const user = identity({ email: null, name: null });
    const tokens = await provider.exchangeCode({ code: await approve(user, request), ...request });
    t.deepEqual(await provider.fetchIdentity(tokens.accessToken), user);
  });

  test(`${name}: a code is exchanged once`, async (t) => {
    const { provider, approve } = get();
    const request = grant();
    const code = await approve(identity(), request);
    await provider.exchangeCode({ code, ...request });
    await t.throwsAsync(provider.exchangeCode({ code, ...request }), authFailure);
  });

  test(`${name}: a code exchanged with another verifier, or unknown, is refused`, async (t) => {
    const { provider, approve } = get();
    const request = grant();
    const code = await approve(identity(), request);
    await t.throwsAsync(
      provider.exchangeCode({ code, ...request, codeVerifier: `${request.codeVerifier}x` }),
      authFailure,
    );
    await t.throwsAsync(provider.exchangeCode({ code: 'never-issued', ...grant() }), authFailure);
  });

  test(`${name}: an unknown access token has no identity`, async (t) => {
    const { provider } = get();
    await t.throwsAsync(provider.fetchIdentity('never-issued'), authFailure);
  });
}
