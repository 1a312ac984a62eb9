import type { IdGenerator } from '../ports/id-generator.port.js';

/** Deterministic, increasing UUID v4-shaped ids: `00000000-0000-4000-8000-000000000001`, … */
export class SequentialIdGenerator implements IdGenerator {
  private counter = 0;

  /** `prefix` (8 hex digits) keeps ids of two generators apart. */
  constructor(private readonly prefix = '00000000') {
    if (!/^[0-9a-f]{8}$/.test(prefix)) throw new Error('prefix must be 8 lowercase hex digits');
  }

  next(): string {
    this.counter += 1;
    return `${this.prefix}-0000-4000-8000-${this.counter.toString(16).padStart(12, '0')}`;
  }
}
