import type { Clock } from '../ports/clock.port.js';
import type { TokenBlacklist } from '../ports/token-blacklist.port.js';

/**
 * Revoked token ids until their expiry, in this process (the server's blacklist without Redis).
 * It is never unreachable; tests play an outage with `withOutage` of `@shipyard/core/testing`.
 */
export class InMemoryTokenBlacklist implements TokenBlacklist {
  private readonly entries = new Map<string, number>();
  private sweepAt = 1024;

  constructor(private readonly clock: Clock) {}

  async add(tokenId: string, expiresAt: Date): Promise<void> {
    const now = this.clock.now().getTime();
    if (expiresAt.getTime() <= now) return;
    this.entries.set(tokenId, expiresAt.getTime());
    // Expired entries are dropped as new ones come, so a long-running process stays bounded.
    if (this.entries.size > this.sweepAt) {
      for (const [id, until] of this.entries) if (until <= now) this.entries.delete(id);
      this.sweepAt = Math.max(1024, this.entries.size * 2);
    }
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  async hasAny(tokenIds: readonly string[]): Promise<boolean> {
    const now = this.clock.now().getTime();
    let found = false;
    for (const tokenId of tokenIds) {
      const until = this.entries.get(tokenId);
      if (until === undefined) continue;
      if (until <= now) this.entries.delete(tokenId);
      else found = true;
    }
    return found;
  }
}
