import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '@shipyard/core';
import { generateCodeVerifier, generateState } from 'arctic';

export interface OAuthStateValue {
  state: string;
  codeVerifier: string;
  expiresAt: Date;
}

const b64 = (buffer: Buffer) => buffer.toString('base64url');

/**
 * The OAuth `state` and PKCE verifier, kept in the browser in a cookie signed with HMAC-SHA256:
 * the callback accepts only the state this browser was given, before it expires. Single use is
 * enforced by the caller (the state id is remembered once used).
 */
export class OAuthStateCookie {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
    readonly ttlSeconds = 600,
  ) {
    if (secret.byteLength < 32) throw new Error('the OAuth state secret must be at least 32 bytes');
  }

  private sign(payload: string): string {
    return b64(createHmac('sha256', this.secret).update(payload).digest());
  }

  create(): { value: OAuthStateValue; cookie: string } {
    const value = {
      state: generateState(),
      codeVerifier: generateCodeVerifier(),
      expiresAt: new Date(this.clock.now().getTime() + this.ttlSeconds * 1000),
    };
    const payload = b64(
      Buffer.from(
        JSON.stringify({ s: value.state, v: value.codeVerifier, e: value.expiresAt.getTime(), n: b64(randomBytes(8)) }),
      ),
    );
    return { value, cookie: `${payload}.${this.sign(payload)}` };
  }

  /** The state the cookie carries, or null when it is missing, forged or expired. */
  read(cookie: string | undefined): OAuthStateValue | null {
    if (cookie === undefined || cookie.length > 2048) return null;
    const [payload, signature, ...rest] = cookie.split('.');
    if (payload === undefined || signature === undefined || rest.length > 0) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let parsed: { s?: unknown; v?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (typeof parsed.s !== 'string' || typeof parsed.v !== 'string' || typeof parsed.e !== 'number') return null;
    if (parsed.e <= this.clock.now().getTime()) return null;
    return { state: parsed.s, codeVerifier: parsed.v, expiresAt: new Date(parsed.e) };
  }

  /** Timing-safe comparison of the state GitHub sent back with the cookie's. */
  static matches(expected: string, given: string): boolean {
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
