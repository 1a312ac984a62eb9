import { ValidationError } from '../domain/app.errors.js';

/** Longest accepted password: bounds the hashing work one request can ask for. */
export const PASSWORD_MAX_LENGTH = 256;

export function checkPassword(password: unknown, minLength: number): string {
  if (typeof password !== 'string') throw ValidationError.field('password', 'must be a string');
  if (password.length < minLength) {
    throw ValidationError.field('password', `must be at least ${minLength} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw ValidationError.field('password', `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  return password;
}
