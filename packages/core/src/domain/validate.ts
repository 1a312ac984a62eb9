import { ValidationError } from './app.errors.js';

/** Small input checks shared by the entities; each failure names its field. */

export function text(field: string, value: unknown, opts: { min?: number; max: number }): string {
  if (typeof value !== 'string') throw ValidationError.field(field, 'must be a string');
  if (value.includes('\u0000')) throw ValidationError.field(field, 'must not contain NUL characters');
  const trimmed = value.trim();
  const min = opts.min ?? 1;
  if (trimmed.length < min) {
    throw ValidationError.field(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  }
  if (trimmed.length > opts.max) throw ValidationError.field(field, `must be at most ${opts.max} characters`);
  return trimmed;
}

export function optionalText(field: string, value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = text(field, value, { min: 0, max });
  return trimmed === '' ? null : trimmed;
}

export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw ValidationError.field(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw ValidationError.field(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function boolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw ValidationError.field(field, 'must be a boolean');
  return value;
}

// A pragmatic address check (local@domain.tld); deliverability is the mail server's business.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * The one form an address is compared in: NFKC (a full-width or ligature look-alike is the same
 * address), trimmed, lowercase.
 */
export const normalizeEmail = (value: string): string => value.normalize('NFKC').trim().toLowerCase();

export function email(field: string, value: unknown): string {
  const normalized = normalizeEmail(text(field, value, { max: 254 }));
  if (!EMAIL.test(normalized)) throw ValidationError.field(field, 'must be an email address');
  return normalized;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

export function uuid(field: string, value: unknown): string {
  if (!isUuid(value)) throw ValidationError.field(field, 'must be a UUID');
  return value.toLowerCase();
}
