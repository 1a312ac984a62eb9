import type { Role } from '../domain/role.js';

export interface IssuedToken {
  token: string;
  /** The token's `jti`. */
  tokenId: string;
  expiresAt: Date;
}

export interface AccessTokenClaims {
  userId: string;
  tenantId: string;
  role: Role;
  tokenId: string;
  /** The refresh-token family of the sign-in this token belongs to. */
  sessionId: string;
  /**
   * The user's session epoch when the token was issued: a password change, a reset, a
   * deactivation or a lower role moves the user's epoch on, and every older token is refused.
   */
  sessionEpoch: number;
  expiresAt: Date;
}

export interface RefreshTokenClaims {
  userId: string;
  tenantId: string;
  tokenId: string;
  familyId: string;
  expiresAt: Date;
}

/**
 * Signs and verifies tokens. Access and refresh tokens are distinct kinds: verifying one as the
 * other fails. Verification failures are `AuthenticationError`s.
 */
export interface TokenIssuer {
  readonly accessTokenTtlSeconds: number;
  issueAccess(claims: Omit<AccessTokenClaims, 'tokenId' | 'expiresAt'>): Promise<IssuedToken>;
  /** `tokenId` is chosen by the caller: it is the id of the stored `RefreshToken`. */
  issueRefresh(claims: Omit<RefreshTokenClaims, 'expiresAt'>): Promise<IssuedToken>;
  verifyAccess(token: string): Promise<AccessTokenClaims>;
  verifyRefresh(token: string): Promise<RefreshTokenClaims>;
}
