import { Entity, type NewEntity } from './entity.js';
import { ROLES, type Role } from './role.js';
import { boolean, email, oneOf, optionalText } from './validate.js';

/** What a single-use emailed link lets its holder do. */
export const EMAIL_LINK_PURPOSES = ['verify_email', 'reset_password', 'invitation'] as const;
export type EmailLinkPurpose = (typeof EMAIL_LINK_PURPOSES)[number];

export interface NewUser {
  tenantId: string;
  email: string;
  role: Role;
  fullName?: string | null;
  passwordHash?: string | null;
  isActive?: boolean;
  /** When the address was proven (a provider's verified email); null until a link is followed. */
  emailVerifiedAt?: Date | null;
}

export class User extends Entity {
  tenantId!: string;
  /** Stored lowercase; unique across the platform. */
  email!: string;
  fullName!: string | null;
  role!: Role;
  isActive!: boolean;
  /** Null for a user who signs in only through an OAuth provider. Never leaves the core. */
  passwordHash!: string | null;
  lastLoginAt!: Date | null;
  /** When the user proved they receive mail at `email`; null while unproven. */
  emailVerifiedAt!: Date | null;
  /**
   * Moves on when every session of the user must end (password change or reset, deactivation,
   * a lower role): access tokens carry the epoch they were issued in, and an older one is refused.
   */
  sessionEpoch!: number;
  /**
   * The one pending emailed link (a new one replaces it): what it is for, the digest of its
   * secret (never the secret) and its expiry. Never leaves the core.
   */
  emailLinkPurpose!: EmailLinkPurpose | null;
  emailLinkDigest!: string | null;
  emailLinkExpiresAt!: Date | null;

  static create(ctx: NewEntity, input: NewUser): User {
    const user = new User();
    user.init(ctx);
    user.tenantId = input.tenantId;
    user.email = email('email', input.email);
    user.fullName = optionalText('fullName', input.fullName, 200);
    user.role = oneOf('role', input.role, ROLES);
    user.isActive = input.isActive ?? true;
    user.passwordHash = input.passwordHash ?? null;
    user.lastLoginAt = null;
    user.emailVerifiedAt = input.emailVerifiedAt ?? null;
    user.sessionEpoch = 0;
    user.emailLinkPurpose = null;
    user.emailLinkDigest = null;
    user.emailLinkExpiresAt = null;
    return user;
  }

  update(changes: { fullName?: string | null; role?: Role; isActive?: boolean }, now: Date): void {
    if (changes.fullName !== undefined) this.fullName = optionalText('fullName', changes.fullName, 200);
    if (changes.role !== undefined) this.role = oneOf('role', changes.role, ROLES);
    if (changes.isActive !== undefined) this.isActive = boolean('isActive', changes.isActive);
    this.touch(now);
  }

  setPasswordHash(hash: string, now: Date): void {
    this.passwordHash = hash;
    this.touch(now);
  }

  /** Ends every session: tokens issued before are refused from now on. */
  endAllSessions(now: Date): void {
    this.sessionEpoch += 1;
    this.touch(now);
  }

  markEmailVerified(now: Date): void {
    this.emailVerifiedAt ??= now;
    this.touch(now);
  }

  /** Records a freshly emailed link; any earlier pending link stops working. */
  issueEmailLink(purpose: EmailLinkPurpose, digest: string, expiresAt: Date, now: Date): void {
    this.emailLinkPurpose = purpose;
    this.emailLinkDigest = digest;
    this.emailLinkExpiresAt = expiresAt;
    this.touch(now);
  }

  /**
   * Uses the pending link if its digest matches, it serves one of `purposes` and it has not
   * expired: it is cleared (single use) and its purpose returned; otherwise null, and nothing
   * changes.
   */
  consumeEmailLink(purposes: readonly EmailLinkPurpose[], digest: string, now: Date): EmailLinkPurpose | null {
    const purpose = this.pendingEmailLink(purposes, digest, now);
    if (purpose === null) return null;
    this.emailLinkPurpose = null;
    this.emailLinkDigest = null;
    this.emailLinkExpiresAt = null;
    this.touch(now);
    return purpose;
  }

  /** The purpose of the pending link if `digest` is its and it is usable now; nothing changes. */
  pendingEmailLink(purposes: readonly EmailLinkPurpose[], digest: string, now: Date): EmailLinkPurpose | null {
    const purpose = this.emailLinkPurpose;
    if (
      purpose === null ||
      !purposes.includes(purpose) ||
      this.emailLinkDigest === null ||
      this.emailLinkDigest !== digest ||
      this.emailLinkExpiresAt === null ||
      this.emailLinkExpiresAt <= now
    ) {
      return null;
    }
    return purpose;
  }

  recordLogin(now: Date): void {
    this.lastLoginAt = now;
    this.touch(now);
  }
}
