/**
 * Random secrets for single-use links (email verification, password reset, invitations) and the
 * one-way digest stored in their place, so a leaked database row is no usable link.
 */
export interface SecretGenerator {
  /** A fresh secret of at least 256 random bits, URL-safe. */
  secret(): string;
  /** A one-way digest of a secret (the same secret always gives the same digest). */
  digest(secret: string): string;
}
