import type { PasswordHasher } from '../ports/password-hasher.port.js';

/** Fast and reversible on purpose: for tests only, never for real passwords. */
export class FakePasswordHasher implements PasswordHasher {
  /** How many verifications ran (timing-equalisation tests count them). */
  verifications = 0;
  /** How many passwords were hashed (a request refused early must hash none). */
  hashes = 0;

  private encode(password: string): string {
    return `fake$${Buffer.from(password, 'utf8').toString('base64url')}`;
  }

  async hash(password: string): Promise<string> {
    this.hashes += 1;
    return this.encode(password);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    this.verifications += 1;
    return hash === this.encode(password);
  }
}
