import { hash, verify } from '@node-rs/argon2';
import type { PasswordHasher } from '@shipyard/core';

// `Algorithm` is a const enum in the package's types; 2 is Argon2id.
const ARGON2ID = 2;

/** argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), hashed off the event loop. */
export class Argon2PasswordHasher implements PasswordHasher {
  constructor(
    private readonly params: { memoryCost: number; timeCost: number; parallelism: number } = {
      memoryCost: 19_456,
      timeCost: 2,
      parallelism: 1,
    },
  ) {}

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.params });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      // A malformed stored hash verifies nothing.
      return false;
    }
  }
}
