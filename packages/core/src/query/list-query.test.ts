import test, { type ExecutionContext } from 'ava';
import { ValidationError } from '../domain/app.errors.js';
import { assertListQuery, type ListQueryInput, parseFilters, parseInclude, parseListQuery } from './list-query.js';

const UUID = '3f2a8c1e-9b7d-4e6f-8a5b-1c2d3e4f5a6b';

/** Asserts that parsing fails with a `validation_error` naming exactly `fields`. */
function rejects(t: ExecutionContext, input: ListQueryInput, fields: string[], entity: 'build' | 'user' = 'build') {
  const error = t.throws(() => parseListQuery(entity, input), { instanceOf: ValidationError });
  t.is(error?.code, 'validation_error');
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    fields,
  );
}

test('a list query defaults to skip 0, limit 100, newest first, no filters and no relations', (t) => {
  t.deepEqual(parseListQuery('project'), {
    skip: 0,
    limit: 100,
    sortBy: 'createdAt',
    sortOrder: 'desc',
    filters: {},
    include: [],
  });
});

test('the limit may be 1 or 1000', (t) => {
  t.is(parseListQuery('build', { limit: 1 }).limit, 1);
  t.is(parseListQuery('build', { limit: 1000 }).limit, 1000);
});

test('a limit of 0, 1001, a negative or a fraction is refused naming limit', (t) => {
  for (const limit of [0, 1001, -5, 2.5, 'ten', '', null]) rejects(t, { limit }, ['limit']);
});

test('skip must be an integer of 0 or more', (t) => {
  t.is(parseListQuery('build', { skip: 0 }).skip, 0);
  t.is(parseListQuery('build', { skip: 250 }).skip, 250);
  for (const skip of [-1, 1.5, 'abc', '-3']) rejects(t, { skip }, ['skip']);
});

test('skip and limit given as query-string text are coerced to numbers', (t) => {
  const query = parseListQuery('build', { skip: '10', limit: '25' });
  t.is(query.skip, 10);
  t.is(query.limit, 25);
  rejects(t, { limit: '1001' }, ['limit']);
  rejects(t, { limit: '1e3' }, ['limit']);
});

test('sorting accepts an allow-listed column in either order', (t) => {
  const query = parseListQuery('build', { sortBy: 'finishedAt', sortOrder: 'asc' });
  t.is(query.sortBy, 'finishedAt');
  t.is(query.sortOrder, 'asc');
});

test('an unknown sort column or order is refused naming the field', (t) => {
  rejects(t, { sortBy: 'logs' }, ['sortBy']);
  rejects(t, { sortBy: 'passwordHash' }, ['sortBy'], 'user');
  rejects(t, { sortBy: 'created_at; DROP TABLE builds' }, ['sortBy']);
  rejects(t, { sortOrder: 'up' }, ['sortOrder']);
});

test('every problem of one query is reported at once', (t) => {
  rejects(t, { skip: -1, limit: 0, sortBy: 'nope', sortOrder: 'sideways' }, ['skip', 'limit', 'sortBy', 'sortOrder']);
});

test('a filter on a column outside the allow-list is refused naming the column', (t) => {
  rejects(t, { filters: { logs: 'x' } }, ['logs']);
  rejects(t, { filters: { passwordHash: 'x' } }, ['passwordHash'], 'user');
  rejects(t, { filters: { tenantId: UUID } }, ['tenantId'], 'user');
  rejects(t, { filters: { constructor: 'x' } }, ['constructor']);
});

test('a scalar filter becomes a one-value IN list', (t) => {
  t.deepEqual(parseListQuery('build', { filters: { status: 'queued' } }).filters, { status: ['queued'] });
});

test('a repeated filter becomes an IN list without duplicates', (t) => {
  t.deepEqual(parseListQuery('build', { filters: { status: ['queued', 'running', 'queued'] } }).filters, {
    status: ['queued', 'running'],
  });
});

test('an enum filter accepts only the values of its enum', (t) => {
  t.deepEqual(parseListQuery('user', { filters: { role: ['admin', 'owner'] } }).filters, { role: ['admin', 'owner'] });
  rejects(t, { filters: { status: 'exploded' } }, ['status']);
  rejects(t, { filters: { status: ['queued', 'bogus'] } }, ['status']);
  rejects(t, { filters: { role: 'root' } }, ['role'], 'user');
});

test('a uuid filter accepts a UUID, lowercased, and refuses anything else', (t) => {
  t.deepEqual(parseListQuery('build', { filters: { serviceId: UUID.toUpperCase() } }).filters, {
    serviceId: [UUID],
  });
  rejects(t, { filters: { serviceId: 'not-a-uuid' } }, ['serviceId']);
  rejects(t, { filters: { serviceId: 42 } }, ['serviceId']);
});

test('a boolean filter accepts true and false, as booleans or as text', (t) => {
  t.deepEqual(parseListQuery('user', { filters: { isActive: 'true' } }).filters, { isActive: [true] });
  t.deepEqual(parseListQuery('user', { filters: { isActive: 'false' } }).filters, { isActive: [false] });
  t.deepEqual(parseListQuery('user', { filters: { isActive: false } }).filters, { isActive: [false] });
  for (const isActive of ['yes', '1', 1, 'TRUE']) rejects(t, { filters: { isActive } }, ['isActive'], 'user');
});

test('a filter with no values or more than 100 values is refused', (t) => {
  rejects(t, { filters: { status: [] } }, ['status']);
  rejects(t, { filters: { branch: Array.from({ length: 101 }, (_, i) => `b${i}`) } }, ['branch']);
  t.is(
    parseListQuery('build', { filters: { branch: Array.from({ length: 100 }, (_, i) => `b${i}`) } }).filters.branch
      ?.length,
    100,
  );
});

test('a string filter refuses a non-string or an overlong value', (t) => {
  rejects(t, { filters: { branch: 5 } }, ['branch']);
  rejects(t, { filters: { branch: 'x'.repeat(501) } }, ['branch']);
});

test('an undefined filter value is ignored', (t) => {
  t.deepEqual(parseListQuery('build', { filters: { status: undefined } }).filters, {});
});

test('include accepts only the relations allow-listed for the entity', (t) => {
  t.deepEqual(parseListQuery('build', { include: 'service' }).include, ['service']);
  t.deepEqual(parseListQuery('team', { include: ['members', 'members'] }).include, ['members']);
  rejects(t, { include: 'deployments' }, ['include']);
  rejects(t, { include: ['service', 'tenant'] }, ['include']);
  rejects(t, { include: 'anything' }, ['include'], 'user');
});

test('parseFilters alone checks the same allow-list', (t) => {
  t.deepEqual(parseFilters('deployment', { status: 'live' }), { status: ['live'] });
  const error = t.throws(() => parseFilters('deployment', { url: 'x' }), { instanceOf: ValidationError });
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    ['url'],
  );
});

test('parseInclude returns nothing for nothing and checks names', (t) => {
  t.deepEqual(parseInclude('service', undefined), []);
  t.deepEqual(parseInclude('service', ['project']), ['project']);
  t.throws(() => parseInclude('service', ['builds']), { instanceOf: ValidationError });
});

test('assertListQuery refuses a query built by hand past the limits', (t) => {
  const good = parseListQuery('build');
  t.notThrows(() => assertListQuery('build', good));
  t.throws(() => assertListQuery('build', { ...good, limit: 5000 }), { instanceOf: ValidationError });
  t.throws(() => assertListQuery('build', { ...good, sortBy: 'logs' }), { instanceOf: ValidationError });
  t.throws(() => assertListQuery('build', { ...good, filters: { error: ['x'] } }), { instanceOf: ValidationError });
});
