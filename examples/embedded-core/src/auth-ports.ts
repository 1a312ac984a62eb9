/**
 * The two ports only an embedder can give, implemented on Node's crypto alone (this example
 * depends on nothing but the core). A server uses `JoseTokenIssuer` and `Argon2PasswordHasher` of
 * `@shipyard/adapters-http`; these keep the same promises (`auth-ports.test.ts`; the ports'
 * contract suites are in `test/contracts`).
 */
import { createHmac, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import {
  type AccessTokenClaims,
  AuthenticationError,
  type Clock,
  type IdGenerator,
  type IssuedToken,
  isRole,
  type PasswordHasher,
  type RefreshTokenClaims,
  type TokenIssuer,
} from '@shipyard/core';

const scryptAsync = (password: string, salt: Buffer, length: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );

/**
 * scrypt with OWASP's parameters (N = 2^17, r = 8, p = 1: 128 MiB a hash), a random 16-byte salt.
 * Hashes read `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (base64url), so the parameters can grow.
 */
export class ScryptPasswordHasher implements PasswordHasher {
  constructor(private readonly params: { log2N: number; r: number; p: number } = { log2N: 17, r: 8, p: 1 }) {}

  private derive(password: string, salt: Buffer, params: { log2N: number; r: number; p: number }): Promise<Buffer> {
    const N = 2 ** params.log2N;
    return scryptAsync(password, salt, 32, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r });
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.derive(password, salt, this.params);
    const { log2N, r, p } = this.params;
    return ['scrypt', log2N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  async verify(hash: string, password: string): Promise<boolean> {
    const [scheme, log2N, r, p, salt, key, ...rest] = hash.split('$');
    const params = { log2N: Number(log2N), r: Number(r), p: Number(p) };
    const bounded = (value: number, max: number) => Number.isSafeInteger(value) && value >= 1 && value <= max;
    if (scheme !== 'scrypt' || rest.length > 0 || salt === undefined || key === undefined) return false;
    // A stored hash is trusted no further than this: parameters out of range verify nothing.
    if (!bounded(params.log2N, 20) || !bounded(params.r, 32) || !bounded(params.p, 16)) return false;
    const expected = Buffer.from(key, 'base64url');
    if (expected.length !== 32) return false;
    try {
      return timingSafeEqual(await this.derive(password, Buffer.from(salt, 'base64url'), params), expected);
    } catch {
      return false;
    }
  }
}

export interface HmacTokenIssuerOptions {
  /** At least 32 random bytes, kept out of the database. */
  secret: Uint8Array;
  clock: Clock;
  ids: IdGenerator;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
}

type Payload = Record<string, unknown> & { typ: 'access' | 'refresh'; exp: number };

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Tokens that read `<payload>.<HMAC-SHA256 of the payload>` (base64url), the payload naming its
 * kind and expiry: a token of one kind is refused as the other, an expired or altered one is
 * refused, and every refusal is an `AuthenticationError`.
 */
export class HmacTokenIssuer implements TokenIssuer {
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  private readonly secret: Uint8Array;

  constructor(private readonly options: HmacTokenIssuerOptions) {
    if (options.secret.byteLength < 32) throw new Error('HmacTokenIssuer needs a secret of at least 32 bytes');
    this.secret = Uint8Array.from(options.secret);
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 900;
    this.refreshTokenTtlSeconds = options.refreshTokenTtlSeconds ?? 7 * 86_400;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(body).digest();
  }

  private sign(payload: Payload, tokenId: string): IssuedToken {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { token: `${body}.${this.mac(body).toString('base64url')}`, tokenId, expiresAt: new Date(payload.exp) };
  }

  private expiry(seconds: number): number {
    return this.options.clock.now().getTime() + seconds * 1000;
  }

  async issueAccess(claims: Omit<AccessTokenClaims, 'tokenId' | 'expiresAt'>): Promise<IssuedToken> {
    const jti = this.options.ids.next();
    const exp = this.expiry(this.accessTokenTtlSeconds);
    const { userId: sub, tenantId: tid, role, sessionId: sid, sessionEpoch: sep } = claims;
    return this.sign({ typ: 'access', sub, tid, role, sid, sep, jti, exp }, jti);
  }

  async issueRefresh(claims: Omit<RefreshTokenClaims, 'expiresAt'>): Promise<IssuedToken> {
    const exp = this.expiry(this.refreshTokenTtlSeconds);
    const { userId: sub, tenantId: tid, familyId: fam, tokenId: jti } = claims;
    return this.sign({ typ: 'refresh', sub, tid, fam, jti, exp }, jti);
  }

  private verify(token: string, kind: Payload['typ']): Payload {
    const [body, mac, ...rest] = typeof token === 'string' && token.length <= 4096 ? token.split('.') : [];
    if (body === undefined || mac === undefined || rest.length > 0) throw new AuthenticationError('Invalid token');
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthenticationError('Invalid token');
    }
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw new AuthenticationError('Invalid token');
    }
    if (payload?.typ !== kind || typeof payload.exp !== 'number') throw new AuthenticationError('Invalid token');
    if (payload.exp <= this.options.clock.now().getTime()) throw new AuthenticationError('Token expired');
    if (!isString(payload.sub) || !isString(payload.tid) || !isString(payload.jti)) {
      throw new AuthenticationError('Invalid token');
    }
    return payload;
  }

  async verifyAccess(token: string): Promise<AccessTokenClaims> {
    const { sub, tid, role, sid, sep, jti, exp } = this.verify(token, 'access');
    if (!isRole(role) || !isString(sid) || typeof sep !== 'number' || !Number.isSafeInteger(sep) || sep < 0) {
      throw new AuthenticationError('Invalid token');
    }
    return {
      userId: sub as string,
      tenantId: tid as string,
      role,
      tokenId: jti as string,
      sessionId: sid,
      sessionEpoch: sep,
      expiresAt: new Date(exp),
    };
  }

  async verifyRefresh(token: string): Promise<RefreshTokenClaims> {
    const { sub, tid, fam, jti, exp } = this.verify(token, 'refresh');
    if (!isString(fam)) throw new AuthenticationError('Invalid token');
    return {
      userId: sub as string,
      tenantId: tid as string,
      tokenId: jti as string,
      familyId: fam,
      expiresAt: new Date(exp),
    };
  }
}
