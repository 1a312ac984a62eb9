import { AuthorizationError } from './app.errors.js';

/** Roles from lowest to highest; each includes the rights of those below it. */
export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role =>
  typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/** True when `role` is `minimum` or above it on the ladder. */
export const roleAtLeast = (role: Role, minimum: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(minimum);

/**
 * Who is acting: taken only from a verified credential, never from a header or a body.
 * Every use case takes it as its first argument.
 */
export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  /** The sign-in session (refresh-token family) of the token, when known: for the audit trail. */
  readonly sessionId?: string | null;
  /** Where the request came from, as the HTTP server sees it: for the audit trail. */
  readonly ip?: string | null;
}

/** Throws `AuthorizationError` unless the actor holds `minimum` or a higher role. */
export function requireRole(actor: Principal, minimum: Role): void {
  if (!roleAtLeast(actor.role, minimum)) {
    throw new AuthorizationError(`This action needs the ${minimum} role or higher`, {
      required_role: minimum,
    });
  }
}
