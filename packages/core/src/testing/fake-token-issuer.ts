import { AuthenticationError } from '../domain/app.errors.js';
import type { Clock } from '../ports/clock.port.js';
import type { IdGenerator } from '../ports/id-generator.port.js';
import type { AccessTokenClaims, IssuedToken, RefreshTokenClaims, TokenIssuer } from '../ports/token-issuer.port.js';

type Stored = { kind: 'access'; claims: AccessTokenClaims } | { kind: 'refresh'; claims: RefreshTokenClaims };

/**
 * Opaque tokens remembered in memory, with the same rules as the JWT issuer: kinds do not stand
 * in for each other, expired tokens fail, failures are `AuthenticationError`s.
 */
export class FakeTokenIssuer implements TokenIssuer {
  private readonly issued = new Map<string, Stored>();

  constructor(
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    readonly accessTokenTtlSeconds = 900,
    readonly refreshTokenTtlSeconds = 7 * 86_400,
  ) {}

  private expiry(seconds: number): Date {
    return new Date(this.clock.now().getTime() + seconds * 1000);
  }

  async issueAccess(claims: Omit<AccessTokenClaims, 'tokenId' | 'expiresAt'>): Promise<IssuedToken> {
    const tokenId = this.ids.next();
    const expiresAt = this.expiry(this.accessTokenTtlSeconds);
    const token = `fake-access.${tokenId}`;
    this.issued.set(token, { kind: 'access', claims: { ...claims, tokenId, expiresAt } });
    return { token, tokenId, expiresAt };
  }

  async issueRefresh(claims: Omit<RefreshTokenClaims, 'expiresAt'>): Promise<IssuedToken> {
    const expiresAt = this.expiry(this.refreshTokenTtlSeconds);
    const token = `fake-refresh.${claims.tokenId}`;
    this.issued.set(token, { kind: 'refresh', claims: { ...claims, expiresAt } });
    return { token, tokenId: claims.tokenId, expiresAt };
  }

  private check(token: string, kind: Stored['kind']): AccessTokenClaims | RefreshTokenClaims {
    const stored = this.issued.get(token);
    if (stored === undefined || stored.kind !== kind) throw new AuthenticationError('Invalid token');
    if (stored.claims.expiresAt <= this.clock.now()) throw new AuthenticationError('Token expired');
    return { ...stored.claims };
  }

  async verifyAccess(token: string): Promise<AccessTokenClaims> {
    return this.check(token, 'access') as AccessTokenClaims;
  }

  async verifyRefresh(token: string): Promise<RefreshTokenClaims> {
    return this.check(token, 'refresh') as RefreshTokenClaims;
  }
}
