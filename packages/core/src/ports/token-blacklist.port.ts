/**
 * Revoked access tokens by `jti`, remembered until they would have expired anyway. When the
 * store cannot answer, both methods reject with `ServiceUnavailableError` (fail closed).
 */
export interface TokenBlacklist {
  add(tokenId: string, expiresAt: Date): Promise<void>;
  has(tokenId: string): Promise<boolean>;
}
