import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeEmail } from '@shipyard/core';

/** Days a device stays known after its last sign-in (each sign-in issues a fresh cookie). */
export const DEVICE_COOKIE_DAYS = 365;

/**
 * Device cookies (OWASP's answer to lockout as a weapon): a browser that signed in to an account
 * keeps a cookie naming the account, a random device id and an expiry, signed under a server key.
 * Its failed sign-ins count against the device, not against the email, so a flood of failures
 * from elsewhere that locks the email does not lock its owner out of a device they used before.
 * The cookie names the account by an HMAC of the email, never the email itself.
 */
export class DeviceCookies {
  private readonly key: Buffer;

  /** `secret`: at least 32 bytes; a key of its own is derived from it (HKDF-SHA256). */
  constructor(
    secret: Uint8Array = randomBytes(32),
    private readonly now: () => number = Date.now,
  ) {
    if (secret.byteLength < 32) throw new Error('the device cookie secret must be at least 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'shipyard device cookie', 32));
  }

  /** A new device cookie for `email`: `<device id>.<expiry, seconds>.<signature>`. */
  issue(email: string): { value: string; expires: Date } {
    const device = randomBytes(16).toString('base64url');
    const expires = Math.floor(this.now() / 1000) + DEVICE_COOKIE_DAYS * 86_400;
    return { value: `${device}.${expires}.${this.sign(device, expires, email)}`, expires: new Date(expires * 1000) };
  }

  /** The device id when `value` is an unexpired cookie issued here for `email`; null otherwise. */
  deviceOf(value: string | undefined, email: string): string | null {
    if (value === undefined || value.length > 200) return null;
    const [device, expiresText, signature, ...rest] = value.split('.');
    if (device === undefined || expiresText === undefined || signature === undefined || rest.length > 0) return null;
    if (!/^[A-Za-z0-9_-]{22}$/.test(device) || !/^\d{1,12}$/.test(expiresText)) return null;
    const expires = Number(expiresText);
    if (expires * 1000 <= this.now()) return null;
    const expected = Buffer.from(this.sign(device, expires, email));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given) ? device : null;
  }

  private sign(device: string, expires: number, email: string): string {
    return createHmac('sha256', this.key)
      .update(`${device}.${expires}.${normalizeEmail(email)}`, 'utf8')
      .digest('base64url');
  }
}
