import { createHash, randomBytes } from 'node:crypto';
import type { SecretGenerator } from '../ports/secret-generator.port.js';

/** 32 random bytes, base64url; the digest is SHA-256 (the secrets carry full entropy, no salt needed). */
export class CryptoSecretGenerator implements SecretGenerator {
  secret(): string {
    return randomBytes(32).toString('base64url');
  }

  digest(secret: string): string {
    return createHash('sha256').update(secret, 'utf8').digest('base64url');
  }
}
