import test from 'ava';
import {
  type AppError,
  AuthenticationError,
  AuthorizationError,
  BadRequestError,
  ConflictError,
  type ErrorCode,
  InternalServerError,
  isAppError,
  NotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  ValidationError,
} from './app.errors.js';
import { type Principal, ROLES, type Role, requireRole, roleAtLeast } from './role.js';

const cases: ReadonlyArray<{ error: AppError; code: ErrorCode; name: string }> = [
  { error: new NotFoundError('Project'), code: 'not_found', name: 'NotFoundError' },
  { error: ValidationError.field('limit', 'too big'), code: 'validation_error', name: 'ValidationError' },
  { error: new AuthenticationError(), code: 'authentication_error', name: 'AuthenticationError' },
  { error: new AuthorizationError(), code: 'authorization_error', name: 'AuthorizationError' },
  { error: new ConflictError('taken'), code: 'conflict', name: 'ConflictError' },
  { error: new BadRequestError('malformed JSON'), code: 'bad_request', name: 'BadRequestError' },
  { error: new RateLimitedError(30), code: 'rate_limited', name: 'RateLimitedError' },
  { error: new ServiceUnavailableError(), code: 'service_unavailable', name: 'ServiceUnavailableError' },
  { error: new InternalServerError(), code: 'internal_error', name: 'InternalServerError' },
];

for (const { error, code, name } of cases) {
  test(`${name} has the stable code ${code} and serialises to code, message and details`, (t) => {
    t.is(error.code, code);
    t.is(error.name, name);
    t.true(error instanceof Error);
    t.true(isAppError(error));
    const json = error.toJSON();
    t.deepEqual(Object.keys(json).sort(), ['code', 'details', 'message']);
    t.is(json.code, code);
    t.is(json.message, error.message);
    t.true(json.message.length > 0);
    t.deepEqual(json.details, error.details);
    t.deepEqual(JSON.parse(JSON.stringify(error)), json, 'JSON.stringify uses toJSON');
  });
}

test('a NotFoundError names the resource and carries no details by default', (t) => {
  const error = new NotFoundError('Service');
  t.is(error.message, 'Service not found');
  t.deepEqual(error.toJSON(), { code: 'not_found', message: 'Service not found', details: null });
});

test('a stale write is a ConflictError naming the row, with reason stale_version', (t) => {
  const error = ConflictError.stale('Project');
  t.true(error instanceof ConflictError);
  t.deepEqual(error.toJSON(), {
    code: 'conflict',
    message: 'Project was changed by someone else; reload and try again',
    details: { reason: 'stale_version' },
  });
});

test('a ValidationError lists its fields in details and in its message', (t) => {
  const error = new ValidationError([
    { field: 'limit', message: 'must be an integer from 1 to 1000' },
    { field: 'vars.API_KEY', message: 'must be a string' },
  ]);
  t.deepEqual(error.toJSON().details, [
    { field: 'limit', message: 'must be an integer from 1 to 1000' },
    { field: 'vars.API_KEY', message: 'must be a string' },
  ]);
  t.true(error.message.includes('limit'));
  t.true(error.message.includes('vars.API_KEY'));
  t.deepEqual(ValidationError.field('email', 'bad').details, [{ field: 'email', message: 'bad' }]);
});

test('a RateLimitedError tells when to retry', (t) => {
  const error = new RateLimitedError(42);
  t.is(error.retryAfterSeconds, 42);
  t.deepEqual(error.toJSON().details, { retry_after: 42 });
});

test('an internal error keeps its cause out of the serialised form', (t) => {
  const cause = new Error('relation "users" does not exist at character 15');
  const error = new InternalServerError(undefined, { cause });
  t.is(error.cause, cause);
  t.false(JSON.stringify(error).includes('relation'));
});

test('a plain Error is not an AppError', (t) => {
  t.false(isAppError(new Error('boom')));
  t.false(isAppError({ code: 'not_found', message: 'x' }));
});

// The ladder as DESIGN.md states it, lowest first.
const LADDER: Role[] = ['viewer', 'member', 'admin', 'owner'];

test('the roles are viewer, member, admin and owner, lowest first', (t) => {
  t.deepEqual([...ROLES], LADDER);
});

for (const [actorRank, role] of LADDER.entries()) {
  for (const [minimumRank, minimum] of LADDER.entries()) {
    const allowed = actorRank >= minimumRank;
    test(`requireRole('${minimum}') ${allowed ? 'admits' : 'refuses'} a ${role}`, (t) => {
      const actor: Principal = { userId: 'u', tenantId: 't', role };
      t.is(roleAtLeast(role, minimum), allowed);
      if (allowed) {
        t.notThrows(() => requireRole(actor, minimum));
      } else {
        const error = t.throws(() => requireRole(actor, minimum), { instanceOf: AuthorizationError });
        t.is(error?.code, 'authorization_error');
        t.deepEqual(error?.details, { required_role: minimum });
      }
    });
  }
}
