import { randomUUID } from 'node:crypto';
import type { AccessTokenClaims, RefreshTokenClaims, Role, TokenIssuer } from '@shipyard/core';
import test, { type ExecutionContext } from 'ava';

export interface TokenIssuerSubject {
  issuer: TokenIssuer;
  /** The refresh tokens' lifetime (the port names only the access tokens'). */
  refreshTokenTtlSeconds: number;
  /** Lets `ms` pass for the issuer (moves its clock). */
  elapse: (ms: number) => void;
  now: () => Date;
  /** Another issuer of the same kind (another key, another process): it knows none of this one's tokens. */
  stranger: () => TokenIssuer;
}

const authFailure = { code: 'authentication_error' } as const;

/** `token` with one character in its middle changed (never a separator, never the unused bits of its end). */
function tampered(token: string): string {
  let at = Math.floor(token.length / 2);
  while (!/[A-Za-z0-9]/.test(token[at] ?? '')) at += 1;
  const replaced = token[at] === 'A' ? 'B' : 'A';
  return `${token.slice(0, at)}${replaced}${token.slice(at + 1)}`;
}

const accessClaims = (role: Role = 'member', sessionEpoch = 3): Omit<AccessTokenClaims, 'tokenId' | 'expiresAt'> => ({
  userId: randomUUID(),
  tenantId: randomUUID(),
  role,
  sessionId: randomUUID(),
  sessionEpoch,
});

const refreshClaims = (): Omit<RefreshTokenClaims, 'expiresAt'> => ({
  userId: randomUUID(),
  tenantId: randomUUID(),
  tokenId: randomUUID(),
  familyId: randomUUID(),
});

/** Within a second (a JWT counts whole seconds). */
const near = (t: ExecutionContext, actual: Date, expected: number, what: string) =>
  t.true(
    Math.abs(actual.getTime() - expected) <= 1000,
    `${what}: ${actual.toISOString()} vs ${new Date(expected).toISOString()}`,
  );

/**
 * The contract of every `TokenIssuer`: what is issued verifies back to its claims until it
 * expires; access and refresh tokens never stand in for each other; an expired, altered,
 * unknown or foreign token is refused, always with an `AuthenticationError`.
 */
export function tokenIssuerContract(
  label: string,
  factory: () => Promise<TokenIssuerSubject> | TokenIssuerSubject,
): void {
  const name = `${label} token issuer`;

  test(`${name}: an access token verifies back to its claims, id and expiry`, async (t) => {
    const { issuer, now } = await factory();
    for (const [role, epoch] of [
      ['viewer', 0],
      ['owner', 7],
    ] as const) {
      const claims = accessClaims(role, epoch);
      const issued = await issuer.issueAccess(claims);
      t.truthy(issued.token);
      t.truthy(issued.tokenId);
      near(t, issued.expiresAt, now().getTime() + issuer.accessTokenTtlSeconds * 1000, 'expiry');
      const verified = await issuer.verifyAccess(issued.token);
      t.deepEqual({ ...verified, expiresAt: undefined }, { ...claims, tokenId: issued.tokenId, expiresAt: undefined });
      t.is(verified.expiresAt.getTime(), issued.expiresAt.getTime());
    }
  });

  test(`${name}: every access token gets an id of its own`, async (t) => {
    const { issuer } = await factory();
    const claims = accessClaims();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i += 1) ids.add((await issuer.issueAccess(claims)).tokenId);
    t.is(ids.size, 5);
  });

  test(`${name}: a refresh token keeps the id the caller chose and verifies back to its claims`, async (t) => {
    const { issuer, now, refreshTokenTtlSeconds } = await factory();
    const claims = refreshClaims();
    const issued = await issuer.issueRefresh(claims);
    t.is(issued.tokenId, claims.tokenId);
    near(t, issued.expiresAt, now().getTime() + refreshTokenTtlSeconds * 1000, 'expiry');
    const verified = await issuer.verifyRefresh(issued.token);
    t.deepEqual({ ...verified, expiresAt: undefined }, { ...claims, expiresAt: undefined });
    t.is(verified.expiresAt.getTime(), issued.expiresAt.getTime());
  });

  test(`${name}: an access token is no refresh token, and a refresh token no access token`, async (t) => {
    const { issuer } = await factory();
    const access = await issuer.issueAccess(accessClaims());
    const refresh = await issuer.issueRefresh(refreshClaims());
    await t.throwsAsync(issuer.verifyRefresh(access.token), authFailure);
    await t.throwsAsync(issuer.verifyAccess(refresh.token), authFailure);
  });

  test(`${name}: a token is refused once it has expired, as expired`, async (t) => {
    const { issuer, elapse, refreshTokenTtlSeconds } = await factory();
    const access = await issuer.issueAccess(accessClaims());
    const refresh = await issuer.issueRefresh(refreshClaims());
    elapse(issuer.accessTokenTtlSeconds * 1000 - 1000);
    t.truthy(await issuer.verifyAccess(access.token), 'valid a second before it expires');
    elapse(1000);
    await t.throwsAsync(issuer.verifyAccess(access.token), { ...authFailure, message: 'Token expired' });
    elapse(refreshTokenTtlSeconds * 1000 - issuer.accessTokenTtlSeconds * 1000 - 1000);
    t.truthy(await issuer.verifyRefresh(refresh.token), 'valid a second before it expires');
    elapse(1000);
    await t.throwsAsync(issuer.verifyRefresh(refresh.token), { ...authFailure, message: 'Token expired' });
  });

  test(`${name}: an altered, malformed or empty token is refused`, async (t) => {
    const { issuer } = await factory();
    const access = await issuer.issueAccess(accessClaims());
    const refresh = await issuer.issueRefresh(refreshClaims());
    await t.throwsAsync(issuer.verifyAccess(tampered(access.token)), authFailure);
    await t.throwsAsync(issuer.verifyRefresh(tampered(refresh.token)), authFailure);
    await t.throwsAsync(issuer.verifyAccess(`${access.token}x`), authFailure);
    for (const garbage of ['', 'nonsense', 'a.b.c', 'x'.repeat(10_000)]) {
      await t.throwsAsync(issuer.verifyAccess(garbage), authFailure, JSON.stringify(garbage.slice(0, 20)));
      await t.throwsAsync(issuer.verifyRefresh(garbage), authFailure, JSON.stringify(garbage.slice(0, 20)));
    }
  });

  test(`${name}: another issuer refuses this one's tokens`, async (t) => {
    const { issuer, stranger } = await factory();
    const other = stranger();
    await t.throwsAsync(other.verifyAccess((await issuer.issueAccess(accessClaims())).token), authFailure);
    await t.throwsAsync(other.verifyRefresh((await issuer.issueRefresh(refreshClaims())).token), authFailure);
  });
}
