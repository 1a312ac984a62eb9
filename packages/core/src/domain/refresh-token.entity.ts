import { Entity, type NewEntity } from './entity.js';

/**
 * One issued refresh token (its id is the token's `jti`). Tokens of one sign-in form a family;
 * each is used once, and using one twice revokes the family (a stolen token is then worthless).
 */
export class RefreshToken extends Entity {
  tenantId!: string;
  userId!: string;
  familyId!: string;
  expiresAt!: Date;
  /** When the sign-in that began the family happened: no refresh renews a session past its maximum age. */
  sessionStartedAt!: Date;
  /** Set when the token was exchanged for the next one of its family. */
  usedAt!: Date | null;
  revokedAt!: Date | null;

  static create(
    ctx: NewEntity,
    input: { tenantId: string; userId: string; familyId: string; expiresAt: Date; sessionStartedAt: Date },
  ): RefreshToken {
    const token = new RefreshToken();
    token.init(ctx);
    token.tenantId = input.tenantId;
    token.userId = input.userId;
    token.familyId = input.familyId;
    token.expiresAt = input.expiresAt;
    token.sessionStartedAt = input.sessionStartedAt;
    token.usedAt = null;
    token.revokedAt = null;
    return token;
  }

  isUsable(now: Date): boolean {
    return this.usedAt === null && this.revokedAt === null && this.expiresAt > now;
  }

  markUsed(now: Date): void {
    this.usedAt = now;
    this.touch(now);
  }

  revoke(now: Date): void {
    if (this.revokedAt !== null) return;
    this.revokedAt = now;
    this.touch(now);
  }
}
