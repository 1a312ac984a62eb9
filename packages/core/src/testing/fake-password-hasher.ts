import type { PasswordHasher } from '../ports/password-hasher.port.js';

/** Fast and reversible on purpose: for tests only, never for real passwords. */
export class FakePasswordHasher implements PasswordHasher {
  /** How many verifications ran (timing-equalisation tests count them). */
  verifications = 0;

  async hash(password: string): Promise<string> {
    return `fake$${Buffer.from(password, 'utf8').toString('base64url')}`;
  }

  async verify(hash: string, password: string): Promise<boolean> {
    this.verifications += 1;
    return hash === (await this.hash(password));
  }
}
