import { ValidationError } from '../domain/app.errors.js';
import type { CoreDeps } from './core-deps.js';

/** Longest accepted password: bounds the hashing work one request can ask for. */
export const PASSWORD_MAX_LENGTH = 256;

/**
 * A new password: a string of `passwordMinLength` to 256 characters that is not on the list of
 * common passwords. `field` names it in the 422.
 */
export function checkPassword(
  deps: Pick<CoreDeps, 'settings' | 'commonPasswords'>,
  password: unknown,
  field = 'password',
): string {
  const minLength = deps.settings.passwordMinLength;
  if (typeof password !== 'string') throw ValidationError.field(field, 'must be a string');
  if (password.length < minLength) {
    throw ValidationError.field(field, `must be at least ${minLength} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw ValidationError.field(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  if (deps.commonPasswords.isCommon(password)) {
    throw ValidationError.field(field, 'is one of the most common passwords: choose one that is harder to guess');
  }
  return password;
}
