import { randomBytes } from 'node:crypto';
import { Argon2PasswordHasher, GitHubOAuthProvider, JoseTokenIssuer } from '@shipyard/adapters-http';
import { type OAuthIdentity, RandomIdGenerator } from '@shipyard/core';
import { FixedClock } from '@shipyard/core/testing';
import { type OAuthGrant, oauthProviderContract } from '../contracts/oauth-provider.contract.js';
import { passwordHasherContract } from '../contracts/password-hasher.contract.js';
import { tokenIssuerContract } from '../contracts/token-issuer.contract.js';
import { FakeGitHub, type FakeGitHubUser } from './fake-github.js';

// The server's adapters against the contracts the fakes of @shipyard/core/testing pass too
// (test/contracts/auth-ports.test.ts).

tokenIssuerContract('jose', () => {
  const clock = new FixedClock();
  const ids = new RandomIdGenerator();
  const options = { issuer: 'https://shipyard.test', audience: 'shipyard-api', clock, ids };
  const ttl = { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 7 * 86_400 };
  const issuer = (id: string) => new JoseTokenIssuer({ ...options, ...ttl, keys: [{ id, secret: randomBytes(32) }] });
  return {
    issuer: issuer('k1'),
    refreshTokenTtlSeconds: ttl.refreshTokenTtlSeconds,
    now: () => clock.now(),
    elapse: (ms) => clock.advance(ms),
    // The same key id, another secret: the signature is what refuses it.
    stranger: () => issuer('k1'),
  };
});

passwordHasherContract('argon2id', () => ({ hasher: new Argon2PasswordHasher(), secret: true }));

oauthProviderContract('GitHub', async () => {
  const github = await new FakeGitHub().start();
  const provider = new GitHubOAuthProvider({
    clientId: github.clientId,
    clientSecret: github.clientSecret,
    oauthUrl: github.url,
    apiUrl: github.url,
    timeoutMs: 2000,
  });
  // The fake GitHub signs in one user at a time: approvals take turns.
  let turn: Promise<unknown> = Promise.resolve();
  const approve = async (identity: OAuthIdentity, grant: OAuthGrant) => {
    const user: FakeGitHubUser = {
      id: Number(identity.providerAccountId),
      login: identity.login,
      name: identity.name,
      emails:
        identity.email === null
          ? [{ email: `unverified-${identity.login}@example.test`, primary: true, verified: false }]
          : [
              { email: `other-${identity.login}@example.test`, primary: false, verified: true },
              { email: identity.email, primary: true, verified: true },
            ],
    };
    const mine = turn.then(async () => {
      github.signInAs(user);
      return github.approve(provider.authorizationUrl(grant).toString());
    });
    turn = mine.catch(() => {});
    const callback = await mine;
    if (callback.searchParams.get('state') !== grant.state) throw new Error('GitHub sent back another state');
    return callback.searchParams.get('code') ?? '';
  };
  return { provider, approve, close: () => github.stop() };
});
