import { ServiceUnavailableError } from '../domain/app.errors.js';
import type { Clock } from '../ports/clock.port.js';
import type { TokenBlacklist } from '../ports/token-blacklist.port.js';

/** Revoked token ids until their expiry. `available = false` simulates an unreachable store. */
export class InMemoryTokenBlacklist implements TokenBlacklist {
  private readonly entries = new Map<string, number>();
  available = true;

  constructor(private readonly clock: Clock) {}

  private assertAvailable(): void {
    if (!this.available) throw new ServiceUnavailableError('The token blacklist is unavailable');
  }

  async add(tokenId: string, expiresAt: Date): Promise<void> {
    this.assertAvailable();
    if (expiresAt.getTime() > this.clock.now().getTime()) this.entries.set(tokenId, expiresAt.getTime());
  }

  async has(tokenId: string): Promise<boolean> {
    this.assertAvailable();
    const until = this.entries.get(tokenId);
    if (until === undefined) return false;
    if (until <= this.clock.now().getTime()) {
      this.entries.delete(tokenId);
      return false;
    }
    return true;
  }
}
