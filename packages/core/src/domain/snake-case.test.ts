import test from 'ava';
import { snakeCase } from './snake-case.js';

test('snakeCase spells a camelCase name as the wire and the database do', (t) => {
  t.is(snakeCase('projectId'), 'project_id');
  t.is(snakeCase('providerAccountId'), 'provider_account_id');
  t.is(snakeCase('name'), 'name');
  t.is(snakeCase('tenant_id'), 'tenant_id');
});
