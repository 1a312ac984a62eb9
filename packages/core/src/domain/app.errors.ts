/** Stable error codes: the same strings in core, on the wire and in tests. */
export type ErrorCode =
  | 'not_found'
  | 'validation_error'
  | 'authentication_error'
  | 'authorization_error'
  | 'conflict'
  | 'bad_request'
  | 'rate_limited'
  | 'service_unavailable'
  | 'bad_gateway'
  | 'internal_error';

/** One problem with one input field, as carried in `ValidationError.details`. */
export interface FieldIssue {
  /** Dotted path of the field, in the caller's terms (`limit`, `vars.API_KEY`). */
  field: string;
  message: string;
}

export interface AppErrorJSON {
  code: ErrorCode;
  message: string;
  details: unknown;
}

/**
 * Base of every error the core raises on purpose. Adapters map `code` to their own status
 * (HTTP, job retry policy); anything that is not an `AppError` is an unexpected failure.
 */
export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: unknown;

  constructor(message: string, details: unknown = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  toJSON(): AppErrorJSON {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** The resource does not exist, or belongs to another tenant (the two are indistinguishable). */
export class NotFoundError extends AppError {
  readonly code = 'not_found' as const;
  constructor(resource: string, details: unknown = null) {
    super(`${resource} not found`, details);
  }
}

export class ValidationError extends AppError {
  readonly code = 'validation_error' as const;
  declare readonly details: FieldIssue[];
  constructor(issues: FieldIssue[] | FieldIssue, message?: string) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(message ?? list.map((i) => `${i.field}: ${i.message}`).join('; '), list);
  }
  /** The error for a single field. */
  static field(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

export class AuthenticationError extends AppError {
  readonly code = 'authentication_error' as const;
  constructor(message = 'Authentication required', details: unknown = null) {
    super(message, details);
  }
}

export class AuthorizationError extends AppError {
  readonly code = 'authorization_error' as const;
  constructor(message = 'You are not allowed to do this', details: unknown = null) {
    super(message, details);
  }
}

export class ConflictError extends AppError {
  readonly code = 'conflict' as const;
  /**
   * A write refused because the row changed since it was read (its `version` moved on):
   * `reason: 'stale_version'`, which `isStaleWrite` recognises and `retryOnConflict` retries.
   * `label` names the row (`ENTITY_LABELS`).
   */
  static stale(label: string): ConflictError {
    return new ConflictError(`${label} was changed by someone else; reload and try again`, { reason: 'stale_version' });
  }
}

export class BadRequestError extends AppError {
  readonly code = 'bad_request' as const;
}

export class RateLimitedError extends AppError {
  readonly code = 'rate_limited' as const;
  /** Seconds until the caller may try again. */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, message = 'Too many requests') {
    super(message, { retry_after: retryAfterSeconds });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency (database, Redis, a provider) did not answer; the caller may retry later. */
export class ServiceUnavailableError extends AppError {
  readonly code = 'service_unavailable' as const;
  constructor(message = 'A dependency is unavailable', options?: { cause?: unknown }) {
    super(message, null, options);
  }
}

/** An upstream service (an OAuth provider, say) failed or did not answer in time. */
export class BadGatewayError extends AppError {
  readonly code = 'bad_gateway' as const;
  constructor(message = 'An upstream service failed', options?: { cause?: unknown }) {
    super(message, null, options);
  }
}

export class InternalServerError extends AppError {
  readonly code = 'internal_error' as const;
  constructor(message = 'Internal server error', options?: { cause?: unknown }) {
    super(message, null, options);
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
