import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens bound to the sign-in session: the token is an HMAC of the session id under a
 * server key, so a cookie tossed in by a sibling subdomain (or taken from another session) does
 * not pass. The page reads it from the `csrf_token` cookie and echoes it in `x-csrf-token`.
 */
export class CsrfTokens {
  private readonly key: Buffer;

  /** `secret`: at least 32 bytes; a key of its own is derived from it (HKDF-SHA256). */
  constructor(secret: Uint8Array = randomBytes(32)) {
    if (secret.byteLength < 32) throw new Error('the CSRF secret must be at least 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'shipyard csrf token', 32));
  }

  tokenFor(sessionId: string): string {
    return createHmac('sha256', this.key).update(sessionId, 'utf8').digest('base64url');
  }

  /** Whether `presented` is the token of `sessionId` (constant time). */
  matches(sessionId: string, presented: string): boolean {
    const expected = Buffer.from(this.tokenFor(sessionId));
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
