/**
 * Revoked access tokens by `jti` (and revoked sessions, under their own keys), remembered until
 * they would have expired anyway. When the store cannot answer, both methods reject with
 * `ServiceUnavailableError` (fail closed).
 */
export interface TokenBlacklist {
  add(tokenId: string, expiresAt: Date): Promise<void>;
  /** Whether any of `tokenIds` is revoked, in one question to the store; false for none. */
  hasAny(tokenIds: readonly string[]): Promise<boolean>;
}
