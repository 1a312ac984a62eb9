import {
  type AccessTokenClaims,
  AuthenticationError,
  type Clock,
  type IdGenerator,
  type IssuedToken,
  isRole,
  isUuid,
  type RefreshTokenClaims,
  type TokenIssuer,
} from '@shipyard/core';
import { type CryptoKey, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';

export interface SigningKey {
  /** Key id, written into each token's `kid` header. */
  id: string;
  /** At least 32 bytes. */
  secret: Uint8Array;
}

/** How many verified access tokens are remembered (each a few hundred bytes). */
const VERIFIED_CACHE_SIZE = 10_000;

export interface JoseTokenIssuerOptions {
  /** The first key signs; all verify (so a key can be rotated without signing everyone out). */
  keys: readonly SigningKey[];
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  clock: Clock;
  ids: IdGenerator;
}

const ALGORITHM = 'HS256';

/**
 * The secret as a WebCrypto key, imported once: given the raw bytes, jose imports them again on
 * every signature and every verification.
 */
const hmacKey = (secret: Uint8Array): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);

/**
 * HS256 JWTs with jose. Verification pins the algorithm, issuer and audience, requires `exp`,
 * `jti`, `sub` and `typ`, and checks the kind: an access token is never accepted as a refresh
 * token or the other way round. Every failure is the same `AuthenticationError` to the caller.
 */
export class JoseTokenIssuer implements TokenIssuer {
  readonly accessTokenTtlSeconds: number;
  private readonly keys: Map<string, Promise<CryptoKey>>;
  /** Access tokens whose signature and claims were verified, by token; bounded, oldest out first. */
  private readonly verified = new Map<string, JWTPayload & { sub: string; jti: string; exp: number }>();
  private readonly signing: { id: string; key: Promise<CryptoKey> };

  constructor(private readonly options: JoseTokenIssuerOptions) {
    const [first] = options.keys;
    if (first === undefined) throw new Error('JoseTokenIssuer needs at least one signing key');
    for (const key of options.keys) {
      if (key.secret.byteLength < 32) throw new Error(`signing key ${key.id} is shorter than 32 bytes`);
    }
    this.keys = new Map(options.keys.map((key) => [key.id, hmacKey(key.secret)]));
    this.signing = { id: first.id, key: this.keys.get(first.id) as Promise<CryptoKey> };
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds;
  }

  private async sign(claims: JWTPayload, subject: string, tokenId: string, ttlSeconds: number): Promise<IssuedToken> {
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const exp = now + ttlSeconds;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: this.signing.id, typ: 'JWT' })
      .setSubject(subject)
      .setJti(tokenId)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(await this.signing.key);
    return { token, tokenId, expiresAt: new Date(exp * 1000) };
  }

  issueAccess(claims: Omit<AccessTokenClaims, 'tokenId' | 'expiresAt'>): Promise<IssuedToken> {
    return this.sign(
      { typ: 'access', tid: claims.tenantId, role: claims.role, sid: claims.sessionId, sep: claims.sessionEpoch },
      claims.userId,
      this.options.ids.next(),
      this.accessTokenTtlSeconds,
    );
  }

  issueRefresh(claims: Omit<RefreshTokenClaims, 'expiresAt'>): Promise<IssuedToken> {
    return this.sign(
      { typ: 'refresh', tid: claims.tenantId, fam: claims.familyId },
      claims.userId,
      claims.tokenId,
      this.options.refreshTokenTtlSeconds,
    );
  }

  private readonly keyFor: JWTVerifyGetKey = (header) => {
    const key = header.kid === undefined ? undefined : this.keys.get(header.kid);
    if (key === undefined) throw new errors.JWKSNoMatchingKey();
    return key;
  };

  /**
   * A token verified before, while it has not expired: the same bytes verify the same way, so only
   * the clock is asked again (a revoked token is refused by the blacklist, which is asked on
   * every request, not here).
   */
  private remembered(token: string): (JWTPayload & { sub: string; jti: string }) | undefined {
    const payload = this.verified.get(token);
    if (payload === undefined) return undefined;
    if (payload.exp > this.options.clock.now().getTime() / 1000) return payload;
    this.verified.delete(token);
    return undefined;
  }

  private remember(token: string, payload: JWTPayload & { sub: string; jti: string }): void {
    // Tokens with a not-before are left to jose each time (this issuer writes none).
    if (typeof payload.exp !== 'number' || payload.nbf !== undefined) return;
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, payload as JWTPayload & { sub: string; jti: string; exp: number });
  }

  private async verify(token: string, kind: 'access' | 'refresh'): Promise<JWTPayload & { sub: string; jti: string }> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw new AuthenticationError('Invalid token');
    }
    if (kind === 'access') {
      const known = this.remembered(token);
      if (known !== undefined) return known;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keyFor, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', 'jti', 'sub', 'typ', 'tid'],
        currentDate: this.options.clock.now(),
      }));
    } catch (error) {
      const expired = error instanceof errors.JWTExpired;
      throw new AuthenticationError(expired ? 'Token expired' : 'Invalid token');
    }
    if (payload.typ !== kind || !isUuid(payload.sub) || typeof payload.jti !== 'string' || !isUuid(payload.tid)) {
      throw new AuthenticationError('Invalid token');
    }
    const checked = payload as JWTPayload & { sub: string; jti: string };
    if (kind === 'access') this.remember(token, checked);
    return checked;
  }

  async verifyAccess(token: string): Promise<AccessTokenClaims> {
    const payload = await this.verify(token, 'access');
    if (!isRole(payload.role) || !isUuid(payload.sid)) throw new AuthenticationError('Invalid token');
    // Tokens issued before epochs existed carry none: they belong to epoch 0.
    const epoch = payload.sep ?? 0;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
      throw new AuthenticationError('Invalid token');
    }
    return {
      userId: payload.sub,
      tenantId: payload.tid as string,
      role: payload.role,
      tokenId: payload.jti,
      sessionId: payload.sid,
      sessionEpoch: epoch,
      expiresAt: new Date((payload.exp as number) * 1000),
    };
  }

  async verifyRefresh(token: string): Promise<RefreshTokenClaims> {
    const payload = await this.verify(token, 'refresh');
    if (!isUuid(payload.fam) || !isUuid(payload.jti)) throw new AuthenticationError('Invalid token');
    return {
      userId: payload.sub,
      tenantId: payload.tid as string,
      tokenId: payload.jti,
      familyId: payload.fam,
      expiresAt: new Date((payload.exp as number) * 1000),
    };
  }
}
