import { randomUUID } from 'node:crypto';
import type { IdGenerator } from '../ports/id-generator.port.js';

/** UUID v4 from the platform's CSPRNG. */
export class RandomIdGenerator implements IdGenerator {
  next(): string {
    return randomUUID();
  }
}
