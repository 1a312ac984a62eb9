import { Entity, type NewEntity } from './entity.js';
import { ROLES, type Role } from './role.js';
import { boolean, email, oneOf, optionalText } from './validate.js';

export interface NewUser {
  tenantId: string;
  email: string;
  role: Role;
  fullName?: string | null;
  passwordHash?: string | null;
  isActive?: boolean;
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

  recordLogin(now: Date): void {
    this.lastLoginAt = now;
    this.touch(now);
  }
}
