import type { CommonPasswords } from '../ports/common-passwords.port.js';

/** A few of the most used passwords: enough for tests to see a refusal. */
const SHORT_LIST = ['password', 'password1', '12345678', '123456789', 'qwertyuiop', 'iloveyou', 'sunshine', 'football'];

/**
 * A short list of common passwords, for tests and the in-memory harness. The server uses the
 * bundled list of about 50 000 (`BundledCommonPasswords` in `@shipyard/adapters-http`).
 */
export class FakeCommonPasswords implements CommonPasswords {
  private readonly listed: Set<string>;

  constructor(passwords: readonly string[] = SHORT_LIST) {
    this.listed = new Set(passwords.map((password) => password.toLowerCase()));
  }

  isCommon(password: string): boolean {
    return this.listed.has(password.toLowerCase());
  }
}
